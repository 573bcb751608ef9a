"""The Redfish vendor flavours do what the real services do, from public evidence.

- dell: dell/iDRAC-Redfish-Scripting#160 (SimpleUpdate's Location is TaskService/Tasks/JID_...; the
  finished task leaves TaskService after seconds, 10 minutes from iDRAC 5.00; the job stays),
  dell/dellemc-openmanage-ansible-modules#420 (the job queue under Managers/iDRAC.Embedded.1/Jobs).
- cisco: the CIMC seed (data/cisco_cimc_tasks.json): Location is the fixed task slot, which answers
  200 at once while TaskState stays stale and Oem.Cisco.UpdateStatus moves.
- jobservice: DMTF Job schema (Job_v1.xml) and the Update registry's OperationTransitionedToJob.
- openbmc: bmcweb redfish-core/lib/task.hpp and update_service.hpp (tasks in memory from 0; monitor
  202, then 204 once, then 404; "as firmware update often results in a reboot, the task may never
  complete"); FirmwareInventory as bmcweb's sw_utils shows it.
"""

import re
import socket

TASKS = "/redfish/v1/TaskService/Tasks"
DELL_JOBS = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs"
JOBS = "/redfish/v1/JobService/Jobs"


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True


# ---- Dell iDRAC -----------------------------------------------------------------------


def test_dell_simple_update_is_an_empty_202_with_the_task_uri(client):
    c = client("dell")
    resp = c.simple_update()
    assert resp.status_code == 202 and resp.content == b"" and "Content-Type" not in resp.headers
    location = resp.headers["Location"]
    assert re.fullmatch(TASKS + r"/JID_\d{12}", location)
    task = c.get(location).json()
    assert task["@odata.id"] == location and task["Oem"]["Dell"]["JobType"] == "FirmwareUpdate"


def test_dell_finished_task_leaves_task_service_but_the_job_stays(client, wait):
    c = client("dell")
    c.config(task_retention=0.3, duration=0.2)
    location = c.simple_update().headers["Location"]
    jid = location.rsplit("/", 1)[-1]
    gone = wait(lambda: c.get(location).status_code == 404 or None, timeout=5)
    assert gone
    assert c.get(TASKS).json()["Members"] == []
    job = c.get(DELL_JOBS + "/" + jid).json()
    assert (job["JobState"], job["PercentComplete"], job["Message"]) == ("Completed", 100, "Job completed successfully.")
    assert [m["@odata.id"] for m in c.get(DELL_JOBS).json()["Members"]] == [DELL_JOBS + "/" + jid]
    manager = c.get("/redfish/v1/Managers/iDRAC.Embedded.1").json()  # reachable from the service root
    assert manager["Links"]["Oem"]["Dell"]["Jobs"]["@odata.id"] == DELL_JOBS
    members = c.get("/redfish/v1/Managers").json()["Members"]
    assert members == [{"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1"}]


def test_dell_keeps_finished_tasks_ten_minutes_by_default(client):
    c = client("dell")
    made = c.new_task(duration=0, started_ago=590)  # ended 590 s ago: still listed
    assert c.get(made["task_uri"]).status_code == 200
    old = c.new_task(duration=0, started_ago=601)
    assert c.get(old["task_uri"]).status_code == 404
    assert c.get(DELL_JOBS + "/" + old["id"]).json()["JobState"] == "Completed"


def test_task_retention_is_a_knob_of_every_flavour(client):
    c = client("gen")
    old = c.new_task(duration=0, started_ago=10_000)
    assert c.get(old["task_uri"]).status_code == 200  # generic: kept until reset
    c.config(task_retention=5)
    assert c.get(old["task_uri"]).status_code == 404
    assert c.get(old["monitor_uri"]).status_code == 404


def test_dell_a_running_task_is_never_removed(client):
    c = client("dell")
    c.config(task_retention=0)
    made = c.new_task(scenario="stuck", duration=0.1, started_ago=100)
    assert c.get(made["task_uri"]).json()["TaskState"] == "Running"


# ---- Cisco CIMC -------------------------------------------------------------------------


def test_cisco_location_answers_200_at_once_with_a_stale_task_state(client, wait):
    c = client("cisco")
    c.config(duration=3)
    resp = c.simple_update()
    slot = resp.headers["Location"]
    assert slot == TASKS + "/CIMCFwUpdate" and "TaskMonitor" not in resp.json()
    first = c.get(slot)
    assert first.status_code == 200  # not 202: a task-monitor client stops here, after one poll
    assert first.json()["TaskState"] == "Completed"
    running = wait(lambda: re.fullmatch(r"In Progress \(\d+%\)",
                                        c.get(slot).json()["Oem"]["Cisco"]["UpdateStatus"]), timeout=5)
    assert running


# ---- a DMTF JobService ----------------------------------------------------------------


