"""task_wait with push (Redfish SSE) by ansible-playbook against the simulator over HTTPS.

The interval is 60 s in the tests of the stream path and the tasks take a few seconds, so a wait that ends
before its first safety poll (``elapsed`` below the interval, with two reads of the task) was ended by a pushed
event: not a measure of speed, a wait that polled could not end then. Otherwise what is counted: the reads of
each task, the streams opened, refused and left open, the sessions left open.

The simulator follows DSP0266 by default: a logout does not end the session's streams, so a stream the
collection forgot to close would still be counted open.
"""

import signal
import time

import pytest
import requests

from harness import PASSWORD, clean, reset_devices, running_simulator, signalled_wait

DEVICES = {"sse_bmc": "redfish:generic", "sse_idrac": "redfish:dell", "sse_cimc": "redfish:cisco"}
IDRAC_SSE = "/redfish/v1/SSE"
# Only an event can end these before the timeout: the next safety poll would come after it.
PUSHED = dict(interval=60, max_interval=60, timeout=120, unreachable_timeout=30)


@pytest.fixture(scope="module")
def push_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, DEVICES)


@pytest.fixture
def sim(push_session):
    return reset_devices(push_session)


def settled(sim, name, key, value, limit=15.0):
    """The device's counter ``key`` reaches ``value`` (a closed socket is noticed by the server a moment later)."""
    end = time.monotonic() + limit
    while True:
        stats = sim.stats(name)
        if stats.get(key) == value or time.monotonic() > end:
            return stats
        time.sleep(0.1)


def warnings(result):
    """The collection's warnings (not ansible-core's own about module_call.yml's templated arguments)."""
    return [w for w in result.get("warnings", []) if "argsplat" not in w]


def reads(sim, name, made):
    return sim.stats(name)["requests"].get("GET " + made["task_uri"], 0)


def task(sim, name, **spec):
    spec.setdefault("hold", True)  # the task's clock starts at the wait's first read of it
    return sim.create_tasks(name, **spec)[0]


def assert_closed(sim, name, opened=None):
    stats = settled(sim, name, "sse_open", 0)
    assert stats["sse_open"] == 0, ("a stream was left open", stats)
    assert stats["sessions_open"] == 0, stats
    if opened is not None:
        assert stats["sse_opened"] == opened, stats
    return stats


@pytest.mark.parametrize("scenario, state", [("success", "succeeded"), ("fail", "failed")])
def test_a_pushed_event_ends_the_wait_at_once(sim, ansible, scenario, state):
    made = task(sim, "sse_bmc", scenario=scenario, duration=2)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], **PUSHED))
    clean(result)
    assert result["tasks"] and result["tasks"][0]["state"] == state, result["msg"]
    assert bool(result.get("failed")) == (state == "failed")
    # One read at the start, one when the completion event came, before the first safety poll was due.
    assert result["polls"] == 2 and reads(sim, "sse_bmc", made) == 2
    assert result["elapsed"] < PUSHED["interval"]
    assert not warnings(result)
    assert_closed(sim, "sse_bmc", opened=1)


def test_a_task_that_ends_just_after_the_first_read_is_pushed(sim, ansible):
    # The stream is open before the first read: a task that ends 0.2 s after that read (its clock starts there)
    # is pushed, though this BMC takes 0.5 s to open a stream. Opened after the read, the stream would come
    # after the end, and the wait would sleep until its safety poll, 60 s later.
    sim.control("sse_bmc", "config", {"sse_open_delay": 0.5})
    made = task(sim, "sse_bmc", duration=0.2)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], **PUSHED))
    assert result["tasks"][0]["state"] == "succeeded", result["msg"]
    assert result["elapsed"] < PUSHED["interval"] / 2 and reads(sim, "sse_bmc", made) == 2
    stats = assert_closed(sim, "sse_bmc", opened=1)
    assert stats["requests"].get("GET /redfish/v1/EventService/SSE", 0) == 1


def test_progress_events_do_not_cost_reads(sim, ansible):
    # 10 s of progress events (one per step) and one completion: still two reads.
    made = task(sim, "sse_bmc", duration=6)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], **PUSHED))
    assert not result.get("failed"), result["msg"]
    assert reads(sim, "sse_bmc", made) == 2 and result["elapsed"] < PUSHED["interval"]
    assert_closed(sim, "sse_bmc")


def test_the_lenovo_xcc_stream_path_is_taken_from_the_event_service(sim, ansible):
    # XCC names its stream /redfish/v1/EventService/ServerSentEvent: the path comes from ServerSentEventUri.
    xcc = "/redfish/v1/EventService/ServerSentEvent"
    sim.control("sse_bmc", "config", {"sse_path": xcc})
    made = task(sim, "sse_bmc", duration=2)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], **PUSHED))
    assert result["tasks"][0]["state"] == "succeeded", result["msg"]
    assert reads(sim, "sse_bmc", made) == 2 and result["elapsed"] < PUSHED["interval"]
    assert not warnings(result)
    stats = assert_closed(sim, "sse_bmc", opened=1)
    assert stats["requests"].get("GET " + xcc, 0) >= 1 and not stats["requests"].get("GET /redfish/v1/EventService/SSE")


def test_push_never_only_polls(sim, ansible):
    made = task(sim, "sse_bmc", duration=3)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], push="never",
                                                     interval=1, max_interval=1, timeout=60))
    assert result["tasks"][0]["state"] == "succeeded", result["msg"]
    assert result["polls"] == reads(sim, "sse_bmc", made) >= 3
    stats = assert_closed(sim, "sse_bmc", opened=0)
    assert stats["requests"].get("GET /redfish/v1/EventService", 0) == 0


