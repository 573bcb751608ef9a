"""The Event-Driven Ansible source taskstatus.infra.task_events, run on a bare asyncio.Queue against the simulator.

No timed assertions: tasks are held until the source first names them (the simulator's ``hold``), waits for
events are bounded only to keep a broken source from hanging the run, and the simulator's counters (sessions
open, logins refused) prove what happened on the wire.
"""

import asyncio
import datetime
import json

import pytest
import requests

from ansible_collections.taskstatus.infra.extensions.eda.plugins.event_source import task_events
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import OptionError, TaskStatusError
from harness import PASSWORD

BOUND = 60.0  # s: the longest any test waits for an event before it fails (a hung source, not a slow one)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 4 * BOUND))


async def take(queue, until, source=None, bound=BOUND):
    """Events from ``queue`` until ``until(events)`` is true; fails at once when ``source`` ended meanwhile."""
    events = []
    loop = asyncio.get_running_loop()
    end = loop.time() + bound
    while not until(events):
        left = end - loop.time()
        if left <= 0:
            raise AssertionError("no event for %s s; got %s" % (bound, json.dumps(events, indent=1)[:4000]))
        if source is not None and source.done() and queue.empty():
            raise AssertionError("the source ended (%r); got %s" % (source.exception(), events))
        try:
            events.append(await asyncio.wait_for(queue.get(), min(left, 0.5)))
        except asyncio.TimeoutError:
            continue
    return events


def finished(task_id):
    """``until`` for ``take``: an event says the task ``task_id`` has ended."""
    return lambda events: any(e.get("task", {}).get("id") == task_id and e["task"]["terminal"] for e in events)


async def cancel(source):
    source.cancel()
    with pytest.raises(asyncio.CancelledError):
        await source


def release(sim, name, made):
    """Start a held task's clock (the first request naming it does), from outside the source."""
    resp = requests.get(sim.url(name, made["task_uri"]), auth=("admin", PASSWORD), verify=sim.ca, timeout=10)
    assert resp.status_code == 200, resp.text


def of(events, task_id):
    return [e for e in events if e.get("task", {}).get("id") == task_id]


def states(events):
    return [(e["previous_state"], e["task"]["state"]) for e in events]


def test_a_task_going_from_pending_through_running_to_succeeded_gives_one_event_per_state_in_order(esim):
    made = esim.create_tasks("bmc", 1, scenario="success", duration=3, hold=True)[0]
    args = dict(esim.connection("bmc"), interval=0.2, push="never")

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        first = await take(queue, lambda events: of(events, made["id"]), source)
        assert esim.stats("bmc")["sessions_open"] == 1
        release(esim, "bmc", made)
        rest = await take(queue, finished(made["id"]), source)
        await cancel(source)
        return first + rest

    events = of(run(scenario()), made["id"])
    assert states(events) == [(None, "pending"), ("pending", "running"), ("running", "succeeded")], events
    last = events[-1]
    assert last["task"]["kind"] == "firmware_update" and last["task"]["terminal"] and last["task"]["percent"] == 100
    assert last["task"]["gone"] is False and "raw" not in last["task"]
    assert last["manager"] == {"name": esim.host("bmc"), "platform": "redfish", "host": esim.host("bmc")}
    stamps = [datetime.datetime.fromisoformat(e["timestamp"]) for e in events]
    assert stamps == sorted(stamps) and all(s.tzinfo is not None for s in stamps)
    assert PASSWORD not in json.dumps(events)
    assert esim.no_session_left("bmc")


def test_with_push_a_pushed_task_event_makes_the_source_read_at_once_and_the_stream_is_closed_at_the_end(esim):
    # The safety poll (interval) is far longer than the bound of the wait for the events: only the task events
    # the BMC pushes over its Server-Sent Events stream can make the source read in time.
    made = esim.create_tasks("bmc", 1, scenario="fail", duration=1.5, hold=True)[0]
    args = dict(esim.connection("bmc"), interval=3600, push="auto")

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        events = await take(queue, lambda events: of(events, made["id"]), source)
        for _index in range(200):  # the stream is opened right after the first read
            if esim.stats("bmc")["sse_open"] == 1:
                break
            await asyncio.sleep(0.05)
        assert esim.stats("bmc")["sse_open"] == 1
        release(esim, "bmc", made)
        events += await take(queue, finished(made["id"]), source)
        await cancel(source)
        return events

    events = of(run(scenario()), made["id"])
    assert states(events)[0] == (None, "pending") and states(events)[-1][1] == "failed", events
    assert [e["previous_state"] for e in events[1:]] == [e["task"]["state"] for e in events[:-1]]
    stats = esim.stats("bmc")
    assert stats["sse_open"] == 0 and stats["sse_opened"] == 1 and stats["sessions_open"] == 0, stats


