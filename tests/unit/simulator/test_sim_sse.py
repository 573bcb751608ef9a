"""The Redfish simulator's Server-Sent Events over real HTTPS: EventService per flavour, TaskEvent streams
for a task's life, ids, Last-Event-ID replay, $filter, limits, knobs, EventDestinations, what closes a stream."""

import glob
import json
import os
import re
import time

import pytest
import requests

from simulator import redfish

ROOT = "/redfish/v1"
SSE = ROOT + "/EventService/SSE"
DELL_SSE = ROOT + "/SSE"
SUBSCRIPTIONS = ROOT + "/EventService/Subscriptions"
SESSIONS = ROOT + "/SessionService/Sessions"
TASK_FILTER = "RegistryPrefix eq 'TaskEvent'"
SHARED = os.environ.get(
    "TASKSTATUS_SHARED",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared"),
)


class Stream:
    """One event stream read line by line; every read bounded (heartbeats keep lines coming)."""

    def __init__(self, client, path=SSE, query=None, headers=None, auth=True):
        sent = {"Accept": "text/event-stream"}
        sent.update(headers or {})
        self.resp = client.get(path, params={"$filter": query} if query else None, headers=sent, auth=auth,
                               stream=True, timeout=(5, 5))
        self.status = self.resp.status_code
        self._lines = self.resp.iter_lines(chunk_size=1024) if self.status == 200 else iter(())
        self.ended = None  # "eof" or the exception that ended the stream

    def read(self):
        """The next event or comment: {"id", "data", "comment"}; None once the stream has ended."""
        item = {}
        try:
            for raw in self._lines:
                line = raw.decode("utf-8")
                if not line:
                    if item:
                        return item
                    continue
                field, _colon, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if not field:
                    item["comment"] = value
                elif field == "data":
                    item["data"] = item["data"] + "\n" + value if "data" in item else value
                else:
                    item[field] = value
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError) as exc:
            self.ended = exc
            return None
        self.ended = "eof"
        return None

    def events(self, until=None, count=None, limit=300, timeout=20.0):
        """Events (heartbeats skipped) until one matches ``until``, ``count`` of them, or the stream ends."""
        out = []
        deadline = time.monotonic() + timeout
        for _index in range(limit):
            assert time.monotonic() < deadline, "no end of the events in %.0f s: %r" % (timeout, out)
            item = self.read()
            if item is None:
                return out
            if "data" not in item:
                continue
            out.append(item)
            if (until is not None and until(item)) or (count is not None and len(out) >= count):
                return out
        raise AssertionError("more than %d lines: %r" % (limit, out))

    def heartbeats(self, count=2, limit=50):
        """Read until ``count`` heartbeats; the events met on the way."""
        seen, events = 0, []
        for _index in range(limit):
            item = self.read()
            assert item is not None, "the stream ended: %r" % (self.ended,)
            if "comment" in item and "data" not in item:
                seen += 1
                if seen >= count:
                    return events
            elif "data" in item:
                events.append(item)
        raise AssertionError("no %d heartbeats in %d lines" % (count, limit))

    def close(self):
        self.resp.close()


def payload(item):
    return json.loads(item["data"])


def message(item):
    return payload(item)["Events"][0]["MessageId"].rsplit(".", 1)[1]


def completed(item):
    return message(item) in ("TaskCompletedOK", "TaskAborted", "TaskCancelled")


def open_count(c):
    return c.stats()["sse_open"]


@pytest.fixture
def streams():
    """stream(client, ...) -> an open Stream, closed after the test."""
    made = []

    def make(client, *args, **kwargs):
        stream = Stream(client, *args, **kwargs)
        made.append(stream)
        return stream

    yield make
    for stream in made:
        stream.close()


def assert_redfish_error(resp, status, message_id=None):
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    info = resp.json()["error"]["@Message.ExtendedInfo"]
    assert len(info) == 1 and resp.json()["error"]["code"] == info[0]["MessageId"]
    if message_id:
        assert info[0]["MessageId"].endswith("." + message_id), info
    return info[0]


# ---- discovery -------------------------------------------------------------


