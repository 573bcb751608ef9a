# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Push where the manager offers it: a task event makes a wait read its tasks at once.

A Redfish service whose EventService names a ``ServerSentEventUri`` pushes TaskEvent messages; one stream
per manager is opened (with a ``$filter`` the service supports, by _sse.py) and each task event wakes the
wait, which then reads its tasks: the task resource stays the one source of truth, and the wait's own
interval goes on as a slow safety poll (events can be lost). Any refusal, stream limit (the iDRAC allows
two streams) or error ends the stream, and the wait simply polls. The stream is closed like a session, at
the end of the wait whatever ended it.
"""

from __future__ import annotations

import threading

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TaskStatusError
from ansible_collections.taskstatus.infra.plugins.module_utils._sse import EventStream, discover, tails

JOIN_TIMEOUT = 15.0  # s to wait for the stream's thread after stop() (its socket is shut at once)
OPEN_WAIT = 10.0  # s at most that start() waits for the stream's first answer


class Push:
    """The push side of one manager's wait: ``start()`` after login and before the first read of the tasks,
    ``wake`` is set on task events."""

    def __init__(self, adapter, wake=None, on_wake=None, watched=None):
        self.adapter = adapter
        self.watched = watched  # callable: the tasks of the wait as last read (events about others are ignored)
        self.wake = wake or threading.Event()
        self.on_wake = on_wake
        self.stream = None
        self.thread = None
        self.failed = None  # why push could not start (the EventService could not be read)

    def start(self, wait=True, on_ready=None):
        """Open the stream when the manager offers one; True when it was started.

        With ``wait``, returns once the stream has answered (or could not be opened, or after ``OPEN_WAIT``), so
        that a read of the tasks made after it misses no change: one made before could, until the next safety
        poll. Without, ``on_ready()`` is called from the stream's thread at that moment (a fleet wait puts its
        first read off until then, without holding a worker). Never raises: a manager whose EventService cannot
        be read is polled, as one without it.
        """
        if self.adapter.platform != "redfish":
            return False
        try:
            endpoint = discover(self.adapter)
        except TaskStatusError as exc:
            self.failed = exc.message
            return False
        if endpoint is None:
            return False
        self.stream = EventStream(self.adapter.http, endpoint, credentials=self.adapter.credentials,
                                  platform=self.adapter.platform)
        self.stream.on_ready = on_ready
        self.thread = threading.Thread(target=self.stream.run, args=(self._event,), name="taskstatus-sse",
                                       daemon=True)
        self.thread.start()
        if wait:
            left = self.adapter.http.deadline()
            self.stream.ready.wait(OPEN_WAIT if left is None else max(0.0, min(OPEN_WAIT, left)))
        return True

    @property
    def ready(self):
        """The stream has answered (or could not be opened): events from here on are seen."""
        return self.stream is None or self.stream.ready.is_set()

    def _event(self, event):
        """In the stream's thread: a task changed state (or events may have been missed): read now."""
        if event.wakes and event.concerns(tails(self.watched() if self.watched is not None else ())):
            self.wake.set()
            if self.on_wake is not None:
                self.on_wake()

    @property
    def live(self):
        return self.thread is not None and self.thread.is_alive()

    def note(self):
        """Why push ended early (a line for the warnings), or None."""
        error = self.stream.error if self.stream is not None else self.failed
        return None if error is None else "push: the event stream ended (%s); the wait polled instead" % error

    def stop(self):
        if self.stream is None:
            return
        self.stream.stop()
        if self.thread is not None:
            self.thread.join(JOIN_TIMEOUT)
