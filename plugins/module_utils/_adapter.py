# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every platform adapter shares: the session life cycle and "seen, then gone"."""

from __future__ import annotations

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    SessionExpired,
)


class Adapter:
    """Base class of the platform adapters.

    A subclass sets ``platform`` and implements ``login``, ``logout``,
    ``fetch`` (ids -> tasks, in order, ``found=False`` for unknown ids) and
    ``list_tasks``.  Use it as a context manager: the session is closed on
    success, failure and timeout alike.
    """

    platform = None

    def __init__(self, http, params):
        self.http = http
        self.params = params
        self.logged_in = False
        self.ever_logged_in = False
        self.retry_hint = None
        self._seen = set()

    # Session life cycle ------------------------------------------------
    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def open(self):
        self.login()
        self.logged_in = True
        self.ever_logged_in = True

    def relogin(self):
        """Log in again after the platform forgot the session (a reboot, an idle timeout)."""
        self.logged_in = False
        self.forget_session()
        try:
            self.login()
        except AuthError as exc:
            # Credentials that worked before: the manager is still coming back.
            raise SessionExpired(exc.message, platform=exc.platform, path=exc.path, status=exc.status)
        self.logged_in = True

    def with_session(self, send):
        """``send()`` -> Response; a 401 after a successful login logs in again, once, and sends again.

        ``send`` must build its headers when called, so that the second try carries the new session.
        """
        resp = send()
        if resp.status == 401 and self.ever_logged_in:
            self.relogin()
            resp = send()
            if resp.status == 401:
                raise SessionExpired("the credentials were refused again after a new login", platform=self.platform,
                                     path=resp.path, status=401)
        return resp

    def close(self):
        """Log out; never raises (the run's own result or error matters more)."""
        try:
            if self.logged_in:
                self.logout()
        except Exception:  # noqa: BLE001 - logout is best effort after the result is known
            pass
        finally:
            self.logged_in = False
            self.http.close()

    # Hooks -------------------------------------------------------------
    def login(self):
        raise NotImplementedError

    def logout(self):
        raise NotImplementedError

    def forget_session(self):
        """Drop the session token without a request (the platform has forgotten it)."""

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
