"""One request budget per (manager, user) across processes and threads: _pacing.SharedBudget.

Real processes (multiprocessing) and threads share a small budget (20 per 2 s)
and the test checks, from the send times acquire() returned, that no 2-second
window ever holds more than 20. Deadline and set-up cases run on a fake clock.
"""

import multiprocessing
import os
import stat
import threading

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _pacing
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TransientError

LIMIT, WINDOW = 20, 2.0
MANAGER, USER = "https://fmc.example.com", "apiuser"


def worst_window(times, window=WINDOW):
    """The most send times in any half-open window [t, t + window)."""
    times = sorted(times)
    worst = 0
    j = 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window:
            j += 1
        worst = max(worst, j - i)
    return worst


class Clock:
    """A fake wall clock: sleep() moves it on."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def fake_budget(limit, window, directory, clock, url=MANAGER, user=USER):
    """A budget on the fake clock, without slack: the waits are the plain window."""
    return _pacing.SharedBudget(limit, window, url, user, directory=str(directory), clock=clock, sleep=clock.sleep,
                                slack=0)


# ---- keys and files ----------------------------------------------------------


def test_key_is_a_hash_of_scheme_host_port_and_user():
    key = _pacing.budget_key("fmc.example.com", "apiuser")
    assert len(key) == 64 and int(key, 16) >= 0
    assert _pacing.budget_key("https://FMC.example.com:443/api", "apiuser") == key
    assert _pacing.budget_key("fmc.example.com:443", "apiuser") == key
    others = {
        _pacing.budget_key("fmc.example.com", "other"),
        _pacing.budget_key("fmc.example.com:8443", "apiuser"),
        _pacing.budget_key("http://fmc.example.com", "apiuser"),
        _pacing.budget_key("fmc2.example.com", "apiuser"),
        _pacing.budget_key("fmc.example.com"),
    }
    assert key not in others and len(others) == 5


def test_budget_file_is_private_and_names_no_one(tmp_path):
    directory = tmp_path / "budgets"
    budget = _pacing.SharedBudget(LIMIT, WINDOW, MANAGER, USER, directory=str(directory))
    assert budget.shared and budget.note is None
    budget.acquire()
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    (name,) = os.listdir(directory)
    assert name == _pacing.budget_key(MANAGER, USER)
    assert stat.S_IMODE(os.stat(directory / name).st_mode) == 0o600
    content = (directory / name).read_bytes()
    assert b"apiuser" not in content and b"example" not in content and len(content.splitlines()) == 1


def test_default_directory_is_per_user_under_the_temp_dir():
    assert _pacing.budget_dir().endswith("taskstatus-budget-%d" % os.getuid())


# ---- never over the budget -----------------------------------------------------


def _hammer(directory, per_thread, threads, queue):
    sent = []
    lock = threading.Lock()

    def run():
        budget = _pacing.SharedBudget(LIMIT, WINDOW, MANAGER, USER, directory=directory, slack=0.25)  # one per adapter
        for _request in range(per_thread):
            stamp = budget.acquire(left=60)
            with lock:
                sent.append(stamp)

    workers = [threading.Thread(target=run) for _index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(sent)


def test_processes_and_threads_never_exceed_the_budget(tmp_path):
    directory = str(tmp_path / "budgets")
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    procs = [context.Process(target=_hammer, args=(directory, 5, 3, queue)) for _index in range(4)]
    for proc in procs:
        proc.start()
    sent = []
    for _proc in procs:
        sent.extend(queue.get(timeout=120))
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    assert len(sent) == 4 * 3 * 5
    assert worst_window(sent) <= LIMIT  # 60 requests: they had to spread over at least 3 windows
    assert max(sent) - min(sent) >= 2 * WINDOW


def test_threads_of_one_process_share_the_budget(tmp_path):
    directory = str(tmp_path / "budgets")
    import queue as queue_module

    out = queue_module.Queue()
    _hammer(directory, 4, 10, out)
    sent = out.get()
    assert len(sent) == 40 and worst_window(sent) <= LIMIT


def test_another_user_or_manager_has_its_own_budget(tmp_path):
    clock = Clock()
    directory = str(tmp_path)
    mine = fake_budget(2, 60, directory, clock)
    for _request in range(2):
        mine.acquire(left=1)
    for url, user in ((MANAGER, "other"), ("https://fmc2.example.com", USER)):
        other = fake_budget(2, 60, directory, clock, url=url, user=user)
        other.acquire(left=1)
    with pytest.raises(TransientError):
        fake_budget(2, 60, directory, clock, url=MANAGER + ":443").acquire(left=1)


# ---- waiting and the deadline ----------------------------------------------------


def test_waits_for_the_oldest_send_to_leave_the_window(tmp_path):
    clock = Clock()
    first = fake_budget(3, 60, tmp_path, clock)
    second = fake_budget(3, 60, tmp_path, clock)
    start = clock.now
    first.acquire()
    clock.now += 10
    first.acquire()
    second.acquire()
    assert clock.slept == []
    assert second.acquire(left=120) == start + 60  # slept until the first send left the window
    assert clock.slept == [50.0] and second.waited == 50.0
    with pytest.raises(TransientError, match="rate limit of 3 requests per 60 s") as caught:
        first.acquire(left=5, platform="fmc")  # the next slot frees in 10 s: more than is left
    assert caught.value.platform == "fmc" and clock.slept == [50.0]


def test_a_send_stays_in_the_budget_window_plus_slack(tmp_path):
    clock = Clock()
    budget = _pacing.SharedBudget(1, 10, MANAGER, USER, directory=str(tmp_path), clock=clock, sleep=clock.sleep,
                                  slack=1.5)
    first = budget.acquire()
    assert budget.acquire() == first + 11.5 and clock.slept == [11.5]


def test_wait_exactly_as_long_as_what_is_left_fails(tmp_path):
    clock = Clock()
    budget = fake_budget(1, 30, tmp_path, clock)
    budget.acquire(left=0.5)
    with pytest.raises(TransientError):
        budget.acquire(left=30)
    assert budget.acquire(left=30.5) == clock.now and clock.slept == [30.0]


def test_waiters_that_lose_the_race_wait_again_within_their_deadline(tmp_path):
    clock = Clock()
    directory = str(tmp_path)
    budget = fake_budget(1, 10, directory, clock)
    rival = fake_budget(1, 10, directory, clock)

    def sleep_and_lose(seconds):  # while we sleep, another process takes the freed slot
        clock.sleep(seconds)
        rival.acquire()

    budget.sleep = sleep_and_lose
    budget.acquire()
    with pytest.raises(TransientError):
        budget.acquire(left=15)  # 10 s, lost, then another 10 s would pass the deadline
    assert clock.slept == [10.0]


def test_times_from_the_future_block_for_one_window_at_most(tmp_path):
    clock = Clock()
    budget = fake_budget(1, 60, tmp_path, clock)
    with open(budget.path, "wb") as handle:
        handle.write(b"%17.6f\n" % (clock.now + 86400))  # written before the clock was set back a day
    budget.acquire()
    assert clock.slept == [60.0]


def test_torn_or_foreign_lines_are_skipped(tmp_path):
    clock = Clock()
    budget = fake_budget(2, 60, tmp_path, clock)
    with open(budget.path, "wb") as handle:
        handle.write(b"garbage\nnan\n\x00\x01\n%17.6f\n12345" % (clock.now - 1))
    budget.acquire()  # the one valid line (1 s old) and this one
    with pytest.raises(TransientError):
        budget.acquire(left=1)
    assert open(budget.path, "rb").read() == b"%17.6f\n%17.6f\n" % (clock.now - 1, clock.now)  # rewritten clean


def test_history_is_pruned(tmp_path):
    clock = Clock()
    budget = fake_budget(5, 1, tmp_path, clock)
    for _request in range(200):
        budget.acquire()
        clock.now += 0.5
    lines = open(budget.path, "rb").read().splitlines()
    assert len(lines) <= 121  # KEEP (60 s) of history at 2 a second, never the whole run


# ---- when the directory cannot be used ----------------------------------------------


@pytest.mark.parametrize("case", ["under_a_file", "not_private", "a_symlink"])
def test_unusable_directory_falls_back_to_the_process(tmp_path, case):
    if case == "under_a_file":
        (tmp_path / "file").write_text("x")
        directory = tmp_path / "file" / "budgets"
    elif case == "not_private":
        directory = tmp_path / "open"
        directory.mkdir()
        directory.chmod(0o777)
    else:
        (tmp_path / "real").mkdir(mode=0o700)
        directory = tmp_path / "link"
        directory.symlink_to(tmp_path / "real")
    clock = Clock()
    key_url = "https://fallback-%s.example.com" % case
    first = fake_budget(2, 60, directory, clock, url=key_url)
    second = fake_budget(2, 60, directory, clock, url=key_url)
    assert not first.shared and "only inside this process" in first.note and USER not in first.note
    first.acquire()
    second.acquire()  # the same budget in this process
    with pytest.raises(TransientError):
        first.acquire(left=30)
    assert second.acquire(left=61) and clock.slept == [60.0]
    if case == "not_private":
        assert os.listdir(directory) == []  # nothing written into a directory others can write


def test_threads_share_the_in_process_fallback(tmp_path):
    (tmp_path / "file").write_text("x")
    directory = str(tmp_path / "file" / "budgets")
    sent = []
    lock = threading.Lock()

    def run():
        budget = _pacing.SharedBudget(LIMIT, WINDOW, "https://fallback-threads.example.com", USER, directory=directory,
                                      slack=0.25)
        assert not budget.shared
        for _request in range(5):
            stamp = budget.acquire(left=60)
            with lock:
                sent.append(stamp)

    workers = [threading.Thread(target=run) for _index in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(sent) == 40 and worst_window(sent) <= LIMIT


def test_file_lost_mid_run_falls_back(tmp_path):
    clock = Clock()
    directory = tmp_path / "budgets"
    budget = fake_budget(1, 60, directory, clock, url="https://lost.example.com")
    budget.acquire()
    os.unlink(budget.path)
    directory.rmdir()
    (tmp_path / "budgets").write_text("now a file")
    clock.now += 61
    budget.acquire()
    assert not budget.shared and "only inside this process" in budget.note


def test_bad_limits():
    with pytest.raises(ValueError):
        _pacing.SharedBudget(0, 60, MANAGER, USER)
    with pytest.raises(ValueError):
        _pacing.SharedBudget(10, 0, MANAGER, USER)
    with pytest.raises(ValueError):
        _pacing.SharedBudget(10, 60, MANAGER, USER, slack=-1)


# ---- against the FMC simulator's own limit --------------------------------------------

SERVER_LIMIT, SERVER_WINDOW = 10, 2.0  # the simulated FMC's limit per user, made small
BUDGET = 9  # under it, as the FMC adapter stays at 110 under 120


def _fmc_client(url, ca_cert, directory, shared, gets, queue):
    """One 'fork': log in, read the task list ``gets`` times, log out, each request paced first."""
    import requests

    pace = (_pacing.SharedBudget(BUDGET, SERVER_WINDOW, url, "admin", directory=directory, slack=0.5) if shared
            else _pacing.RateLimiter(BUDGET, SERVER_WINDOW))
    statuses = []
    with requests.Session() as http:
        http.trust_env = False
        http.verify = ca_cert
        pace.acquire(left=60)
        resp = http.post(url + "/api/fmc_platform/v1/auth/generatetoken", auth=("admin", "password"), timeout=10)
        statuses.append(resp.status_code)
        token = {"X-auth-access-token": resp.headers.get("X-auth-access-token", "")}
        for _request in range(gets):
            pace.acquire(left=60)
            resp = http.get(url + "/api/fmc_config/v1/domain/e276abec-e0f2-11e3-8169-6d9ed49b625f/job/taskstatuses",
                            headers=token, timeout=10)
            statuses.append(resp.status_code)
        http.post(url + "/api/fmc_platform/v1/auth/revokeaccess", headers=token, timeout=10)  # not rate-limited
    queue.put(statuses)


def _forks(sim, directory, shared, forks=4, gets=6):
    import requests

    url = sim.url("fmc")
    requests.post(url + "/_fmcsim/config", json={"rate_limit": SERVER_LIMIT, "rate_window": SERVER_WINDOW},
                  verify=sim.ca_cert, timeout=10).raise_for_status()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    procs = [context.Process(target=_fmc_client, args=(url, sim.ca_cert, directory, shared, gets, queue))
             for _index in range(forks)]
    for proc in procs:
        proc.start()
    statuses = []
    for _proc in procs:
        statuses.extend(queue.get(timeout=120))
    for proc in procs:
        proc.join(30)
    stats = requests.get(url + "/_fmcsim/stats", verify=sim.ca_cert, timeout=10).json()
    return statuses, stats


def test_forks_sharing_a_budget_get_no_429_from_the_fmc(tmp_path):
    from simulator import Simulator

    with Simulator(tmp_path / "sim", devices=[{"name": "fmc", "platform": "fmc"}], session_limit=None) as sim:
        statuses, stats = _forks(sim, str(tmp_path / "budgets"), shared=True)
        assert len(statuses) == 4 * 7 and set(statuses) == {200, 204}, statuses
        assert stats["rate_limited"] == 0 and stats["max_in_window"] <= BUDGET
        sim.reset()
        # the same forks, each pacing itself alone: together they overrun the manager's limit
        statuses, stats = _forks(sim, None, shared=False)
        assert 429 in statuses and stats["rate_limited"] > 0
