"""The SSE stream reader against a scripted event-stream server on loopback (real sockets, plain HTTP).

The simulator's Redfish EventService is tested end to end in tests/integration/test_push.py; here each way a
stream can go is scripted byte for byte: events split over lines, heartbeats, a drop and Last-Event-ID, garbage,
a refusal with a Redfish error, a stream that never sends anything, and stop() while a read blocks.
"""

import http.server
import json
import threading
import time

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _push, _sse
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient
from ansible_collections.taskstatus.infra.plugins.module_utils._sse import Endpoint, Event, EventStream, parse_event


def event_text(event_id, message, task="7", split=False):
    body = {"@odata.type": "#Event.v1_7_0.Event", "Id": str(event_id), "Name": "Task event",
            "Events": [{"EventId": str(event_id), "MessageId": "TaskEvent.1.0.3." + message, "MessageArgs": [task],
                        "OriginOfCondition": {"@odata.id": "/redfish/v1/TaskService/Tasks/" + task}}]}
    text = json.dumps(body, indent=1 if split else None)
    return "id: %s\n%s\n\n" % (event_id, "\n".join("data: " + line for line in text.splitlines()))


class Script:
    """What the server answers to each open, in order: (status, headers, chunks, keep_open)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []  # (path, headers) of each open
        self.release = threading.Event()
        self.delay = 0.0  # s before each answer's headers


def serve(script):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            script.requests.append((self.path, dict(self.headers)))
            time.sleep(script.delay)
            if not script.answers:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status, headers, chunks, keep_open = script.answers.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk.encode("utf-8"))
                self.wfile.flush()
            if keep_open:
                script.release.wait(20)
            self.close_connection = True

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


SSE = {"Content-Type": "text/event-stream"}


@pytest.fixture
def stream_of(monkeypatch):
    monkeypatch.setattr(_sse, "BACKOFF", (0.05, 0.05, 0.05))
    servers = []

    def make(answers, credentials=None):
        script = Script(answers)
        server = serve(script)
        servers.append((server, script))
        http = HttpClient("http://127.0.0.1:%d" % server.server_address[1], "redfish")
        stream = EventStream(http, Endpoint("/redfish/v1/EventService/SSE", "RegistryPrefix eq 'TaskEvent'"),
                             credentials or (lambda: ({"X-Auth-Token": "tok"}, None)))
        return stream, script

    yield make
    for server, script in servers:
        script.release.set()
        server.shutdown()
        server.server_close()


def run(stream, until=None, limit=10.0):
    """Read in a thread; returns the events once ``until(events)`` or the stream ended."""
    events = []
    thread = threading.Thread(target=stream.run, args=(events.append,), daemon=True)
    thread.start()
    end = time.monotonic() + limit
    while thread.is_alive() and time.monotonic() < end and not (until and until(events)):
        time.sleep(0.02)
    stream.stop()
    thread.join(5)
    assert not thread.is_alive(), "stop() did not end the stream's thread"
    return events


def names(events):
    return [n for e in events for n in (["<resync>"] if e.resync else e.message_names)]


def test_events_heartbeats_and_the_filter(stream_of):
    chunks = [": keep-alive\n\n", event_text(1, "TaskStarted"), event_text(2, "TaskProgressChanged", split=True),
              ": keep-alive\n\n", event_text(3, "TaskCompletedOK")]
    stream, script = stream_of([(200, SSE, chunks, True)])
    events = run(stream, until=lambda ev: len(ev) >= 3)
    assert names(events) == ["TaskStarted", "TaskProgressChanged", "TaskCompletedOK"], (stream.error, stream.opens)
    assert [e.wakes for e in events] == [False, False, True]
    assert stream.last_id == "3" and stream.error is None
    path, headers = script.requests[0]
    assert path == "/redfish/v1/EventService/SSE?$filter=RegistryPrefix%20eq%20%27TaskEvent%27"
    assert headers["Accept"] == "text/event-stream" and headers["X-Auth-Token"] == "tok"
    assert "Last-Event-ID" not in headers


def test_a_dropped_stream_is_opened_again_with_last_event_id(stream_of):
    stream, script = stream_of([(200, SSE, [event_text(41, "TaskStarted")], False),
                                (200, SSE, [event_text(42, "TaskAborted")], True)])
    events = run(stream, until=lambda ev: len(ev) >= 3)
    assert names(events) == ["TaskStarted", "<resync>", "TaskAborted"]
    assert events[1].wakes, "a reopened stream may have missed events: the wait reads its tasks"
    assert script.requests[1][1]["Last-Event-ID"] == "41"
    assert stream.opens == 2 and stream.error is None


@pytest.mark.parametrize("answer, why", [
    ((503, {"Content-Type": "application/json"},
      [json.dumps({"error": {"code": "Base.1.22.ServiceTemporarilyUnavailable", "message": "x",
                             "@Message.ExtendedInfo": [{"Message": "Too many SSE connections"}]}})], False),
     "the stream was refused (HTTP 503: Too many SSE connections)"),
    ((404, {"Content-Length": "0"}, [], False), "the stream was refused (HTTP 404)"),
    ((200, {"Content-Type": "application/json"}, ["{}"], False), "the stream answered application/json"),
    ((200, SSE, ["id: 1\ndata: <html>oops</html>\n\n"], True), "an event that is not JSON"),
    ((200, SSE, ["data: " + "x" * (_sse.MAX_LINE + 10) + "\n\n"], True), "a line longer than"),
])
def test_refusals_and_garbage_end_push_with_a_reason(stream_of, answer, why):
    stream, script = stream_of([answer])
    events = run(stream)
    assert events == [] and why in stream.error
    assert len(script.requests) == 1, "a refusal or garbage is not asked again"


def test_a_stream_that_brings_nothing_is_given_up_after_a_few_tries(stream_of):
    stream, script = stream_of([(200, SSE, [], False)] * 10)
    run(stream)
    assert len(script.requests) == _sse.MAX_FAILURES
    assert "ended 3 times in a row without an event" in stream.error


def test_401_is_tried_again_with_the_session_of_the_moment(stream_of):
    tokens = iter(["old", "new", "new"])
    stream, script = stream_of([(401, {"Content-Length": "0"}, [], False),
                                (200, SSE, [event_text(5, "TaskCompletedOK")], True)],
                               credentials=lambda: ({"X-Auth-Token": next(tokens)}, None))
    events = run(stream, until=lambda ev: any(not e.resync for e in ev))
    assert [h["X-Auth-Token"] for _p, h in script.requests] == ["old", "new"]
    assert names(events)[-1] == "TaskCompletedOK"


def test_basic_credentials_when_there_is_no_session(stream_of):
    stream, script = stream_of([(200, SSE, [event_text(1, "TaskStarted")], True)],
                               credentials=lambda: ({}, ("root", "calvin")))
    run(stream, until=lambda ev: ev)
    assert script.requests[0][1]["Authorization"] == "Basic cm9vdDpjYWx2aW4="


def test_stop_ends_a_read_that_blocks(stream_of):
    stream, _script = stream_of([(200, SSE, [": hello\n\n"], True)])
    events = []
    thread = threading.Thread(target=stream.run, args=(events.append,), daemon=True)
    thread.start()
    for _attempt in range(200):
        if stream.opens:
            break
        time.sleep(0.02)
    time.sleep(0.1)
    stream.stop()
    thread.join(5)
    assert not thread.is_alive() and stream.error is None


@pytest.mark.parametrize("data, messages", [
    ('{"Events": [{"MessageId": "TaskEvent.1.0.3.TaskCancelled", "OriginOfCondition": {"@odata.id": "/t/1"}}]}',
     [("TaskEvent.1.0.3.TaskCancelled", "/t/1", [])]),
    ('{"Events": 7}', []),
    ('{"Events": [3, {"MessageId": 4}]}', [("", None, []), ("4", None, [])]),
    ('{"Events": [{"MessageId": "Base.1.8.Success"}]}', [("Base.1.8.Success", None, [])]),
])
def test_parse_event_takes_what_it_can_and_never_raises_a_type_error(data, messages):
    assert parse_event("1", data).messages == messages


def test_which_events_wake_a_wait():
    def ev(mid):
        return Event("1", [(mid, None, [])])
    assert ev("TaskEvent.1.0.3.TaskCompletedWarning").wakes
    assert ev("TaskEvent.1.0.TaskRemoved").wakes
    assert not ev("TaskEvent.1.0.3.TaskProgressChanged").wakes
    assert not ev("Base.1.8.TaskCompletedOK").wakes
    assert Event(None, [], resync=True).wakes


class _Task:
    def __init__(self, task_id, url=None):
        self.id, self.url = task_id, url


@pytest.mark.parametrize("origin, args, watched, concerns", [
    ("/redfish/v1/TaskService/Tasks/5", ["5"], [_Task("5")], True),
    ("/redfish/v1/TaskService/Tasks/6", ["6"], [_Task("5")], False),  # another wait's task: no read
    # iDRAC: the wait knows the Task URI, the event names the job, or only its id in the arguments
    ("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_1", [], [_Task("/redfish/v1/TaskService/Tasks/JID_1")], True),
    (None, ["JID_1", "100"], [_Task("JID_1")], True),
    ("/redfish/v1/TaskService/TaskMonitors/9", [], [_Task("/redfish/v1/TaskService/TaskMonitors/9?x=1")], True),
    (None, [], [_Task("5")], True),  # names no task: it may be ours
    ("/redfish/v1/TaskService/Tasks/6", ["6"], [], True),  # nothing read yet: every event counts
])
def test_an_event_wakes_only_the_waits_it_concerns(origin, args, watched, concerns):
    event = Event("1", [("TaskEvent.1.0.3.TaskCompletedOK", origin, args)])
    assert event.concerns(_sse.tails(watched)) is concerns


class StreamAdapter:
    """What Push needs of an adapter: the platform, its HTTP client and the session's credentials."""

    platform = "redfish"

    def __init__(self, http):
        self.http = http

    def credentials(self):
        return {"X-Auth-Token": "tok"}, None


