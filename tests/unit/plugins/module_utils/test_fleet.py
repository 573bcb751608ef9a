"""The fleet scheduler and the progress lines, against adapters that answer from memory (real threads,
short intervals, no network)."""

import threading
import time

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TransientError
from ansible_collections.taskstatus.infra.plugins.module_utils._fleet import Fleet, Target, fleet_summary
from ansible_collections.taskstatus.infra.plugins.module_utils._models import Task
from ansible_collections.taskstatus.infra.plugins.module_utils._progress import Progress
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import Deadline, WaitAborted, Waiter


class FakeHttp:
    def close(self):
        pass


class Memory(Adapter):
    """A manager whose task succeeds after ``polls`` polls (or fails, or never answers); counts what it sees."""

    platform = "fake"
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def __init__(self, outcome="succeeded", polls=3, delay=0.01):
        super().__init__(FakeHttp(), {})
        self.outcome, self.polls, self.delay = outcome, polls, delay
        self.calls = 0
        self.logouts = 0
        self.first_read = None  # time.monotonic() of the first fetch

    def login(self):
        pass

    def logout(self):
        self.logouts += 1

    def fetch(self, task_ids):
        with Memory.lock:
            Memory.in_flight += 1
            Memory.peak = max(Memory.peak, Memory.in_flight)
        try:
            if self.first_read is None:
                self.first_read = time.monotonic()
            time.sleep(self.delay)
            self.calls += 1
            if self.outcome == "down":
                raise TransientError("cannot connect", platform="fake")
            state = self.outcome if self.calls >= self.polls else "running"
            return [Task(i, "fake", name="Update", state=state, percent=100 if state != "running" else 10 * self.calls)
                    for i in task_ids]
        finally:
            with Memory.lock:
                Memory.in_flight -= 1


def fleet(adapters, timeout=10.0, concurrency=4, fail_fast=False, progress=None, interval=0.05, start_push=None):
    deadline = Deadline(timeout)
    targets = [Target("m%d" % n, {"task_ids": ["t%d" % n]}) for n in range(len(adapters))]
    by_name = dict(zip((t.name for t in targets), adapters))

    def open_target(target, cancelled):
        adapter = by_name[target.name]
        observer = (lambda tasks: progress.observe(target.name, tasks)) if progress else None
        return adapter, Waiter(adapter, deadline, interval=interval, max_interval=interval * 4,
                               unreachable_timeout=30, observer=observer)

    def finish(target, outcome, cancelled=False):
        if cancelled:
            return {"failed": True, "cancelled": True, "tasks": []}
        if isinstance(outcome, WaitAborted):
            outcome = outcome.outcome
        return {"failed": outcome.failed, "timed_out": outcome.timed_out, "msg": outcome.msg,
                "tasks": [t.to_dict() for t in outcome.tasks], "polls": outcome.polls}

    run = Fleet(targets, open_target, lambda t: t.params["task_ids"], finish, concurrency=concurrency,
                fail_fast=fail_fast, progress=progress, start_push=start_push)
    return run, targets


def test_many_managers_few_threads_at_most_concurrency_in_flight():
    Memory.peak = 0
    adapters = [Memory(polls=4, delay=0.02) for _number in range(40)]
    run, targets = fleet(adapters, concurrency=5)
    started = time.monotonic()
    run.run()
    assert all(t.result and not t.result["failed"] for t in targets)
    assert Memory.peak <= 5
    assert all(a.calls == 4 and a.logouts == 1 for a in adapters)  # one session each, closed when done
    assert len(run.threads) == 5 and time.monotonic() - started < 20
    counts, line = fleet_summary(targets)
    assert counts["succeeded"] == 40 and line.startswith("40 managers: 40 succeeded")


def test_one_failure_does_not_stop_the_others_unless_fail_fast():
    adapters = [Memory(), Memory(outcome="failed", polls=2), Memory(polls=6)]
    run, targets = fleet(adapters)
    run.run()
    assert [t.result["failed"] for t in targets] == [False, True, False]
    assert "1 of 1 tasks failed" in targets[1].result["msg"]

    adapters = [Memory(polls=1000), Memory(outcome="failed", polls=2), Memory(polls=1000)]
    run, targets = fleet(adapters, fail_fast=True)
    run.run()
    assert targets[1].result["failed"] and not targets[1].result.get("cancelled")
    assert all(t.result.get("cancelled") for t in (targets[0], targets[2]))
    assert all(a.logouts == 1 for a in adapters)


