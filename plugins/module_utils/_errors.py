# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exceptions of the collection.

Adapters, the HTTP layer and the waiter raise these; only the modules end
the run with them.  Messages never contain a password or a token.
"""

from __future__ import annotations


class TaskStatusError(Exception):
    """Base class: a problem that ends the module run with a clear message."""

    def __init__(self, message, platform=None, path=None, status=None):
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.path = path
        self.status = status

    def __str__(self):
        parts = []
        if self.platform:
            parts.append(self.platform)
        if self.path:
            parts.append(self.path)
        if self.status is not None:
            parts.append("HTTP %s" % self.status)
        prefix = " ".join(parts)
        return "%s: %s" % (prefix, self.message) if prefix else self.message


class OptionError(TaskStatusError):
    """An option value that cannot work, found before any request is made."""


class TransientError(TaskStatusError):
    """The platform cannot answer right now (connection refused, timeout, 5xx).

    The waiter tolerates these for ``unreachable_timeout`` seconds in a row.
    ``retry_after`` is the server's hint in seconds, when it gave one.
    """

    def __init__(self, message, platform=None, path=None, status=None, retry_after=None):
        super().__init__(message, platform=platform, path=path, status=status)
        self.retry_after = retry_after


class AuthError(TaskStatusError):
    """Credentials refused (401/403) at the first login, or refused again and again: not an outage."""


class SessionExpired(TransientError):
    """A session that worked before is gone (401 mid-wait); log in again."""


class HttpError(TaskStatusError):
    """The platform answered with an error status that retrying will not fix."""

    def __init__(self, message, platform=None, path=None, status=None, body=None):
        super().__init__(message, platform=platform, path=path, status=status)
        self.body = body


class NotFound(HttpError):
    """The task (or the endpoint) does not exist."""


class BadResponse(TaskStatusError):
    """The platform answered something it does not document (not JSON, wrong shape...)."""


class Redirected(TaskStatusError):
    """A redirect the collection does not follow: to another origin, or of a request with a body."""


class WaitCancelled(BaseException):
    """SIGTERM (a cancelled AWX job, an ansible-runner timeout) ends the run; the session is still closed.

    A ``BaseException`` like ``KeyboardInterrupt``, so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum):
        super().__init__("signal %d" % signum)
        self.signum = signum