def test_kinds_and_states_filter_what_is_reported_and_the_watch_of_task_ids_ends_when_they_finished(esim):
    update_bad = esim.create_tasks("bmc", 1, scenario="fail", duration=1.5, hold=True)[0]
    update_good = esim.create_tasks("bmc", 1, scenario="success", duration=1.5, hold=True)[0]
    export_bad = esim.create_tasks("bmc", 1, scenario="fail", duration=1.5, kind="config_export", hold=True)[0]
    ids = [update_bad["id"], update_good["id"], export_bad["id"]]
    args = dict(esim.connection("bmc"), interval=0.2, push="never", task_ids=ids, kinds=["firmware_update"],
                states=["failed"], include_raw=True)

    async def scenario():
        queue = asyncio.Queue()
        await task_events.main(queue, args)  # returns by itself: every task of task_ids finished
        return [queue.get_nowait() for _index in range(queue.qsize())]

    events = run(scenario())
    assert len(events) == 1, events
    event = events[0]
    assert event["task"]["id"] == update_bad["id"] and event["task"]["state"] == "failed"
    assert event["previous_state"] in ("pending", "running")
    assert event["task"]["message"] and event["task"]["raw"]["TaskState"] == "Exception"
    assert esim.no_session_left("bmc")


def test_initial_reports_the_unfinished_tasks_all_of_them_or_none(esim):
    done = esim.create_tasks("bmc", 1, scenario="success", duration=1, started_ago=100)[0]
    for initial, expected in (("unfinished", False), ("all", True), ("none", None)):
        held = esim.create_tasks("bmc", 1, scenario="success", duration=1.5, hold=True)[0]
        args = dict(esim.connection("bmc"), interval=0.2, push="never", initial=initial)

        async def scenario(held=held, initial=initial):
            queue = asyncio.Queue()
            source = asyncio.ensure_future(task_events.main(queue, args))
            if initial == "none":
                # nothing of the first read: the held task shows up only once it moves
                release(esim, "bmc", held)
                events = await take(queue, finished(held["id"]), source)
            else:
                events = await take(queue, lambda events: of(events, held["id"]), source)
                release(esim, "bmc", held)
                events += await take(queue, finished(held["id"]), source)
            await cancel(source)
            return events

        events = run(scenario())
        if expected is None:
            assert of(events, held["id"])[0]["previous_state"] in ("pending", "running"), events
            assert not of(events, done["id"])
        else:
            assert of(events, held["id"])[0]["previous_state"] is None
            assert bool(of(events, done["id"])) is expected, (initial, events)
            if expected:
                assert states(of(events, done["id"])) == [(None, "succeeded")]
    assert esim.no_session_left("bmc")


def test_a_task_that_appears_after_the_start_is_reported_even_when_it_has_already_finished(esim):
    args = dict(esim.connection("bmc"), interval=0.2, push="never", initial="none")
    marker = esim.create_tasks("bmc", 1, scenario="success", duration=1.5, hold=True)[0]

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        release(esim, "bmc", marker)
        events = await take(queue, finished(marker["id"]), source)  # the first read is over
        late = esim.create_tasks("bmc", 1, scenario="fail", duration=1, started_ago=100)[0]
        events += await take(queue, finished(late["id"]), source)
        await cancel(source)
        return late, events

    late, events = run(scenario())
    assert states(of(events, late["id"])) == [(None, "failed")]


def test_a_task_that_vanishes_before_it_finished_is_reported_gone_once(esim):
    made = esim.create_tasks("bmc", 1, scenario="delete", duration=2, hold=True)[0]
    args = dict(esim.connection("bmc"), interval=0.2, push="never")

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        events = await take(queue, lambda events: of(events, made["id"]), source)
        release(esim, "bmc", made)
        events += await take(queue, lambda events: any(e["task"]["gone"] for e in of(events, made["id"])), source)
        await cancel(source)
        return events

    events = of(run(scenario()), made["id"])
    assert events[-1]["task"]["state"] == "unknown" and events[-1]["task"]["found"] is False
    assert events[-1]["previous_state"] in ("pending", "running")
    assert "gone" in events[-1]["task"]["message"]
    assert [e["task"]["gone"] for e in events].count(True) == 1


def test_cancel_while_a_read_is_in_flight_closes_every_session(esim):
    made = [esim.create_tasks(name, 1, scenario="success", duration=30, hold=True)[0] for name in ("bmc", "idrac")]
    args = dict(username="admin", password=PASSWORD, ca_path=esim.ca, interval=0.2, push="never",
                managers=[dict(platform="redfish", host=esim.host(name)) for name in ("bmc", "idrac")])

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        await take(queue, lambda events: of(events, made[0]["id"]) and of(events, made[1]["id"]), source)
        for name in ("bmc", "idrac"):
            assert esim.stats(name)["sessions_open"] == 1
        esim.control("bmc", "config", {"latency": 1.0})  # the next read of bmc waits for its answer
        before = esim.stats("bmc")["requests_total"]
        for _index in range(200):  # until a request of the source is in flight on the slow device
            await asyncio.sleep(0.05)
            if esim.stats("bmc")["requests_total"] > before:
                break
        await cancel(source)

    run(scenario())
    assert esim.no_session_left("bmc", "idrac")


