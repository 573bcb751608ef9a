"""task_wait through a whole firmware update on each Redfish vendor flavour, by ansible-playbook, over HTTPS.

The update is started the way a rollout starts it (SimpleUpdate, then the answer's ``Location`` or task id),
and the wait must end the way the vendor's BMC really ends it (docs/platforms/redfish.md):

- iDRAC: the finished task leaves TaskService (task_retention), the job stays in the job queue;
- JobService: the task hands the update over to a Job at once (OperationTransitionedToJob);
- OpenBMC: the update ends in a restart that forgets every task, and the new firmware runs afterwards;
- CIMC: the task slot answers 200 at once while its OEM status moves.

Every test ends with no session left open on the simulated BMC.
"""

import threading
import time

import pytest
import requests

from harness import PASSWORD, clean, reset_devices, running_simulator

FLAVOURS = {"idrac": "redfish:dell", "jobs": "redfish:jobservice", "obmc": "redfish:openbmc", "cimc": "redfish:cisco"}
UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
WAIT = dict(interval=0.5, max_interval=1, timeout=60, unreachable_timeout=30)


@pytest.fixture(scope="module")
def flavours_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, FLAVOURS, options=["--duration", "5", "--reboot-seconds", "1.5"])


@pytest.fixture
def sim(flavours_session):
    return reset_devices(flavours_session)


def start_update(sim, name, image="http://192.0.2.10/fw/image.bin"):
    """SimpleUpdate as a playbook's uri task sends it: ``(Location, the body's Id or None)``."""
    resp = requests.post(sim.url(name, UPDATE), json={"ImageURI": image}, auth=("admin", PASSWORD), verify=sim.ca,
                         timeout=10)
    assert resp.status_code == 202, resp.text
    body = resp.json() if resp.content else {}
    return resp.headers["Location"], body.get("Id")


def redfish_get(sim, name, path):
    resp = requests.get(sim.url(name, path), auth=("admin", PASSWORD), verify=sim.ca, timeout=10)
    resp.raise_for_status()
    return resp.json()


def asked(sim, name, path):
    return sim.stats(name)["requests"].get("GET " + path, 0)


# ---- Dell iDRAC ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("retention", [0, 0.2])
def test_idrac_update_whose_task_leaves_taskservice(sim, ansible, retention):
    # retention 0: the task leaves TaskService the moment it ends (older iDRAC firmware removes it within
    # seconds), so the wait sees it running and then never again: the job queue must answer for it.
    sim.control("idrac", "config", {"task_retention": retention})
    location, body = start_update(sim, "idrac")
    assert body is None and "/TaskService/Tasks/JID_" in location  # empty 202, the Task URI in Location
    jid = location.rsplit("/", 1)[-1]
    result, _proc = ansible.module("task_wait", dict(sim.connection("idrac"), task_ids=[location], **WAIT))
    assert not result.get("failed"), result["msg"]
    task = result["tasks"][0]
    assert (task["id"], task["state"], task["percent"], task["kind"]) == (location, "succeeded", 100, "firmware_update")
    assert task["message"] == "Job completed successfully."
    job = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + jid
    if retention == 0:
        assert asked(sim, "idrac", job) == 1 and task["url"].endswith(job)
        assert "TaskService no longer lists %s" % jid in task["messages"][0]["text"]
    assert sim.no_session_left("idrac")


@pytest.mark.parametrize("scenario,state,words", [
    ("success", "succeeded", "Job completed successfully."),
    ("critical", "failed", "the image is not valid for this system"),
    ("cancel", "failed", "Job was cancelled by the user."),  # an iDRAC job has no cancelled state
])
def test_idrac_jobs_finished_and_removed_before_the_wait(sim, ansible, scenario, state, words):
    sim.control("idrac", "config", {"task_retention": 0.2})
    made = sim.create_tasks("idrac", 1, scenario=scenario, duration=1, started_ago=5)[0]
    result, _proc = ansible.module("task_wait", dict(sim.connection("idrac"), task_ids=[made["id"]], **WAIT))
    clean(result)
    task = result["tasks"][0]
    assert (task["found"], task["state"]) == (True, state) and words in task["message"]
    assert bool(result.get("failed")) is (state != "succeeded")
    assert sim.no_session_left("idrac")


# ---- a DMTF JobService ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["monitor", "id"])
def test_jobservice_update_is_waited_for_as_its_job(sim, ansible, form):
    location, task_id = start_update(sim, "jobs")
    wanted = location if form == "monitor" else task_id
    result, _proc = ansible.module("task_wait", dict(sim.connection("jobs"), task_ids=[wanted], **WAIT))
    assert not result.get("failed"), result["msg"]
    task = result["tasks"][0]
    assert (task["id"], task["state"], task["percent"], task["vendor_state"]) == (wanted, "succeeded", 100, "Completed")
    assert task["url"].endswith("/redfish/v1/JobService/Jobs/1") and task["message"].startswith("Device 'BMC'")
    # The hand-off was followed once; every poll after that read the job, which ran for the whole update.
    assert asked(sim, "jobs", "/redfish/v1/JobService/Jobs/1") >= 3
    assert result["polls"] >= 3
    assert sim.no_session_left("jobs")


def test_jobservice_job_completed_critical_is_a_failure(sim, ansible):
    sim.control("jobs", "config", {"scenario": "critical"})
    location, _task_id = start_update(sim, "jobs")
    result, _proc = ansible.module("task_wait", dict(sim.connection("jobs"), task_ids=[location], **WAIT))
    clean(result)
    assert result["failed"] and not result["timed_out"]
    task = result["tasks"][0]
    assert (task["state"], task["vendor_state"]) == ("failed", "Completed")
    assert "Installation of image" in result["msg"] and "failed" in task["message"]
    assert sim.no_session_left("jobs")