@pytest.mark.parametrize("name, path, limit", [("gen", SSE, 10), ("obmc", SSE, 10), ("dell", DELL_SSE, 2),
                                               ("cisco", None, None), ("jobs", None, None)])
def test_event_service_per_flavour(client, name, path, limit):
    c = client(name)
    assert c.get(ROOT, auth=False).json()["EventService"] == {"@odata.id": ROOT + "/EventService"}
    service = c.get(ROOT + "/EventService").json()
    assert service["@odata.type"] == "#EventService.v1_10_0.EventService"
    assert service["Subscriptions"] == {"@odata.id": SUBSCRIPTIONS}
    assert "TaskEvent" in service["RegistryPrefixes"]
    if path is None:  # CIMC and the JobService service: push subscriptions only
        assert "ServerSentEventUri" not in service and "SSEFilterPropertiesSupported" not in service
        assert c.get(SSE, headers={"Accept": "text/event-stream"}).status_code == 404
        return
    assert service["ServerSentEventUri"] == path
    assert service["SSEFilterPropertiesSupported"] == {
        "EventFormatType": True, "MessageId": True, "RegistryPrefix": True, "ResourceType": False,
        "OriginResource": False, "MetricReportDefinition": False, "SubordinateResources": False}
    assert c.sim.device(name).platform.sse_limit() == limit


def test_xcc_path_knob_and_sse_off(client, streams):
    c = client("gen")
    xcc = ROOT + "/EventService/ServerSentEvent"
    c.config(sse_path=xcc, sse_heartbeat=0.1)
    assert c.get(ROOT + "/EventService").json()["ServerSentEventUri"] == xcc
    assert c.get(SSE, headers={"Accept": "text/event-stream"}).status_code == 404
    stream = streams(c, xcc)
    assert stream.status == 200
    assert stream.heartbeats(1) == []
    stream.close()
    c.config(sse=False)
    assert "ServerSentEventUri" not in c.get(ROOT + "/EventService").json()
    assert c.get(xcc, headers={"Accept": "text/event-stream"}).status_code == 404
    c = client("jobs")  # a flavour without streams gets them with the knob: events name the Job
    c.config(sse=True, sse_heartbeat=0.1)
    stream = streams(c, SSE)
    job = c.new_task(scenario="success", duration=0.5)
    done = stream.events(until=completed)
    assert {payload(e)["Events"][0]["OriginOfCondition"]["@odata.id"] for e in done} == {job["task_uri"]}
    assert job["task_uri"].startswith(ROOT + "/JobService/Jobs/")


def test_stream_answer_headers_and_head(client, streams):
    c = client("gen")
    c.config(sse_heartbeat=0.1)
    stream = streams(c, SSE, query=TASK_FILTER)
    assert stream.status == 200
    assert stream.resp.headers["Content-Type"] == "text/event-stream"
    assert stream.resp.headers["Cache-Control"] == "no-cache"
    assert stream.resp.headers["OData-Version"] == "4.0"
    head = c.request("HEAD", SSE)
    assert head.status_code == 200 and head.headers["Content-Type"] == "text/event-stream" and not head.content
    assert c.stats()["sse_opened"] == 1


# ---- events of a task's life -------------------------------------------------


def test_task_life_events(client, streams):
    c = client("gen")
    c.config(sse_heartbeat=0.2)
    stream = streams(c, SSE, query=TASK_FILTER)
    task = c.new_task(scenario="success", duration=2.0)
    events = stream.events(until=completed)
    names = [message(e) for e in events]
    assert names[0] == "TaskStarted" and names[-1] == "TaskCompletedOK", names
    assert set(names[1:-1]) == {"TaskProgressChanged"}, names
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(set(ids)), ids
    percents = [int(payload(e)["Events"][0]["MessageArgs"][1]) for e in events[1:-1]]
    assert percents == sorted(set(percents)) and 0 < percents[0] and percents[-1] < 100, percents
    for item in events:
        body = payload(item)
        assert body["@odata.type"] == "#Event.v1_7_0.Event" and body["Id"] == item["id"]
        assert isinstance(body["Context"], str)
        (event,) = body["Events"]
        assert event["EventId"] == item["id"]
        assert event["MessageId"].startswith("TaskEvent.1.0.3.")
        assert event["MessageArgs"][0] == task["id"]
        assert event["OriginOfCondition"] == {"@odata.id": task["task_uri"]}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", event["EventTimestamp"])
        text, severity = redfish.EVENT_MESSAGES[message(item)]
        assert event["MessageSeverity"] == severity
        assert event["Message"] == re.sub(r"%(\d)", lambda m: event["MessageArgs"][int(m.group(1)) - 1], text)
    assert c.get(task["task_uri"]).json()["TaskState"] == "Completed"