def test_an_unreachable_manager_and_a_refused_login_do_not_stop_the_other_managers(esim):
    made = esim.create_tasks("bmc", 1, scenario="fail", duration=1.5, hold=True)[0]
    args = dict(username="admin", password=PASSWORD, ca_path=esim.ca, interval=0.2, max_interval=0.4, push="never",
                request_timeout=5, managers=[
                    dict(name="down", platform="redfish", host="127.0.0.1:1"),
                    dict(name="refused", platform="redfish", host=esim.host("bmc2"), password="wrong-Passw0rd"),
                    dict(name="good", platform="redfish", host=esim.host("bmc"), task_ids=[made["id"]])])

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        events = await take(queue, lambda events: finished(made["id"])(events) and {
            e["manager"]["name"] for e in events if "error" in e} == {"down", "refused"}, source)
        assert not source.done()  # "down" is still tried
        await cancel(source)
        return events

    events = run(scenario())
    errors = dict((e["manager"]["name"], e["error"]) for e in events if "error" in e)
    assert errors["down"]["fatal"] is False and errors["down"]["type"] == "TransientError", errors
    assert errors["refused"]["fatal"] is True and errors["refused"]["status"] == 401, errors
    assert [e["error"]["fatal"] for e in events if "error" in e and e["manager"]["name"] == "down"] == [False]
    assert states(of(events, made["id"]))[-1][1] == "failed"
    assert "wrong-Passw0rd" not in json.dumps(events) and PASSWORD not in json.dumps(events)
    assert esim.stats("bmc2")["logins_failed"] == 1
    assert esim.no_session_left("bmc", "bmc2")


def test_a_bmc_that_reboots_is_reported_once_then_read_again_with_a_new_session(esim):
    made = esim.create_tasks("bmc", 1, scenario="success", duration=60, hold=True)[0]
    args = dict(esim.connection("bmc"), interval=0.2, max_interval=0.4, push="never", request_timeout=5)

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(task_events.main(queue, args))
        events = await take(queue, lambda events: of(events, made["id"]), source)
        esim.control("bmc", "config", {"reboot_now": {"seconds": 5}})  # longer than the retries of one request
        events += await take(queue, lambda events: any("error" in e for e in events), source)
        for _index in range(200):  # until the BMC answers again (bounded: 200 x 0.1 s)
            try:
                esim.stats("bmc")
                break
            except requests.ConnectionError:
                await asyncio.sleep(0.1)
        late = esim.create_tasks("bmc", 1, scenario="fail", duration=1, started_ago=100)[0]
        events += await take(queue, finished(late["id"]), source)
        await cancel(source)
        return late, events

    late, events = run(scenario())
    errors = [e["error"] for e in events if "error" in e]
    assert len(errors) == 1 and errors[0]["fatal"] is False and errors[0]["type"] == "TransientError", errors
    assert states(of(events, late["id"])) == [(None, "failed")]
    stats = esim.stats("bmc")
    assert stats["reboots"] == 1 and stats["sessions_created"] >= 2 and stats["sessions_open"] == 0, stats


def test_the_source_fails_when_every_manager_failed_for_good_and_says_why(esim):
    args = dict(esim.connection("bmc"), password="wrong-Passw0rd", interval=0.2, push="never")

    async def scenario():
        queue = asyncio.Queue()
        with pytest.raises(TaskStatusError) as caught:
            await task_events.main(queue, args)
        return caught.value, [queue.get_nowait() for _index in range(queue.qsize())]

    error, events = run(scenario())
    assert "1 of 1 manager failed" in str(error) and "wrong-Passw0rd" not in str(error)
    assert [e["error"]["fatal"] for e in events] == [True]
    assert esim.stats("bmc")["logins_failed"] == 1 and esim.no_session_left("bmc")


def test_without_error_events_errors_are_only_logged(esim, caplog):
    args = dict(esim.connection("bmc"), password="wrong-Passw0rd", interval=0.2, push="never", error_events=False)

    async def scenario():
        queue = asyncio.Queue()
        with pytest.raises(TaskStatusError):
            await task_events.main(queue, args)
        return queue.qsize()

    assert run(scenario()) == 0
    assert any("not read any more" in r.getMessage() for r in caplog.records)


