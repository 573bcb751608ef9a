"""The XClarity adapter against the in-process simulator over HTTPS: sessions, fallbacks, multi-id reads."""

import tempfile

import pytest
import requests

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import AuthError, TransientError
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import Deadline, Waiter
from ansible_collections.taskstatus.infra.plugins.module_utils._xclarity import XclarityAdapter
from simulator import Simulator


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(tempfile.mkdtemp(prefix="xc-adapter-"), devices=[{"name": "x", "platform": "xclarity"}],
                          duration=0.5)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def device(sim):
    sim.reset()
    return sim.devices["x"]


def adapter(sim, **params):
    base = dict(username="admin", password="password", auth_method="auto")
    base.update(params)
    http = HttpClient(sim.devices["x"].info()["host"], "xclarity", ca_path=sim.ca_cert)
    return XclarityAdapter(http, base)


def stats(sim):
    return requests.get(sim.url("x") + "/_sim/stats", verify=sim.ca_cert, timeout=5).json()


def test_many_tasks_one_request_per_poll(sim, device):
    ids = [device.platform.create_task("success", 0.5, "firmware_update")["id"] for _n in range(20)]
    xc = adapter(sim, auth_method="session")
    try:
        outcome = Waiter(xc, Deadline(30), interval=0.1).wait(ids)
    finally:
        xc.close()
    assert {t.state for t in outcome.tasks} == {"succeeded"}
    got = stats(sim)
    assert got["requests"] == {"POST /sessions": 1, "GET /tasks/" + ",".join(ids): outcome.polls,
                               "DELETE /sessions": 1}
    assert got["sessions_open"] == 0


def test_auto_falls_back_to_basic_when_the_session_table_is_full(sim, device):
    device.config["session_limit"] = 0
    with adapter(sim) as xc:
        task = xc.fetch([device.platform.create_task("success", 0.5, "other")["id"]])[0]
    assert task.found and xc.notes == ["XClarity refused a new session (HTTP 503); used HTTP Basic authentication "
                                       "instead"]
    assert stats(sim)["sessions_created"] == 0


def test_session_only_does_not_fall_back(sim, device):
    device.config["session_limit"] = 0
    xc = adapter(sim, auth_method="session")
    with pytest.raises(TransientError) as err:
        xc.open()
    xc.close()
    assert "HTTP 503" in str(err.value) and "maximum number of sessions" in str(err.value)


@pytest.mark.parametrize("method", ["session", "basic", "auto"])
def test_wrong_password_is_an_auth_error(sim, device, method):
    xc = adapter(sim, auth_method=method, password="wrong")
    with pytest.raises(AuthError) as err:
        xc.open()
    xc.close()
    assert "HTTP 401" in str(err.value) and "wrong" not in str(err.value)


def test_an_expired_session_is_replaced(sim, device):
    job = device.platform.create_task("stuck", 0.5, "other")["id"]
    xc = adapter(sim, auth_method="session")
    try:
        xc.poll([job])
        device.sessions.clear()  # the appliance forgot the session (restart, inactivity timeout)
        task = xc.poll([job])[0]
    finally:
        xc.close()
    assert task.found and task.state in ("pending", "running")  # read with the second session
    got = stats(sim)
    assert got["sessions_created"] == 2 and got["sessions_open"] == 0


def test_a_list_refused_for_one_unknown_id_is_asked_one_by_one(sim, device):
    known = device.platform.create_task("success", 0.5, "other")["id"]
    requests.post(sim.url("x") + "/_sim/config", verify=sim.ca_cert, timeout=5, json={"respond": {
        "path": "/tasks/%s,404" % known, "method": "GET", "status": 404,
        "body": {"result": "failure", "messages": [{"id": "FQXHMSE0404E", "text": "Job 404 was not found."}]}}})
    with adapter(sim, auth_method="basic") as xc:
        found, missing = xc.fetch([known, "404"])
    assert (found.found, missing.found) == (True, False)
    assert "export:404" in missing.message
    assert stats(sim)["requests"]["GET /tasks/" + known] == 1
