# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a person sees while a wait runs: which lines, and when.

The waiter calls ``observe(manager, tasks)`` after every poll; ``emit(level, text)`` shows a line:

- ``failure``: a task entered a failed or cancelled state, or disappeared (always shown);
- ``heartbeat``: at most every ``interval`` seconds, how many tasks are in which state and the slowest
  ones (shown at default verbosity; ``interval`` 0 turns it off);
- ``change``: a task changed its state, its percent by 10 points or more, or its vendor message (``-v``).

The action plugins pass an ``emit`` that writes through Ansible's display, so that under ansible-runner
(AWX/AAP) every line is a job event while the task is still running. Thread-safe: a fleet wait observes
many managers from several threads.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.taskstatus.infra.plugins.module_utils._models import CANCELLED, FAILED, show

FAILURE = "failure"
HEARTBEAT = "heartbeat"
CHANGE = "change"
SLOWEST = 3


class Progress:
    def __init__(self, emit, interval=60.0, clock=time.monotonic, label="task_wait"):
        self.emit = emit
        self.interval = float(interval or 0)
        self.clock = clock
        self.label = label
        self.start = clock()
        self.next_heartbeat = self.start + self.interval
        self.lock = threading.Lock()
        self.seen = {}  # (manager, task id) -> (state, percent // 10, message)
        self.latest = {}  # manager -> its tasks of the last poll
        self.done = {}  # manager -> "succeeded" | "failed" | ... once its wait ended

    def elapsed(self):
        return self.clock() - self.start

    def observe(self, manager, tasks):
        lines = []
        with self.lock:
            self.latest[manager] = list(tasks)
            for task in tasks:
                key = (task.state, None if task.percent is None else task.percent // 10, task.message)
                old = self.seen.get((manager, task.id))
                self.seen[(manager, task.id)] = key
                if old == key:
                    continue
                bad = task.gone or task.state in (FAILED, CANCELLED)
                if bad and (old is None or old[0] != task.state or task.gone):
                    lines.append((FAILURE, self.line(manager, task)))
                elif not bad:
                    lines.append((CHANGE, self.line(manager, task)))
            heartbeat = self.interval > 0 and self.clock() >= self.next_heartbeat
            if heartbeat:
                self.next_heartbeat = self.clock() + self.interval
                lines.append((HEARTBEAT, self._heartbeat()))
        for level, text in lines:
            self.emit(level, text)

    def finished(self, manager, how):
        """A manager's wait ended (``how``: succeeded, failed, timed out...); counted in heartbeats."""
        with self.lock:
            self.done[manager] = how

    def line(self, manager, task):
        return "%s: %s after %.0f s" % (manager, task.describe(), self.elapsed())

    def _heartbeat(self):
        counts = {}
        waiting = []
        for manager, tasks in self.latest.items():
            for task in tasks:
                counts[task.state] = counts.get(task.state, 0) + 1
                if not task.terminal:
                    waiting.append((task.percent if task.percent is not None else -1, manager, task))
        text = "%s: %.0f s: %s" % (self.label, self.elapsed(), ", ".join(
            "%d %s" % (n, state) for state, n in sorted(counts.items())) or "no task read yet")
        if len(self.latest) > 1 or self.done:
            ended = {}
            for how in self.done.values():
                ended[how] = ended.get(how, 0) + 1
            text += " (managers: %d, %s)" % (len(self.latest), ", ".join(
                "%d %s" % (n, how) for how, n in sorted(ended.items())) or "none ended")
        if waiting:
            waiting.sort(key=lambda item: item[0])
            text += "; slowest: " + "; ".join("%s %s%s" % (
                manager, task.label(), " %d%%" % task.percent if task.percent is not None else "")
                for _p, manager, task in waiting[:SLOWEST])
        return show(text, limit=2000)
