# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait for many tasks in one module run.

A monotonic deadline, predicates over the normalized tasks, transient errors
tolerated for ``unreachable_timeout`` seconds in a row, and a partial result
on timeout or failure.
"""

from __future__ import annotations

import time

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    NotFound,
    TaskStatusError,
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import clamp_retry_after
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (
    SUCCEEDED,
    TERMINAL_STATES,
    show,
)

DEFAULT_FAIL_ON = ("failed", "cancelled")
# The final poll is made this long before the deadline so that its request
# still has time to be answered.
FINAL_POLL_MARGIN = 0.05


class Deadline:
    """Seconds left of a wait, on the monotonic clock."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.start = clock()
        self.end = None if seconds is None else self.start + float(seconds)

    def left(self):
        if self.end is None:
            return None
        return self.end - self.clock()

    def elapsed(self):
        return self.clock() - self.start


class WaitOutcome:
    """What the module returns: the last state of every task and how the wait ended."""

    def __init__(self, tasks, polls, elapsed, timed_out=False, failed=False, msg=""):
        self.tasks = tasks
        self.polls = polls
        self.elapsed = elapsed
        self.timed_out = timed_out
        self.failed = failed
        self.msg = msg


class WaitAborted(TaskStatusError):
    """The wait ended in an error; ``outcome`` holds what was known by then."""

    def __init__(self, message, outcome, platform=None):
        super().__init__(message, platform=platform)
        self.outcome = outcome


