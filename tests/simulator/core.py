"""Core of the taskstatus.infra test simulator.

Platform-neutral parts: devices (one HTTPS port each), TLS from a throw-away
trustme CA, sessions and their limit, request counters, the ``/_sim/``
control API, bursts and canned answers, the reboot window, and the scenario
timeline every platform's tasks follow.

A platform (``redfish.py`` now; vSphere, FMC, XClarity later) is one file
with one class derived from :class:`Platform`, listed in
``simulator.PLATFORMS``. It gets the parsed :class:`Request` after the core
has counted it and applied bursts/canned answers, and returns a
:class:`Response`.

Everything here is stdlib plus trustme; nothing talks to anything but
127.0.0.1.
"""

import base64
import collections
import copy
import datetime
import errno
import http.server
import ipaddress
import json
import logging
import os
import secrets
import select
import selectors
import socket
import ssl
import threading
import time
import urllib.parse

LOG = logging.getLogger("taskstatus.simulator")

# --------------------------------------------------------------------------
# Scenario timeline (pure functions of elapsed time)
# --------------------------------------------------------------------------

SCENARIOS = ("success", "fail", "cancel", "critical", "delete", "reboot", "stuck")
KINDS = ("firmware_update", "config_export", "support_export", "other")

NEW_FRACTION = 0.1  # first 10 % of the duration the task is "new"
REBOOT_AT_PERCENT = 50  # scenario reboot: the device reboots at this percent
STUCK_PERCENT = 50  # scenario stuck: progress stops here, forever
TOP_PERCENT = {"fail": 60, "cancel": 30}  # where a failed/cancelled task ends

OUTCOME = {"fail": "fail", "cancel": "cancel", "critical": "critical"}  # else success


class Progress(tuple):
    """(phase, percent, outcome): phase new|running|done, outcome set when done."""

    __slots__ = ()

    def __new__(cls, phase, percent, outcome=None):
        return tuple.__new__(cls, (phase, percent, outcome))

    phase = property(lambda self: self[0])
    percent = property(lambda self: self[1])
    outcome = property(lambda self: self[2])

    @property
    def done(self):
        return self[0] == "done"


def progress(scenario, duration, elapsed):
    """Where a task of ``scenario`` and ``duration`` is after ``elapsed`` s.

    new for the first NEW_FRACTION of the duration, then running with the
    percent rising linearly, then done at ``duration`` (never for stuck).
    """
    duration = max(float(duration), 0.0)
    t_new = duration * NEW_FRACTION
    if elapsed < t_new:
        return Progress("new", 0)
    span = duration - t_new
    frac = (elapsed - t_new) / span if span > 0 else 1.0
    if scenario == "stuck":
        return Progress("running", max(0, min(STUCK_PERCENT, int(100 * frac))))
    if elapsed < duration:
        top = TOP_PERCENT.get(scenario, 100)
        return Progress("running", max(0, min(99, int(top * frac))))
    return Progress("done", TOP_PERCENT.get(scenario, 100), OUTCOME.get(scenario, "success"))


def reboot_elapsed(duration):
    """Elapsed seconds at which a reboot-scenario task reaches REBOOT_AT_PERCENT."""
    t_new = duration * NEW_FRACTION
    return t_new + (duration - t_new) * REBOOT_AT_PERCENT / 100.0


def iso(epoch, tz=True):
    """ISO 8601 date-time of an epoch, UTC, seconds."""
    dt = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(microsecond=0)
    text = dt.isoformat()
    return text if tz else text[:-6]  # "+00:00" off, for Dell-style local times


class SimTask:
    """A task as the simulator tracks it; platforms render it their own way.

    ``scenario`` None means a static task that never runs (a Cisco slot
    nobody has started). ``extra`` holds platform data (the request body,
    a slot's seed payload, ...).
    """

    def __init__(self, task_id, kind, scenario, duration, name=None, started_ago=0.0, extra=None):
        self.id = str(task_id)
        self.kind = kind
        self.scenario = scenario
        self.duration = float(duration)
        self.name = name
        self.extra = dict(extra or {})
        self.created = time.monotonic() - started_ago
        self.created_wall = time.time() - started_ago
        self.final_served = False  # scenario delete: the monitor's one 204 was given
        self.held = False  # its clock starts at the first read of it (tests that must not race a slow start)

    def hold(self):
        self.held = True

    def release(self):
        """Start the clock now (the first request that names this task)."""
        if self.held:
            self.held = False
            self.created = time.monotonic()
            self.created_wall = time.time()

    def elapsed(self, now=None):
        if self.held:
            return 0.0
        return (time.monotonic() if now is None else now) - self.created

    def progress(self, now=None):
        if self.scenario is None:
            return None
        return progress(self.scenario, self.duration, self.elapsed(now))

    def gone(self, now=None):
        """Scenario delete: the task resource vanishes once the task is done."""
        p = self.progress(now)
        return self.scenario == "delete" and p is not None and p.done

    def start_epoch(self):
        return self.created_wall

    def end_epoch(self):
        return self.created_wall + self.duration


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


def _strings(value, depth=0):
    """Every string in a JSON value (bounded depth)."""
    if isinstance(value, str):
        yield value
    elif depth < 6 and isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 6 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


class Request:
    def __init__(self, method, raw_path, headers, body, client=None):
        self.method = method
        parts = urllib.parse.urlsplit(raw_path)
        self.raw_path = raw_path
        self.path = parts.path or "/"  # raw (still quoted), used for counting
        self.query_string = parts.query
        self.query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.body = body
        self.client = client

    def segments(self):
        """Unquoted path segments, trailing slash ignored."""
        path = self.path.rstrip("/") or "/"
        return [urllib.parse.unquote(s) for s in path.split("/")[1:]] if path != "/" else []

    def json(self):
        """The body as JSON; raises ValueError when it is not."""
        if not self.body:
            raise ValueError("empty body")
        return json.loads(self.body.decode("utf-8"))


class Response:
    def __init__(self, status, body=b"", headers=None, content_type="application/json", after=None, drop=False,
                 truncate=None, trickle=0.0, stream=None):
        self.status = int(status)
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.headers = dict(headers or {})
        if content_type and body is not None and status not in (204, 304):
            self.headers.setdefault("Content-Type", content_type)
        self.after = after  # callable run after the answer is on the wire
        self.drop = drop  # close the connection without answering
        self.truncate = truncate  # send only this many bytes of the body (Content-Length says all), then close
        self.trickle = trickle  # spread the body over this many seconds
        self.stream = stream  # an EventStream: a long-lived text/event-stream answer instead of the body


