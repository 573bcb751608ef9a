"""task_info and task_wait run by ansible-playbook against the simulated BMCs over HTTPS."""

import threading
import time

import requests

from harness import PASSWORD, clean


def test_wait_for_tasks_given_as_id_task_uri_and_monitor(sim, ansible):
    made = sim.create_tasks("bmc", 3, scenario="success", duration=3, hold=True)  # clocks start at the first read
    ids = [made[0]["id"], made[1]["task_uri"], made[2]["monitor_uri"]]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=ids, interval=0.5, timeout=30))
    assert not result.get("failed"), result
    assert [t["state"] for t in result["tasks"]] == ["succeeded"] * 3
    assert [t["id"] for t in result["tasks"]] == ids
    assert all(t["percent"] == 100 and t["terminal"] and t["found"] for t in result["tasks"])
    assert result["tasks"][0]["kind"] == "firmware_update"
    assert result["tasks"][0]["started"] and result["tasks"][0]["ended"]
    assert result["msg"] == "3 of 3 tasks succeeded" and not result["timed_out"] and result["polls"] >= 2
    stats = sim.stats("bmc")
    assert stats["sessions_created"] == 1 and sim.no_session_left()


def test_monitor_finished_before_the_first_read_still_names_its_task(sim, ansible):
    # The monitor gives only the operation's final answer; the Task at TaskService/Tasks/<same id>, which
    # names this monitor in TaskMonitor, gives the name, kind and times, and proves that the URI is a task
    # monitor. A monitor answered with 204 at the first read whose Task is gone (scenario delete) proves
    # nothing: its outcome is unknown, never a success.
    done = sim.create_tasks("bmc", 1, scenario="success", duration=0)[0]
    gone = sim.create_tasks("bmc", 1, scenario="delete", duration=0)[0]
    time.sleep(0.2)
    result, _proc = ansible.module("task_info", dict(sim.connection("bmc"), task_ids=[done["monitor_uri"]]))
    task = result["tasks"][0]
    assert (task["id"], task["state"], task["kind"], task["name"]) == (
        done["monitor_uri"], "succeeded", "firmware_update", "Firmware Update"), task
    assert task["started"] and task["ended"]
    result, _proc = ansible.module("task_info", dict(sim.connection("bmc"), task_ids=[gone["monitor_uri"]]))
    assert result["tasks"][0]["state"] == "unknown" and "outcome is unknown" in result["tasks"][0]["message"], result
    assert sim.no_session_left()


def test_twenty_tasks_one_request_per_task_per_poll(sim, ansible):
    made = sim.create_tasks("bmc", 20, scenario="success", duration=2)
    ids = [m["id"] for m in made]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=ids, interval=0.5, timeout=60))
    assert not result.get("failed"), result
    polls = result["polls"]
    requests_by_path = sim.stats("bmc")["requests"]
    task_gets = {m["task_uri"]: requests_by_path.get("GET " + m["task_uri"], 0) for m in made}
    assert all(1 <= n <= polls for n in task_gets.values()), (polls, task_gets)
    assert sum(task_gets.values()) <= 20 * polls
    other = {k: v for k, v in requests_by_path.items() if not k.startswith("GET /redfish/v1/TaskService/Tasks/")}
    # One login, one check of the service root, one logout, and (push) one read of the EventService and one
    # stream: nothing per poll besides the tasks.
    assert other.get("GET /redfish/v1/EventService") == 1 and other.get("GET /redfish/v1/EventService/SSE") == 1
    assert sum(other.values()) <= 5, other
    assert sim.no_session_left()


def test_a_failure_fails_fast_with_the_vendor_message(sim, ansible):
    failing = sim.create_tasks("bmc", 1, scenario="fail", duration=1)[0]
    stuck = sim.create_tasks("bmc", 1, scenario="stuck", duration=1)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[failing["id"], stuck["id"]],
                                                     interval=0.5, timeout=120))
    clean(result)
    assert result["failed"] and not result["timed_out"]
    failed, running = result["tasks"]
    assert failed["state"] == "failed" and failed["vendor_state"] == "Exception" and failed["message"]
    assert running["state"] == "running" and not running["terminal"]
    assert result["msg"].startswith("1 of 2 tasks failed: %s" % failing["id"])
    assert failed["message"] in result["msg"] and "still running: %s" % stuck["id"] in result["msg"]
    assert sim.no_session_left()


def test_timeout_fails_and_returns_the_partial_result(sim, ansible):
    done = sim.create_tasks("bmc", 1, scenario="success", duration=0.5)[0]
    stuck = sim.create_tasks("bmc", 1, scenario="stuck", duration=1)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[done["id"], stuck["id"]],
                                                     interval=0.5, timeout=3))
    clean(result)
    assert result["failed"] and result["timed_out"]
    assert [t["state"] for t in result["tasks"]] == ["succeeded", "running"]
    assert result["msg"].startswith("timed out after 3 s") and stuck["id"] in result["msg"]
    assert result["polls"] >= 3
    assert sim.no_session_left()


