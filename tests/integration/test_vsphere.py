"""task_info / task_wait against simulated vCenters over HTTPS, with ansible-playbook.

A simulator of its own (tests/simulator/run.py, its own state dir) runs three
vCenters: ``vc`` (/api and /rest), ``new`` (/api only) and ``old`` (/rest
only, like 6.7). After every module run no session may be left open.
"""

import json
import os

import pytest

from harness import PASSWORD, clean, reset_devices, running_simulator
from testlib import REPO

DEVICES = "vc=vsphere:vcenter,new=vsphere:api,old=vsphere:rest"
SOFTWARE = "com.vmware.esx.settings.clusters.software"
EXAMPLE = os.path.join(REPO, "playbooks", "examples", "vsphere_vlcm_remediation.yml")


@pytest.fixture(scope="module")
def vsim_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, DEVICES, options=["--duration", "1"])


@pytest.fixture
def vsim(vsim_session):
    return reset_devices(vsim_session)


def ids_of(sim, name, count, **spec):
    return [t["id"] for t in sim.create_tasks(name, count, **spec)]


def test_wait_for_many_tasks_one_list_call_per_poll(vsim, ansible):
    ids = ids_of(vsim, "vc", 5, duration=3.0)
    result = ansible.module("task_wait", vsim.connection("vc", task_ids=ids, interval=0.3, timeout=30))[0]
    clean(result)
    assert not result.get("failed") and not result["timed_out"], result
    assert [t["id"] for t in result["tasks"]] == ids
    assert {(t["state"], t["percent"], t["kind"], t["vendor_state"]) for t in result["tasks"]} == {
        ("succeeded", 100, "firmware_update", "SUCCEEDED")}
    assert result["msg"] == "5 of 5 tasks succeeded"
    stats = vsim.stats("vc")
    assert stats["requests"]["POST /api/cis/tasks"] == result["polls"]  # one list call per poll, however many
    assert not [k for k in stats["requests"] if k.startswith("GET /api/cis/tasks/")]
    assert vsim.no_session_left()


def test_rest_only_vcenter_fails_fast_and_names_a_blocked_task(vsim, ansible):
    failing = ids_of(vsim, "old", 1, duration=0.6, scenario="fail")
    blocked = ids_of(vsim, "old", 1, duration=0.6, scenario="stuck")
    result = ansible.module("task_wait", vsim.connection("old", task_ids=failing + blocked, interval=0.3, timeout=30))[0]
    clean(result)
    assert result["failed"] and not result["timed_out"]
    assert result["msg"].startswith("1 of 2 tasks failed: %s" % failing[0]), result["msg"]
    assert "failed to install the image" in result["msg"]
    assert "still running: %s" % blocked[0] in result["msg"] and "[BLOCKED]" in result["msg"]
    assert [t["state"] for t in result["tasks"]] == ["failed", "running"]
    assert result["tasks"][1]["vendor_state"] == "BLOCKED"
    stats = vsim.stats("old")
    assert stats["requests"]["POST /api/session"] == 1  # tried /api once, then /rest
    assert stats["requests"]["GET /rest/cis/tasks"] == result["polls"]
    assert vsim.no_session_left()


def test_list_by_service_on_an_api_only_vcenter(vsim, ansible):
    running = ids_of(vsim, "new", 2, duration=30, kind="firmware_update")
    ids_of(vsim, "new", 1, duration=30, kind="config_export")  # same service, kind repository_export
    ids_of(vsim, "new", 1, duration=30, kind="support_export")  # another service: not listed at all
    result = ansible.module("task_info", vsim.connection("new", filters={
        "native": {"services": [SOFTWARE]}, "state": ["pending", "running"], "kind": ["firmware_update"]},
        include_raw=True))[0]
    clean(result)
    assert not result.get("failed") and result["changed"] is False, result
    assert sorted(t["id"] for t in result["tasks"]) == sorted(running)
    assert all(t["raw"]["service"] == SOFTWARE for t in result["tasks"])
    assert vsim.stats("new")["requests"]["POST /api/cis/tasks"] == 1
    assert all(t["url"].startswith("https://%s/api/cis/tasks/" % vsim.host("new")) for t in result["tasks"])
    assert vsim.no_session_left()