@pytest.mark.parametrize("scenario, last, severity", [
    ("fail", "TaskAborted", "Critical"),
    ("critical", "TaskAborted", "Critical"),
    ("cancel", "TaskCancelled", "Warning"),
])
def test_task_that_fails(client, streams, scenario, last, severity):
    c = client("dell")
    c.config(sse_heartbeat=0.2)
    stream = streams(c, DELL_SSE)
    task = c.new_task(scenario=scenario, duration=0.5)
    events = stream.events(until=completed)
    assert message(events[0]) == "TaskStarted" and message(events[-1]) == last
    assert payload(events[-1])["Events"][0]["MessageSeverity"] == severity
    assert payload(events[-1])["Events"][0]["OriginOfCondition"]["@odata.id"] == task["task_uri"]


def test_task_removed(client, streams):
    c = client("dell")  # iDRAC: a finished task leaves TaskService after task_retention
    c.config(sse_heartbeat=0.2, task_retention=0.3)
    stream = streams(c, DELL_SSE)
    task = c.new_task(scenario="success", duration=0.5)
    events = stream.events(until=lambda e: message(e) == "TaskRemoved")
    names = [message(e) for e in events]
    assert names.index("TaskCompletedOK") < names.index("TaskRemoved") == len(names) - 1
    assert c.get(task["task_uri"]).status_code == 404
    c = client("gen")  # scenario delete: the task goes as it ends
    c.config(sse_heartbeat=0.2)
    stream = streams(c, SSE)
    c.new_task(scenario="delete", duration=0.5)
    names = [message(e) for e in stream.events(until=lambda e: message(e) == "TaskRemoved")]
    assert names[-2:] == ["TaskCompletedOK", "TaskRemoved"], names


def test_last_event_id_replay(client, streams):
    c = client("gen")
    c.config(sse_heartbeat=0.2)
    first = streams(c, SSE)
    c.new_task(scenario="success", duration=1.0)
    events = first.events(until=completed)
    first.close()
    assert len(events) >= 3
    since = events[0]["id"]
    again = streams(c, SSE, headers={"Last-Event-ID": since})
    replayed = again.events(count=len(events) - 1)
    assert [(e["id"], payload(e)["Events"]) for e in replayed] == [(e["id"], payload(e)["Events"]) for e in events[1:]]
    assert again.heartbeats(1) == []  # nothing more
    latest = streams(c, SSE, headers={"Last-Event-ID": events[-1]["id"]})
    assert latest.heartbeats(2) == []  # nothing after the last one
    fresh = streams(c, SSE)  # no Last-Event-ID: only what comes from now on
    assert fresh.heartbeats(2) == []


# ---- $filter -------------------------------------------------------------------


def test_filter(client, streams):
    c = client("gen")
    c.config(sse_heartbeat=0.2)
    everything = streams(c, SSE)
    only_done = streams(c, SSE, query="MessageId eq 'TaskEvent.1.0.3.TaskCompletedOK'")
    unversioned = streams(c, SSE, query="MessageId eq 'TaskEvent.TaskCompletedOK' or MessageId eq 'TaskEvent.X'")
    metric = streams(c, SSE, query="EventFormatType eq 'MetricReport'")
    base = streams(c, SSE, query="RegistryPrefix eq 'Base' and EventFormatType eq 'Event'")
    not_progress = streams(c, SSE, query="not (MessageId eq 'TaskEvent.1.0.TaskProgressChanged')")
    assert c.stats()["sse_open"] == 6
    c.new_task(scenario="success", duration=1.0)
    every = everything.events(until=completed)
    done_id = every[-1]["id"]
    for stream in (only_done, unversioned):
        assert [e["id"] for e in stream.events(count=1)] == [done_id]
    assert [message(e) for e in not_progress.events(until=completed)] == ["TaskStarted", "TaskCompletedOK"]
    for stream in (metric, base, only_done, unversioned):
        assert stream.heartbeats(2) == []  # the task's other events did not come
    assert c.stats()["sse_opened"] == 6


