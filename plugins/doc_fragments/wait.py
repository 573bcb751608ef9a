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
      - Defaults to the terminal states V(succeeded), V(failed) and V(cancelled).
    type: list
    elements: str
  fail_on:
    description:
      - States that make the module fail as soon as one task enters one, without waiting for the others.
      - Set to V([]) to wait for failed tasks like any other and judge the result yourself.
    type: list
    elements: str
    default: [failed, cancelled]
  unreachable_timeout:
    description:
      - Seconds in a row that connection errors, HTTP 5xx, 429 and 401 are tolerated, for example while a BMC
        reboots during its own firmware update. A session the manager has forgotten is replaced by a new login.
      - Credentials refused at the first login fail at once; a wrong password is not an outage.
    type: float
    default: 900
"""
