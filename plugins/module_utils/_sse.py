# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redfish Server-Sent Events: where a service streams its events, and one stream read in a thread.

DSP0266 "Server-sent events": the EventService names a ``ServerSentEventUri``; a GET on it with the session's
credentials answers ``text/event-stream`` and stays open. Each event is ``id:`` + ``data:`` lines (an Event
resource whose ``Events`` carry a ``MessageId`` such as ``TaskEvent.1.0.3.TaskCompletedOK`` and an
``OriginOfCondition``) and a blank line; ``:`` lines are comments (heartbeats). A client that reconnects sends
``Last-Event-ID`` and the service replays what it still has.

The stream has a connection of its own (``http.client``, with the TLS settings of the wait's session), so that
``stop()`` from another thread can shut its socket at once. Everything is bounded: the size of a line and of an
event, the idle time before a reconnect, the reconnects in a row that fail, and the opens in all.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import threading
import time
from base64 import b64encode
from urllib.parse import quote, urlsplit

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TaskStatusError
from ansible_collections.taskstatus.infra.plugins.module_utils._models import as_dict, as_list, text_or_none

ROOT = "/redfish/v1"
CONNECT_TIMEOUT = 10.0  # s to connect and get the answer's headers
IDLE_TIMEOUT = 300.0  # s without a byte (no event, no heartbeat) before the stream is opened again
MAX_LINE = 65536  # bytes of one line
MAX_EVENT = 1024 * 1024  # bytes of one event's data
MAX_FAILURES = 3  # opens in a row that fail before the stream is given up
MAX_OPENS = 100  # opens of one stream in all (idle reconnects included)
BACKOFF = (1.0, 2.0, 4.0)  # s before a reconnect, by failures in a row
# Messages that change a task's state: each one makes a wait read its tasks at once. TaskProgressChanged (and
# the start of a task) does not: the wait's own interval shows progress, and a storm of progress events must not
# turn into a storm of reads.
WAKING = frozenset(("TaskCompletedOK", "TaskCompletedWarning", "TaskAborted", "TaskCancelled", "TaskRemoved",
                    "TaskPaused", "TaskResumed"))
TASK_REGISTRIES = frozenset(("TaskEvent",))


class StreamError(TaskStatusError):
    """The stream cannot go on (refused, cut too often, garbage); the wait polls instead."""


class Endpoint:
    """Where a service streams its events: the path and the ``$filter`` it supports for task events."""

    def __init__(self, path, event_filter=None, limit=None):
        self.path = path
        self.filter = event_filter
        self.limit = limit

    def target(self):
        if not self.filter:
            return self.path
        return "%s?%s" % (self.path, "$filter=" + quote(self.filter, safe=""))


class Event:
    """One server-sent event: its id and the (MessageId, origin path, args) of each of its messages."""

    def __init__(self, event_id, messages, resync=False):
        self.id = event_id
        self.messages = messages
        self.resync = resync  # not an event: the stream was opened again, events may have been missed

    @property
    def message_names(self):
        return [message_id.rsplit(".", 1)[-1] for message_id, _origin, _args in self.messages]

    @property
    def wakes(self):
        """True when a wait should read its tasks now (a state change, or a gap in the stream)."""
        if self.resync:
            return True
        return any(mid.split(".", 1)[0] in TASK_REGISTRIES and mid.rsplit(".", 1)[-1] in WAKING
                   for mid, _origin, _args in self.messages)

    def concerns(self, names):
        """True when the event may be about one of the tasks called ``names`` (the last segments of their ids
        and URIs): a message whose origin or arguments name one of them, or that names no task at all."""
        if self.resync or not names:
            return True
        for _mid, origin, args in self.messages:
            tail = origin.rstrip("/").rsplit("/", 1)[-1] if origin else None
            if tail is None and not any(args):
                return True
            if tail in names or any(arg in names for arg in args if arg):
                return True
        return False


def tails(tasks):
    """The names an event may use for ``tasks``: the last path segment of each one's id and URI."""
    names = set()
    for task in tasks:
        for value in (task.id, task.url):
            if value:
                names.add(str(value).split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])
    return names