@pytest.mark.parametrize("query", ["ResourceType eq 'Task'", "OriginResource eq '/redfish/v1/Systems/1'",
                                   "Severity eq 'OK'", "RegistryPrefix eq", "RegistryPrefix = 'TaskEvent'",
                                   "(RegistryPrefix eq 'TaskEvent'", "RegistryPrefix eq 'TaskEvent' junk"])
def test_bad_filter_is_400(client, query):
    c = client("gen")
    resp = c.get(SSE, params={"$filter": query}, headers={"Accept": "text/event-stream"})
    info = assert_redfish_error(resp, 400, "QueryParameterValueFormatError")
    assert info["MessageArgs"] == [query, "$filter"] and info["Resolution"]
    assert c.stats()["sse_opened"] == 0


def test_refused_opens(client):
    c = client("gen")
    assert_redfish_error(c.get(SSE, auth=False, headers={"Accept": "text/event-stream"}), 401, "NoValidSession")
    assert_redfish_error(c.get(SSE, headers={"Accept": "application/json"}), 406, "HeaderInvalid")
    assert_redfish_error(c.get(SSE, params={"$top": "1"}, headers={"Accept": "text/event-stream"}), 501)
    assert c.get(ROOT + "/EventService", params={"$filter": TASK_FILTER}).status_code == 501  # only on the stream
    c.config(sse_refuse=503, retry_after=7)
    resp = c.get(SSE, headers={"Accept": "text/event-stream"})
    assert_redfish_error(resp, 503, "ServiceTemporarilyUnavailable")
    assert resp.headers["Retry-After"] == "7"
    c.config(sse_refuse=500)
    assert_redfish_error(c.get(SSE, headers={"Accept": "text/event-stream"}), 500)
    stats = c.stats()
    assert (stats["sse_refused"], stats["sse_opened"], stats["sse_open"]) == (2, 0, 0)


def test_parse_filter_in_process():
    accept = redfish.parse_sse_filter("RegistryPrefix eq 'TaskEvent' and (MessageId eq 'TaskEvent.1.0.TaskStarted' "
                                      "or MessageId ne 'TaskEvent.1.0.3.TaskProgressChanged')")
    started = redfish.event_message("TaskStarted", "7")
    progress = redfish.event_message("TaskProgressChanged", "7", 5)
    done = redfish.event_message("TaskCompletedOK", "7")
    assert (accept(started), accept(progress), accept(done)) == (True, False, True)
    assert redfish.parse_sse_filter(None)(progress) and redfish.parse_sse_filter("  ")(progress)
    assert redfish.parse_sse_filter("RegistryPrefix eq 'it''s'")(done) is False


# ---- limits and knobs ---------------------------------------------------------


def test_dell_two_streams(client, streams, wait):
    c = client("dell")
    c.config(sse_heartbeat=0.2)
    one, two = streams(c, DELL_SSE), streams(c, DELL_SSE)
    assert (one.status, two.status) == (200, 200)
    third = c.get(DELL_SSE, headers={"Accept": "text/event-stream"})
    assert_redfish_error(third, 503, "EventSubscriptionLimitExceeded")
    stats = c.stats()
    assert (stats["sse_open"], stats["sse_opened"], stats["sse_refused"]) == (2, 2, 1)
    one.close()
    wait(lambda: open_count(c) == 1)
    three = streams(c, DELL_SSE)
    assert three.status == 200 and three.heartbeats(1) == []
    g = client("gen")
    g.config(sse_max_streams=1, sse_heartbeat=0.2)
    streams(g, SSE)
    assert_redfish_error(g.get(SSE, headers={"Accept": "text/event-stream"}), 503, "EventSubscriptionLimitExceeded")


