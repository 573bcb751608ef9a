# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every platform adapter shares: the session life cycle, one classification of answers, "seen, then gone".

Whether an answer is transient (the waiter outlasts it), an authentication problem or fatal is decided
here, the same way for every platform:

- 408, 429 and every 5xx are transient: tolerated for ``unreachable_timeout`` seconds in a row.
- 401 at the first login is a refusal (a wrong password is not an outage); a 401 after a login that
  worked means the platform forgot the session: log in again, once per request. Refused re-logins are
  counted, and after ``MAX_REFUSED`` in a row the run stops, so that an account is never locked out.
- 403 is fatal: access refused.
"""

from __future__ import annotations

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    HttpError,
    OptionError,
    SessionExpired,
    TaskStatusError,
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._pacing import SharedBudget

TRANSIENT_STATUSES = frozenset((408, 429))
# Answers to a logout that mean the session is closed (or was already gone).
LOGGED_OUT = frozenset((200, 202, 204, 401, 404, 410))
# What a bare id may not hold: it is quoted into one path segment, and a front end that decodes %2F
# before routing would serve whatever the id names.
BAD_IN_BARE_ID = ("/", "\\", "..", "?", "#")


def check_bare_id(task_id, platform, what="task id"):
    """A bare task id as text, or ``OptionError`` before any request is made."""
    text = "" if task_id is None else str(task_id)
    if not text.strip():
        raise OptionError("task_ids must not hold an empty id", platform=platform)
    bad = [b for b in BAD_IN_BARE_ID if b in text]
    if bad or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise OptionError("%s %r is refused: a bare id must not contain %s" % (
            what, text[:120], ", ".join(repr(b) for b in bad) or "control characters"), platform=platform)
    return text


class Adapter:
    """Base class of the platform adapters.

    A subclass sets ``platform`` and ``VENDOR_STATES`` and implements ``login``, ``logout``,
    ``credentials``, ``fetch`` (ids -> tasks, in order, ``found=False`` for unknown ids) and
    ``list_tasks``. Use it as a context manager: the session is closed on success, failure and timeout.
    """

    platform = None
    # The platform's own state words that the states and fail_on options may name (lower case).
    VENDOR_STATES = ()
    # Refused logins in a row (after one that worked) before the run stops.
    MAX_REFUSED = 3
    # Requests a minute the platform allows one user, or None; shared by every wait on the controller
    # (max_requests_per_minute overrides it).
    RATE_LIMIT = None
    RATE_WINDOW = 60.0

    def __init__(self, http, params):
        self.http = http
        self.params = params
        self.logged_in = False
        self.ever_logged_in = False
        self.logging_in = False
        self.refused = 0
        self.retry_hint = None
        self.notes = []
        self.secrets = set()
        self._seen = set()
        # One budget per (manager, user) for the whole controller: forks, successive runs and fleet targets.
        limit = params.get("max_requests_per_minute") or self.RATE_LIMIT
        if limit and getattr(http, "limiter", False) is None:
            http.limiter = SharedBudget(limit, self.RATE_WINDOW, http.base,
                                        user=params.get("username") or params.get("token"))

    # Session life cycle ------------------------------------------------
    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def open(self):
        self.logging_in = True
        try:
            self.login()
        finally:
            self.logging_in = False
        self.logged_in = True
        self.ever_logged_in = True

    def relogin(self):
        """Log in again after the platform forgot the session (a reboot, an idle timeout).

        What is left of the old session is deleted first (a 401 may come from a proxy, or for one
        request, while the session lives on), so that a re-login never leaves a session behind.
        """
        if self.logged_in:
            self._end_session()
        self.logged_in = False
        self.logging_in = True
        try:
            self.login()
        except AuthError as exc:
            self.refused += 1
            if self.refused >= self.MAX_REFUSED:
                raise AuthError("%s; refused %d times in a row after a login that worked earlier in this run: "
                                "stopped trying, so that the account is not locked out" % (exc.message, self.refused),
                                platform=exc.platform, path=exc.path, status=exc.status)
            # Credentials that worked before: the manager is probably still coming back.
            raise SessionExpired(exc.message, platform=exc.platform, path=exc.path, status=exc.status)
        finally:
            self.logging_in = False
        self.logged_in = True

    def close(self):
        """Log out; never raises (the run's own result or error matters more), but says when it failed."""
        try:
            if self.logged_in:
                error = self._end_session()
                if error is not None:
                    self.notes.append("could not log out of %s (%s); the session stays open on the manager "
                                      "until it expires" % (self.platform, error))
        finally:
            self.logged_in = False
            self.http.close()

    def _end_session(self):
        """Log out and forget the session; returns the error instead of raising it."""
        try:
            self.logout()
        except TaskStatusError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - a bug in a logout must not hide the run's result
            return "%s: %s" % (exc.__class__.__name__, exc)
        finally:
            self.forget_session()
        return None

    def logged_out(self, resp):
        """Check a logout's answer: a session the manager still holds after it is an error."""
        if resp.status not in LOGGED_OUT:
            raise HttpError("the logout was answered %s" % self.why(resp), platform=self.platform, path=resp.path,
                            status=resp.status)
        return resp

    def secret(self, value):
        """Remember a token obtained at run time: it is masked in results, warnings and errors."""
        if value:
            self.secrets.add(str(value))
        return value

    # Requests ------------------------------------------------------------
    def request(self, method, path, params=None, json_body=None, session=True, retry=None, final=False, accept=()):
        """One request with the session's credentials, its answer classified (see the module docstring).

        With ``session`` false no credentials are sent. ``final`` marks a logout: short timeout of its
        own, no retry, no new login. ``accept`` are statuses that are an answer for this request, not an
        error (a Redfish task monitor answers with the operation's own error status when it failed).
        Returns the answer for every status that is not an error here.
        """
        def send():
            headers, auth = self.credentials() if session else ({}, None)
            return self.transmit(method, path, headers=headers, auth=auth, params=params, json_body=json_body,
                                 retry=retry, final=final)

        resp = send()
        if resp.status == 401 and session and self.ever_logged_in and not (final or self.logging_in):
            self.relogin()
            resp = send()
        if final or resp.status in accept:
            return resp
        return self.classify(resp)

    def transmit(self, method, path, headers=None, auth=None, params=None, json_body=None, retry=None,
                 final=False):
        """Send one request (a platform that paces its requests overrides this)."""
        return self.http.request(method, path, headers=headers, auth=auth, params=params, json_body=json_body,
                                 retry=retry, final=final)

    def classify(self, resp):
        status = resp.status
        if status == 401:
            if self.logging_in or not self.ever_logged_in:
                raise AuthError("credentials were refused (%s)" % self.why(resp), platform=self.platform,
                                path=resp.path, status=status)
            self.refused += 1
            if self.refused >= self.MAX_REFUSED:
                raise AuthError("the manager refused the session %d times in a row, also right after a new login "
                                "(%s); stopped trying, so that the account is not locked out"
                                % (self.refused, self.why(resp)), platform=self.platform, path=resp.path,
                                status=status)
            raise SessionExpired("the session was refused right after a new login (%s)" % self.why(resp),
                                 platform=self.platform, path=resp.path, status=status)
        if status in TRANSIENT_STATUSES or status >= 500:
            raise TransientError(self.why(resp), platform=self.platform, path=resp.path, status=status,
                                 retry_after=resp.retry_after)
        if status == 403:
            raise AuthError("access refused: %s" % self.why(resp), platform=self.platform, path=resp.path,
                            status=status)
        if not self.logging_in:
            self.refused = 0
        return resp

    def check_login(self, resp, refused):
        """A login's answer: 401/403 are a refusal (``refused`` says whose), 408/429/5xx an outage."""
        if resp.status in (401, 403):
            raise AuthError("%s (%s)" % (refused, self.why(resp)), platform=self.platform, path=resp.path,
                            status=resp.status)
        if resp.status in TRANSIENT_STATUSES or resp.status >= 500:
            raise TransientError("cannot log in: %s" % self.why(resp), platform=self.platform, path=resp.path,
                                 status=resp.status, retry_after=resp.retry_after)
        return resp

    def why(self, resp):
        """The platform's own words for an error answer (adapters read their error bodies)."""
        return resp.text(160) or "HTTP %d, no details" % resp.status

    # Hooks -------------------------------------------------------------
    def login(self):
        raise NotImplementedError

    def logout(self):
        raise NotImplementedError

    def credentials(self):
        """``(headers, auth)`` that every request of the session carries."""
        return {}, None

    def forget_session(self):
        """Drop the session token without a request (the platform has forgotten it)."""

    def check_ids(self, task_ids):
        """Refuse malformed ids before any request (``OptionError``)."""

    def fetch(self, task_ids):
        raise NotImplementedError

    def list_tasks(self, filters):
        raise NotImplementedError

    # Polling -----------------------------------------------------------
    def ensure_session(self):
        """Log in on first use, and again when the platform forgot the session."""
        if self.logged_in:
            return
        if self.ever_logged_in:
            self.relogin()
        else:
            self.open()

    def poll(self, task_ids):
        """``fetch`` plus bookkeeping: a task seen earlier that is now unknown is *gone*."""
        self.retry_hint = None
        self.ensure_session()
        tasks = self.fetch(task_ids)
        for task in tasks:
            if task.found:
                self._seen.add(task.id)
            elif task.id in self._seen:
                task.gone = True
                task.messages.append({
                    "severity": "critical",
                    "text": "the task was seen earlier in this run and is gone now; its outcome is unknown",
                    "id": None,
                })
        return tasks

    def hint(self, seconds):
        """Remember the smallest ``Retry-After`` the platform asked for in this poll."""
        if seconds is None:
            return
        if self.retry_hint is None or seconds < self.retry_hint:
            self.retry_hint = seconds