def json_response(status, obj, headers=None):
    body = b"" if obj is None else json.dumps(obj, indent=1).encode("utf-8")
    return Response(status, body, headers, content_type="application/json; charset=utf-8" if body else None)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "taskstatus-sim/1.0"
    sys_version = ""
    timeout = 60  # idle keep-alive connections are closed after this
    MAX_BODY = 16 * 1024 * 1024

    def version_string(self):
        return self.server_version

    def send_error(self, code, message=None, explain=None):
        """Errors http.server raises itself (unknown method: 501, bad request line: 400) in the
        platform's own error format instead of an HTML page."""
        device = getattr(self.server, "device", None)
        if device is None:
            return super().send_error(code, message, explain)
        text = message or self.responses.get(code, ("Error",))[0]
        self.close_connection = True
        try:
            resp = device.platform.error_response(code, text)
        except Exception:  # never fail while failing
            resp = json_response(code, {"error": text})
        self._write(resp)
        return None

    def log_message(self, fmt, *args):  # noqa: D401 - quiet: debug only
        LOG.debug("%s %s", self.server.device.name, fmt % args)

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > self.MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > self.MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(length) if length else b""

    def _dispatch(self):
        device = self.server.device
        if device.down:
            self.close_connection = True
            return
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        req = Request(self.command, self.path, self.headers, body, self.client_address)
        try:
            resp = device.handle(req)
        except Exception:  # the server never dies on a bad request or a bug
            LOG.exception("%s: error handling %s %s", device.name, req.method, req.path)
            resp = device.platform.error_response(500, "Internal error in the simulator.")
        if resp.drop or device.down:
            self.close_connection = True
            return
        if resp.stream is not None and self.command == "GET":
            self._stream(resp)
            return
        self._write(resp)
        if resp.after is not None:
            resp.after()

    def _stream(self, resp):
        """A Server-Sent Events answer: admitted (or refused) now, then served on this thread until it ends."""
        stream = resp.stream
        refused = stream.admit(self.connection, self.client_address)
        if refused is not None:
            self._write(refused)
            return
        self.close_connection = True  # the connection ends with the stream
        try:
            self.send_response(resp.status)
            for key, value in resp.headers.items():
                self.send_header(key, str(value))
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            stream.serve(self.wfile.write)
        finally:
            stream.detach()

    def _write(self, resp):
        self.send_response(resp.status)
        for key, value in resp.headers.items():
            self.send_header(key, str(value))
        body = resp.body or b""
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection or self.headers.get("Connection", "").lower() == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        # headers and body in one write: two small segments would meet the
        # client's delayed ACK (Nagle) and cost ~40 ms a request
        self._headers_buffer.append(b"\r\n")
        if resp.truncate is not None:
            body = body[:resp.truncate]
            self.close_connection = True
        if resp.trickle and self.command != "HEAD" and body:
            self.flush_headers()
            step = max(1, len(body) // 20)
            for start in range(0, len(body), step):
                time.sleep(resp.trickle / 20.0)
                self.wfile.write(body[start:start + step])
            return
        if self.command != "HEAD" and body:
            self._headers_buffer.append(body)
        self.flush_headers()

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = do_HEAD = _dispatch


class _Hub:
    """One accept loop for every listening socket of a simulator.

    One thread waits in one ``select()`` on all the listening sockets (one
    per device: a fleet has a thousand) and hands each accepted connection to
    a thread of its own, where the TLS handshake and the keep-alive request
    loop run. Nothing polls: an idle simulator sleeps in that one call.
    The selector is changed only on the loop's thread; ``add``/``remove``
    queue the change, wake the loop through a socket pair and wait for it.
    At most MAX_CONNECTIONS connections are served at once; more are closed
    as they come (a client sees the connection cut, never a hang).
    """

    MAX_CONNECTIONS = 8192
    ACCEPT_BATCH = 64  # accepts per listener per wake-up, so one busy device cannot starve the others

    def __init__(self, name="sim-accept"):
        self.name = name
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._changes = collections.deque()
        self._lock = threading.Lock()
        self._thread = None
        self._stopping = False
        self.connections = 0  # being served now
        self.accepted = 0  # since start
        self.refused = 0  # closed at once: over MAX_CONNECTIONS

    def start(self):
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is None:
            return
        self._stopping = True
        self._wake()
        self._thread.join(10)
        self._thread = None
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def add(self, listener):
        self._call(lambda: self._selector.register(listener.socket, selectors.EVENT_READ, listener))

    def remove(self, listener):
        """Stop accepting for ``listener``; when this returns the loop no longer touches its socket."""

        def unregister():
            listener.active = False
            try:
                self._selector.unregister(listener.socket)
            except (KeyError, ValueError):
                pass

        self._call(unregister)

    def _call(self, func):
        """Run ``func`` on the loop's thread and return when it has run; its exception is raised here."""
        thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            func()
            return
        change = {"func": func, "done": threading.Event(), "errors": []}
        with self._lock:
            self._changes.append(change)
        self._wake()
        if not change["done"].wait(10):
            LOG.warning("%s: the accept loop did not apply a change within 10 s", self.name)
        if change["errors"]:
            raise change["errors"][0]

    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):  # full: a wake-up is pending anyway
            pass

    def _apply_changes(self):
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while True:
            with self._lock:
                if not self._changes:
                    return
                change = self._changes.popleft()
            try:
                change["func"]()
            except Exception as exc:  # for the caller; never kills the loop
                change["errors"].append(exc)
            change["done"].set()

    def _run(self):
        while not self._stopping:
            try:
                events = self._selector.select()
            except OSError as exc:
                LOG.error("%s: select failed: %s", self.name, exc)
                time.sleep(0.1)
                continue
            # changes first: a listener removed by them is not accepted on below
            if any(key.data is None for key, _mask in events):
                self._apply_changes()
            for key, _mask in events:
                if key.data is not None and key.data.active:
                    self._accept(key.data)
        self._apply_changes()  # release anyone still waiting in _call

    def _accept(self, listener):
        for _index in range(self.ACCEPT_BATCH):
            try:
                conn, address = listener.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                LOG.warning("%s: accept on %s failed: %s", self.name, listener.device.name, exc)
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    time.sleep(0.05)  # out of descriptors: the socket stays readable; do not spin
                return
            with self._lock:
                full = self.connections >= self.MAX_CONNECTIONS
                if full:
                    self.refused += 1
                else:
                    self.connections += 1
                    self.accepted += 1
            if full:
                conn.close()
                continue
            try:
                threading.Thread(
                    target=self._serve, args=(listener, conn, address), name="sim-conn", daemon=True
                ).start()
            except RuntimeError as exc:  # cannot start a thread
                LOG.warning("%s: cannot serve a connection: %s", self.name, exc)
                with self._lock:
                    self.connections -= 1
                conn.close()

    def _serve(self, listener, conn, address):
        try:
            listener.serve(conn, address)
        finally:
            with self._lock:
                self.connections -= 1