def discover(adapter):
    """The service's SSE endpoint, or None when it has none (or does not show it).

    Uses the service root the adapter read at login, and one GET of the EventService.
    """
    root = adapter.root() if hasattr(adapter, "root") else {}
    link = text_or_none(as_dict(root.get("EventService")).get("@odata.id"))
    if not link:
        return None
    path = adapter.http.local_path(link)
    if not path or not path.startswith(ROOT + "/") or ".." in path:
        return None
    try:
        service = adapter.request("GET", path).json(dict)
    except TaskStatusError:
        return None
    if service.get("ServiceEnabled") is False:
        return None
    uri = text_or_none(service.get("ServerSentEventUri"))
    stream = adapter.http.local_path(uri) if uri else None
    if not stream or not stream.startswith(ROOT + "/") or ".." in stream:
        return None
    supported = as_dict(service.get("SSEFilterPropertiesSupported"))
    prefixes = [text_or_none(p) for p in as_list(service.get("RegistryPrefixes"))]
    event_filter = None
    # Only a filter the service says it supports: another one would be refused (400), or worse, ignored.
    if supported.get("RegistryPrefix") is True and (not prefixes or "TaskEvent" in prefixes):
        event_filter = "RegistryPrefix eq 'TaskEvent'"
    return Endpoint(stream, event_filter)


def parse_event(event_id, data):
    """An :class:`Event` from the ``data`` of one server-sent event; ``StreamError`` when it is not one."""
    try:
        body = json.loads(data)
    except ValueError:
        raise StreamError("an event that is not JSON (%r...)" % data[:40])
    if not isinstance(body, dict):
        raise StreamError("an event that is not a JSON object")
    messages = []
    for record in as_list(body.get("Events")):
        record = as_dict(record)
        message_id = text_or_none(record.get("MessageId")) or ""
        origin = text_or_none(as_dict(record.get("OriginOfCondition")).get("@odata.id"))
        args = [text_or_none(a) for a in as_list(record.get("MessageArgs"))]
        messages.append((message_id, origin, args))
    return Event(event_id, messages)