def test_an_unreachable_manager_times_out_alone():
    adapters = [Memory(), Memory(outcome="down")]
    run, targets = fleet(adapters, timeout=1.0)
    run.run()
    assert not targets[0].result["failed"]
    assert targets[1].result["timed_out"] and "cannot connect" in targets[1].result["msg"]


def test_an_interrupt_closes_every_session():
    adapters = [Memory(polls=10 ** 6) for _number in range(20)]
    run, targets = fleet(adapters, timeout=60, concurrency=3)

    def interrupt():
        time.sleep(0.3)
        run.cancelled.set()

    threading.Thread(target=interrupt, daemon=True).start()
    run.run()
    assert all(t.result and t.result.get("cancelled") for t in targets)
    assert all(a.logouts == 1 for a in adapters)


def test_progress_lines():
    lines = []
    clock = [0.0]
    progress = Progress(lambda level, text: lines.append((level, text)), interval=60, clock=lambda: clock[0])

    def task(state, percent, message=None):
        msgs = [{"severity": "info", "text": message, "id": None}] if message else []
        return Task("JID_1", "redfish", name="Firmware Update", state=state, percent=percent, messages=msgs)

    progress.observe("bmc1", [task("running", 10)])
    progress.observe("bmc1", [task("running", 15)])  # same 10-point band: nothing
    clock[0] = 30
    progress.observe("bmc1", [task("running", 20, "Flashing")])
    clock[0] = 61
    progress.observe("bmc1", [task("running", 21, "Flashing")])
    progress.observe("bmc1", [task("failed", 30, "Image verification failed")])
    assert [level for level, _text in lines] == ["change", "change", "heartbeat", "failure"]
    assert lines[1][1] == "bmc1: JID_1 (Firmware Update): running 20% - Flashing after 30 s"
    assert lines[2][1].startswith("task_wait: 61 s: 1 running; slowest: bmc1 JID_1 (Firmware Update) 21%")
    assert lines[3][1].startswith("bmc1: JID_1 (Firmware Update): failed 30% - Image verification failed")


def test_no_heartbeat_when_turned_off():
    lines = []
    clock = [0.0]
    progress = Progress(lambda level, text: lines.append(level), interval=0, clock=lambda: clock[0])
    for second in range(0, 600, 10):
        clock[0] = second
        progress.observe("bmc1", [Task("1", "redfish", state="running", percent=50)])
    assert lines == ["change"]


class SlowStream:
    """A push stream that answers ``after`` seconds after it was started (its answer wakes the target)."""

    def __init__(self, on_wake, after):
        self.on_wake = on_wake
        self.live = True
        self.ready = after <= 0
        self.stopped = False
        if not self.ready:
            threading.Timer(after, self.answer).start()

    def answer(self):
        self.ready = True
        self.on_wake()

    def stop(self):
        self.stopped, self.live = True, False

    def note(self):
        return None


def test_the_first_read_of_a_target_waits_for_its_stream_without_holding_a_worker():
    # One worker, three managers whose streams take 0.5 s to answer: the three streams open side by side and
    # each manager is read when its stream answers (not one after the other, not before).
    adapters = [Memory(polls=1) for _number in range(3)]
    streams = {}

    def start_push(target, on_wake):
        streams[target.name] = SlowStream(on_wake, 0.5)
        return streams[target.name]

    run, targets = fleet(adapters, concurrency=1, interval=30, start_push=start_push)
    started = time.monotonic()
    run.run()
    assert all(t.result and not t.result["failed"] for t in targets)
    firsts = sorted(a.first_read - started for a in adapters)
    assert firsts[0] >= 0.5 and firsts[-1] < 1.2, firsts  # OPEN_WAIT (10 s) was not waited out
    assert all(a.calls == 1 and a.logouts == 1 for a in adapters) and all(s.stopped for s in streams.values())


def test_a_stream_that_has_answered_at_once_costs_no_delay():
    adapters = [Memory(polls=1)]
    run, _targets = fleet(adapters, concurrency=1, interval=30, start_push=lambda t, wake: SlowStream(wake, 0))
    started = time.monotonic()
    run.run()
    assert adapters[0].first_read - started < 0.3 and adapters[0].calls == 1