def test_survives_the_bmc_rebooting_during_its_firmware_update(sim, ansible):
    sim.control("bmc", "config", {"reboot_seconds": 2})
    # The reboot comes at 55 % of the duration, counted from the module's first read of the task (hold).
    task = sim.create_tasks("bmc", 1, scenario="reboot", duration=6, hold=True)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[task["monitor_uri"]],
                                                     interval=0.5, timeout=60, unreachable_timeout=30))
    assert not result.get("failed"), result
    assert result["tasks"][0]["state"] == "succeeded"
    stats = sim.stats("bmc")
    assert stats["reboots"] == 1
    # The reboot wiped the first session: the module logged in again and logged that one out.
    assert stats["sessions_created"] == 2 and stats["sessions_deleted"] == 1 and stats["sessions_open"] == 0


def test_outage_longer_than_unreachable_timeout_fails_clearly(sim, ansible):
    sim.control("bmc", "config", {"reboot_seconds": 8})
    # The reboot comes at half the duration, counted from the module's first read: it has seen the task running.
    task = sim.create_tasks("bmc", 1, scenario="reboot", duration=8, hold=True)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[task["id"]],
                                                     interval=0.5, max_interval=1, timeout=60, unreachable_timeout=2))
    clean(result)
    assert result["failed"] and not result["timed_out"]
    assert "unreachable for" in result["msg"] and "connection refused" in result["msg"]
    assert result["tasks"][0]["state"] == "running"  # the last state that was seen


def test_repeated_runs_never_exhaust_the_session_table(sim, ansible):
    sim.control("bmc", "config", {"session_limit": 2})
    task = sim.create_tasks("bmc", 1, scenario="success", duration=0.1)[0]
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[task["id"]],
                                                      auth_method="session")] * 6)
    assert all(not r.get("failed") for r in results), results
    stats = sim.stats("bmc")
    assert stats["sessions_created"] == 6 and stats["sessions_open"] == 0


def test_full_session_table(sim, ansible):
    sim.control("bmc", "config", {"session_limit": 1})
    held = requests.post(sim.url("bmc", "/redfish/v1/SessionService/Sessions"), verify=sim.ca, timeout=10,
                         json={"UserName": "admin", "Password": PASSWORD})
    assert held.status_code == 201
    task = sim.create_tasks("bmc", 1, scenario="success", duration=0.1)[0]
    results, proc = ansible.cases("task_info", [
        dict(sim.connection("bmc"), task_ids=[task["id"]]),
        dict(sim.connection("bmc"), task_ids=[task["id"]], auth_method="session"),
    ])
    auto, session_only = results
    assert auto["tasks"][0]["state"] == "succeeded"
    # (ansible-core before 2.19 wraps warnings at the terminal width)
    assert "used HTTP Basic authentication instead" in " ".join((proc.stdout + proc.stderr).split())
    clean(session_only)
    assert session_only["failed"] and "cannot log in" in session_only["msg"]
    assert "HTTP 503" in session_only["msg"]
    assert sim.stats("bmc")["sessions_open"] == 1  # only the one this test holds


def test_check_mode_looks_once_and_tolerates_ids_not_started(sim, ansible):
    task = sim.create_tasks("bmc", 1, scenario="stuck", duration=1)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[task["id"], "JID_000000000000"],
                                                     interval=1, timeout=600), check=True)
    assert not result.get("failed"), result
    assert result["polls"] == 1 and result["msg"].startswith("check mode: looked once and did not wait.")
    assert [t["found"] for t in result["tasks"]] == [True, False]
    assert sim.no_session_left()


def test_unknown_ids(sim, ansible):
    task = sim.create_tasks("bmc", 1, scenario="success", duration=0.1)[0]
    args = dict(sim.connection("bmc"), task_ids=[task["id"], "nope-1", "nope-2"])
    results, _proc = ansible.cases("task_info", [args, dict(args, missing_ok=True)])
    strict, lenient = results
    clean(strict)
    assert strict["failed"] and "no such tasks: nope-1, nope-2" in strict["msg"]
    expected = [(True, "succeeded"), (False, "unknown"), (False, "unknown")]
    assert [(t["found"], t["state"]) for t in lenient["tasks"]] == expected
    waited, _proc = ansible.module("task_wait", dict(args, interval=0.5, timeout=10))
    clean(waited)
    assert waited["failed"] and "redfish does not know these tasks: nope-1, nope-2" in waited["msg"]
    assert sim.no_session_left()