def test_bad_input_is_explained(vsim, ansible):
    (known,) = ids_of(vsim, "vc", 1, duration=30)
    cases = [
        vsim.connection("vc", task_ids=["../../api/session"]),
        vsim.connection("vc", task_ids=[known + "?action=cancel"]),
        vsim.connection("vc", filters={"native": {"status": ["RUNNING"]}}),
        vsim.connection("vc", password="not-the-password", task_ids=[known]),
        vsim.connection("old", task_ids=["52f0-gone:" + SOFTWARE]),
        vsim.connection("old", task_ids=["52f0-gone:" + SOFTWARE], missing_ok=True),
    ]
    results = ansible.cases("task_info", cases)[0]
    for result in results:
        clean(result)
        assert "not-the-password" not in json.dumps({k: v for k, v in result.items() if k != "item"})
    msgs = [r.get("msg", "") for r in results]
    assert "is not a vSphere task id (it contains '/', '..')" in msgs[0]
    assert "contains '?'" in msgs[1]
    assert "filters.native.services" in msgs[2] and "tasks or services" in msgs[2]
    assert "credentials for user 'admin' were refused" in msgs[3] and "HTTP 401" in msgs[3]
    assert "no such task: 52f0-gone:" + SOFTWARE in msgs[4]
    assert [r.get("failed", False) for r in results] == [True, True, True, True, True, False]
    assert results[5]["tasks"][0]["found"] is False and results[5]["tasks"][0]["state"] == "unknown"
    assert vsim.stats("vc")["logins_failed"] == 1
    assert vsim.no_session_left()


def test_example_vlcm_remediation_playbook(vsim, ansible):
    proc = ansible.playbook(EXAMPLE, {
        "vcenter": vsim.host("vc"), "vcenter_ca": vsim.ca, "cluster": "domain-c8",
        "vcenter_user": "admin", "vcenter_password": PASSWORD, "remediation_interval": 0.3,
        "remediation_timeout": 30})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 of 1 tasks succeeded" in proc.stdout
    assert PASSWORD not in proc.stdout + proc.stderr
    stats = vsim.stats("vc")
    assert stats["requests"]["POST /api/esx/settings/clusters/domain-c8/software"] == 1
    assert stats["sessions_created"] == 1 and stats["sessions_deleted"] == 1  # the playbook's own session, reused
    assert vsim.no_session_left()


def test_filters_through_the_action_group(vsim, ansible, tmp_path):
    applying = ids_of(vsim, "old", 3, duration=3, kind="firmware_update", hold=True)  # starts at its first read
    ids_of(vsim, "old", 1, duration=30, kind="other")  # a compliance scan: another operation, not waited for
    result_file = tmp_path / "filters.json"
    proc = ansible.playbook("vsphere_filters.yml", {"connection": vsim.connection("old"), "result_file": str(result_file)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(result_file.read_text())
    listed, waited = clean(result["listed"]), clean(result["waited"])
    assert sorted(t["id"] for t in listed["tasks"]) == sorted(applying)
    assert not waited.get("failed"), waited
    assert sorted(t["id"] for t in waited["tasks"]) == sorted(applying)
    assert {t["state"] for t in waited["tasks"]} == {"succeeded"}
    stats = vsim.stats("old")
    # task_info: 1 list; task_wait: 1 list to select, then 1 list per poll.
    assert stats["requests"]["GET /rest/cis/tasks"] == 1 + 1 + waited["polls"]
    assert stats["sessions_created"] == 2
    assert vsim.no_session_left()
