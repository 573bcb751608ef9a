# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pacing under a manager's rate limit (the FMC allows 120 requests a minute per user).

``RateLimiter`` paces one object in one process. ``SharedBudget`` gives every
wait on the controller that talks to the same manager as the same user one
budget: forks, successive module runs and the targets of a fleet wait (threads)
share a sliding window of send times kept in a file under the controller's temp
dir, locked with ``flock``. Both offer ``acquire(left, platform)``, ``sleep``
and ``waited``.
"""

from __future__ import annotations

import collections
import errno
import hashlib
import math
import os
import stat
import tempfile
import threading
import time
from urllib.parse import urlsplit

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: every budget stays in-process
    fcntl = None

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TransientError


def _no_time_left(limit, window, platform):
    return TransientError("pacing under the rate limit of %d requests per %.0f s leaves no time for another request"
                          % (limit, window), platform=platform)


class RateLimiter:
    """At most ``limit`` requests in any ``window`` seconds, on the monotonic clock.

    A sliding log of send times: unlike a refilling bucket with a burst it
    can never put more than ``limit`` requests into one of the server's
    windows, whatever the window's phase.
    """

    def __init__(self, limit, window, clock=time.monotonic, sleep=time.sleep):
        self.limit = int(limit)
        self.window = float(window)
        self.clock = clock
        self.sleep = sleep
        self.sent = collections.deque()
        self.waited = 0.0

    def acquire(self, left=None, platform=None):
        now = self.clock()
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            wait = self.sent[0] + self.window - now
            if left is not None and wait >= left:
                raise _no_time_left(self.limit, self.window, platform)
            self.sleep(wait)
            self.waited += wait
            self.sent.popleft()
        self.sent.append(self.clock())


def budget_key(url, user=None):
    """The name of one (manager, user) budget: a SHA-256 of ``scheme://host:port`` and the user.

    ``url`` is the module's ``host`` option (a name, ``name:port`` or a base URL;
    the path does not matter); ``user`` is the user name, or for token
    logins the token. Neither appears in clear anywhere: only this hash names
    the budget's file.
    """
    text = url if "://" in url else "https://" + url
    parts = urlsplit(text)
    scheme = (parts.scheme or "https").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 80 if scheme == "http" else 443
    identity = "%s://%s:%d\n%s" % (scheme, (parts.hostname or "").lower(), port, user or "")
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def budget_dir():
    """``<temp dir>/taskstatus-budget-<uid>``: where the shared budgets of this controller user live."""
    return os.path.join(tempfile.gettempdir(), "taskstatus-budget-%d" % os.getuid())


# In-process budgets, for when the directory cannot be used: {(pid, key): [lock, deque of send times]}.
# The pid in the key gives a forked worker its own, never a copy of a lock held at the fork.
_LOCAL = {}
_LOCAL_LOCK = threading.Lock()


class SharedBudget:
    """At most ``limit`` requests in any ``window`` seconds to one manager as one user, controller-wide.

    The send times (wall clock, so that every process reads them alike) live in
    ``<directory>/<budget_key(url, user)>``, one fixed-width line each, read,
    pruned and rewritten under an exclusive ``flock`` on every ``acquire``; the
    directory is the controller user's own (mode 0700, checked). Processes and
    threads (each ``acquire`` opens the file itself, so ``flock`` separates
    threads too) that share the key share the budget. When the directory or
    the file cannot be used, the budget is shared only inside this process and
    ``note`` says why. Entries are kept at least KEEP seconds, so callers with
    different windows up to that long never prune each other's history.

    A send time is taken before the request leaves, and the server counts it
    when it arrives: after a TLS handshake, a login, a slow network. So a send
    stays in the budget ``slack`` seconds longer than the window (at most
    ``limit`` sends in any ``window + slack`` seconds): a request that reaches
    the server up to ``slack`` late is still counted on this side. Without
    it, forks that log in at once (their first request ~0.1 s late) got 429
    from the simulated FMC a window later, just as the first sends expired here.

    ``acquire`` waits (``sleep``) until a request fits; when the wait would reach
    past ``left`` seconds it raises TransientError instead, without waiting.
    """

    KEEP = 60.0

    def __init__(self, limit, window, url, user=None, directory=None, slack=1.0, clock=time.time, sleep=time.sleep):
        self.limit = int(limit)
        self.window = float(window)
        self.slack = float(slack)
        if self.limit < 1 or self.window <= 0 or self.slack < 0:
            raise ValueError("a request budget needs a limit >= 1, a window > 0 and a slack >= 0")
        self.key = budget_key(url, user)
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        self.note = None
        self.path = None
        directory = directory or budget_dir()
        reason = self._prepare(directory)
        if reason:
            self.note = ("the request budget of %d per %.0f s is shared only inside this process (%s)"
                         % (self.limit, self.window, reason))

    # set-up ------------------------------------------------------------------
    def _prepare(self, directory):
        """Make or check the directory and the file; the reason they cannot be used, or None."""
        if fcntl is None:
            return "no fcntl on this system"
        try:
            try:
                os.mkdir(directory, 0o700)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise
            info = os.lstat(directory)
            if not stat.S_ISDIR(info.st_mode):
                return "%s is not a directory" % directory
            if info.st_uid != os.getuid() or info.st_mode & 0o077:
                return "%s is not private to this user" % directory
            path = os.path.join(directory, self.key)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                         0o600)
            os.close(fd)
        except OSError as exc:
            return "cannot use %s: %s" % (directory, exc.strerror or exc)
        self.path = path
        return None

    @property
    def shared(self):
        """True when the budget is shared across processes (a file), False when only in-process."""
        return self.path is not None

    # the budget --------------------------------------------------------------
    def acquire(self, left=None, platform=None, force=False):
        """Wait until one more request fits the window, record it, and return its send time.

        ``force`` records the request without waiting (a logout must go out even when the budget is spent:
        callers keep headroom below the manager's own limit for it, as the FMC's 110 of 120 do).
        """
        deadline = None if left is None else self.clock() + left
        while True:
            sent, wait = self._take(force)
            if sent is not None:
                return sent
            if deadline is not None and wait >= deadline - self.clock():
                raise _no_time_left(self.limit, self.window, platform)
            self.sleep(wait)
            self.waited += wait

    def _take(self, force=False):
        """One attempt: (send time, None) when the request fits, else (None, seconds until a slot frees)."""
        if self.path is not None:
            try:
                return self._take_file(force)
            except OSError as exc:  # the file went away or broke mid-run: carry on in-process
                self.note = ("the request budget of %d per %.0f s is shared only inside this process (%s: %s)"
                             % (self.limit, self.window, self.path, exc.strerror or exc))
                self.path = None
        return self._take_local(force)

    def _decide(self, times, now, force=False):
        """Prune ``times`` (ascending) in place; (now, None) after appending ``now``, or (None, wait)."""
        span = self.window + self.slack
        horizon = now - max(span, self.KEEP)
        while times and times[0] <= horizon:
            times.popleft()
        inside = [t for t in times if t > now - span]
        if len(inside) >= self.limit and not force:
            # the oldest of the last ``limit`` sends leaves the window first
            return None, max(inside[-self.limit] + span - now, 0.001)
        times.append(now)
        return now, None

    def _take_file(self, force=False):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            chunks = []
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            now = self.clock()
            times = []
            dirty = False  # anything to rewrite besides a new send: a skipped line, a time from the future
            for line in b"".join(chunks).split(b"\n"):
                try:
                    value = float(line)
                except ValueError:  # a torn or foreign line: skip it
                    value = None
                if value is None or math.isnan(value):
                    dirty = dirty or bool(line)
                    continue
                if value > now:  # written before the clock went back: counts as now, not for hours
                    value, dirty = now, True
                times.append(value)
            times = collections.deque(sorted(times))
            before = len(times)
            sent, wait = self._decide(times, now, force)
            if sent is not None or dirty or len(times) != before:
                # fixed-width lines: a rewrite cut short leaves whole (older, so over-counting) lines
                data = b"".join(b"%17.6f\n" % t for t in times)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, data)
                os.ftruncate(fd, len(data))
            return sent, wait
        finally:
            os.close(fd)  # releases the lock

    def _take_local(self, force=False):
        with _LOCAL_LOCK:
            entry = _LOCAL.setdefault((os.getpid(), self.key), [threading.Lock(), collections.deque()])
        with entry[0]:
            return self._decide(entry[1], self.clock(), force)
