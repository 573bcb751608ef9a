"""The Redfish simulator over real HTTPS: auth, sessions, tasks, monitors,
scenarios, bursts, canned answers, vendor flavours."""

import re
import socket
import time

import pytest
import requests

SESSIONS = "/redfish/v1/SessionService/Sessions"
TASKS = "/redfish/v1/TaskService/Tasks"


def assert_redfish_error(resp, status):
    """A Redfish error answer: one registry message, whose MessageId is also the error's code."""
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json") and resp.headers["OData-Version"] == "4.0"
    body = resp.json()
    info = body["error"]["@Message.ExtendedInfo"]
    assert len(info) == 1 and re.fullmatch(r"[A-Za-z]+\.\d+\.\d+\.\w+", info[0]["MessageId"]), info
    assert body["error"]["code"] == info[0]["MessageId"]
    assert body["error"]["message"] == info[0]["Message"]
    assert info[0]["MessageSeverity"] in ("OK", "Warning", "Critical")
    return body


# ---- service root, auth --------------------------------------------------


def test_service_root_needs_no_auth(client):
    c = client("gen")
    assert c.get("/redfish", auth=False).json() == {"v1": "/redfish/v1/"}
    root = c.get("/redfish/v1", auth=False).json()
    assert root["ProtocolFeaturesSupported"]["ExpandQuery"] == {
        "ExpandAll": True,
        "Levels": True,
        "MaxLevels": 3,
        "Links": True,
        "NoLinks": True,
    }
    for link in ("AccountService", "SessionService", "UpdateService"):
        assert root[link]["@odata.id"] == "/redfish/v1/" + link
    assert root["Tasks"]["@odata.id"] == "/redfish/v1/TaskService"  # ServiceRoot names its TaskService link Tasks
    assert "TaskService" not in root
    assert c.get("/redfish/v1/", auth=False).status_code == 200


@pytest.mark.parametrize("path", ["/redfish/v1/TaskService", TASKS, "/redfish/v1/UpdateService", "/redfish/v1/nope"])
def test_401_without_auth(client, path):
    c = client("gen")
    resp = c.get(path, auth=False)
    body = assert_redfish_error(resp, 401)
    assert body["error"]["@Message.ExtendedInfo"][0]["MessageId"] == "Base.1.22.NoValidSession"
    assert c.get(path, auth=False, headers={"X-Auth-Token": "bogus"}).status_code == 401
    assert c.stats()["logins_failed"] == 0


def test_basic_auth(client):
    c = client("gen")
    assert c.get("/redfish/v1/TaskService").json()["Tasks"]["@odata.id"] == TASKS
    assert_redfish_error(c.get("/redfish/v1/TaskService", auth=("admin", "wrong")), 401)
    assert c.stats()["logins_failed"] == 1
    assert_redfish_error(c.get("/redfish/v1/nope"), 404)


def test_sessions_limit_and_counters(client):
    c = client("gen")
    made = [c.login() for unused in range(4)]
    token, location = made[0]
    assert re.fullmatch(SESSIONS + r"/\w+", location)
    # the fifth hits the BMC's session limit
    resp = c.post(SESSIONS, auth=False, json={"UserName": "admin", "Password": "password"})
    body = assert_redfish_error(resp, 503)
    assert body["error"]["@Message.ExtendedInfo"][0]["MessageId"] == "Base.1.22.SessionLimitExceeded"
    listing = c.get(SESSIONS, auth=False, headers={"X-Auth-Token": token}).json()
    assert listing["Members@odata.count"] == 4
    assert c.get(location, auth=False, headers={"X-Auth-Token": token}).json()["UserName"] == "admin"
    # bad credentials
    resp = c.post(SESSIONS, auth=False, json={"UserName": "admin", "Password": "nope"})
    assert_redfish_error(resp, 401)
    assert c.post(SESSIONS, auth=False, data="{not json", headers={"Content-Type": "application/json"}).status_code == 400
    # logout all
    for tok, loc in made:
        assert c.delete(loc, auth=False, headers={"X-Auth-Token": tok}).status_code == 204
    assert c.get("/redfish/v1/TaskService", auth=False, headers={"X-Auth-Token": token}).status_code == 401
    stats = c.stats()
    assert stats["sessions_open"] == 0
    assert stats["sessions_created"] == 4
    assert stats["sessions_deleted"] == 4
    assert stats["logins_failed"] == 1
    assert stats["requests"]["POST " + SESSIONS] == 7  # 4 + limit + bad password + bad JSON
    assert "GET /_sim/stats" not in stats["requests"]