def test_a_dropped_stream_is_opened_again_and_the_wait_still_sees_the_end(sim, ansible):
    sim.control("sse_bmc", "config", {"sse_drop_after": 1})
    made = task(sim, "sse_bmc", duration=3)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], **PUSHED))
    assert not result.get("failed"), result["msg"]
    assert not warnings(result), result["warnings"]
    assert result["elapsed"] < PUSHED["interval"]
    stats = assert_closed(sim, "sse_bmc")
    assert stats["sse_opened"] >= 2, stats  # dropped after each event, opened again with Last-Event-ID


def test_the_idrac_limit_of_two_streams_falls_back_to_polling(sim, ansible):
    # Two other clients hold the iDRAC's two streams.
    held = [requests.get(sim.url("sse_idrac", IDRAC_SSE), auth=("admin", PASSWORD), verify=sim.ca, stream=True,
                         headers={"Accept": "text/event-stream"}, timeout=10) for _n in range(2)]
    try:
        assert [r.status_code for r in held] == [200, 200]
        made = task(sim, "sse_idrac", duration=2)
        result, _proc = ansible.module("task_wait", dict(sim.connection("sse_idrac"), task_ids=[made["id"]],
                                                         interval=1, max_interval=1, timeout=45))
        assert not result.get("failed"), result["msg"]
        assert result["tasks"][0]["state"] == "succeeded"
        warning = " ".join(warnings(result))
        assert "push: the event stream ended (the stream was refused (HTTP 503" in warning, result
        assert "the wait polled instead" in warning
        stats = sim.stats("sse_idrac")
        assert stats["sse_refused"] == 1 and stats["sse_open"] == 2 and stats["sessions_open"] == 0, stats
    finally:
        for resp in held:
            resp.close()
    assert_closed(sim, "sse_idrac")


@pytest.mark.parametrize("knob, words", [
    ({"sse_garbage": True}, "an event that is not JSON"),
    ({"sse_refuse": 500}, "the stream was refused (HTTP 500"),
])
def test_garbage_or_a_refusal_falls_back_to_polling_with_a_warning(sim, ansible, knob, words):
    sim.control("sse_bmc", "config", knob)
    made = task(sim, "sse_bmc", duration=2)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], interval=1,
                                                     max_interval=1, timeout=45))
    assert not result.get("failed"), result["msg"]
    assert words in " ".join(warnings(result)), result
    assert_closed(sim, "sse_bmc")


def test_a_bmc_without_sse_is_polled_without_a_word(sim, ansible):
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_cimc"), task_ids=["CIMCFwUpdate"],
                                                     interval=1, timeout=30))
    assert not result.get("failed"), result["msg"]
    assert not warnings(result)
    assert_closed(sim, "sse_cimc", opened=0)


def test_the_stream_is_closed_when_the_wait_times_out(sim, ansible):
    made = task(sim, "sse_bmc", scenario="stuck", duration=600)
    result, _proc = ansible.module("task_wait", dict(sim.connection("sse_bmc"), task_ids=[made["id"]], interval=5,
                                                     timeout=5))
    assert result["timed_out"], result
    assert_closed(sim, "sse_bmc", opened=1)


def test_a_fleet_wait_opens_one_stream_per_manager(sim, ansible):
    bmc, idrac = task(sim, "sse_bmc", duration=2), task(sim, "sse_idrac", duration=3)
    targets = [dict(sim.connection("sse_bmc"), name="bmc", task_ids=[bmc["id"]]),
               dict(sim.connection("sse_idrac"), name="idrac", task_ids=[idrac["id"]])]
    result, _proc = ansible.module("task_wait", dict(targets=targets, **PUSHED))
    assert not result.get("failed"), result["msg"]
    assert result["summary"]["succeeded"] == 2 and result["elapsed"] < PUSHED["interval"], result["summary"]
    assert reads(sim, "sse_bmc", bmc) == 2 and reads(sim, "sse_idrac", idrac) == 2
    assert_closed(sim, "sse_bmc", opened=1)
    assert_closed(sim, "sse_idrac", opened=1)


def test_a_fleet_reads_each_manager_once_its_slow_stream_has_answered(sim, ansible):
    # Both BMCs take 0.5 s to open a stream and their tasks end 0.2 s after the first read: each is read only
    # when its stream has answered, so both ends are pushed (one worker for the two: none was held meanwhile).
    for name in ("sse_bmc", "sse_idrac"):
        sim.control(name, "config", {"sse_open_delay": 0.5})
    bmc, idrac = task(sim, "sse_bmc", duration=0.2), task(sim, "sse_idrac", duration=0.2)
    targets = [dict(sim.connection("sse_bmc"), name="bmc", task_ids=[bmc["id"]]),
               dict(sim.connection("sse_idrac"), name="idrac", task_ids=[idrac["id"]])]
    result, _proc = ansible.module("task_wait", dict(targets=targets, concurrency=1, **PUSHED))
    assert not result.get("failed"), result["msg"]
    assert result["summary"]["succeeded"] == 2 and result["elapsed"] < PUSHED["interval"] / 2, result["summary"]
    assert reads(sim, "sse_bmc", bmc) == 2 and reads(sim, "sse_idrac", idrac) == 2
    assert_closed(sim, "sse_bmc", opened=1)
    assert_closed(sim, "sse_idrac", opened=1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_stream_and_the_session(sim, tmp_path, signum):
    made = task(sim, "sse_bmc", scenario="stuck", duration=600)
    args = dict(sim.connection("sse_bmc"), task_ids=[made["id"]], interval=60, timeout=300)
    signalled_wait(tmp_path, args, lambda: sim.stats("sse_bmc")["sse_open"] >= 1, signum, "the stream was not opened")
    sim.no_session_left_after_signal("sse_bmc")
    assert_closed(sim, "sse_bmc", opened=1)