def test_jobservice_update_hands_over_to_a_job(client, wait):
    c = client("jobs")
    c.config(duration=1)
    resp = c.simple_update()
    assert resp.status_code == 202
    monitor = resp.headers["Location"]
    task = resp.json()
    assert monitor == task["TaskMonitor"] == "/redfish/v1/TaskService/TaskMonitors/" + task["Id"]
    assert (task["TaskState"], task["PercentComplete"]) == ("Completed", 100)
    handed = task["Messages"][-1]
    assert handed["MessageId"] == "Update.1.1.OperationTransitionedToJob"
    job_uri = handed["MessageArgs"][0]
    assert re.fullmatch(JOBS + r"/\d+", job_uri)
    final = c.get(monitor)
    assert final.status_code == 200  # the request is done; the update is not
    assert final.json()["@Message.ExtendedInfo"][0]["MessageArgs"] == [job_uri]
    job = c.get(job_uri).json()
    assert job["@odata.type"] == "#Job.v1_2_5.Job" and job["JobState"] in ("New", "Running")
    assert job["Payload"]["TargetUri"] == "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
    done = wait(lambda: c.get(job_uri).json()["JobState"] == "Completed" or None, timeout=5)
    assert done
    job = c.get(job_uri).json()
    assert (job["JobStatus"], job["PercentComplete"]) == ("OK", 100) and job["EndTime"]
    assert job["Messages"][-1]["MessageId"] == "Update.1.1.UpdateSuccessful"
    service = c.get("/redfish/v1/JobService").json()
    assert service["Jobs"]["@odata.id"] == JOBS
    assert c.get("/redfish/v1", auth=False).json()["JobService"]["@odata.id"] == "/redfish/v1/JobService"


def test_jobservice_scenarios(client):
    c = client("jobs")
    expected = {"fail": ("Exception", "Critical"), "cancel": ("Cancelled", "Warning"),
                "critical": ("Completed", "Critical"), "success": ("Completed", "OK")}
    for scenario, (state, status) in expected.items():
        made = c.new_task(scenario=scenario, duration=0)
        assert made["task_uri"].startswith(JOBS + "/")
        job = c.get(made["task_uri"]).json()
        assert (job["JobState"], job["JobStatus"]) == (state, status), scenario
        assert c.get(made["monitor_uri"]).status_code == 200
    stuck = c.new_task(scenario="stuck", duration=0.1, started_ago=10)
    assert c.get(stuck["task_uri"]).json()["JobState"] == "Running"
    gone = c.new_task(scenario="delete", duration=0)
    assert c.get(gone["task_uri"]).status_code == 404
    listed = c.get(JOBS, params={"$expand": "."}).json()["Members"]
    assert len(listed) == 5 and all(m["@odata.type"] == "#Job.v1_2_5.Job" for m in listed)
    assert len(c.get(TASKS).json()["Members"]) == 6  # one hand-off Task per job, the deleted job's too


# ---- OpenBMC (bmcweb) -------------------------------------------------------------------


def test_openbmc_task_ids_count_from_zero_and_the_monitor_gives_204_once(client, wait):
    c = client("obmc")
    first = c.new_task(kind="config_export", duration=0.3)
    second = c.new_task(kind="config_export", duration=0.3)
    assert (first["id"], second["id"]) == ("0", "1")
    running = c.get(first["monitor_uri"])
    assert running.status_code == 202 and running.json()["Name"] == "Task 0"
    assert running.json()["@odata.type"] == "#Task.v1_4_3.Task"
    wait(lambda: c.get(first["task_uri"]).json()["TaskState"] == "Completed", timeout=5)
    assert c.get(first["monitor_uri"]).status_code == 204
    assert c.get(first["monitor_uri"]).status_code == 404
    task = c.get(first["task_uri"]).json()
    assert task["TaskState"] == "Completed" and "TaskMonitor" not in task  # the Task stays until a reboot


def test_openbmc_failed_update_is_exception_warning_and_no_reboot(client):
    c = client("obmc")
    c.config(scenario="fail", duration=0)
    resp = c.simple_update()
    assert resp.status_code == 202 and resp.headers["Location"] == "/redfish/v1/TaskService/TaskMonitors/0"
    task = c.get(TASKS + "/0").json()
    assert (task["TaskState"], task["TaskStatus"]) == ("Exception", "Warning")
    assert task["Messages"][-1]["MessageId"] == "TaskEvent.1.0.TaskAborted"
    images = c.get("/redfish/v1/UpdateService/FirmwareInventory", params={"$expand": "."}).json()["Members"]
    assert sorted(i["Status"]["State"] for i in images) == ["Disabled", "Enabled"]
    assert c.stats()["reboots"] == 0


