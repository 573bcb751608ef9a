"""The waiter against a scripted adapter on a fake clock: no sleeping, no network."""

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import AuthError, TransientError
from ansible_collections.taskstatus.infra.plugins.module_utils._models import Task
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import Deadline, WaitAborted, Waiter


class Clock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class FakeHttp:
    def close(self):
        pass


class Scripted(Adapter):
    """Each poll takes the next step; a step is a dict id -> state, an exception, or 'missing'."""

    platform = "fake"

    def __init__(self, steps, clock, hint=None):
        super().__init__(FakeHttp(), {})
        self.steps = list(steps)
        self.clock = clock
        self.calls = 0
        self.logins = 0
        self.hint_value = hint
        self.failing_logins = []  # exceptions the next logins raise, in order

    def login(self):
        self.logins += 1
        if self.failing_logins:
            raise self.failing_logins.pop(0)

    def logout(self):
        pass

    def fetch(self, task_ids):
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        self.clock.now += 0.01  # a request takes a little time
        if isinstance(step, Exception):
            raise step
        self.hint(self.hint_value)
        tasks = []
        for task_id in task_ids:
            state = step.get(task_id, "running")
            if state == "missing":
                tasks.append(Task(task_id, "fake", found=False))
            else:
                tasks.append(Task(task_id, "fake", name="Update " + task_id, state=state,
                                  vendor_state=state.title(), percent=50 if state == "running" else 100))
        return tasks


def run(steps, ids=("a", "b"), timeout=100, hint=None, **kwargs):
    clock = Clock()
    adapter = Scripted(steps, clock, hint=hint)
    kwargs.setdefault("interval", 10)
    waiter = Waiter(adapter, Deadline(timeout, clock=clock), sleep=clock.sleep, **kwargs)
    return waiter, adapter, clock, list(ids)


def test_all_succeed():
    waiter, adapter, clock, ids = run([{}, {"a": "succeeded"}, {"a": "succeeded", "b": "succeeded"}])
    outcome = waiter.wait(ids)
    assert not outcome.failed and not outcome.timed_out
    assert outcome.polls == 3 and clock.sleeps == [10, 10]
    assert outcome.msg == "2 of 2 tasks succeeded"
    assert adapter.logins == 1


def test_interval_stays_fixed_while_answers_are_normal():
    waiter, _adapter, clock, ids = run([{}] * 5 + [{"a": "succeeded", "b": "succeeded"}], interval=3)
    waiter.wait(ids)
    assert clock.sleeps == [3] * 5


def test_failure_ends_the_wait_at_once():
    waiter, _adapter, _clock, ids = run([{}, {"a": "failed"}, {"a": "failed", "b": "succeeded"}])
    outcome = waiter.wait(ids)
    assert outcome.failed and outcome.polls == 2
    assert outcome.msg.startswith("1 of 2 tasks failed: a (Update a): failed 100%")
    assert "still running: b (Update b): running 50%" in outcome.msg


def test_cancelled_fails_by_default_and_fail_on_can_be_emptied():
    waiter, _adapter, _clock, ids = run([{"a": "cancelled", "b": "succeeded"}])
    assert waiter.wait(ids).failed
    waiter, _adapter, _clock, ids = run([{"a": "cancelled", "b": "succeeded"}], fail_on=[])
    outcome = waiter.wait(ids)
    assert not outcome.failed and "1 cancelled" in outcome.msg


def test_until_any():
    waiter, _adapter, _clock, ids = run([{}, {"b": "succeeded"}], until="any")
    outcome = waiter.wait(ids)
    assert not outcome.failed and outcome.polls == 2


def test_states_may_name_running_or_vendor_words():
    waiter, _adapter, _clock, ids = run([{"a": "pending", "b": "pending"}, {}], states=["running"])
    assert waiter.wait(ids).polls == 2
    waiter, _adapter, _clock, ids = run([{"a": "pending", "b": "pending"}, {}], states=["Running"])
    assert waiter.wait(ids).polls == 2


def test_timeout_returns_partial_result():
    waiter, _adapter, clock, ids = run([{"a": "succeeded"}], timeout=25)
    outcome = waiter.wait(ids)
    assert outcome.timed_out and outcome.failed
    assert [t.state for t in outcome.tasks] == ["succeeded", "running"]
    assert outcome.msg.startswith("timed out after 25 s: 1 running, 1 succeeded: b (Update b): running 50%")
    assert clock.now <= 1000 + 25 + 0.05
    assert outcome.polls == 4  # 0, 10, 20 and a last look just before the deadline


def test_unknown_state_is_never_success():
    waiter, _adapter, _clock, ids = run([{"a": "unknown", "b": "succeeded"}], timeout=15)
    outcome = waiter.wait(ids)
    assert outcome.timed_out
    assert "a (Update a): unknown 100%" in outcome.msg


def test_outage_is_tolerated_with_backoff():
    down = TransientError("cannot connect to bmc (connection refused)", platform="fake")
    steps = [{}, down, down, down, down, {"a": "succeeded", "b": "succeeded"}]
    waiter, _adapter, clock, ids = run(steps, interval=5, max_interval=15, unreachable_timeout=300, timeout=1000)
    outcome = waiter.wait(ids)
    assert not outcome.failed and outcome.polls == 6
    assert clock.sleeps == [5, 5, 10, 15, 15]


def test_outage_longer_than_unreachable_timeout_fails_with_last_known_state():
    down = TransientError("cannot connect to bmc (connection refused)", platform="fake")
    waiter, _adapter, _clock, ids = run([{"a": "succeeded"}, down], interval=5, max_interval=5,
                                        unreachable_timeout=30, timeout=1000)
    with pytest.raises(WaitAborted) as err:
        waiter.wait(ids)
    assert "unreachable for 30 s in a row" in str(err.value)
    assert "connection refused" in str(err.value)
    assert [t.state for t in err.value.outcome.tasks] == ["succeeded", "running"]