def test_session_limit_configurable(client):
    c = client("dell")
    c.config(session_limit=1)
    c.login()
    assert c.post(SESSIONS, auth=False, json={"UserName": "admin", "Password": "password"}).status_code == 503
    assert c.stats()["sessions_open"] == 1


# ---- task monitors and scenarios ------------------------------------------


def poll_monitor(c, monitor, timeout=5.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = c.get(monitor)
        seen.append(resp.status_code)
        if resp.status_code != 202:
            return resp, seen
        assert resp.headers["Retry-After"] == "1"
        assert resp.headers["Location"] == monitor
        assert resp.json()["TaskState"] in ("New", "Running")
        time.sleep(0.1)
    raise AssertionError("monitor stayed 202: %s" % seen)


def test_simple_update_success(client, wait):
    c = client("gen")
    update = c.get("/redfish/v1/UpdateService").json()
    target = update["Actions"]["#UpdateService.SimpleUpdate"]["target"]
    resp = c.post(target, json={"ImageURI": "http://192.0.2.1/bmc.bin", "TransferProtocol": "HTTP"})
    assert resp.status_code == 202
    monitor = resp.headers["Location"]
    task = resp.json()
    assert monitor == task["TaskMonitor"] == "/redfish/v1/TaskService/TaskMonitors/" + task["Id"]
    assert task["TaskState"] == "New" and task["PercentComplete"] == 0
    assert task["Payload"]["TargetUri"] == target and task["Payload"]["HttpOperation"] == "POST"
    assert "bmc.bin" in task["Payload"]["JsonBody"]
    running = wait(lambda: c.get(task["@odata.id"]).json()["TaskState"] == "Running" or None, timeout=2)
    assert running
    final, seen = poll_monitor(c, monitor)
    assert seen[0] == 202
    assert final.status_code == 200
    assert final.json()["@Message.ExtendedInfo"][0]["MessageId"] == "Update.1.1.UpdateSuccessful"
    done = c.get(task["@odata.id"]).json()
    assert (done["TaskState"], done["TaskStatus"], done["PercentComplete"]) == ("Completed", "OK", 100)
    assert done["EndTime"] >= done["StartTime"]
    assert c.get(monitor).status_code == 200  # stays answerable
    assert c.get(TASKS + "/999").status_code == 404
    assert c.get("/redfish/v1/TaskService/TaskMonitors/999").status_code == 404
    bad = c.post(target, json={"TransferProtocol": "HTTP"})
    assert_redfish_error(bad, 400)


def test_fail_gives_500_with_message(client):
    c = client("gen")
    c.config(scenario="fail")
    resp = c.simple_update()
    final = poll_monitor(c, resp.headers["Location"])[0]
    body = assert_redfish_error(final, 500)
    task = c.get(resp.json()["@odata.id"]).json()
    assert (task["TaskState"], task["TaskStatus"]) == ("Exception", "Critical")
    last = task["Messages"][-1]
    assert last["MessageSeverity"] == "Critical" and last["MessageId"] and last["Message"]
    assert body["error"]["message"] == last["Message"]


def test_scenario_list_is_consumed(client):
    c = client("gen")
    c.config(scenario=["fail", "cancel"], duration=0)
    first = c.simple_update().json()["Id"]
    second = c.simple_update().json()["Id"]
    third = c.simple_update().json()["Id"]
    states = [c.get(TASKS + "/" + i).json()["TaskState"] for i in (first, second, third)]
    assert states == ["Exception", "Cancelled", "Cancelled"]
    assert c.get(TASKS + "/" + second).json()["TaskStatus"] == "Warning"


def test_delete_scenario(client):
    c = client("gen")
    made = c.new_task(scenario="delete", duration=0.3, hold=True)  # its clock starts at the first read
    assert c.get(made["task_uri"]).status_code == 200
    time.sleep(0.4)
    assert c.get(made["monitor_uri"]).status_code == 204
    assert c.get(made["monitor_uri"]).status_code == 404
    assert_redfish_error(c.get(made["task_uri"]), 404)
    assert c.get(TASKS).json()["Members"] == []


def test_stuck_never_finishes(client):
    c = client("gen")
    made = c.new_task(scenario="stuck", duration=0.2, started_ago=100)
    task = c.get(made["task_uri"]).json()
    assert task["TaskState"] == "Running" and task["PercentComplete"] == 50
    assert c.get(made["monitor_uri"]).status_code == 202


def test_critical_is_completed_but_critical(client):
    c = client("gen")
    made = c.new_task(scenario="critical", duration=0)
    task = c.get(made["task_uri"]).json()
    assert (task["TaskState"], task["TaskStatus"]) == ("Completed", "Critical")
    assert task["Messages"][-1]["MessageSeverity"] == "Critical"
    assert c.get(made["monitor_uri"]).status_code == 500


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:  # queued just as the port closed: not an answer either
        return True


def test_reboot_during_update(client, wait):
    c = client("gen")
    port = c.device.port
    c.config(scenario="reboot", duration=0.6, reboot_seconds=0.8)
    token = c.login()[0]
    resp = c.simple_update()
    monitor = resp.headers["Location"]
    wait(lambda: refused(port), timeout=2, interval=0.02)  # at ~50 %: the port refuses connections
    with pytest.raises(requests.ConnectionError):
        c.get(monitor)
    wait(lambda: not refused(port), timeout=3, interval=0.05)  # back on the same port
    assert c.get("/redfish/v1/TaskService", auth=False, headers={"X-Auth-Token": token}).status_code == 401
    final = poll_monitor(c, monitor)[0]
    assert final.status_code == 200
    stats = c.stats()
    assert stats["sessions_open"] == 0 and stats["reboots"] == 1 and stats["sessions_deleted"] == 0


def test_held_reboot_task_reboots_on_its_own_clock(client, wait):
    # A test that holds a task (clock from the first read) must see the reboot after that read, however slowly
    # its client started: one CI run's ansible took longer than the reboot point to start and saw no reboot.
    c = client("gen")
    port = c.device.port
    c.config(reboot_seconds=0.5)
    task = c.new_task(scenario="reboot", duration=0.6, hold=True)
    time.sleep(1.0)  # well past the reboot point counted from creation
    assert c.stats()["reboots"] == 0 and not refused(port)
    assert c.get("/redfish/v1/TaskService/Tasks/%s" % task["id"]).status_code == 200  # the clock starts
    wait(lambda: refused(port), timeout=2, interval=0.02)
    c.http.close()
    wait(lambda: not refused(port), timeout=3)
    assert c.stats()["reboots"] == 1


def test_reboot_now(client, wait):
    c = client("dell")
    port = c.device.port
    c.config(reboot_now={"seconds": 0.5})
    wait(lambda: refused(port), timeout=1, interval=0.02)
    wait(lambda: not refused(port), timeout=3)
    c.http.close()  # the kept-alive connection died with the reboot, as in the test below
    assert c.get("/redfish/v1", auth=False).status_code == 200


def test_reset_while_rebooting_brings_device_back(sim, client, wait):
    c = client("gen")
    c.config(reboot_now={"seconds": 30})
    wait(lambda: refused(c.device.port), timeout=1, interval=0.02)
    sim.reset("gen")
    # The kept-alive connection of the config call died with the reboot: a client reconnects, so does this one
    # (reusing the dead socket answered "Remote end closed connection" in one CI run).
    c.http.close()
    assert c.get("/redfish/v1", auth=False).status_code == 200


# ---- bursts and canned answers ---------------------------------------------


def test_burst_429(client):
    c = client("gen")
    c.config(burst={"status": 429, "count": 2, "retry_after": 7})
    for unused in range(2):
        resp = c.get(TASKS)
        assert_redfish_error(resp, 429)
        assert resp.headers["Retry-After"] == "7"
    assert c.get(TASKS).status_code == 200
    assert c.stats()["requests"]["GET " + TASKS] == 3


def test_burst_503_applies_to_login(client):
    c = client("cisco")
    c.config(burst={"status": 503, "count": 1})
    resp = c.post(SESSIONS, auth=False, json={"UserName": "admin", "Password": "password"})
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
    assert c.stats()["sessions_created"] == 0


@pytest.mark.parametrize(
    "status,body,ctype",
    [
        (200, "<html><body>Login</body></html>", "text/html"),
        (200, '{"TaskState": "Runn', "application/json"),
        (200, "[1, 2, 3]", "application/json"),
        (500, '{"oops": true}', "application/json"),
    ],
)
def test_respond_canned(client, status, body, ctype):
    c = client("gen")
    made = c.new_task()
    c.config(respond={"path": made["task_uri"], "status": status, "body": body, "content_type": ctype})
    resp = c.get(made["task_uri"])
    assert (resp.status_code, resp.text, resp.headers["Content-Type"]) == (status, body, ctype)
    assert c.get(made["task_uri"]).json()["Id"] == made["id"]  # count defaults to 1


def test_respond_delay_and_count(client):
    c = client("gen")
    c.config(respond={"path": "/redfish/v1", "body": "{}", "delay": 0.6, "count": 2})
    with pytest.raises(requests.Timeout):
        c.get("/redfish/v1", auth=False, timeout=0.2)
    start = time.monotonic()
    assert c.get("/redfish/v1", auth=False).json() == {}
    assert time.monotonic() - start >= 0.5
    assert "Id" in c.get("/redfish/v1", auth=False).json()


def test_respond_drop_connection(client):
    c = client("gen")
    c.config(respond={"path": TASKS, "drop": True})
    with pytest.raises(requests.ConnectionError):
        c.get(TASKS)
    assert c.get(TASKS).status_code == 200


def test_config_rejects_unknown(client):
    c = client("gen")
    resp = c.raw("POST", "/_sim/config", json={"bogus": 1})
    assert resp.status_code == 400 and "bogus" in resp.json()["error"]
    resp = c.raw("POST", "/_sim/config", json={"scenario": "explode"})
    assert resp.status_code == 400
    assert c.raw("GET", "/_sim/config").json()["scenario"] == "success"


# ---- collections -----------------------------------------------------------


@pytest.mark.parametrize("expand", [".($levels=1)", "*", ".", "~"])
def test_expand_inlines_members(client, expand):
    c = client("gen")
    ids = [c.new_task(duration=0)["id"] for unused in range(3)]
    plain = c.get(TASKS).json()
    assert plain["Members"] == [{"@odata.id": TASKS + "/" + i} for i in ids]
    expanded = c.get(TASKS, params={"$expand": expand}).json()
    assert [m["Id"] for m in expanded["Members"]] == ids
    assert all(m["TaskState"] == "Completed" for m in expanded["Members"])
    assert expanded["Members@odata.count"] == 3


def test_expand_malformed_is_400(client):
    c = client("gen")
    assert_redfish_error(c.get(TASKS, params={"$expand": "bogus"}), 400)


def test_sim_tasks_many_and_ids(client):
    c = client("gen")
    for i in range(50):
        c.new_task(kind="config_export", duration=10)
    made = c.new_task(id="my task/1", kind="support_export", scenario="fail")
    assert made["task_uri"] == TASKS + "/my%20task%2F1"
    task = c.get(made["task_uri"]).json()
    assert task["Id"] == "my task/1"
    assert task["Payload"]["TargetUri"].endswith("LogService.CollectDiagnosticData")
    dup = c.raw("POST", "/_sim/tasks", json={"id": "my task/1"})
    assert dup.status_code == 409
    assert c.get(TASKS).json()["Members@odata.count"] == 51
    assert c.stats()["requests_total"] == 2
    c.sim_post("reset")
    assert c.get(TASKS).json()["Members"] == []
    assert c.stats()["requests_total"] == 1


# ---- vendors ---------------------------------------------------------------


def test_dell_jid_and_jobs(client, wait):
    c = client("dell")
    resp = c.simple_update()
    assert resp.status_code == 202 and resp.content == b""  # iDRAC: the Task URI in Location, no body
    task = c.get(resp.headers["Location"]).json()
    jid = task["Id"]
    assert resp.headers["Location"] == TASKS + "/" + jid
    assert re.fullmatch(r"JID_\d{12}", jid)
    dell = task["Oem"]["Dell"]
    assert dell["JobState"] == "Scheduled" and dell["JobType"] == "FirmwareUpdate"
    assert dell["PercentComplete"] == 0 and dell["Message"]
    job_uri = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + jid
    wait(lambda: c.get(job_uri).json()["JobState"] == "Running", timeout=2)
    wait(lambda: c.get(job_uri).json()["JobState"] == "Completed", timeout=3)
    job = c.get(job_uri).json()
    assert job["PercentComplete"] == 100 and job["Message"] == "Job completed successfully."
    assert c.get(TASKS + "/" + jid).json()["Oem"]["Dell"]["JobState"] == "Completed"
    jobs = c.get("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs", params={"$expand": "*"}).json()
    assert [m["Id"] for m in jobs["Members"]] == [jid]
    assert c.get("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_000000000000").status_code == 404


def test_dell_export_system_configuration(client):
    c = client("dell")
    action = "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Oem/EID_674_Manager.ExportSystemConfiguration"
    assert_redfish_error(c.post(action, json={"ExportFormat": "XML"}), 400)  # ShareParameters missing
    resp = c.post(action, json={"ExportFormat": "XML", "ShareParameters": {"Target": ["ALL"]}})
    assert resp.status_code == 202
    jid = resp.json()["Id"]
    assert resp.headers["Location"] == TASKS + "/" + jid
    task = c.get(TASKS + "/" + jid).json()
    assert task["Payload"]["TargetUri"] == action and task["Oem"]["Dell"]["JobType"] == "ExportConfiguration"


def test_dell_critical(client):
    c = client("dell")
    made = c.new_task(scenario="critical", duration=0)
    task = c.get(made["task_uri"]).json()
    assert (task["TaskState"], task["TaskStatus"]) == ("Completed", "Critical")
    assert task["Oem"]["Dell"]["JobState"] == "Failed"
    assert c.get("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + made["id"]).json()["JobState"] == "Failed"


def test_cisco_slots_and_oem_progress(client, wait):
    c = client("cisco")
    members = c.get(TASKS).json()["Members"]
    assert len(members) == 10
    slot = TASKS + "/CIMCFwUpdate"
    before = c.get(slot).json()
    assert before["Oem"]["Cisco"]["UpdateStatus"] == "Success (100%)"
    resp = c.simple_update()
    assert resp.status_code == 202
    assert resp.headers["Location"] == slot  # CIMC: the Task itself, no monitor
    assert resp.json()["Oem"]["Cisco"]["UpdateStatus"] == "Starting (0%)"
    assert c.simple_update().status_code == 409  # slot busy
    seen = set()

    def finished():
        task = c.get(slot).json()
        assert (task["TaskState"], task["TaskStatus"]) == ("Completed", "OK")  # stale, always
        seen.add(task["Oem"]["Cisco"]["UpdateStatus"])
        return task["Oem"]["Cisco"]["UpdateStatus"] == "Success (100%)"

    wait(finished, timeout=3, interval=0.03)
    assert any(re.fullmatch(r"In Progress \(\d{1,2}%\)", s) for s in seen), seen
    assert c.get(TASKS + "/PeerCMCFwUpdate").json()["Oem"]["Cisco"]["UpdateStatus"] == "Starting (0%)"


def test_cisco_fail(client):
    c = client("cisco")
    made = c.new_task(scenario="fail", duration=0)
    assert made["id"] == "CIMCFwUpdate"
    task = c.get(made["task_uri"]).json()
    assert task["TaskState"] == "Completed"
    assert re.fullmatch(r"Failed \(\d+%\)", task["Oem"]["Cisco"]["UpdateStatus"])
    export = c.new_task(kind="support_export", duration=0)
    assert c.get(export["task_uri"]).json()["Oem"]["Cisco"]["ExportStatus"] == "Completed Successfully"
    bad = c.raw("POST", "/_sim/tasks", json={"id": "NoSuchSlot"})
    assert bad.status_code == 400
