# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How long and how often to poll, and what ends the wait.
    DOCUMENTATION = r"""
options:
  timeout:
    description:
      - Seconds to wait in all. When they are up the module fails with RV(timed_out=true) and returns the last
        state of every task.
      - Keep it below the timeout of the AWX/AAP job template that runs the play.
    type: float
    default: 3600
  interval:
    description:
      - Seconds between two polls while the platform answers normally, so a finished task is seen at most one
        interval late. Each poll reads every selected task once.
      - A C(Retry-After) the server sends is honoured, within 1 to 120 seconds.
    type: float
    default: 10
  max_interval:
    description:
      - After errors (connection refused, 5xx, 429) the interval doubles after each failed poll, up to this many seconds.
    type: float
    default: 60
  until:
    description:
      - V(all) waits until every task is in one of O(states); V(any) until the first one is.
    type: str
    default: all
    choices: [all, any]
  states:
    description:
      - The states that end the wait for a task. Normalized states (V(succeeded), V(running), ...) or the
        platform's own words (for example iDRAC's V(Scheduled)), case-insensitive.
      - A word that is neither fails the module at once, naming the words it knows (a typo such as V(sucess)
        would otherwise wait until the timeout).
      - Defaults to the terminal states V(succeeded), V(failed) and V(cancelled).
    type: list
    elements: str
  fail_on:
    description:
      - States that make the module fail as soon as one task enters one, without waiting for the others.
      - Normalized states or the platform's own words, checked like O(states).
      - Set to V([]) to wait for failed tasks like any other and judge the result yourself.
    type: list
    elements: str
    default: [failed, cancelled]
  push:
    description:
      - V(auto) uses push where the manager offers it. A Redfish service whose EventService names a
        C(ServerSentEventUri) (OpenBMC's bmcweb, Dell iDRAC9, Lenovo XCC) streams task events; one stream is
        opened per manager and every task event makes the wait read its tasks at once, so a finished task is
        seen within a fraction of a second instead of up to O(interval) late. The task resource stays the one
        source of truth, and O(interval) goes on as a slow safety poll (events can be lost).
      - A refused stream (the iDRAC allows two at a time), a stream error or garbage falls back to plain polling,
        with a warning. The stream is closed at the end of the wait, like the session.
      - V(never) only polls.
    type: str
    default: auto
    choices: [auto, never]
  allow_empty:
    description:
      - With O(filters), what to do when no task matches when the module starts.
      - V(false) fails the module with "nothing to wait for", because an update that never showed up as a task is
        not a success, and a rollout must not move on to its next batch because of it.
      - V(true) succeeds with an empty RV(tasks). Check mode always does.
    type: bool
    default: false
  unreachable_timeout:
    description:
      - Seconds in a row that connection errors, timeouts, answers cut short, HTTP 408, 429, 5xx and 401 are
        tolerated, for example while a BMC reboots during its own firmware update. A session the manager has
        forgotten is deleted (if it still can be) and replaced by a new login.
      - Credentials refused at the first login fail at once; a wrong password is not an outage. A new login
        refused three times in a row after one that worked also ends the wait, so that the account is not locked.
    type: float
    default: 900
"""