def test_drop_after(client, streams, wait):
    c = client("gen")
    c.config(sse_heartbeat=0.2, sse_drop_after=2)
    stream = streams(c, SSE)
    c.new_task(scenario="success", duration=1.0)
    events = stream.events(limit=100)
    assert len(events) == 2 and stream.ended is not None, (events, stream.ended)
    assert stream.ended != "eof"  # cut, not ended: no last chunk
    wait(lambda: open_count(c) == 0)
    c.config(sse_drop_after=None)
    again = streams(c, SSE, headers={"Last-Event-ID": events[-1]["id"]})  # reconnect: the rest comes
    rest = again.events(until=completed)
    ids = [int(e["id"]) for e in events + rest]
    assert ids == list(range(ids[0], ids[0] + len(ids))), ids  # none lost, none twice
    assert message(rest[-1]) == "TaskCompletedOK"


def test_garbage(client, streams):
    c = client("gen")
    c.config(sse_heartbeat=0.2, sse_garbage=True)
    stream = streams(c, SSE)
    first = stream.events(count=1)[0]
    with pytest.raises(ValueError):
        json.loads(first["data"])
    assert "id" not in first
    c.new_task(scenario="success", duration=0.5)
    assert message(stream.events(until=completed)[-1]) == "TaskCompletedOK"


def test_heartbeat(client, streams):
    c = client("obmc")
    c.config(sse_heartbeat=0.1)
    stream = streams(c, SSE)
    assert stream.heartbeats(3) == []


def test_open_delay(client, streams):
    c = client("gen")
    c.config(sse_open_delay=0.4)
    began = time.monotonic()
    stream = streams(c, SSE)
    assert stream.status == 200 and time.monotonic() - began >= 0.4
    assert open_count(c) == 1


@pytest.mark.parametrize("changes", [{"sse_heartbeat": 0}, {"sse_refuse": 200}, {"sse_path": "SSE"},
                                     {"sse": "yes"}, {"sse_max_streams": 0}, {"sse_drop_after": 1.5},
                                     {"sse_logout_closes": None}, {"sse_open_delay": -1}])
def test_bad_knobs(client, changes):
    c = client("gen")
    assert c.raw("POST", "/_sim/config", json=changes).status_code == 400


# ---- what closes a stream -------------------------------------------------------


def test_session_delete_closes_its_streams(client, streams, wait):
    c = client("gen")
    c.config(sse_heartbeat=0.2, sse_logout_closes=True)  # not DSP0266's default, as some BMCs do
    token, location = c.login()
    mine = streams(c, SSE, auth=False, headers={"X-Auth-Token": token})
    basic = streams(c, SSE)  # Basic credentials: no session
    assert mine.heartbeats(1) == [] and open_count(c) == 2
    assert c.delete(location, auth=False, headers={"X-Auth-Token": token}).status_code == 204
    assert mine.events() == [] and mine.ended == "eof"  # ended with its last chunk
    wait(lambda: open_count(c) == 1)
    assert basic.heartbeats(1) == []
    assert c.get(SSE, auth=False, headers={"X-Auth-Token": token, "Accept": "text/event-stream"}).status_code == 401
    c.config(sse_logout_closes=False)  # DSP0266: independent connections outlive the session
    token, location = c.login()
    kept = streams(c, SSE, auth=False, headers={"X-Auth-Token": token})
    assert c.delete(location, auth=False, headers={"X-Auth-Token": token}).status_code == 204
    assert kept.heartbeats(2) == [] and open_count(c) == 2


def test_clients_that_leave(client, wait):
    c = client("gen")
    c.config(sse_heartbeat=30)  # no write would notice them: the server sees the sockets close
    opened = [Stream(c, SSE) for _index in range(3)]
    assert open_count(c) == 3
    for stream in opened:
        stream.close()
    wait(lambda: open_count(c) == 0)
    assert c.stats()["sse_opened"] == 3


