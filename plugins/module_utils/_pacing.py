# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pacing under a manager's rate limit (the FMC allows 120 requests a minute per user)."""

from __future__ import annotations

import collections
import time

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TransientError


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
                raise TransientError("pacing under the rate limit of %d requests per %.0f s leaves no time for "
                                     "another request" % (self.limit, self.window), platform=platform)
            self.sleep(wait)
            self.waited += wait
            self.sent.popleft()
        self.sent.append(self.clock())