def test_managers_of_several_platforms_are_watched_at_once(esim):
    bmc = esim.create_tasks("bmc", 1, scenario="success", duration=1.5, hold=True)[0]
    vc = esim.create_tasks("vc", 1, scenario="fail", duration=1.5, hold=True)[0]
    args = dict(username="admin", password=PASSWORD, ca_path=esim.ca, interval=0.2, push="never", managers=[
        dict(platform="redfish", host=esim.host("bmc"), task_ids=[bmc["id"]]),
        dict(name="vcenter", platform="vsphere", host=esim.host("vc"), task_ids=[vc["id"]])])

    async def scenario():
        queue = asyncio.Queue()
        await task_events.main(queue, args)
        return [queue.get_nowait() for _index in range(queue.qsize())]

    events = run(scenario())
    assert states(of(events, bmc["id"]))[-1] in (("running", "succeeded"), ("pending", "succeeded"))
    vc_events = of(events, vc["id"])
    assert vc_events[-1]["task"]["state"] == "failed" and vc_events[-1]["task"]["message"]
    assert vc_events[-1]["manager"] == {"name": "vcenter", "platform": "vsphere", "host": esim.host("vc")}
    assert esim.no_session_left("bmc", "vc")


@pytest.mark.parametrize("args, words", [
    ({"platform": "redfish", "host": "bmc", "intervall": 3}, "intervall"),
    ({"platform": "redfish"}, "missing required arguments: host"),
    ({"platform": "redfish", "host": "bmc", "kinds": ["firmware"]}, "kinds"),
    ({"platform": "redfish", "host": "bmc", "states": ["faild"]}, "did you mean 'failed'"),
    ({"platform": "redfish", "host": "bmc", "interval": 0}, "interval must be greater than 0"),
    ({"platform": "redfish", "host": "bmc", "task_ids": ["../x"]}, "task id"),
    ({"platform": "redfish", "host": "bmc", "password": "s3cret-Value", "managers": []}, "managers is empty"),
    ({"platform": "redfish", "password": "s3cret-Value", "task_ids": ["1"], "managers": [{"host": "a"}]},
     "task_ids is for one manager"),
    ({"platform": "redfish", "managers": [{"host": "a"}, {"host": "a"}]}, "used twice"),
    ({"platform": "redfish", "managers": [{"host": "a", "port": 1}]}, "port"),
    ({"managers": [{"host": "a", "password": "s3cret-Value"}]}, "managers[0] (a): missing required arguments"),
])
def test_bad_arguments_are_refused_before_any_request_and_say_which(args, words, monkeypatch):
    for name in ("TASKSTATUS_PLATFORM", "TASKSTATUS_HOST", "TASKSTATUS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(OptionError) as caught:
        task_events.parse_args(args)
    assert words in str(caught.value)
    assert "s3cret-Value" not in str(caught.value)


def test_arguments_merge_the_top_level_into_each_manager_and_ignore_the_feedback_queue(monkeypatch):
    monkeypatch.setenv("TASKSTATUS_PASSWORD", "from-env-Secret")
    options = task_events.parse_args({
        "platform": "redfish", "username": "admin", "states": ["Failed", "Running"], "eda_feedback_queue": object(),
        "managers": [{"host": "a"}, {"name": "b", "host": "b:8443", "platform": "vsphere", "username": "root",
                                     "task_ids": ["x:com.vmware.esx"]}]})
    (name_a, a), (name_b, b) = options.managers
    expected = ("a", "redfish", "admin", "from-env-Secret", None)
    assert (name_a, a["platform"], a["username"], a["password"], a["task_ids"]) == expected
    assert (name_b, b["platform"], b["username"], b["task_ids"]) == ("b", "vsphere", "root", ["x:com.vmware.esx"])
    assert a["states"] == b["states"] == ["failed", "running"]
    assert options.interval == 10 and options.initial == "unfinished" and options.error_events is True
    assert "from-env-Secret" in options.secrets


def test_the_documentation_and_the_json_schema_match_the_argument_spec():
    import os  # noqa: PLC0415
    import jsonschema  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    doc = yaml.safe_load(task_events.DOCUMENTATION)
    spec = task_events.argument_spec()
    assert set(doc["options"]) == set(spec)
    for name, option in doc["options"].items():
        assert option.get("type", "str") == spec[name].get("type", "str"), name
        assert option.get("default") == spec[name].get("default"), name
        assert sorted(option.get("choices") or []) == sorted(spec[name].get("choices") or []), name
    here = os.path.dirname(task_events.__file__)
    with open(os.path.join(here, "schemas", "task_events.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    assert set(schema["properties"]) == set(spec)
    for name, prop in schema["properties"].items():
        assert prop.get("default") == spec[name].get("default"), name
    for example in yaml.safe_load(task_events.EXAMPLES):
        for source in example["sources"]:
            jsonschema.validate(source["taskstatus.infra.task_events"], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"interval": "soon"}, schema)