def test_listing_with_filters_and_vendor_flavours(sim, ansible):
    sim.create_tasks("idrac", 1, scenario="critical", duration=0.1)
    sim.create_tasks("idrac", 1, scenario="stuck", duration=1)
    results, _proc = ansible.cases("task_info", [
        dict(sim.connection("idrac"), filters={"state": ["failed"]}, include_raw=True),
        dict(sim.connection("idrac"), filters={"state": ["running", "pending"], "kind": ["firmware_update"]}),
        dict(sim.connection("cimc"), filters={"kind": ["firmware_update"]}),
    ])
    failed, running, cimc = results
    assert [t["vendor_state"] for t in failed["tasks"]] == ["Completed"]  # Completed + Critical = failed
    assert failed["tasks"][0]["id"].startswith("JID_") and failed["tasks"][0]["raw"]["TaskStatus"] == "Critical"
    assert [t["state"] for t in running["tasks"]] == ["running"]
    states = {t["id"]: (t["state"], t["percent"]) for t in cimc["tasks"]}
    # the empty peer-CMC slot ("Starting (0%)", FWVersion N/A) is idle, not an update at 0 %
    assert states["PeerCMCFwUpdate"] == ("succeeded", None) and states["CIMCFwUpdate"] == ("succeeded", 100)
    assert sim.no_session_left("idrac", "cimc")


def test_idrac_job_uri_and_scheduled_state(sim, ansible):
    job = sim.create_tasks("idrac", 1, scenario="stuck", duration=1)[0]
    jobs_uri = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + job["id"]
    result, _proc = ansible.module("task_wait", dict(sim.connection("idrac"), task_ids=[jobs_uri],
                                                     states=["running"], interval=0.5, timeout=20))
    assert not result.get("failed"), result
    assert result["tasks"][0]["state"] == "running" and result["tasks"][0]["kind"] == "firmware_update"


def test_cimc_firmware_update_through_its_oem_status(sim, ansible):
    sim.control("cimc", "config", {"duration": 2})
    started = requests.post(sim.url("cimc", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"),
                            auth=("admin", PASSWORD), verify=sim.ca, timeout=10,
                            json={"ImageURI": "http://repo.example.com/cimc.bin"})
    assert started.status_code == 202
    result, _proc = ansible.module("task_wait", dict(sim.connection("cimc"), task_ids=["CIMCFwUpdate"],
                                                     interval=0.5, timeout=30))
    assert not result.get("failed"), result
    task = result["tasks"][0]
    assert (task["state"], task["percent"], task["vendor_state"]) == ("succeeded", 100, "Success (100%)")


def test_task_monitor_deleted_after_completion(sim, ansible):
    # A task monitor that answers 204 once and then 404 is a success when the 204 is seen...
    # (long enough that the first read sees it running: a 204 at the first read, with its Task gone, proves nothing)
    task = sim.create_tasks("bmc", 1, scenario="delete", duration=2, hold=True)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[task["monitor_uri"]],
                                                     interval=0.3, timeout=30))
    assert not result.get("failed"), result["msg"]
    assert result["tasks"][0]["state"] == "succeeded"

    # ... but a task seen running that then disappears (here: the BMC is reset under the module, after the
    # module's first read of the monitor) is reported as gone and fails the wait: never a success.
    task = sim.create_tasks("bmc", 1, scenario="stuck", duration=30)[0]
    stop = threading.Event()

    def reset_after_first_read():
        while not stop.is_set() and not sim.stats("bmc")["requests"].get("GET " + task["monitor_uri"]):
            time.sleep(0.05)
        if not stop.is_set():
            sim.control("bmc", "reset")

    thread = threading.Thread(target=reset_after_first_read, daemon=True)
    thread.start()
    try:
        result, _proc = ansible.module("task_wait", dict(sim.connection("bmc"), task_ids=[task["monitor_uri"]],
                                                         interval=1, timeout=30))
    finally:
        stop.set()
        thread.join()
    clean(result)
    assert result["failed"] and result["tasks"][0]["state"] == "unknown"
    # The reset forgot the session and the task, as a restart does: the task is reported lost in it.
    texts = [m["text"] for m in result["tasks"][0]["messages"]]
    assert "the task was seen earlier in this run and is gone now; its outcome is unknown" in texts
    assert "the task was lost when the BMC restarted" in result["msg"] and "outcome is unknown" in result["msg"]
    assert result["tasks"][0]["lost"]["restarted"] is True
    assert sim.no_session_left()


def test_secrets_never_printed(sim, ansible):
    task = sim.create_tasks("bmc", 1, scenario="fail", duration=0.1)[0]
    module_args = dict(platform="redfish", host=sim.host("bmc"), ca_path=sim.ca, task_ids=[task["id"]],
                       interval=0.5, timeout=5)
    extra = {"module_name": "task_wait", "result_file": str(ansible.tmp_path / "r.json"), "module_args": module_args}
    proc = ansible.playbook("module_call.yml", extra, verbosity=3,
                            env={"TASKSTATUS_PASSWORD": PASSWORD, "TASKSTATUS_USERNAME": "admin"})
    assert proc.returncode == 0
    output = proc.stdout + proc.stderr + (ansible.tmp_path / "r.json").read_text()
    assert "1 of 1 tasks failed" in output  # the env fallback logged in
    assert PASSWORD not in output
    assert sim.no_session_left()