class Waiter:
    def __init__(self, adapter, deadline, interval=10.0, max_interval=60.0, until="all",
                 states=None, fail_on=DEFAULT_FAIL_ON, unreachable_timeout=900.0,
                 sleep=time.sleep, observer=None, wake=None):
        self.adapter = adapter
        self.deadline = deadline
        self.interval = float(interval)
        self.max_interval = max(float(max_interval), self.interval)
        self.until = until
        self.states = frozenset(s.lower() for s in (states or TERMINAL_STATES))
        self.fail_on = frozenset(s.lower() for s in (fail_on or ()))
        self.unreachable_timeout = float(unreachable_timeout)
        self.sleep = sleep
        self.observer = observer
        self.wake = wake  # a threading.Event a pushed task event sets: poll at once instead of sleeping on
        # Called once, in the first poll that has a session, before its read. Returns (wake, defer): the Event a
        # task event sets (or None), and the seconds to put the first read off while the stream opens (0: now).
        self.start_push = None
        self.polls = 0
        self.tasks = []
        self.last_error = None
        self.errors_in_a_row = 0
        self.down_since = None
        self.delay = self.interval

    # Predicates ---------------------------------------------------------
    def failures(self, tasks):
        return [t for t in tasks if t.gone or t.matches(self.fail_on)]

    def finished(self, tasks):
        done = [t for t in tasks if t.matches(self.states)]
        if self.until == "any":
            return bool(done)
        return len(done) == len(tasks)

    # The loop -------------------------------------------------------------
    def look_once(self, task_ids):
        """Check mode: one read-only look, unknown ids allowed."""
        self.tasks = self.adapter.poll(task_ids)
        self.polls = 1
        msg = "check mode: looked once and did not wait. " + summary(self.tasks)
        return WaitOutcome(self.tasks, 1, self.deadline.elapsed(), msg=msg)

    def partial(self, msg=""):
        """What is known so far, for a wait that ends in an error."""
        return WaitOutcome(self.tasks, self.polls, self.deadline.elapsed(), failed=True, msg=msg)

    def wait(self, task_ids):
        """Poll until the tasks reach ``states``, one fails, or the deadline passes."""
        while True:
            outcome, pause = self.step(task_ids)
            if outcome is not None:
                return outcome
            if self.wake is None:
                self.sleep(pause)
            else:
                self.wake.wait(pause)  # cleared by the next step, before its read

    def step(self, task_ids):
        """One poll: ``(outcome, None)`` when the wait is over, else ``(None, seconds to the next poll)``.

        Raises ``WaitAborted`` (with what is known) for an error that ends the wait.
        """
        platform = self.adapter.platform
        hint = None
        try:
            if self.start_push is not None:
                # The stream opens before the read (a manager down at the start is waited for as before): a
                # change after the read is pushed, one before it is read.
                self.adapter.ensure_session()
                start, self.start_push = self.start_push, None
                wake, defer = start()
                self.wake = wake or self.wake
                if defer > 0:
                    return None, self._before_deadline(defer)
            if self.wake is not None:
                self.wake.clear()  # this read sees every change before it; an event during it sets it again
            tasks = self.adapter.poll(task_ids)
        except TransientError as exc:
            self.polls += 1
            self.last_error = exc
            self.errors_in_a_row += 1
            now = self.deadline.clock()
            if self.down_since is None:
                self.down_since = now
                self.delay = self.interval
            else:
                self.delay = min(self.max_interval, self.delay * 2)
            if now - self.down_since >= self.unreachable_timeout:
                outcome = self._outcome(self.tasks, failed=True)
                outcome.msg = ("%s unreachable for %.0f s in a row (unreachable_timeout): %s. Last known: %s"
                               % (platform, now - self.down_since, exc,
                                  summary(self.tasks) if self.tasks else "nothing yet"))
                raise WaitAborted(outcome.msg, outcome, platform=platform)
            hint = exc.retry_after
        except TaskStatusError as exc:
            self.polls += 1
            outcome = self._outcome(self.tasks, failed=True)
            outcome.msg = str(exc) + (". Last known: " + summary(self.tasks) if self.tasks else "")
            raise WaitAborted(outcome.msg, outcome, platform=platform)
        else:
            self.polls += 1
            self.tasks = tasks
            self.errors_in_a_row = 0
            self.down_since = None
            self.delay = self.interval
            hint = self.adapter.retry_hint
            if self.observer is not None:
                self.observer(tasks)
            outcome = self._judge(tasks)
            if outcome is not None:
                return outcome, None
        left = self.deadline.left()
        if left is None or left <= FINAL_POLL_MARGIN * 2:
            return self._timed_out(), None
        pause = self.delay
        if hint is not None:
            pause = max(pause, clamp_retry_after(hint))
        return None, self._before_deadline(pause)

    def _before_deadline(self, pause):
        """``pause``, cut short so that the final poll still comes before the deadline."""
        left = self.deadline.left()
        return pause if left is None else max(0.0, min(pause, left - FINAL_POLL_MARGIN))

    def _judge(self, tasks):
        """The outcome when ``tasks`` end the wait (a failure, all done), else None."""
        platform = self.adapter.platform
        missing = [t for t in tasks if not t.found and not t.gone]
        if missing:
            outcome = self._outcome(tasks, failed=True)
            outcome.msg = "%s does not know %s: %s" % (
                platform, "this task" if len(missing) == 1 else "these tasks", ", ".join(show(t.id) for t in missing))
            raise WaitAborted(outcome.msg, outcome, platform=platform)
        failed = self.failures(tasks)
        if failed:
            outcome = self._outcome(tasks, failed=True)
            outcome.msg = "%d of %d tasks failed: %s" % (
                len(failed), len(tasks), "; ".join(t.describe() for t in failed))
            rest = [t for t in tasks if t not in failed and not t.terminal]
            if rest:
                outcome.msg += "; still running: " + "; ".join(t.describe() for t in rest)
            return outcome
        if self.finished(tasks):
            outcome = self._outcome(tasks)
            outcome.msg = summary(tasks)
            return outcome
        return None

    def _timed_out(self):
        outcome = self._outcome(self.tasks, failed=True, timed_out=True)
        platform = self.adapter.platform
        if self.errors_in_a_row and self.tasks:
            tail = "%s; the last %d poll%s failed: %s" % (
                summary(self.tasks, pending_only=True), self.errors_in_a_row,
                "" if self.errors_in_a_row == 1 else "s", self.last_error)
        elif self.errors_in_a_row:
            tail = "no poll succeeded (%d tried); the last error: %s" % (self.errors_in_a_row, self.last_error)
        else:
            tail = summary(self.tasks, pending_only=True) if self.tasks else "%s never answered" % platform
        outcome.msg = "timed out after %.0f s: %s" % (self.deadline.elapsed(), tail)
        return outcome

    def _outcome(self, tasks, failed=False, timed_out=False):
        return WaitOutcome(tasks, self.polls, self.deadline.elapsed(), timed_out=timed_out, failed=failed)


def summary(tasks, pending_only=False):
    """One line a person can read about ``tasks``."""
    if not tasks:
        return "no task matched; nothing to wait for"
    counts = {}
    for task in tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    head = ", ".join("%d %s" % (n, state) for state, n in sorted(counts.items()))
    if pending_only:
        shown = [t for t in tasks if not t.terminal or t.state != SUCCEEDED]
    else:
        shown = [t for t in tasks if t.state != SUCCEEDED]
    if not shown:
        return "%d of %d tasks succeeded" % (len(tasks), len(tasks))
    return "%s: %s" % (head, "; ".join(t.describe() for t in shown))


def ensure_found(tasks, platform):
    """Raise ``NotFound`` naming every id the platform does not know."""
    missing = [show(t.id) for t in tasks if not t.found]
    if missing:
        raise NotFound("no such task%s: %s (set missing_ok=true to return unknown ids as found=false)"
                       % ("" if len(missing) == 1 else "s", ", ".join(missing)), platform=platform)