def test_retry_after_is_honoured_within_bounds():
    waiter, _adapter, clock, ids = run([{}, {}, {"a": "succeeded", "b": "succeeded"}], interval=2, hint=500, timeout=1000)
    waiter.wait(ids)
    assert clock.sleeps == [120, 120]
    waiter, _adapter, clock, ids = run([{}, {"a": "succeeded", "b": "succeeded"}], interval=0.2, hint=0)
    waiter.wait(ids)
    assert clock.sleeps == [1.0]


def test_throttled_poll_waits_for_retry_after():
    busy = TransientError("too many requests", platform="fake", status=429, retry_after=7)
    waiter, _adapter, clock, ids = run([busy, {"a": "succeeded", "b": "succeeded"}], interval=2)
    waiter.wait(ids)
    assert clock.sleeps == [7]


def test_missing_ids_fail_naming_them():
    waiter, _adapter, _clock, ids = run([{"b": "missing"}], ids=("a", "b"))
    with pytest.raises(WaitAborted) as err:
        waiter.wait(ids)
    assert str(err.value) == "fake: fake does not know this task: b"


def test_task_seen_then_gone_is_a_failure():
    waiter, _adapter, _clock, ids = run([{}, {"a": "missing"}])
    outcome = waiter.wait(ids)
    assert outcome.failed
    assert "seen earlier in this run and is gone now" in outcome.msg


def test_wrong_password_is_not_an_outage():
    class Refused(Scripted):
        def login(self):
            raise AuthError("credentials for user 'admin' were refused", platform="fake", status=401)

    clock = Clock()
    waiter = Waiter(Refused([{}], clock), Deadline(100, clock=clock), sleep=clock.sleep)
    with pytest.raises(WaitAborted) as err:
        waiter.wait(["a"])
    assert clock.sleeps == [] and "were refused" in str(err.value) and err.value.outcome.polls == 1


def test_unreachable_at_start_is_tolerated():
    class LateStart(Scripted):
        def login(self):
            self.logins += 1
            if self.logins < 3:
                raise TransientError("cannot connect", platform="fake")

    clock = Clock()
    adapter = LateStart([{"a": "succeeded"}], clock)
    outcome = Waiter(adapter, Deadline(100, clock=clock), interval=1, sleep=clock.sleep).wait(["a"])
    assert not outcome.failed and adapter.logins == 3


def test_check_mode_looks_once():
    waiter, _adapter, clock, ids = run([{"a": "missing"}])
    outcome = waiter.look_once(ids)
    assert outcome.polls == 1 and not outcome.failed and clock.sleeps == []
    assert outcome.msg.startswith("check mode: looked once and did not wait.")


class FakeWake:
    """A push wake on the fake clock: ``events`` says, wait by wait, whether an event came at once."""

    def __init__(self, clock, events=()):
        self.clock = clock
        self.events = list(events)
        self.waits = []

    def wait(self, seconds):
        came = self.events.pop(0) if self.events else False
        self.waits.append((round(seconds, 3), came))
        if not came:
            self.clock.now += seconds  # nothing came: the safety poll after the whole interval
        return came

    def clear(self):
        pass


def test_push_starts_before_the_first_read_with_a_session_and_a_lost_event_leaves_the_safety_poll():
    waiter, adapter, clock, ids = run([{}, {}, {"a": "succeeded", "b": "succeeded"}], interval=10)
    adapter.failing_logins = [TransientError("down")]  # the manager is down at the start
    wake = FakeWake(clock)  # no event ever comes (lost, or the service sends none)
    starts = []
    waiter.start_push = lambda: starts.append((adapter.logins, adapter.calls)) or (wake, 0.0)
    outcome = waiter.wait(ids)
    assert not outcome.failed and outcome.polls == 4
    # Not while the login failed; then once, after the login and before the first read of the tasks.
    assert starts == [(2, 0)] and clock.sleeps == [10]
    assert wake.waits == [(10, False), (10, False)]  # the interval goes on as the safety poll


def test_a_pushed_event_makes_the_next_read_at_once():
    waiter, _adapter, clock, ids = run([{}, {"a": "succeeded"}, {"a": "succeeded", "b": "succeeded"}], interval=60)
    wake = FakeWake(clock, events=[True, True])
    waiter.start_push = lambda: (wake, 0.0)
    start = clock.now
    outcome = waiter.wait(ids)
    assert not outcome.failed and outcome.polls == 3
    assert clock.now - start < 1  # two events, no interval slept
    assert wake.waits == [(60, True), (60, True)]


def test_no_push_when_the_service_offers_none():
    waiter, _adapter, clock, ids = run([{}, {"a": "succeeded", "b": "succeeded"}], interval=5)
    waiter.start_push = lambda: (None, 0.0)
    assert not waiter.wait(ids).failed and clock.sleeps == [5] and waiter.wake is None


def test_the_first_read_can_wait_for_the_stream_to_answer():
    # A fleet puts a target's first read off while its stream opens (the stream's answer wakes it earlier).
    waiter, adapter, clock, ids = run([{"a": "succeeded", "b": "succeeded"}], interval=10, timeout=100)
    waiter.start_push = lambda: (None, 10.0)
    assert waiter.step(ids) == (None, 10.0) and adapter.calls == 0 and adapter.logins == 1 and waiter.polls == 0
    outcome, pause = waiter.step(ids)
    assert pause is None and not outcome.failed and adapter.calls == 1 and waiter.polls == 1