@pytest.mark.parametrize("status, headers, chunks, keep_open", [(200, SSE, [": keep-alive\n\n"], True),
                                                                (503, {}, [], False)])
def test_push_start_returns_once_the_stream_has_answered(stream_of, monkeypatch, status, headers, chunks, keep_open):
    # The wait reads its tasks after start(): a change between a read made earlier and the stream's opening
    # would be seen only at the next safety poll. A refusal ends the wait for the stream as well.
    stream, script = stream_of([(status, headers, chunks, keep_open)])
    script.delay = 0.3
    monkeypatch.setattr(_push, "discover", lambda adapter: stream.endpoint)
    push = _push.Push(StreamAdapter(stream.http))
    began = time.monotonic()
    try:
        assert push.start()
        took = time.monotonic() - began
        assert push.stream.ready.is_set() and len(script.requests) == 1
        assert took >= 0.3  # it waited for the answer
        if status == 200:
            assert push.live and push.stream.error is None
    finally:
        push.stop()
    assert not push.live


def test_push_start_waits_no_longer_than_its_bound(stream_of, monkeypatch):
    stream, script = stream_of([(200, SSE, [], True)])
    script.delay = 5
    monkeypatch.setattr(_push, "discover", lambda adapter: stream.endpoint)
    monkeypatch.setattr(_push, "OPEN_WAIT", 0.3)
    push = _push.Push(StreamAdapter(stream.http))
    began = time.monotonic()
    try:
        assert push.start() and not push.stream.ready.is_set()
        assert time.monotonic() - began < 3
    finally:
        push.stop()
    assert not push.live