def test_openbmc_successful_update_ends_in_a_reboot_that_forgets_the_task(client, wait):
    c = client("obmc")
    port = c.device.port
    c.config(duration=1.0, reboot_seconds=0.8)
    manager = c.get("/redfish/v1/Managers/bmc").json()
    old_version, old_image = manager["FirmwareVersion"], manager["Links"]["ActiveSoftwareImage"]["@odata.id"]
    resp = c.simple_update("http://192.0.2.1/obmc-phosphor-image.static.mtd.tar")
    assert resp.status_code == 202 and resp.json()["Id"] == "0"
    task_states, image_states = set(), set()

    def poll():
        try:
            answer = c.get(TASKS + "/0", timeout=2)
            if answer.status_code != 200:
                return True
            task_states.add(answer.json()["TaskState"])
            images = c.get("/redfish/v1/UpdateService/FirmwareInventory", params={"$expand": "."}, timeout=2)
            image_states.add(tuple(sorted(m["Status"]["State"] for m in images.json()["Members"])))
        except (OSError, ValueError):  # the reboot cut this poll short
            return True
        return refused(port)

    wait(poll, timeout=10, interval=0.05)
    assert task_states and task_states <= {"New", "Running"}  # never Completed: the reboot ends it
    assert ("Enabled", "Updating") in image_states  # the new image shows while it is written
    wait(lambda: not refused(port), timeout=10)
    c.http.close()  # the kept-alive connection died with the reboot
    assert c.get(TASKS + "/0").status_code == 404  # memory is gone
    assert c.get(TASKS).json()["Members"] == []
    manager = c.get("/redfish/v1/Managers/bmc").json()
    new_image = manager["Links"]["ActiveSoftwareImage"]["@odata.id"]
    assert manager["FirmwareVersion"] != old_version and new_image != old_image
    software = c.get(new_image).json()
    assert software["Version"] == manager["FirmwareVersion"] and software["Status"]["State"] == "Enabled"
    assert c.get(old_image).status_code == 404
    assert c.new_task(kind="config_export")["id"] == "0"  # counting starts again
    assert c.stats()["reboots"] == 1


def test_openbmc_reboot_mid_update_loses_the_task_and_keeps_the_old_version(client, wait):
    c = client("obmc")
    port = c.device.port
    version = c.get("/redfish/v1/Managers/bmc").json()["FirmwareVersion"]
    c.config(scenario="reboot", duration=0.6, reboot_seconds=0.5)
    c.simple_update()
    wait(lambda: refused(port), timeout=5, interval=0.02)
    wait(lambda: not refused(port), timeout=10)
    c.http.close()
    assert c.get(TASKS + "/0").status_code == 404
    assert c.get("/redfish/v1/Managers/bmc").json()["FirmwareVersion"] == version


def test_openbmc_any_reboot_forgets_tasks(client, wait):
    c = client("obmc")
    port = c.device.port
    made = c.new_task(scenario="stuck", kind="config_export")
    c.config(reboot_now={"seconds": 0.3})
    wait(lambda: refused(port), timeout=5, interval=0.02)
    wait(lambda: not refused(port), timeout=10)
    c.http.close()
    assert c.get(made["task_uri"]).status_code == 404


def test_other_flavours_keep_tasks_across_a_reboot(client, wait):
    c = client("gen")
    port = c.device.port
    made = c.new_task(scenario="stuck")
    c.config(reboot_now={"seconds": 0.3})
    wait(lambda: refused(port), timeout=5, interval=0.02)
    wait(lambda: not refused(port), timeout=10)
    c.http.close()
    assert c.get(made["task_uri"]).json()["TaskState"] == "Running"


def test_every_flavour_runs_every_scenario(client, wait):
    """success/fail/cancel/critical/stuck end (or not) as named on each flavour (reboot/delete: above)."""
    ends = {"success": "ok", "fail": "bad", "cancel": "bad", "critical": "bad", "stuck": "running"}
    for vendor in ("gen", "dell", "cisco", "jobs", "obmc"):
        c = client(vendor)
        for scenario, end in ends.items():
            kind = "config_export" if vendor in ("obmc", "cisco") else "firmware_update"
            made = c.new_task(scenario=scenario, duration=0.1, kind=kind, started_ago=1)
            body = c.get(made["task_uri"]).json()
            state = body.get("TaskState") or body.get("JobState")
            health = body.get("TaskStatus") or body.get("JobStatus")
            if vendor == "cisco":
                word = body["Oem"]["Cisco"]["ExportStatus"]
                got = "ok" if word == "Completed Successfully" else "running" if "Progress" in word else "bad"
            elif vendor == "dell":
                job = body["Oem"]["Dell"]["JobState"]
                got = {"Completed": "ok", "Running": "running"}.get(job, "bad")
            else:
                got = "running" if state == "Running" else "ok" if (state, health) == ("Completed", "OK") else "bad"
            assert got == end, (vendor, scenario, body)
        c.sim_post("reset")