class _Listener:
    """A device's listening socket; its connections are served by :class:`_Handler` (``self.server``)."""

    request_queue_size = 128

    def __init__(self, device, address, ssl_context):
        self.device = device
        self.ssl_context = ssl_context
        self.active = True
        self._conns = set()
        self._conns_lock = threading.Lock()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(self.request_queue_size)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.socket = sock
        self.server_address = sock.getsockname()

    def serve(self, request, client_address):
        """One connection, in its own thread: TLS handshake here, not in the accept loop."""
        request.setblocking(True)
        with self._conns_lock:
            self._conns.add(request)
        conn = request
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            if self.ssl_context is not None:
                request.settimeout(10)
                try:
                    conn = self.ssl_context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    LOG.debug("%s: TLS handshake failed: %s", self.device.name, exc)
                    return
                with self._conns_lock:
                    self._conns.discard(request)
                    self._conns.add(conn)
                conn.settimeout(None)
            _Handler(conn, client_address, self)
        except Exception:  # a broken connection never takes anything else down
            LOG.debug("%s: connection error from %s", self.device.name, client_address, exc_info=True)
        finally:
            with self._conns_lock:
                self._conns.discard(conn)
                self._conns.discard(request)
            try:
                conn.close()
            except OSError:
                pass

    def close(self, hub):
        """Stop listening (connects are refused from here on), then cut the open connections."""
        hub.remove(self)
        try:
            self.socket.close()
        except OSError:
            pass
        self.close_connections()

    def close_connections(self):
        """Cut every open connection (a rebooting BMC does not say goodbye)."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------
# Server-Sent Events
# --------------------------------------------------------------------------


class EventStream:
    """One open Server-Sent Events answer, served on its connection's thread.

    The platform makes it (``admit_check``: a callable run under the device
    lock that returns a refusal Response or None; ``accept``: record -> bool,
    the stream's filter; ``render``: (event id, record) -> the event's bytes).
    It waits in one ``poll()`` (not ``select()``: a fleet's descriptors pass 1024) on its socket and a
    wake-up socket pair:
    new events, a close, the client going away, or the next heartbeat. No
    event and no heartbeat due: no CPU.
    """

    def __init__(self, hub, admit_check, accept, render, session_id=None, last_event_id=None, info=None):
        self.hub = hub
        self.admit_check = admit_check
        self.accept = accept
        self.render = render
        self.session_id = session_id
        self.last_event_id = last_event_id
        self.info = dict(info or {})  # platform data (an EventDestination's id, Context, filter)
        self.id = None
        self.cursor = 0
        self.sent = 0
        self.closing = None  # None, "end" (a clean end of the stream) or "cut" (the connection cut)
        self.client = None
        self._conn = None
        self._wake_r = self._wake_w = None

    def admit(self, conn, client):
        """Register with the hub (or refuse: the Response to send instead)."""
        self._conn = conn
        self.client = client
        return self.hub.attach(self)

    def wake(self):
        try:
            self._wake_w.send(b"x")
        except (AttributeError, OSError):  # not served yet, or gone: nothing to wake
            pass

    def close(self, how="end"):
        """End the stream: ``end`` sends the last chunk, ``cut`` drops the connection."""
        with self.hub.device.lock:
            if self.closing is None:
                self.closing = how
        self.wake()

    def detach(self):
        self.hub.detach(self)
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def _gone(self):
        """Called when the socket is readable: the client closed it (EOF), or sent something, which an SSE
        client never does (a TLS close_notify); either way the stream is over."""
        try:
            socket.socket.recv(self._conn, 1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            pass
        return True

    def serve(self, write):
        """Write events, replays and heartbeats until closed, cut, or the client leaves."""
        device = self.hub.device

        def chunk(data):
            write(b"%x\r\n%s\r\n" % (len(data), data))

        with device.lock:
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            heartbeat = device.config["sse_heartbeat"]
            drop_after = device.config["sse_drop_after"]
            garbage = device.config["sse_garbage"]
        closing = None
        poller = select.poll()
        poller.register(self._conn.fileno(), select.POLLIN)
        poller.register(self._wake_r.fileno(), select.POLLIN)
        try:
            if garbage:
                chunk(b"data: this is not JSON {\n\n")
            next_beat = time.monotonic() + heartbeat
            while True:
                with device.lock:
                    closing = self.closing
                    pending = [] if closing else self.hub.events_after(self.cursor)
                for event_id, record in pending:
                    self.cursor = event_id
                    if not self.accept(record):
                        continue
                    chunk(self.render(event_id, record, self))
                    self.sent += 1
                    next_beat = time.monotonic() + heartbeat  # heartbeats fill quiet times only
                    if drop_after and self.sent >= drop_after:
                        closing = "cut"
                        break
                if closing:
                    break
                now = time.monotonic()
                if now >= next_beat:
                    chunk(b": keep-alive\n\n")
                    next_beat = now + heartbeat
                    continue
                ready = dict(poller.poll(max(1, int((next_beat - now) * 1000))))
                if self._wake_r.fileno() in ready:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except (BlockingIOError, OSError):
                        pass
                if self._conn.fileno() in ready and self._gone():
                    closing = "gone"
                    break
            if closing == "end":
                write(b"0\r\n\r\n")
            elif closing == "cut":
                try:
                    socket.socket.shutdown(self._conn, socket.SHUT_RDWR)
                except OSError:
                    pass
        except (OSError, ValueError):  # the client went away mid-write, or the socket was shut by a reboot
            pass


class EventHub:
    """A device's event source: the event buffer, the open streams, and a ticker while anyone listens.

    The ticker (one thread) asks the platform every TICK seconds what changed
    (``Platform.sse_tick``) and gives each new record the next event id (a
    counter never reused while the simulator runs). It runs only while a
    stream is open and LINGER seconds after the last one closes (so a client
    that reconnects with Last-Event-ID finds what happened meanwhile); an
    idle device has no ticker.
    """

    BUFFER = 1000
    TICK = 0.1
    LINGER = 60.0

    def __init__(self, device):
        self.device = device
        self.streams = {}
        self.buffer = collections.deque(maxlen=self.BUFFER)
        self.seq = 0
        self._stream_seq = 0
        self._ticker = None
        self._stop = None
        self._linger_until = 0.0

    # called with or without the device lock (it is an RLock)

    def attach(self, stream):
        device = self.device
        with device.lock:
            refused = stream.admit_check()
            if refused is not None:
                device.stats.sse_refused += 1
                return refused
            self._stream_seq += 1
            stream.id = self._stream_seq
            stream.cursor = self.seq
            if stream.last_event_id is not None:
                stream.cursor = min(stream.last_event_id, self.seq)
            self.streams[stream.id] = stream
            device.stats.sse_opened += 1
            self._start_ticker()
        return None

    def detach(self, stream):
        with self.device.lock:
            if self.streams.pop(stream.id, None) is not None:
                self._linger_until = time.monotonic() + self.LINGER

    def events_after(self, cursor):
        if not self.buffer or self.buffer[-1][0] <= cursor:
            return []
        return [item for item in self.buffer if item[0] > cursor]

    def close_where(self, predicate, how="end"):
        with self.device.lock:
            streams = [s for s in self.streams.values() if predicate(s)]
        for stream in streams:
            stream.close(how)
        return len(streams)

    def close_all(self, how="cut"):
        return self.close_where(lambda s: True, how)

    def forget(self):
        """A reboot or reset: every stream cut, the buffer and the ticker gone (ids go on counting)."""
        with self.device.lock:
            self.close_all("cut")
            self.buffer.clear()
            self._stop_ticker()
            self.device.platform.sse_forget()

    def stop(self):
        with self.device.lock:
            self.close_all("cut")
            self._stop_ticker()

    def publish(self, records):
        with self.device.lock:
            if not records:
                return
            for record in records:
                self.seq += 1
                self.buffer.append((self.seq, record))
            streams = list(self.streams.values())
        for stream in streams:
            stream.wake()

    # the ticker

    def _start_ticker(self):
        if self._ticker is not None:
            return
        self.device.platform.sse_tick(time.monotonic(), baseline=True)
        stop = threading.Event()
        thread = threading.Thread(target=self._tick_loop, args=(stop,), name="sim-sse-" + self.device.name,
                                  daemon=True)
        self._ticker, self._stop = thread, stop
        thread.start()

    def _stop_ticker(self):
        if self._stop is not None:
            self._stop.set()
        self._ticker = self._stop = None

    def _tick_loop(self, stop):
        device = self.device
        while not stop.wait(self.TICK):
            with device.lock:
                if stop.is_set():
                    return
                now = time.monotonic()
                if device.down or device._stopped or (not self.streams and now >= self._linger_until):
                    self._stop_ticker()
                    device.platform.sse_forget()
                    return
                try:
                    records = device.platform.sse_tick(now)
                except Exception:  # a bug in a platform never kills the device
                    LOG.exception("%s: event tick failed", device.name)
                    records = []
                self.publish(records)


# --------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------

DEFAULTS = {
    "scenario": "success",
    "duration": 6.0,
    "session_limit": 4,
    "retry_after": 1,
    "reboot_seconds": 3.0,
    "session_timeout": 1800.0,
    "task_retention": None,  # s a finished task stays listed; None: the platform's own habit
    "username": "admin",
    "password": "password",
    "latency": 0.0,  # seconds every answer is late (a slow BMC or appliance)
    "session_location": None,  # scheme://authority put before a new session's Location (another spelling)
    # Server-Sent Events (platforms that push; redfish.py)
    "sse": None,  # streams offered: None the flavour's habit, true/false
    "sse_path": None,  # the stream's URI; None the flavour's
    "sse_heartbeat": 15.0,  # s between ": keep-alive" comments on a quiet stream
    "sse_max_streams": None,  # open streams at most; None the flavour's
    "sse_drop_after": None,  # cut every stream after this many events
    "sse_garbage": False,  # every stream starts with a data: line that is not JSON
    "sse_refuse": None,  # answer every open with this HTTP status
    "sse_open_delay": 0.0,  # s before a stream is opened and answered (a BMC slow to open streams)
    "sse_logout_closes": False,  # DSP0266: ending a session does not end its streams (true: it does)
}
KNOBS = tuple(DEFAULTS)


class ConfigError(ValueError):
    """A bad /_sim/ request or simulator setting (answered with 400)."""


class Conflict(Exception):
    """A /_sim/ request that clashes with the device's state (answered with 409)."""


def _number(name, value, minimum=0, integer=False, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError("%s must be a number" % name)
    if integer and int(value) != value:
        raise ConfigError("%s must be an integer" % name)
    if value < minimum:
        raise ConfigError("%s must be >= %s" % (name, minimum))
    return int(value) if integer else float(value)


def check_scenario(value):
    if isinstance(value, list):
        if not value:
            raise ConfigError("scenario list is empty")
        return [check_scenario(v) for v in value]
    if value not in SCENARIOS:
        raise ConfigError("unknown scenario %r; one of %s" % (value, ", ".join(SCENARIOS)))
    return value


def check_knob(key, value):
    if key == "scenario":
        return check_scenario(value)
    if key in ("duration", "reboot_seconds"):
        return _number(key, value)
    if key == "session_timeout":
        return _number(key, value, minimum=0.001)
    if key == "session_limit":
        return _number(key, value, integer=True, allow_none=True)
    if key == "latency":
        return _number(key, value)
    if key == "session_location":
        if value is not None and not (isinstance(value, str) and value.startswith(("http://", "https://"))):
            raise ConfigError("session_location must be null or a scheme://authority prefix")
        return value
    if key == "task_retention":
        return _number(key, value, allow_none=True)
    if key == "retry_after":
        return _number(key, value, integer=True)
    if key in ("sse", "sse_garbage", "sse_logout_closes"):
        if not isinstance(value, bool) and not (key == "sse" and value is None):
            raise ConfigError("%s must be true or false%s" % (key, " or null" if key == "sse" else ""))
        return value
    if key == "sse_path":
        if value is not None and not (isinstance(value, str) and value.startswith("/") and "?" not in value):
            raise ConfigError("sse_path must be null or a path starting with /")
        return value
    if key == "sse_heartbeat":
        return _number(key, value, minimum=0.05)
    if key == "sse_open_delay":
        return _number(key, value)
    if key in ("sse_max_streams", "sse_drop_after"):
        return _number(key, value, minimum=1, integer=True, allow_none=True)
    if key == "sse_refuse":
        value = _number(key, value, minimum=400, integer=True, allow_none=True)
        if value is not None and value > 599:
            raise ConfigError("sse_refuse must be null or a 4xx/5xx status")
        return value
    if key in ("username", "password"):
        if not isinstance(value, str):
            raise ConfigError("%s must be a string" % key)
        return value
    raise ConfigError("unknown setting %r" % key)


class Session:
    def __init__(self, session_id, user):
        self.id = session_id
        self.token = secrets.token_hex(16)
        self.user = user
        self.created = time.time()
        self.last_used = time.monotonic()


class Stats:
    def __init__(self):
        self.sessions_created = 0
        self.sessions_deleted = 0
        self.sessions_expired = 0
        self.requests_total = 0
        self.requests = {}
        self.logins_failed = 0
        self.reboots = 0
        self.sse_opened = 0  # Server-Sent Event streams opened
        self.sse_refused = 0  # stream opens refused (limit, sse_refuse)
        self.secrets = []  # every token, refresh token and CSRF token handed out (tests look for leaks)

    def count(self, method, path):
        self.requests_total += 1
        key = "%s %s" % (method, path)
        self.requests[key] = self.requests.get(key, 0) + 1


class Device:
    """One simulated manager: an address and port, a platform, its sessions, tasks, stats.

    ``address`` is the simulator's host (127.0.0.1) unless the spec names one:
    fleet devices each have their own 127.0.x.y and share one port.
    """

    def __init__(self, sim, spec, platforms):
        self.sim = sim
        self.name = spec["name"]
        self.platform_name = spec.get("platform", "redfish")
        if self.platform_name not in platforms:
            raise ConfigError("unknown platform %r" % self.platform_name)
        self.address = spec.get("address") or sim.host
        self.requested_port = int(spec.get("port") or 0)
        self.shares_port = bool(spec.get("address")) and not self.requested_port
        self.port = None
        self.initial_config = dict(sim.defaults)
        for key in KNOBS:
            if key in spec:
                self.initial_config[key] = check_knob(key, spec[key])
        self.lock = threading.RLock()
        self.down = False
        self._stopped = False
        self._server = None
        self._timers = set()
        self.events = EventHub(self)
        self._reset_state()
        cls = platforms[self.platform_name]
        self.vendor = spec.get("vendor") or cls.default_vendor
        if self.vendor not in cls.vendors:
            raise ConfigError(
                "platform %s has no vendor %r (%s)" % (self.platform_name, self.vendor, ", ".join(cls.vendors))
            )
        self.platform = cls(self)
        self.platform.reset()

    def _reset_state(self):
        self.config = copy.deepcopy(self.initial_config)
        self.stats = Stats()
        self.sessions = {}
        self.tasks = {}
        self.burst = None
        self.responders = []
        self._session_seq = 0

    # ---- life cycle ------------------------------------------------------

    def start(self, port=None):
        """Listen on the device's address and ``port`` (default: the spec's, or any free one)."""
        self._stopped = False
        self._listen(self.requested_port if port is None else port)

    def _listen(self, port):
        listener = _Listener(self, (self.address, port), self.sim.ssl_context)
        self.port = listener.server_address[1]
        with self.lock:
            self._server = listener
        self.sim.hub.add(listener)

    def _close_server(self):
        with self.lock:
            listener, self._server = self._server, None
        if listener is not None:
            listener.close(self.sim.hub)

    def stop(self):
        with self.lock:
            self._stopped = True
            self._cancel_timers()
            self.events.stop()
        self._close_server()

    def schedule(self, delay, func, *args):
        def run():
            with self.lock:
                self._timers.discard(timer)
                if self._stopped:
                    return
            try:
                func(*args)
            except Exception:
                LOG.exception("%s: scheduled action failed", self.name)

        timer = threading.Timer(max(delay, 0.0), run)
        timer.daemon = True
        with self.lock:
            self._timers.add(timer)
        timer.start()
        return timer

    def _cancel_timers(self):
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()

    def reboot(self, seconds=None):
        """Stop listening (connects are refused) for ``seconds``, forget sessions."""
        with self.lock:
            if self.down or self._stopped or self._server is None:
                return False
            seconds = self.config["reboot_seconds"] if seconds is None else float(seconds)
            self.down = True
            self.stats.reboots += 1
            self.sessions.clear()
            self.platform.rebooting()
            self.events.forget()  # every stream cut, the event buffer lost
        LOG.info("%s: rebooting for %.1f s", self.name, seconds)
        self._close_server()
        self.schedule(seconds, self._come_back)
        return True

    def _come_back(self):
        deadline = time.monotonic() + 10
        while True:
            with self.lock:
                if self._stopped or not self.down:
                    return
            try:
                self._listen(self.port)
                with self.lock:
                    stopped = self._stopped
                if stopped:  # stop() raced with the come-back
                    self._close_server()
                    return
                break
            except OSError as exc:
                if time.monotonic() > deadline:
                    LOG.error("%s: cannot listen on port %s again: %s", self.name, self.port, exc)
                    return
                time.sleep(0.1)
        with self.lock:
            self.sessions.clear()
            self.down = False
        LOG.info("%s: back after reboot", self.name)

    def reset(self):
        """Stats to zero, sessions dropped, tasks and settings as at start."""
        with self.lock:
            self._cancel_timers()
            was_down = self.down
            self.events.forget()
            self._reset_state()
            self.platform.reset()
        if was_down:
            self._come_back()

    # ---- tasks, settings, sessions (call with or without the lock) -------

    def add_task(self, task):
        with self.lock:
            self.tasks[task.id] = task
            if task.scenario == "reboot" and reboot_elapsed(task.duration) >= task.elapsed():
                self.schedule(reboot_elapsed(task.duration) - task.elapsed(), self._reboot_for, task)
        return task

    def _reboot_for(self, task):
        """Reboot when ``task`` reaches its reboot point on its own clock (a held task's clock starts at its
        first read, which may come after this timer was set): not yet there, look again when it will be."""
        with self.lock:
            if self.tasks.get(task.id) is not task:
                return
            due = reboot_elapsed(task.duration) - task.elapsed()
        if task.held or due > 0.01:
            self.schedule(0.2 if task.held else due, self._reboot_for, task)
            return
        self.reboot()

    def next_scenario(self):
        with self.lock:
            value = self.config["scenario"]
            if isinstance(value, list):
                return value.pop(0) if len(value) > 1 else value[0]
            return value

    def check_password(self, user, password):
        with self.lock:
            ok = secrets.compare_digest(str(user), self.config["username"]) and secrets.compare_digest(
                str(password), self.config["password"]
            )
            if not ok:
                self.stats.logins_failed += 1
            return ok

    def open_session(self, user):
        """A new session, or None when the session limit is reached."""
        with self.lock:
            self.expire_sessions()
            limit = self.config["session_limit"]
            if limit is not None and len(self.sessions) >= limit:
                return None
            self._session_seq += 1
            session = Session(str(self._session_seq), user)
            self.sessions[session.id] = session
            self.stats.sessions_created += 1
            self.stats.secrets.append(session.token)
            return session

    def issued(self, secret):
        """Record a secret a platform handed out besides a session token (refresh token, CSRF token)."""
        with self.lock:
            self.stats.secrets.append(secret)
        return secret

    def session_by_token(self, token):
        with self.lock:
            self.expire_sessions()
            for session in self.sessions.values():
                if secrets.compare_digest(session.token, token):
                    session.last_used = time.monotonic()
                    return session
            return None

    def close_session(self, session_id):
        with self.lock:
            if self.sessions.pop(session_id, None) is None:
                return False
            self.stats.sessions_deleted += 1
            if self.config["sse_logout_closes"]:
                self.events.close_where(lambda stream: stream.session_id == session_id)
            return True

    def expire_sessions(self):
        with self.lock:
            cutoff = time.monotonic() - self.config["session_timeout"]
            for sid in [s.id for s in self.sessions.values() if s.last_used < cutoff]:
                del self.sessions[sid]
                self.stats.sessions_expired += 1

    def stats_dict(self):
        with self.lock:
            self.expire_sessions()
            s = self.stats
            return {
                "sessions_open": len(self.sessions),
                "sessions_created": s.sessions_created,
                "sessions_deleted": s.sessions_deleted,
                "sessions_expired": s.sessions_expired,
                "requests_total": s.requests_total,
                "requests": dict(s.requests),
                "logins_failed": s.logins_failed,
                "reboots": s.reboots,
                "sse_open": len(self.events.streams),
                "sse_opened": s.sse_opened,
                "sse_refused": s.sse_refused,
                "secrets": list(s.secrets),
            }

    def info(self):
        host = "%s:%s" % (self.address, self.port)
        return {
            "name": self.name,
            "platform": self.platform_name,
            "vendor": self.vendor,
            "host": host,
            "port": self.port,
            "url": "%s://%s" % (self.sim.scheme, host),
        }

    # ---- request path ----------------------------------------------------

    def create_task(self, kwargs):
        """A task from a checked /_sim/tasks spec; with ``hold`` its clock waits for the first read of it."""
        kwargs = dict(kwargs)
        hold = kwargs.pop("hold", False)
        made = self.platform.create_task(**kwargs)
        if hold:
            with self.lock:
                task = self.tasks.get(str(made["id"]))
                if task is not None:
                    task.hold()
        return made

    def _release_held(self, req):
        """Start the clock of every held task that this request names (a path segment or a query value)."""
        held = [t for t in self.tasks.values() if t.held]
        if not held:
            return
        names = set(req.segments()) | {v for _k, v in urllib.parse.parse_qsl(req.query_string, keep_blank_values=True)}
        if req.body:
            try:
                names.update(_strings(req.json()))  # vSphere lists many tasks by id in a POST body
            except ValueError:
                pass
        for task in held:
            if task.id in names:
                task.release()

    def handle(self, req):
        if req.path == "/_sim" or req.path.startswith("/_sim/"):
            return control(self, req)
        with self.lock:
            self._release_held(req)
            self.stats.count(req.method, req.path)
            burst = self._take_burst()
            rule = None if burst else self._take_responder(req)
        if burst is not None:
            status, retry_after = burst
            return self.platform.error_response(
                status,
                "The service is temporarily unavailable. Retry in %s seconds." % retry_after,
                message_id="ServiceTemporarilyUnavailable",
                message_args=[str(retry_after)],
                headers={"Retry-After": str(retry_after)},
            )
        if self.config["latency"]:
            time.sleep(self.config["latency"])
        if rule is not None:
            if rule.get("delay"):
                time.sleep(rule["delay"])
            if rule.get("drop"):
                return Response(0, drop=True)
            body = rule["body"]
            if rule["size"]:
                body = '{"pad": "%s"}' % ("x" * max(0, rule["size"] - 11))
            return Response(rule["status"], body, rule["headers"], content_type=rule["content_type"],
                            truncate=rule["truncate"], trickle=rule["trickle"])
        return self.platform.handle(req)

    def _take_burst(self):
        if not self.burst or self.burst["count"] <= 0:
            return None
        self.burst["count"] -= 1
        result = (self.burst["status"], self.burst["retry_after"])
        if self.burst["count"] <= 0:
            self.burst = None
        return result

    def _take_responder(self, req):
        for rule in self.responders:
            if rule["path"] != req.path and rule["path"] != req.raw_path:
                continue
            if rule["method"] and rule["method"] != req.method:
                continue
            if rule["after"]:
                rule["after"] -= 1  # let this many matching requests through first
                return None
            if rule["count"] is not None:
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self.responders.remove(rule)
            return rule
        return None

    # ---- run-time settings (/_sim/config) --------------------------------

    def configure(self, changes):
        """Apply /_sim/config changes; returns the callables to run after answering."""
        if not isinstance(changes, dict):
            raise ConfigError("config must be a JSON object")
        after = []
        staged = {}
        burst = responders = None
        for key, value in changes.items():
            if key in KNOBS:
                staged[key] = check_knob(key, value)
            elif key == "burst":
                burst = _check_burst(value)
            elif key == "respond":
                responders = _check_respond(value)
            elif key == "reboot_now":
                value = value or {}
                if not isinstance(value, dict):
                    raise ConfigError("reboot_now must be an object")
                seconds = _number("reboot_now.seconds", value.get("seconds", self.config["reboot_seconds"]))
                after.append(lambda s=seconds: threading.Thread(target=self.reboot, args=(s,), daemon=True).start())
            else:
                raise ConfigError(
                    "unknown setting %r; known: %s" % (key, ", ".join(KNOBS + ("burst", "respond", "reboot_now")))
                )
        with self.lock:
            self.config.update(staged)
            if "burst" in changes:
                self.burst = burst
            if "respond" in changes:
                if responders is None:
                    self.responders = []
                else:
                    for rule in responders:
                        self.responders = [
                            r for r in self.responders if (r["path"], r["method"]) != (rule["path"], rule["method"])
                        ]
                        self.responders.append(rule)
        return after

    def config_dict(self):
        with self.lock:
            out = copy.deepcopy(self.config)
            out["burst"] = copy.deepcopy(self.burst)
            out["respond"] = copy.deepcopy(self.responders)
            out["down"] = self.down
            return out


def _check_burst(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError("burst must be an object")
    status = _number("burst.status", value.get("status", 429), minimum=400, integer=True)
    if status > 599:
        raise ConfigError("burst.status must be a 4xx/5xx status")
    count = _number("burst.count", value.get("count", 1), integer=True)
    retry_after = _number("burst.retry_after", value.get("retry_after", 1), integer=True)
    return {"status": status, "count": count, "retry_after": retry_after} if count else None


def _check_respond(value):
    if value is None:
        return None
    rules = value if isinstance(value, list) else [value]
    out = []
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("path"), str) or not rule["path"].startswith("/"):
            raise ConfigError("respond needs a path starting with /")
        unknown = set(rule) - {"path", "method", "status", "body", "content_type", "headers", "delay", "count", "drop",
                               "truncate", "size", "trickle", "after"}
        if unknown:
            raise ConfigError("respond: unknown keys %s" % ", ".join(sorted(unknown)))
        body = rule.get("body", "")
        if not isinstance(body, str):
            body = json.dumps(body)
        count = rule.get("count", 1)
        count = None if count is None or count == -1 else _number("respond.count", count, minimum=1, integer=True)
        headers = rule.get("headers") or {}
        if not isinstance(headers, dict):
            raise ConfigError("respond.headers must be an object")
        out.append(
            {
                "path": rule["path"],
                "method": (rule.get("method") or "").upper() or None,
                "status": _number("respond.status", rule.get("status", 200), minimum=100, integer=True),
                "body": body,
                "content_type": rule.get("content_type", "application/json"),
                "headers": {str(k): str(v) for k, v in headers.items()},
                "delay": _number("respond.delay", rule.get("delay", 0)),
                "count": count,
                "drop": bool(rule.get("drop", False)),
                "truncate": (None if rule.get("truncate") is None
                             else _number("respond.truncate", rule["truncate"], integer=True)),
                "size": _number("respond.size", rule.get("size", 0), integer=True),
                "trickle": _number("respond.trickle", rule.get("trickle", 0)),
                "after": _number("respond.after", rule.get("after", 0), integer=True),
            }
        )
    return out


# --------------------------------------------------------------------------
# Control API: /_sim/* (no auth, JSON, not counted)
# --------------------------------------------------------------------------

TASK_SPEC_KEYS = ("scenario", "duration", "kind", "id", "started_ago", "name", "hold")


def check_task_spec(spec, device):
    """A /_sim/tasks body -> keyword arguments of ``Platform.create_task``; ConfigError when bad."""
    if not isinstance(spec, dict):
        raise ConfigError("task spec must be a JSON object")
    unknown = set(spec) - set(TASK_SPEC_KEYS)
    if unknown:
        raise ConfigError("unknown keys %s" % ", ".join(sorted(unknown)))
    scenario = check_scenario(spec.get("scenario", "success"))
    if isinstance(scenario, list):
        raise ConfigError("scenario must be one name")
    duration = _number("duration", spec.get("duration", device.config["duration"]))
    kind = spec.get("kind", "firmware_update")
    if kind not in KINDS:
        raise ConfigError("unknown kind %r; one of %s" % (kind, ", ".join(KINDS)))
    task_id = spec.get("id")
    if task_id is not None and (not isinstance(task_id, str) or not task_id):
        raise ConfigError("id must be a non-empty string")
    started_ago = _number("started_ago", spec.get("started_ago", 0))
    if not isinstance(spec.get("hold", False), bool):
        raise ConfigError("hold must be true or false")
    return {
        "scenario": scenario,
        "duration": duration,
        "kind": kind,
        "task_id": task_id,
        "started_ago": started_ago,
        "name": spec.get("name"),
        "hold": spec.get("hold", False),
    }


def control(device, req):
    """The control API, on every device's port, no auth, JSON, not counted in stats.

    GET  /_sim/stats    sessions_open/created/deleted/expired, requests_total,
                        requests {"<METHOD> <path>": n}, logins_failed, reboots,
                        sse_open (event streams open now), sse_opened, sse_refused
    POST /_sim/reset    stats, sessions, tasks, settings, burst, respond: as at start
    POST /_sim/tasks    {"scenario", "duration", "kind", "id"?, "started_ago"?, "name"?, "hold"?}
                        (hold: the task's clock starts at the first request that names it)
                        -> 201 {"id", "task_uri", "monitor_uri"}; 409 on a taken id
    GET  /_sim/tasks    every task with its phase/percent (debugging)
    GET|POST /_sim/config  settings (KNOBS), burst, respond, reboot_now
    GET  /_sim/info     name, platform, vendor, host, port, url
    /_sim/fleet/...     every device of the simulator at once: see fleet_control
    Bad input: 400 {"error": "..."}.
    """
    route = req.path.rstrip("/")
    if route == "/_sim/fleet" or route.startswith("/_sim/fleet/"):
        return fleet_control(device.sim, req)

    def error(status, message):
        return json_response(status, {"error": message})

    def body():
        if not req.body.strip():
            return {}
        return req.json()

    try:
        if route == "/_sim/stats" and req.method == "GET":
            return json_response(200, device.stats_dict())
        if route == "/_sim/reset" and req.method == "POST":
            device.reset()
            return json_response(200, {"reset": device.name})
        if route == "/_sim/config" and req.method == "GET":
            return json_response(200, device.config_dict())
        if route == "/_sim/config" and req.method == "POST":
            after = device.configure(body())
            resp = json_response(200, device.config_dict())
            if after:
                resp.after = lambda: [f() for f in after]
            return resp
        if route == "/_sim/tasks" and req.method == "POST":
            kwargs = check_task_spec(body(), device)
            return json_response(201, device.create_task(kwargs))
        if route == "/_sim/tasks" and req.method == "GET":
            return json_response(200, device.platform.list_tasks_debug())
        if route in ("/_sim", "/_sim/info") and req.method == "GET":
            return json_response(200, device.info())
    except ConfigError as exc:
        return error(400, str(exc))
    except ValueError as exc:
        return error(400, "bad JSON body: %s" % exc)
    except Conflict as exc:
        return error(409, str(exc))
    return error(404, "no control route %s %s" % (req.method, req.path))


def fleet_control(sim, req):
    """The whole simulator at once, on every device's port: no auth, JSON, not counted.

    GET  /_sim/fleet/info    {"count", "port" (the fleet's shared port or null), "devices": [info, ...]}
    GET  /_sim/fleet/stats   {"count", "totals": {counters summed, "requests": {...}},
                              "sessions_open_on": [names], "down": [names], "per_device": {name: counters}}
                             ?devices=a,b only these; ?requests=1 adds each device's request
                             counts; ?per_device=0 leaves per_device out
    POST /_sim/fleet/tasks   {"devices"?: [names], "count"?: n, "per_device"?: {name: spec}, + a
                             /_sim/tasks spec for all} -> 201 {"created": n, "tasks": {name: [
                             {"id", "task_uri", "monitor_uri"}, ...]}}; specs are all checked before
                             any task is made; 409 on a taken id (tasks made before it stay)
    POST /_sim/fleet/reset   {"devices"?: [names]} -> {"reset": n}
    POST /_sim/fleet/config  {"devices"?: [names], + /_sim/config settings} -> {"configured": n}
    Without "devices": every device of the simulator. Bad input: 400 {"error": "..."}.
    """
    route = req.path.rstrip("/")

    def body():
        if not req.body.strip():
            return {}
        value = req.json()
        if not isinstance(value, dict):
            raise ConfigError("body must be a JSON object")
        return value

    def flag(name, default):
        value = req.query.get(name)
        return default if value is None else value.lower() in ("1", "true", "yes")

    try:
        if route in ("/_sim/fleet", "/_sim/fleet/info") and req.method == "GET":
            return json_response(200, sim.fleet_info())
        if route == "/_sim/fleet/stats" and req.method == "GET":
            names = [n for n in req.query.get("devices", "").split(",") if n] or None
            return json_response(
                200, sim.fleet_stats(names, requests=flag("requests", False), per_device=flag("per_device", True))
            )
        if route == "/_sim/fleet/tasks" and req.method == "POST":
            return json_response(201, sim.fleet_tasks(body()))
        if route == "/_sim/fleet/reset" and req.method == "POST":
            spec = body()
            return json_response(200, {"reset": len(sim.fleet_reset(spec.get("devices")))})
        if route == "/_sim/fleet/config" and req.method == "POST":
            changes = body()
            names = changes.pop("devices", None)
            return json_response(200, {"configured": len(sim.fleet_configure(changes, names))})
    except ConfigError as exc:
        return json_response(400, {"error": str(exc)})
    except ValueError as exc:
        return json_response(400, {"error": "bad JSON body: %s" % exc})
    except Conflict as exc:
        return json_response(409, {"error": str(exc)})
    return json_response(404, {"error": "no control route %s %s" % (req.method, req.path)})


# --------------------------------------------------------------------------
# Platforms
# --------------------------------------------------------------------------


class Platform:
    """Base of a platform file (redfish.py, ...)."""

    name = None
    vendors = ("generic",)
    default_vendor = "generic"

    def __init__(self, device):
        self.device = device

    @property
    def vendor(self):
        return self.device.vendor

    def reset(self):
        """Put the device's tasks (device.tasks) back to the initial set."""

    def rebooting(self):
        """The device goes down for a reboot (called with the device lock held); tasks survive unless a
        platform forgets them here."""

    def sse_tick(self, now, baseline=False):
        """Event records of what changed since the last tick (device lock held); ``baseline``: only note
        the present state. A platform that pushes events overrides this."""
        return []

    def sse_forget(self):
        """The ticker stops (no listener, a reboot, a reset): forget the state the ticks compared against."""

    def handle(self, req):
        raise NotImplementedError

    def error_response(self, status, message, message_id=None, message_args=None, headers=None):
        return json_response(status, {"error": message}, headers)

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None):
        """Create a task (/_sim/tasks); returns {"id", "task_uri", "monitor_uri"}."""
        raise NotImplementedError

    def list_tasks_debug(self):
        now = time.monotonic()
        out = []
        with self.device.lock:
            for task in self.device.tasks.values():
                p = task.progress(now)
                out.append(
                    {
                        "id": task.id,
                        "kind": task.kind,
                        "scenario": task.scenario,
                        "duration": task.duration,
                        "elapsed": round(task.elapsed(now), 3),
                        "phase": p.phase if p else "static",
                        "outcome": p.outcome if p else None,
                        "percent": p.percent if p else None,
                    }
                )
        return out


def basic_credentials(header):
    """(user, password) from an ``Authorization: Basic`` header, or None."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        user, _sep, password = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


# --------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------


def fleet_address(index):
    """The loopback address of fleet device ``index`` (from 0): 127.0.x.y, x and y from 1, y up to 254."""
    if not 0 <= index < FLEET_MAX:
        raise ConfigError("a fleet has at most %d devices" % FLEET_MAX)
    return "127.0.%d.%d" % (1 + index // 254, 1 + index % 254)


FLEET_MAX = 255 * 254
FLEET_COUNTERS = (
    "sessions_open",
    "sessions_created",
    "sessions_deleted",
    "sessions_expired",
    "requests_total",
    "logins_failed",
    "reboots",
    "sse_open",
    "sse_opened",
    "sse_refused",
)


def fleet_specs(count, platform="redfish", vendor=None, prefix="bmc", **settings):
    """Specs of ``count`` devices named ``<prefix>0001``..., each at its own 127.0.x.y, sharing one port.

    ``settings`` (DEFAULTS keys: duration, scenario, session_limit, ...) go into every spec.
    """
    count = int(count)
    if count < 1:
        raise ConfigError("a fleet needs at least one device")
    width = max(4, len(str(count)))
    specs = []
    for index in range(count):
        spec = {"name": "%s%0*d" % (prefix, width, index + 1), "platform": platform, "address": fleet_address(index)}
        if vendor:
            spec["vendor"] = vendor
        spec.update(settings)
        specs.append(spec)
    return specs


def _loopback(address):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ConfigError("address %r is not an IP address" % (address,))
    if ip.version != 4 or not ip.is_loopback:
        raise ConfigError("address %s is not in 127.0.0.0/8: the simulator serves only loopback" % address)
    return str(ip)


def _raise_fd_limit(need):
    """Lift the soft limit of open files towards ``need`` (a fleet: a socket per device and per connection)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Linux
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= need:
        return
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError) as exc:
            LOG.warning("cannot raise the open-file limit from %d to %d: %s", soft, want, exc)
    if want < need:
        LOG.warning("open-file limit %d is below the %d a fleet of this size may need", want, need)


