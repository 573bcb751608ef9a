"""task_info / task_wait against simulated XClarity appliances over HTTPS, and pylxca against the same.

A simulator of its own (tests/simulator/run.py, its own state dir) runs the
XClarity devices: ``lxca`` (takes both spellings of tasktype), ``camel``
(takes only ``taskType``), ``bad`` (canned broken answers). After every
module run no session may be left open.
"""

import json
import os
import subprocess
import textwrap

import pytest
import requests

from harness import PASSWORD, clean, reset_devices, running_simulator
from testlib import REPO

DEVICES = "lxca=xclarity:lxca,camel=xclarity:taskType-only,bad=xclarity:lxco"
PYLXCA = os.path.join(REPO, "tests", "tools", "peers", "pylxca.sh")


@pytest.fixture(scope="module")
def xsim_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, DEVICES, options=["--duration", "1.5"])


@pytest.fixture
def xsim(xsim_session):
    return reset_devices(xsim_session)


def start_export(sim, name, fixids=("lnvgy_fw_xcc_cdi3a4e-9.90",)):
    """PUT ...?action=export the way a playbook does (Basic auth: no session to leak)."""
    resp = requests.put(sim.url(name, "/updateRepositories/firmware?action=export"), json={"fixids": list(fixids)},
                        auth=("admin", PASSWORD), verify=sim.ca, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_wait_for_an_export_jobs_and_tasks_one_tasks_request_per_poll(xsim, ansible):
    export = start_export(xsim, "lxca")
    jobs = [xsim.control("lxca", "tasks", {"duration": 1.0, "kind": "firmware_update"})["id"] for _n in range(3)]
    ids = ["export:" + export["taskid"], jobs[0], "task:" + jobs[1], jobs[2], "job:" + jobs[0]]
    result = ansible.module("task_wait", dict(xsim.connection("lxca"), task_ids=ids, interval=0.3, timeout=30))[0]
    assert not result.get("failed"), result
    assert [t["id"] for t in result["tasks"]] == ids
    assert [t["state"] for t in result["tasks"]] == ["succeeded"] * 5
    exp = result["tasks"][0]
    assert exp["kind"] == "repository_export" and exp["percent"] == 100 and exp["name"].endswith(".zip")
    assert exp["messages"] == [{"severity": "info", "text": "Repository operation completed successfully.",
                                "id": "FQXHMUP2500I"}]
    assert result["tasks"][1]["kind"] == "firmware_update" and result["tasks"][4]["vendor_state"] == "Complete"
    stats = xsim.stats("lxca")
    requests_by_path = stats["requests"]
    many = "GET /tasks/%s" % "%2C".join(jobs)  # quoted ids joined by commas: one request for three tasks
    assert requests_by_path.get("GET /tasks/%s" % ",".join(jobs), 0) + requests_by_path.get(many, 0) \
        == result["polls"], requests_by_path
    assert not [k for k in requests_by_path if k.startswith("GET /tasks/") and k.count(jobs[0]) and "," not in k
                and "%2C" not in k]
    assert requests_by_path["GET /jobs/" + jobs[0]] == result["polls"]
    assert stats["sessions_created"] == 1 and stats["sessions_deleted"] == 1 and xsim.no_session_left()


def test_failed_export_fails_fast_and_a_lost_session_is_renewed(xsim, ansible):
    xsim.control("lxca", "config", {"scenario": "fail", "session_timeout": 0.5, "duration": 20})
    export = start_export(xsim, "lxca")
    stuck = xsim.control("lxca", "tasks", {"scenario": "stuck"})["id"]
    result = ansible.module("task_wait", dict(xsim.connection("lxca"), task_ids=["export:" + export["taskid"], stuck],
                                              interval=0.7, timeout=30))[0]
    clean(result)
    assert result["failed"] and not result["timed_out"]
    failed, running = result["tasks"]
    assert failed["state"] == "failed" and failed["vendor_state"] == "error"
    assert failed["messages"][-1]["id"] == "FQXHMUP2501E" and failed["messages"][-1]["severity"] == "critical"
    assert result["msg"].startswith("1 of 2 tasks failed: export:%s" % export["taskid"])
    assert failed["message"] in result["msg"] and "still running: %s" % stuck in result["msg"]
    assert running["state"] == "running"
    stats = xsim.stats("lxca")
    assert stats["sessions_created"] >= 2, (stats, result["polls"], result["elapsed"])  # the 0.5 s session died between polls; it logged in again
    assert xsim.no_session_left()


def test_bad_input_one_playbook_run(xsim, ansible):
    export = start_export(xsim, "camel")
    xsim.control("lxca", "config", {"scenario": "stuck"})
    running = start_export(xsim, "lxca")
    xsim.control("bad", "config", {"respond": [
        {"path": "/sessions", "method": "POST", "status": 200, "body": {"result": "success"}, "count": -1},
        {"path": "/updateRepositories/firmware/status", "method": "GET", "status": 500, "count": -1,
         "body": {"errorMsg": {"result": "failure", "messages": [
             {"id": "FQXHMUP2504E", "text": "The repository service is not available."}]}}},
    ]})
    cases = [
        xsim.connection("lxca", password="wrong-password", task_ids=["1"]),
        xsim.connection("lxca", task_ids=["export:abc"]),
        xsim.connection("lxca", task_ids=["export:0"]),
        xsim.connection("lxca", task_ids=["export:999", "12345"]),
        xsim.connection("lxca", task_ids=["export:999"], missing_ok=True),
        xsim.connection("bad", auth_method="session", task_ids=["1"]),
        xsim.connection("bad", auth_method="basic", task_ids=["export:1"]),
        xsim.connection("camel", task_ids=["export:" + export["taskid"]]),
        xsim.connection("lxca", auth_method="basic", filters={"kind": ["repository_export"]}),
    ]
    results = ansible.cases("task_info", cases)[0]
    wrong, not_number, zero, unknown, missing_ok, no_csrf, error_500, camel, listed = [clean(r) for r in results]
    assert wrong["failed"] and "refused" in wrong["msg"] and "HTTP 401" in wrong["msg"]
    assert not_number["failed"] and "is a number" in not_number["msg"]
    assert zero["failed"] and "every running export" in zero["msg"] and "repository_export" in zero["msg"]
    assert unknown["failed"] and "export:999, 12345" in unknown["msg"]
    assert missing_ok["tasks"][0]["found"] is False and missing_ok["tasks"][0]["state"] == "unknown"
    assert no_csrf["failed"] and "csrf" in no_csrf["msg"] and "X-Csrf-Token" in no_csrf["msg"]
    assert error_500["failed"] and "HTTP 500" in error_500["msg"]
    assert "The repository service is not available. (FQXHMUP2504E)" in error_500["msg"]
    assert not camel.get("failed") and camel["tasks"][0]["kind"] == "repository_export"
    assert camel["tasks"][0]["state"] in ("pending", "running", "succeeded")
    assert [t["id"] for t in listed["tasks"]] == ["export:" + running["taskid"]]
    stats = {name: xsim.stats(name) for name in xsim.devices}
    assert stats["lxca"]["logins_failed"] == 1 and stats["lxca"]["sessions_created"] == 2  # bad ids fail before a login
    # tasktype refused, taskType answered: the second spelling is the one that works on camel.
    assert stats["camel"]["requests"]["GET /updateRepositories/firmware/status"] == 2
    assert xsim.no_session_left()


PYLXCA_CLIENT = textwrap.dedent("""
    import json, sys
    from pylxca import connect, disconnect
    from pylxca.pylxca_api.lxca_api import lxca_api
    url, user, password, job_id = sys.argv[1:5]
    con = connect(url=url, user=user, pw=password)
    if con is None:
        print(json.dumps({"connected": False}))
        sys.exit(0)
    job = lxca_api().api("jobs", {"id": job_id}, con)
    disconnect(con)
    print(json.dumps({"connected": True, "job": job}))
""")


def test_pylxca_reads_a_job_through_session_and_csrf(xsim, tmp_path):
    """Lenovo's own client logs in (POST /sessions), echoes the csrf cookie, reads a job, logs out."""
    python = os.environ.get("TASKSTATUS_PYLXCA_PYTHON") or subprocess.run(
        [PYLXCA], check=True, capture_output=True, text=True, timeout=600).stdout.strip()
    script = tmp_path / "pylxca_client.py"
    script.write_text(PYLXCA_CLIENT)
    job = xsim.control("lxca", "tasks", {"scenario": "fail", "duration": 0.2, "started_ago": 5})["id"]  # ended
    env = dict(os.environ, REQUESTS_CA_BUNDLE=xsim.ca)  # pylxca verifies TLS against this bundle

    def run(password):
        proc = subprocess.run([python, str(script), "https://" + xsim.host("lxca"), "admin", password, job],
                              env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    out = run(PASSWORD)
    assert out["connected"] is True
    assert out["job"]["jobsList"][0]["id"] == job
    assert out["job"]["jobsList"][0]["status"] == {"state": "Stopped_With_Error", "percentage": 60}
    stats = xsim.stats("lxca")
    assert stats["requests"]["GET /jobs/" + job] == 1  # no 403: the X-Csrf-Token it echoed was accepted
    assert stats["sessions_created"] == 1 and stats["sessions_deleted"] == 1 and stats["sessions_open"] == 0
    assert run("wrong-password") == {"connected": False}
    assert xsim.stats("lxca")["logins_failed"] == 1


EXAMPLE = os.path.join(REPO, "playbooks", "examples", "xclarity_repository_export.yml")


def test_example_playbook_starts_an_export_and_waits_then_explains_a_409(xsim, ansible):
    extra = {"xclarity_host": xsim.host("lxca"), "xclarity_user": "admin", "xclarity_password": PASSWORD,
             "xclarity_ca": xsim.ca, "xclarity_fixids": ["lnvgy_fw_xcc_cdi3a4e-9.90_anyos_noarch"],
             "xclarity_export_interval": 0.3, "xclarity_export_timeout": 60}
    proc = ansible.playbook(EXAMPLE, extra)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is ready (Repository operation completed successfully.)" in proc.stdout
    stats = xsim.stats("lxca")
    assert stats["requests"]["PUT /updateRepositories/firmware"] == 1 and stats["sessions_created"] == 1
    xsim.control("lxca", "config", {"scenario": "stuck"})
    start_export(xsim, "lxca")
    proc = ansible.playbook(EXAMPLE, extra)
    assert proc.returncode != 0
    assert "refused to start the export (409 Conflict): another repository export is running" in proc.stdout
    assert PASSWORD not in proc.stdout + proc.stderr
    assert xsim.no_session_left()
