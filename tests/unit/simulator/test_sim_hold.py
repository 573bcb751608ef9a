"""A held task's clock starts at the first request that names it, on every platform, so a test does not race
a slow ansible-playbook start (the wait sees the task running, however late it comes)."""

import time

import pytest
import requests

from simulator import Simulator

DEVICES = [{"name": "r", "platform": "redfish"}, {"name": "v", "platform": "vsphere"},
           {"name": "f", "platform": "fmc"}, {"name": "x", "platform": "xclarity"}]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with Simulator(tmp_path_factory.mktemp("hold"), DEVICES) as running:
        yield running


def control(sim, name, path, body=None, method="POST"):
    resp = requests.request(method, sim.url(name) + "/_sim/" + path, json=body, verify=sim.ca_cert, timeout=5)
    resp.raise_for_status()
    return resp.json()


@pytest.mark.parametrize("name", [d["name"] for d in DEVICES])
def test_held_task_waits_for_its_first_read(sim, name):
    made = control(sim, name, "tasks", {"scenario": "success", "duration": 0.5, "hold": True})
    task = sim.device(name).tasks[str(made["id"])]
    time.sleep(0.8)
    assert task.held and task.progress().phase == "new"  # longer than its duration, still not started
    # a request that names it (auth does not matter: the simulator sees the request)
    requests.get(sim.url(name) + made["task_uri"], verify=sim.ca_cert, timeout=5)
    assert not task.held
    time.sleep(0.8)
    assert task.progress().done


def test_hold_must_be_a_boolean(sim):
    resp = requests.post(sim.url("r") + "/_sim/tasks", json={"hold": "yes"}, verify=sim.ca_cert, timeout=5)
    assert resp.status_code == 400 and "hold" in resp.json()["error"]