class EventStream:
    """One SSE stream to one service, read by ``run(on_event)`` in a thread until ``stop()``.

    ``error`` says why the stream was given up (None while it lives, or when it was stopped).
    """

    def __init__(self, http, endpoint, credentials, platform="redfish", clock=time.monotonic):
        self.http = http
        self.endpoint = endpoint
        self.credentials = credentials  # callable: (headers, auth) of the session right now
        self.platform = platform
        self.clock = clock
        self.last_id = None
        self.error = None
        self.opens = 0
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._conn = None
        self._sock = None
        self._got = 0
        # Set once the first open has been answered (or has failed): from then on no task event is missed.
        self.ready = threading.Event()
        self.on_ready = None  # called once, in the stream's thread, when ``ready`` is set

    # The thread's side ---------------------------------------------------
    def run(self, on_event):
        """Read the stream (reopening it when it ends) until ``stop()`` or an error that ends push."""
        failures = 0
        try:
            while not self._stopped.is_set():
                if self.opens >= MAX_OPENS:
                    raise StreamError("opened %d times; push given up" % MAX_OPENS, platform=self.platform)
                self._got = 0
                cause = "the service ended it"
                try:
                    self._read_once(on_event, resync=self.opens > 0)
                except StreamError:
                    raise
                except socket.timeout:
                    self._got += 1  # a quiet stream (no event, no heartbeat): opened again, not a failure
                except (TaskStatusError, OSError, http.client.HTTPException) as exc:
                    cause = getattr(exc, "message", None) or exc.__class__.__name__
                self._mark_ready()
                if self._stopped.is_set():
                    return
                # A stream that brought something (an event, a heartbeat) and ended is opened again after a
                # second; one that brought nothing counts as a failure, with a longer pause each time.
                failures = 0 if self._got else failures + 1
                if failures >= MAX_FAILURES:
                    raise StreamError("the stream ended %d times in a row without an event (%s)" % (failures, cause),
                                      platform=self.platform)
                if self._stopped.wait(BACKOFF[min(failures, len(BACKOFF) - 1)]):
                    return
        except StreamError as exc:
            if not self._stopped.is_set():
                self.error = exc.message
        except Exception as exc:  # noqa: BLE001 - a thread must never die with a traceback; push just ends
            if not self._stopped.is_set():
                self.error = "%s: %s" % (exc.__class__.__name__, exc)
        finally:
            self._mark_ready()
            self._close()

    def _mark_ready(self):
        if not self.ready.is_set():
            self.ready.set()
            if self.on_ready is not None:
                self.on_ready()

    def _read_once(self, on_event, resync):
        """Open the stream once and read it until it ends (``_got`` counts what arrived)."""
        self._close()  # the connection of the stream that ended
        resp = self._open()
        self._mark_ready()
        if resync:
            on_event(Event(None, [], resync=True))
        data, event_id, size = [], None, 0
        while not self._stopped.is_set():
            line = resp.readline(MAX_LINE + 1)
            if not line:
                return  # the service ended the stream
            if len(line) > MAX_LINE:
                raise StreamError("a line longer than %d bytes" % MAX_LINE, platform=self.platform)
            if not line.endswith(b"\n"):
                return  # the last line was cut off
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                if data:
                    event = parse_event(event_id, "\n".join(data))
                    if event_id is not None:
                        self.last_id = event_id
                    self._got += 1
                    on_event(event)
                data, event_id, size = [], None, 0
                continue
            if text.startswith(":"):
                self._got += 1  # a comment: a heartbeat
                continue
            field, _sep, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                size += len(value)
                if size > MAX_EVENT:
                    raise StreamError("an event larger than %d bytes" % MAX_EVENT, platform=self.platform)
                data.append(value)
            elif field == "id" and "\0" not in value:
                event_id = value

    def _open(self):
        headers, auth = self.credentials()
        headers = dict(headers or {})
        headers.update({"Accept": "text/event-stream", "Cache-Control": "no-cache",
                        "User-Agent": "taskstatus.infra"})
        if auth and not headers.get("X-Auth-Token"):
            token = ("%s:%s" % (auth[0], auth[1])).encode("utf-8")
            headers["Authorization"] = "Basic " + b64encode(token).decode("ascii")
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        limiter = self.http.limiter
        if limiter is not None:
            limiter.acquire(self.http.deadline(), self.platform)
        conn = self._connection()
        with self._lock:
            if self._stopped.is_set():
                conn.close()
                raise StreamError("stopped", platform=self.platform)
            self._conn = conn
        self.opens += 1
        self.http.requests_made += 1
        sock = None
        try:
            conn.connect()
            sock = conn.sock
            with self._lock:
                self._sock = sock  # the response takes the socket over: kept here for stop()
                stopped = self._stopped.is_set()
            if stopped:  # stop() came while connecting: it could not shut this socket yet
                raise StreamError("stopped", platform=self.platform)
            conn.request("GET", self.endpoint.target(), headers=headers)
            resp = conn.getresponse()
        except ssl.SSLError as exc:
            raise StreamError("TLS: %s" % exc, platform=self.platform, path=self.endpoint.path)
        except (OSError, http.client.HTTPException) as exc:
            raise TaskStatusError("cannot open the stream (%s)" % (exc.__class__.__name__),
                                  platform=self.platform, path=self.endpoint.path)
        if resp.status == 401:
            # The session may have been replaced by a new login of the wait: tried again with its credentials.
            raise TaskStatusError("the stream was refused (HTTP 401)", platform=self.platform,
                                  path=self.endpoint.path, status=401)
        if resp.status != 200:
            body = resp.read(2048)
            raise StreamError("the stream was refused (HTTP %d%s)" % (resp.status, _reason(body)),
                              platform=self.platform, path=self.endpoint.path, status=resp.status)
        kind = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "text/event-stream":
            raise StreamError("the stream answered %s, not text/event-stream" % (kind or "no Content-Type"),
                              platform=self.platform, path=self.endpoint.path)
        sock.settimeout(IDLE_TIMEOUT)
        return resp

    def _connection(self):
        parts = urlsplit(self.http.base)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.hostname, port, timeout=CONNECT_TIMEOUT,
                                               context=tls_context(self.http.session.verify))
        return http.client.HTTPConnection(parts.hostname, port, timeout=CONNECT_TIMEOUT)

    def _close(self):
        with self._lock:
            conn, self._conn = self._conn, None
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if conn is not None:
            conn.close()

    # The owner's side ---------------------------------------------------
    def stop(self):
        """End the stream from another thread: its socket is shut at once, so a blocked read returns."""
        self._stopped.set()
        self._close()


_CONTEXTS = {}
_CONTEXTS_LOCK = threading.Lock()


def tls_context(verify):
    """The TLS settings of the wait's session (``requests``' ``verify``) for the stream's connection; one
    context per setting for the whole process (a fleet opens a stream per manager, loading the CAs once)."""
    key = verify if isinstance(verify, (bool, str)) else True
    with _CONTEXTS_LOCK:
        if key not in _CONTEXTS:
            _CONTEXTS[key] = _new_context(key)
        return _CONTEXTS[key]


def _new_context(verify):
    if verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return ssl.create_default_context()


def _reason(body):
    try:
        error = as_dict(json.loads(body.decode("utf-8", "replace"))).get("error")
    except ValueError:
        return ""
    error = as_dict(error)
    extended = [as_dict(m).get("Message") for m in as_list(error.get("@Message.ExtendedInfo"))]
    text = text_or_none(next((m for m in extended if m), None)) or text_or_none(error.get("message"))
    return ": %s" % text[:160] if text else ""