# ---- OpenBMC (bmcweb) ----------------------------------------------------------------------------------------


def test_openbmc_update_lost_in_its_restart_onto_the_new_firmware(sim, ansible):
    before = redfish_get(sim, "obmc", "/redfish/v1/Managers/bmc")["FirmwareVersion"]
    location, _task_id = start_update(sim, "obmc")
    result, _proc = ansible.module("task_wait", dict(sim.connection("obmc"), task_ids=[location], **WAIT))
    clean(result)
    manager = redfish_get(sim, "obmc", "/redfish/v1/Managers/bmc")
    after = manager["FirmwareVersion"]
    assert after != before and sim.stats("obmc")["reboots"] == 1
    # Never a success it did not see: the wait fails, with a distinct, machine-readable outcome.
    assert result["failed"] and not result["timed_out"]
    task = result["tasks"][0]
    assert (task["state"], task["found"], task["name"], task["kind"]) == ("unknown", False, "Task 0", "firmware_update")
    assert task["lost"] == {"restarted": True, "manager": "/redfish/v1/Managers/bmc", "firmware_before": before,
                            "firmware_after": after, "firmware_changed": True,
                            "image": manager["Links"]["ActiveSoftwareImage"]["@odata.id"]}
    assert "now runs firmware %s (was %s)" % (after, before) in result["msg"]
    assert sim.no_session_left("obmc")


def test_openbmc_restart_that_keeps_the_old_firmware_is_no_success(sim, ansible):
    # The BMC restarts half way (4.4 s in: after the module's first read, even on a loaded machine), before the
    # image is applied.
    sim.control("obmc", "config", {"scenario": "reboot", "duration": 8})
    version = redfish_get(sim, "obmc", "/redfish/v1/Managers/bmc")["FirmwareVersion"]
    _location, task_id = start_update(sim, "obmc")
    result, _proc = ansible.module("task_wait", dict(sim.connection("obmc"), task_ids=[task_id], **WAIT))
    clean(result)
    assert result["failed"] and result["tasks"][0]["state"] == "unknown", result["msg"]
    lost = result["tasks"][0]["lost"]
    assert (lost["firmware_changed"], lost["firmware_before"], lost["firmware_after"]) == (False, version, version)
    assert "still runs firmware %s: the update did not take effect" % version in result["msg"]
    assert sim.no_session_left("obmc")


def test_openbmc_task_0_started_after_the_restart_is_not_the_lost_update(sim, ansible):
    stop = threading.Event()
    made = {}

    def start_another_task_when_back():
        # Another client starts a task as soon as the BMC is back: bmcweb gives it id 0 again.
        for _attempt in range(600):
            if stop.is_set():
                return
            try:
                if sim.stats("obmc")["reboots"] >= 1:
                    made.update(sim.create_tasks("obmc", 1, scenario="stuck", kind="config_export", duration=5)[0])
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=start_another_task_when_back, daemon=True)
    _location, task_id = start_update(sim, "obmc")
    thread.start()
    try:
        result, _proc = ansible.module("task_wait", dict(sim.connection("obmc"), task_ids=[task_id], **WAIT))
    finally:
        stop.set()
        thread.join()
    clean(result)
    assert made.get("id") == "0"
    assert result["failed"] and not result["timed_out"]
    task = result["tasks"][0]
    assert (task["state"], task["found"], task["lost"]["firmware_changed"]) == ("unknown", False, True)
    # Normally the wait reads Tasks/0 after the other task took it ("now names another task"); if it read
    # first, Tasks/0 was still free (404). Either way the stuck export is never taken for the update.
    assert task["kind"] == "firmware_update"
    assert sim.no_session_left("obmc")


def test_the_lost_update_is_an_outcome_a_playbook_can_act_on(sim, ansible):
    """The recipe of docs/platforms/redfish.md (targets/redfish_lost_update.yml): start the update, wait, and
    accept an update that the BMC lost in its restart only when it runs new firmware afterwards."""
    args = {"connection": sim.connection("obmc"), "wait": WAIT}
    proc = ansible.playbook("redfish_lost_update.yml", args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "new firmware is running: 2.16.0-dev-" in proc.stdout
    sim.control("obmc", "config", {"scenario": "reboot"})
    proc = ansible.playbook("redfish_lost_update.yml", args)
    assert proc.returncode != 0 and "still runs firmware" in proc.stdout, proc.stdout + proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    assert sim.stats("obmc")["reboots"] == 2 and sim.no_session_left("obmc")


# ---- Cisco CIMC ----------------------------------------------------------------------------------------------


def test_cimc_update_through_its_task_slot(sim, ansible):
    location, _task_id = start_update(sim, "cimc", "http://192.0.2.10/fw/cimc.bin")
    assert location == "/redfish/v1/TaskService/Tasks/CIMCFwUpdate"
    result, _proc = ansible.module("task_wait", dict(sim.connection("cimc"), task_ids=[location], **WAIT))
    assert not result.get("failed"), result["msg"]
    task = result["tasks"][0]
    assert (task["state"], task["percent"], task["vendor_state"]) == ("succeeded", 100, "Success (100%)")
    assert result["polls"] >= 3  # not done at the first 200: the OEM status said In Progress
    assert sim.no_session_left("cimc")
