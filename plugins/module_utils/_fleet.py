# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait for the tasks of many managers in one process: a thousand BMCs at the cost of a few.

Each manager (a *target*) has its own session, its own waiter and its own deadline; a pool of
``concurrency`` threads takes whichever target is due next and makes its poll, so that no more than
``concurrency`` requests are in flight and no thread sleeps for a target that is not due. A target's
session is closed as soon as its wait ends; on a cancel (SIGTERM, SIGINT) every session still open is
closed before the run ends.
"""

from __future__ import annotations

import heapq
import threading
import time
import traceback

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TaskStatusError
from ansible_collections.taskstatus.infra.plugins.module_utils._models import show
from ansible_collections.taskstatus.infra.plugins.module_utils._push import OPEN_WAIT
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import WaitAborted

# How long the main thread waits for the pool between looks at a cancel.
JOIN_SLICE = 0.2


class Target:
    """One manager of a fleet wait: its name, its parameters, and how its wait went."""

    def __init__(self, name, params):
        self.name = name
        self.params = params
        self.adapter = None
        self.waiter = None
        self.ids = params.get("task_ids")
        self.result = None
        self.push = None
        self.gen = 0  # schedule entries of an older generation are stale (a pushed event rescheduled it)
        self.busy = False
        self.rewake = False  # an event came during a step: poll again at once
        self.lock = threading.Lock()  # one step at a time, and no logout during a step


class Fleet:
    """Run ``open_target(target, cancelled)`` -> (adapter, waiter) and then its waiter's steps for every target.

    ``select(target)`` discovers the ids of a target without ``task_ids``; ``finish(target, outcome or
    error)`` makes the target's result. Both come from the module edge, which knows the options.
    """

    def __init__(self, targets, open_target, select, finish, concurrency=50, fail_fast=False, check_mode=False,
                 progress=None, clock=time.monotonic, start_push=None):
        self.targets = targets
        self.open_target = open_target
        self.select = select
        self.finish = finish
        self.concurrency = max(1, min(int(concurrency), len(targets) or 1))
        self.fail_fast = fail_fast
        self.check_mode = check_mode
        self.progress = progress
        self.clock = clock
        self.start_push = start_push  # start_push(target, wake) -> its Push (started or not: note() says why)
        self.cancelled = threading.Event()
        self.cond = threading.Condition()
        self.due = []  # heap of (time, seq, generation, target)
        self.seq = 0
        self.running = 0
        self.threads = []

    # The schedule ---------------------------------------------------------
    def _push(self, when, target):
        with self.cond:
            self._schedule(when, target)

    def _schedule(self, when, target):
        self.seq += 1
        heapq.heappush(self.due, (when, self.seq, target.gen, target))
        self.cond.notify()

    def wake(self, target):
        """A task event for ``target`` (push): poll it now instead of at its next interval."""
        with self.cond:
            if target.result is not None:
                return
            if target.busy:
                target.rewake = True
                return
            target.gen += 1
            self._schedule(self.clock(), target)

    def _take(self):
        """The next due target, or None when the fleet is done (or cancelled)."""
        with self.cond:
            while True:
                if self.cancelled.is_set():
                    return None
                if not self.due:
                    if self.running == 0:
                        self.cond.notify_all()
                        return None
                    self.cond.wait(JOIN_SLICE)
                    continue
                when, _seq, gen, target = self.due[0]
                if gen != target.gen:
                    heapq.heappop(self.due)  # stale: a pushed event scheduled it again
                    continue
                wait = when - self.clock()
                if wait > 0:
                    self.cond.wait(min(wait, JOIN_SLICE))
                    continue
                heapq.heappop(self.due)
                self.running += 1
                target.busy = True
                return target

    def _worker(self):
        while True:
            target = self._take()
            if target is None:
                return
            pause = None
            try:
                pause = self._step(target)
            finally:
                with self.cond:
                    target.busy = False
                    if pause is not None:  # back in the schedule before this one counts as idle
                        self._schedule(self.clock() + (0.0 if target.rewake else pause), target)
                    target.rewake = False
                    self.running -= 1
                    if not self.due and self.running == 0:
                        self.cond.notify_all()  # the last one: every worker returns
                    # else _schedule woke one worker for the entry it added (no herd of 50 per poll)

    # One target ---------------------------------------------------------------
    def _step(self, target):
        """One poll of ``target``; returns the pause before its next one, or None when its wait is over."""
        with target.lock:
            if target.result is not None:
                return None
            try:
                if target.waiter is None:
                    target.adapter, target.waiter = self.open_target(target, self.cancelled)
                    if self.start_push is not None:  # one stream per manager, opened in its first poll
                        target.waiter.start_push = lambda: self._start_push(target)
                if target.ids is None:
                    target.adapter.ensure_session()
                    target.ids = self.select(target)
                    if not target.ids:
                        return self._end(target, None)
                if self.check_mode:
                    return self._end(target, target.waiter.look_once(target.ids))
                outcome, pause = target.waiter.step(target.ids)
                if outcome is not None:
                    return self._end(target, outcome)
                return pause
            except WaitAborted as exc:
                return self._end(target, exc)
            except TaskStatusError as exc:
                return self._end(target, exc)
            except Exception as exc:  # noqa: BLE001 - one target's bug must not stop the others
                exc.trace = traceback.format_exc()
                return self._end(target, exc)

    def _start_push(self, target):
        """The target's stream, whose events (and first answer) reschedule the target. Returns the waiter's
        (wake, defer): no Event (a fleet sleeps on its schedule), and the first read put off until the stream
        has answered (at most OPEN_WAIT), so that no worker is held while a stream opens."""
        target.push = self.start_push(target, lambda: self.wake(target)) or False
        if target.push and target.push.live and not target.push.ready:
            return None, OPEN_WAIT
        with self.cond:
            target.rewake = False  # the read comes now, after whatever woke the target so far
        return None, 0.0

    def _end(self, target, outcome):
        target.result = self.finish(target, outcome)
        self._close(target)
        if self.progress is not None:
            how = "timed out" if target.result.get("timed_out") else (
                "failed" if target.result.get("failed") else "succeeded")
            self.progress.finished(target.name, how)
            if target.result.get("failed") and not any(t.get("state") in ("failed", "cancelled")
                                                       for t in target.result.get("tasks", [])):
                self.progress.emit("failure", "%s: %s" % (target.name, show(target.result.get("msg"), limit=500)))
        if self.fail_fast and target.result.get("failed"):
            self.cancelled.set()
        return None

    def _close(self, target):
        if target.push:
            target.push.stop()
        if target.adapter is not None:
            target.adapter.close()

    # The run --------------------------------------------------------------------
    def run(self):
        """Wait for every target; returns when all are done, or raises what interrupted the main thread
        (``WaitCancelled``, ``KeyboardInterrupt``) after closing every session."""
        now = self.clock()
        for target in self.targets:
            self._push(now, target)
        self.threads = [threading.Thread(target=self._worker, name="taskstatus-fleet-%d" % n, daemon=True)
                        for n in range(self.concurrency)]
        for thread in self.threads:
            thread.start()
        try:
            for thread in self.threads:
                while thread.is_alive():
                    thread.join(JOIN_SLICE)
        except BaseException:
            self.cancelled.set()
            self.shutdown()
            raise
        if self.cancelled.is_set():  # fail-fast: the others end here
            self.shutdown()

    def shutdown(self):
        """Stop every wait and close every session that is still open (cancel, fail-fast)."""
        self.cancelled.set()
        with self.cond:
            self.cond.notify_all()
        for thread in self.threads:
            thread.join(60)
        pending = [t for t in self.targets if t.result is None]
        closers = [threading.Thread(target=self._cancel_one, args=(chunk,), daemon=True)
                   for chunk in (pending[n::self.concurrency] for n in range(self.concurrency)) if chunk]
        for thread in closers:
            thread.start()
        for thread in closers:
            thread.join(120)

    def _cancel_one(self, targets):
        for target in targets:
            with target.lock:
                if target.result is None:
                    target.result = self.finish(target, None, cancelled=True)
                    self._close(target)


def fleet_summary(targets):
    """Totals of a fleet wait and one line a person can read."""
    counts = {"targets": len(targets), "succeeded": 0, "failed": 0, "timed_out": 0, "cancelled": 0}
    bad = []
    for target in targets:
        result = target.result or {}
        if result.get("cancelled"):
            counts["cancelled"] += 1
        elif result.get("timed_out"):
            counts["timed_out"] += 1
        elif result.get("failed"):
            counts["failed"] += 1
        else:
            counts["succeeded"] += 1
        if result.get("failed"):
            bad.append("%s: %s" % (target.name, result.get("msg")))
    tasks = [task for target in targets for task in (target.result or {}).get("tasks", [])]
    line = "%d managers: %d succeeded, %d failed, %d timed out%s" % (
        counts["targets"], counts["succeeded"], counts["failed"], counts["timed_out"],
        ", %d cancelled" % counts["cancelled"] if counts["cancelled"] else "")
    if bad:
        line += ". " + " | ".join(show(b, limit=400) for b in bad[:20])
        if len(bad) > 20:
            line += " | ... and %d more" % (len(bad) - 20)
    counts["tasks"] = len(tasks)
    return counts, line
