"""The vSphere adapter over HTTPS against the simulator (in-process, no mocks):
sessions on /api and /rest, one list call per poll, idle expiry, bad input."""

import os
import sys
import time

import pytest
import requests

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    HttpError,
    OptionError,
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient
from ansible_collections.taskstatus.infra.plugins.module_utils._vsphere import VsphereAdapter
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import Deadline, Waiter

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)
from simulator import Simulator  # noqa: E402

PASSWORD = "vc-Passw0rd!"
SOFTWARE = "com.vmware.esx.settings.clusters.software"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    devices = [{"name": "vc", "platform": "vsphere"}, {"name": "old", "platform": "vsphere", "vendor": "rest"},
               {"name": "new", "platform": "vsphere", "vendor": "api"}]
    with Simulator(tmp_path_factory.mktemp("vsim"), devices=devices, password=PASSWORD, duration=0.6) as simulator:
        yield simulator


class VC:
    def __init__(self, sim, name):
        sim.reset(name)
        self.sim, self.name, self.base, self.ca = sim, name, sim.url(name), sim.ca_cert

    def control(self, path, body=None, method="POST"):
        resp = requests.request(method, self.base + "/_sim/" + path, json=body, verify=self.ca, timeout=5)
        resp.raise_for_status()
        return resp.json()

    def tasks(self, count=1, **spec):
        return [self.control("tasks", dict(spec))["id"] for _number in range(count)]

    def stats(self):
        return self.control("stats", method="GET")

    def adapter(self, timeout=None, **params):
        args = dict(username="admin", password=PASSWORD, token=None)
        args.update(params)
        deadline = Deadline(timeout)
        http = HttpClient(self.base, "vsphere", ca_path=self.ca, request_timeout=5, deadline=deadline.left)
        return VsphereAdapter(http, args)


@pytest.mark.parametrize("name,flavour,list_key", [
    ("vc", "api", "POST /api/cis/tasks"), ("new", "api", "POST /api/cis/tasks"), ("old", "rest", "GET /rest/cis/tasks")])
def test_each_generation_reads_many_tasks_with_one_list_call(sim, name, flavour, list_key):
    vc = VC(sim, name)
    ids = vc.tasks(3, duration=5)
    with vc.adapter() as adapter:
        tasks = adapter.fetch(ids + ["52f0-unknown:" + SOFTWARE])
        assert adapter.flavour == flavour
    assert [t.id for t in tasks] == ids + ["52f0-unknown:" + SOFTWARE]
    assert [t.found for t in tasks] == [True, True, True, False]
    assert all(t.state in ("pending", "running") for t in tasks[:3])
    stats = vc.stats()
    assert stats["requests"][list_key] == 1
    assert not [k for k in stats["requests"] if "/cis/tasks/" in k]
    assert stats["sessions_open"] == 0 and stats["sessions_created"] == stats["sessions_deleted"] == 1


def test_fifty_tasks_one_request_per_poll(sim):
    vc = VC(sim, "vc")
    ids = vc.tasks(50, duration=0.6)
    adapter = vc.adapter(timeout=30)
    with adapter:
        waiter = Waiter(adapter, Deadline(30), interval=0.2, max_interval=1)
        outcome = waiter.wait(ids)
    assert not outcome.failed and all(t.state == "succeeded" for t in outcome.tasks)
    stats = vc.stats()
    per_poll = stats["requests"]["POST /api/cis/tasks"] / float(outcome.polls)
    assert per_poll == 1.0 and outcome.polls >= 2
    assert stats["requests_total"] == outcome.polls + 2  # + login + logout
    assert stats["sessions_open"] == 0


def test_idle_session_expiry_mid_wait_logs_in_again(sim):
    vc = VC(sim, "old")
    vc.control("config", {"session_timeout": 0.25})
    ids = vc.tasks(2, duration=1.2)
    with vc.adapter(timeout=30) as adapter:
        outcome = Waiter(adapter, Deadline(30), interval=0.4, max_interval=1).wait(ids)
    assert not outcome.failed and [t.state for t in outcome.tasks] == ["succeeded", "succeeded"]
    stats = vc.stats()
    assert stats["sessions_created"] >= 2 and stats["sessions_expired"] >= 1
    assert stats["sessions_open"] == 0


def test_wrong_password_fails_at_once(sim):
    vc = VC(sim, "vc")
    with pytest.raises(AuthError) as err:
        with vc.adapter(password="wrong-one"):
            pass
    assert "credentials for user 'admin' were refused" in str(err.value)
    assert "wrong-one" not in str(err.value)
    assert vc.stats()["logins_failed"] == 1


def test_session_that_cannot_be_created_is_reported(sim):
    vc = VC(sim, "vc")
    vc.control("config", {"session_limit": 0})
    with pytest.raises(TransientError) as err:
        with vc.adapter():
            pass
    assert "cannot log in" in str(err.value) and "service_unavailable" in str(err.value)
    assert "HTTP 503" in str(err.value)


def test_503_is_retried_then_reported(sim):
    vc = VC(sim, "vc")
    (task_id,) = vc.tasks(1, duration=5)
    with vc.adapter() as adapter:
        vc.control("config", {"burst": {"status": 503, "count": 3, "retry_after": 1}})
        with pytest.raises(TransientError) as err:
            adapter.fetch([task_id])
        assert adapter.fetch([task_id])[0].found  # the burst is over
    assert "service_unavailable" in str(err.value) and "HTTP 503" in str(err.value)
    stats = vc.stats()
    assert [n for k, n in stats["requests"].items() if k.startswith("GET /api/cis/tasks/")] == [4]  # 1 + 2 retries
    assert stats["sessions_open"] == 0