def parse_devices_spec(text):
    """``bmc1=redfish:generic,bmc2=redfish:dell@8443`` -> device specs."""
    devices = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, rest = item.partition("=")
        if not sep or not name:
            raise ConfigError("device spec %r is not name=platform[:vendor][@port]" % item)
        rest, _at, port = rest.partition("@")
        platform, _colon, vendor = rest.partition(":")
        spec = {"name": name.strip(), "platform": platform.strip() or "redfish"}
        if vendor:
            spec["vendor"] = vendor.strip()
        if port:
            spec["port"] = int(port)
        devices.append(spec)
    return devices


class Simulator:
    """A set of simulated devices on loopback: one port each on 127.0.0.1, or a fleet.

    >>> sim = Simulator(tmp_path, devices=[{"name": "bmc1", "platform": "redfish", "vendor": "dell"}])
    >>> sim.start(); ...; sim.stop()
    >>> fleet = Simulator(tmp_path, devices=fleet_specs(1000, vendor="generic"))  # 127.0.1.1 ... 127.0.4.238

    Device specs take ``name``, ``platform``, ``vendor``, ``port``, ``address``
    and any setting of DEFAULTS (``duration``, ``scenario``, ``session_limit``, ...);
    the keyword arguments here set the defaults for all devices. A device
    with an ``address`` (127.0.0.0/8) and no ``port`` is a fleet device: all
    of them share one port, ``fleet_port`` or one found free at start. One
    accept loop serves every listening socket; one certificate from the
    throw-away CA covers ``cert_names`` (127.0.0.1, localhost) and every
    device address.
    """

    def __init__(
        self,
        state_dir,
        devices=None,
        tls=True,
        host="127.0.0.1",
        platforms=None,
        mode="in-process",
        cert_names=("127.0.0.1", "localhost"),
        fleet_port=None,
        **defaults
    ):
        self.cert_names = tuple(cert_names)  # another name makes a host-name mismatch for TLS tests
        if platforms is None:
            from . import PLATFORMS as platforms  # the explicit registry
        self.state_dir = os.path.abspath(str(state_dir))
        self.host = _loopback(host)
        self.tls = tls
        self.mode = mode
        self.fleet_port = int(fleet_port) if fleet_port else None
        self.defaults = dict(DEFAULTS)
        for key, value in defaults.items():
            if key not in DEFAULTS:
                raise TypeError("unknown simulator setting %r" % key)
            self.defaults[key] = check_knob(key, value)
        if devices is None:
            devices = [{"name": "bmc1", "platform": "redfish", "vendor": "generic"}]
        names = [d["name"] for d in devices]
        if len(set(names)) != len(names):
            raise ConfigError("device names must be unique")
        self._specs = [dict(d) for d in devices]
        for spec in self._specs:
            if spec.get("address"):
                spec["address"] = _loopback(spec["address"])
        self.ssl_context = None
        self.ca_cert = None
        self._platforms = platforms
        self.devices = {}
        self.hub = None
        self.started = False

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        _raise_fd_limit(3 * len(self._specs) + 1024)
        if self.tls:
            import trustme

            ca = trustme.CA(organization_name="taskstatus simulator")
            identities = list(self.cert_names)  # and every fleet address: one certificate for all
            for address in [spec["address"] for spec in self._specs if spec.get("address")]:
                if address not in identities:
                    identities.append(address)
            cert = ca.issue_cert(*identities)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert.configure_cert(ctx)
            self.ssl_context = ctx
            self.ca_cert = os.path.join(self.state_dir, "ca.pem")
            ca.cert_pem.write_to_path(self.ca_cert)
        self.hub = _Hub().start()
        try:
            for spec in self._specs:
                device = Device(self, spec, self._platforms)
                self.devices[device.name] = device
            for device in self.devices.values():
                if not device.shares_port:
                    device.start()
            self._start_fleet([d for d in self.devices.values() if d.shares_port])
        except Exception:
            self.stop()
            raise
        self.started = True
        self.write_state()
        return self

    def _start_fleet(self, devices):
        """Start the fleet devices on one port: the given one, or the first that is free on every address."""
        attempts = 1 if self.fleet_port else 20
        for attempt in range(attempts):
            port = self.fleet_port or 0
            started = []
            try:
                for device in devices:
                    device.start(port)
                    started.append(device)
                    port = device.port
                return
            except OSError as exc:
                for device in started:
                    device.stop()
                if self.fleet_port or exc.errno != errno.EADDRINUSE or attempt == attempts - 1:
                    raise

    def stop(self):
        for device in self.devices.values():
            device.stop()
        if self.hub is not None:
            self.hub.stop()
            self.hub = None
        self.started = False

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def device(self, name):
        return self.devices[name]

    def url(self, name):
        return self.devices[name].info()["url"]

    def reset(self, name=None):
        for device in [self.devices[name]] if name else self.devices.values():
            device.reset()

    # ---- the whole fleet at once (/_sim/fleet/*) -------------------------

    def select(self, names=None):
        """The devices named (all when ``names`` is None); ConfigError on an unknown name."""
        if names is None:
            return list(self.devices.values())
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError("devices must be a list of device names")
        unknown = [n for n in names if n not in self.devices]
        if unknown:
            raise ConfigError("no device %s" % ", ".join(unknown[:10]))
        return [self.devices[n] for n in names]

    def fleet_port_in_use(self):
        ports = {d.port for d in self.devices.values() if d.shares_port}
        return ports.pop() if len(ports) == 1 else None

    def fleet_info(self):
        return {
            "count": len(self.devices),
            "port": self.fleet_port_in_use(),
            "devices": [d.info() for d in self.devices.values()],
        }

    def fleet_stats(self, names=None, requests=False, per_device=True):
        """Counters of every device (or of ``names``), summed and one by one."""
        devices = self.select(names)
        totals = dict.fromkeys(FLEET_COUNTERS, 0)
        summed = {}
        each = {}
        open_on = []
        down = []
        for device in devices:
            stats = device.stats_dict()
            for key in FLEET_COUNTERS:
                totals[key] += stats[key]
            for key, count in stats["requests"].items():
                summed[key] = summed.get(key, 0) + count
            if stats["sessions_open"]:
                open_on.append(device.name)
            if device.down:
                down.append(device.name)
            if per_device:
                each[device.name] = stats if requests else {k: stats[k] for k in FLEET_COUNTERS}
        totals["requests"] = summed
        out = {"count": len(devices), "totals": totals, "sessions_open_on": open_on, "down": down}
        if per_device:
            out["per_device"] = each
        return out

    def fleet_tasks(self, spec):
        """One or ``count`` tasks on every device (or on ``devices``); all specs checked before any is made."""
        if not isinstance(spec, dict):
            raise ConfigError("fleet task spec must be a JSON object")
        spec = dict(spec)
        devices = self.select(spec.pop("devices", None))
        count = _number("count", spec.pop("count", 1), minimum=1, integer=True)
        overrides = spec.pop("per_device", None) or {}
        if not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
            raise ConfigError("per_device must be an object of device name -> task spec")
        chosen = {d.name for d in devices}
        stray = sorted(set(overrides) - chosen)
        if stray:
            raise ConfigError("per_device names devices not in this request: %s" % ", ".join(stray[:10]))
        plans = []
        for device in devices:
            merged = dict(spec)
            merged.update(overrides.get(device.name, {}))
            kwargs = check_task_spec(merged, device)
            if kwargs["task_id"] is not None and count > 1:
                raise ConfigError("an id names one task: not with count > 1")
            plans.append((device, kwargs))
        made = {}
        for device, kwargs in plans:
            made[device.name] = [device.create_task(kwargs) for _index in range(count)]
        return {"created": count * len(plans), "tasks": made}

    def fleet_reset(self, names=None):
        devices = self.select(names)
        for device in devices:
            device.reset()
        return devices

    def fleet_configure(self, changes, names=None):
        """The same /_sim/config changes on every device (or ``names``); checked on the first before any applies."""
        devices = self.select(names)
        after = []
        for device in devices:
            after.extend(device.configure(copy.deepcopy(changes)))
        for func in after:
            func()
        return devices

    # ---- state.json --------------------------------------------------------

    def state(self):
        state = {
            "pid": os.getpid(),
            "mode": self.mode,
            "scheme": self.scheme,
            "ca_cert": self.ca_cert,
            "username": self.defaults["username"],
            "password": self.defaults["password"],
            "devices": [d.info() for d in self.devices.values()],
        }
        fleet = [d for d in self.devices.values() if d.shares_port]
        if fleet:
            state["fleet"] = {"count": len(fleet), "port": self.fleet_port_in_use()}
        return state

    def write_state(self):
        path = os.path.join(self.state_dir, "state.json")
        tmp = path + ".tmp"
        state = self.state()
        with open(tmp, "w") as handle:
            if len(state["devices"]) > 100:  # a fleet: one device a line, quick to write and read
                devices = state.pop("devices")
                text = json.dumps(state, indent=2)
                handle.write(text[:-2] + ',\n  "devices": [\n')
                handle.write(",\n".join("    " + json.dumps(d) for d in devices))
                handle.write("\n  ]\n}")
            else:
                json.dump(state, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
        return path