def test_event_destination_of_a_stream(client, streams, wait):
    c = client("gen")
    c.config(sse_heartbeat=0.2)
    stream = streams(c, SSE)
    (member,) = c.get(SUBSCRIPTIONS).json()["Members"]
    dest = c.get(member["@odata.id"]).json()
    assert dest["@odata.type"] == "#EventDestination.v1_14_1.EventDestination"
    assert (dest["SubscriptionType"], dest["Protocol"], dest["EventFormatType"]) == ("SSE", "Redfish", "Event")
    assert re.fullmatch(r"redfish-sse://127\.0\.0\.1:\d+", dest["Destination"])
    c.new_task(scenario="success", duration=0.3)
    assert payload(stream.events(count=1)[0])["Context"] == dest["Context"] != ""
    assert c.delete(member["@odata.id"]).status_code == 204
    stream.events(limit=100)
    assert stream.ended == "eof"
    wait(lambda: open_count(c) == 0)
    assert c.get(member["@odata.id"]).status_code == 404
    assert c.get(SUBSCRIPTIONS).json()["Members"] == []


def test_reboot_closes_streams_and_ids_go_on(client, streams, wait):
    c = client("gen")
    c.config(sse_heartbeat=0.2)
    stream = streams(c, SSE)
    c.new_task(scenario="success", duration=0.3)
    before = stream.events(until=completed)
    c.config(reboot_now={"seconds": 0.5})
    stream.events(limit=100)
    assert stream.ended is not None

    def back():
        try:
            return c.raw("GET", "/_sim/config", timeout=1).json()["down"] is False and open_count(c) == 0
        except requests.exceptions.ConnectionError:  # down: connections refused
            return False

    wait(back, timeout=10)
    assert c.stats()["reboots"] == 1
    after = streams(c, SSE, headers={"Last-Event-ID": before[0]["id"]})  # the buffer went with the reboot
    c.new_task(scenario="success", duration=0.3)
    events = after.events(until=completed)
    assert int(events[0]["id"]) > int(before[-1]["id"])


def test_push_subscriptions(client):
    c = client("cisco")
    body = {"Destination": "https://192.0.2.50/events", "Protocol": "Redfish", "Context": "mine",
            "RegistryPrefixes": ["TaskEvent"]}
    resp = c.post(SUBSCRIPTIONS, json=body)
    assert resp.status_code == 201, resp.text
    location = resp.headers["Location"]
    dest = c.get(location).json()
    assert (dest["Context"], dest["SubscriptionType"]) == ("mine", "RedfishEvent")
    assert dest["RegistryPrefixes"] == ["TaskEvent"]
    assert c.get(SUBSCRIPTIONS).json()["Members"] == [{"@odata.id": location}]
    assert_redfish_error(c.post(SUBSCRIPTIONS, json=dict(body, Protocol="FTP")), 400, "PropertyValueNotInList")
    assert_redfish_error(c.post(SUBSCRIPTIONS, json={"Protocol": "Redfish"}), 400, "PropertyMissing")
    assert_redfish_error(c.post(SUBSCRIPTIONS, json=dict(body, Nope=1)), 400, "PropertyUnknown")
    assert_redfish_error(c.post(SUBSCRIPTIONS, json=dict(body, Context=5)), 400, "PropertyValueTypeError")
    assert c.delete(location).status_code == 204
    assert c.get(location).status_code == 404


def test_no_ticker_without_streams(client, sim):
    c = client("gen")
    c.new_task(scenario="success", duration=0.2)
    assert c.get(ROOT + "/EventService").status_code == 200
    assert all(device.events._ticker is None for device in sim.devices.values())  # pylint: disable=protected-access


def test_event_messages_are_the_registry():
    files = glob.glob(os.path.join(SHARED, "specs", "redfish", "registries", "TaskEvent.1.0.3.json"))
    assert files, "no TaskEvent.1.0.3.json under %s" % SHARED
    with open(files[0]) as handle:
        registry = json.load(handle)
    assert set(redfish.EVENT_MESSAGES) == set(registry["Messages"])
    for name, (text, severity) in redfish.EVENT_MESSAGES.items():
        entry = registry["Messages"][name]
        assert (text, severity) == (entry["Message"], entry["MessageSeverity"])
        assert len(set(re.findall(r"%\d", text))) == entry["NumberOfArgs"]