@pytest.mark.parametrize("name", ["vc", "old"])
def test_more_than_1000_tasks_is_explained(sim, name):
    vc = VC(sim, name)
    for _number in range(1001):
        sim.device(name).platform.create_task("success", 60, "firmware_update")
    with vc.adapter() as adapter:
        # a 5xx is transient for every platform (the wait outlasts it); the hint says what to do
        with pytest.raises(TransientError if name == "vc" else HttpError) as err:
            adapter.list_tasks({"native": {"services": [SOFTWARE]}})
        assert len(adapter.list_tasks({"native": {"services": [SOFTWARE]}, "state": ["succeeded"]})) == 0
    assert "more than 1000 tasks match" in str(err.value) and "narrow filters.native" in str(err.value)


def test_list_without_tasks_or_services_makes_no_request(sim):
    vc = VC(sim, "vc")
    with vc.adapter() as adapter:
        before = vc.stats()["requests_total"]
        with pytest.raises(OptionError):
            adapter.list_tasks({"native": {"status": ["RUNNING"]}})
        assert vc.stats()["requests_total"] == before


def test_bad_task_id_makes_no_request(sim):
    vc = VC(sim, "new")
    with vc.adapter() as adapter:
        with pytest.raises(OptionError) as err:
            adapter.fetch(["../session"])
    assert "not a vSphere task id" in str(err.value)
    assert list(vc.stats()["requests"]) == ["POST /api/session", "DELETE /api/session"]


def test_ready_session_token_is_used_and_left_open(sim):
    vc = VC(sim, "vc")
    token = requests.post(vc.base + "/api/session", auth=("admin", PASSWORD), verify=vc.ca, timeout=5).json()
    (task_id,) = vc.tasks(1, duration=5)
    with vc.adapter(username=None, password=None, token=token) as adapter:
        assert adapter.fetch([task_id])[0].found
    stats = vc.stats()
    assert stats["sessions_created"] == 1 and stats["sessions_open"] == 1  # the caller's session stays
    assert "DELETE /api/session" not in stats["requests"]


def test_refused_token_and_expired_token_without_password(sim):
    vc = VC(sim, "old")
    with pytest.raises(AuthError) as err:
        with vc.adapter(username=None, password=None, token="not-a-session"):
            pass
    assert "session given in token was refused" in str(err.value) and "not-a-session" not in str(err.value)
    token = requests.post(vc.base + "/rest/com/vmware/cis/session", auth=("admin", PASSWORD), verify=vc.ca,
                          timeout=5).json()["value"]
    (task_id,) = vc.tasks(1, duration=5)
    with vc.adapter(username=None, password=None, token=token) as adapter:
        assert adapter.fetch([task_id])[0].found
        # Idle sessions expire after 0.2 s from here (set now, not before the token was checked: a slow CI
        # machine once took longer than that between the token's creation and its first use).
        vc.control("config", {"session_timeout": 0.2})
        time.sleep(0.4)
        with pytest.raises(AuthError) as err:
            adapter.fetch([task_id])
    assert "give username and password" in str(err.value)


def test_token_with_password_logs_in_again_when_it_expires(sim):
    vc = VC(sim, "vc")
    token = requests.post(vc.base + "/api/session", auth=("admin", PASSWORD), verify=vc.ca, timeout=5).json()
    (task_id,) = vc.tasks(1, duration=5)
    with vc.adapter(token=token) as adapter:
        # The token was checked at open; it expires now (the new session has 1 s before its first use).
        vc.control("config", {"session_timeout": 1.0})
        time.sleep(1.5)
        assert adapter.fetch([task_id])[0].found
        assert adapter.own_session
    stats = vc.stats()
    assert stats["sessions_created"] == 2 and stats["sessions_open"] == 0


def test_a_task_that_disappears_is_gone_not_succeeded(sim):
    vc = VC(sim, "vc")
    # The clock of the task that vanishes starts at the first read of it (it must be seen before it goes).
    ids = vc.tasks(1, duration=0.4, scenario="delete", hold=True) + vc.tasks(1, duration=5)
    with vc.adapter(timeout=30) as adapter:
        outcome = Waiter(adapter, Deadline(30), interval=0.2, max_interval=1).wait(ids)
    assert outcome.failed and outcome.tasks[0].gone and outcome.tasks[0].state == "unknown"
    assert outcome.msg.startswith("1 of 2 tasks failed: %s: unknown" % ids[0]) and "is gone now" in outcome.msg
    assert vc.stats()["sessions_open"] == 0


def test_reboot_mid_wait_is_tolerated_and_logs_in_again(sim):
    vc = VC(sim, "new")
    vc.control("config", {"reboot_seconds": 0.5})
    ids = vc.tasks(1, duration=1.0, scenario="reboot")
    with vc.adapter(timeout=30) as adapter:
        outcome = Waiter(adapter, Deadline(30), interval=0.2, max_interval=0.5, unreachable_timeout=10).wait(ids)
    assert not outcome.failed and outcome.tasks[0].state == "succeeded"
    stats = vc.stats()
    assert stats["reboots"] == 1 and stats["sessions_created"] == 2  # the reboot forgot the first session
    assert stats["sessions_open"] == 0
