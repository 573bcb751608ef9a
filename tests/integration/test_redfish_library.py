"""DMTF's own Redfish client library (PyPI ``redfish``, 3.4.x) drives every simulated Redfish flavour.

For each flavour the library logs in with a session, starts a SimpleUpdate, follows it with its
own task-monitor helper (``RestResponse.monitor`` while ``is_processing``, i.e. while the answer is
202) to the end, and logs out. The library runs in a venv of its own (tests/tools/peers/redfish.sh),
driven by the script below.

These tests document that the simulator speaks the protocol the library speaks, not that the
library is right: where its helper misreads a vendor, the assertions say what it really does
(on the CIMC, the iDRAC and the JobService flavour it reports the update done after one poll
while the update still runs, which is why task_wait reads these vendors its own way).
"""

import json
import os
import subprocess

import pytest

from harness import PASSWORD, running_simulator
from testlib import REPO

INSTALL = os.path.join(REPO, "tests", "tools", "peers", "redfish.sh")
FLAVOURS = {"generic": "redfish:generic", "dell": "redfish:dell", "cisco": "redfish:cisco",
            "jobservice": "redfish:jobservice", "openbmc": "redfish:openbmc"}

# Runs in the library's venv: argv = base URL, CA file, password, image URI; prints one JSON object.
DRIVER = r"""
import json, sys, time
import redfish

url, cafile, password, image = sys.argv[1:5]
out = {"polls": []}
client = redfish.redfish_client(base_url=url, username="admin", password=password, cafile=cafile,
                                default_prefix="/redfish/v1/", timeout=5, max_retry=1)
client.login(auth="session")
out["login"] = client.get_session_location() if hasattr(client, "get_session_location") else True
answer = client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate",
                     body={"ImageURI": image, "TransferProtocol": "HTTP"})
out["status"] = answer.status
out["location"] = answer.task_location
out["processing"] = answer.is_processing
deadline = time.monotonic() + 60
task = answer
if answer.is_processing:
    while time.monotonic() < deadline and len(out["polls"]) < 200:
        try:
            task = answer.monitor(client)  # the library's helper: GET the Location
        except Exception as exc:  # a BMC that reboots at the end of its own update
            out["polls"].append({"error": type(exc).__name__})
            time.sleep(0.3)
            continue
        body = task.dict if task.status in (200, 202) and task.read else {}
        out["polls"].append({"status": task.status, "TaskState": body.get("TaskState"),
                             "Oem": body.get("Oem"), "ExtendedInfo": body.get("@Message.ExtendedInfo")})
        if task.status == 401:  # the reboot took the session along: log in again, as a client must
            client.login(auth="session")
            continue
        if not task.is_processing:
            break
        time.sleep(min(task.retry_after or 1, 0.2))
out["final"] = task.status
client.logout()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def library_python():
    proc = subprocess.run([INSTALL], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "redfish.sh failed: %s" % proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def flavours(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, FLAVOURS, options=["--duration", "2", "--reboot-seconds", "1"])


def drive(library_python, flavours, name, image="http://192.0.2.10/fw/image.bin"):
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    proc = subprocess.run([library_python, "-c", DRIVER, flavours.url(name, ""), flavours.ca, PASSWORD, image],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def get(flavours, name, path):
    """A plain read with Basic credentials (the simulator's own view, not the library's)."""
    import requests

    resp = requests.get(flavours.url(name, path), auth=("admin", PASSWORD), verify=flavours.ca, timeout=10)
    return resp.json() if resp.content else None


def logged_out(flavours, name):
    stats = flavours.stats(name)
    return stats["sessions_created"] >= 1 and stats["sessions_open"] == 0


def test_generic_the_helper_follows_the_monitor_to_the_operation_result(library_python, flavours):
    out = drive(library_python, flavours, "generic")
    assert (out["status"], out["processing"]) == (202, True)
    assert out["location"].startswith("/redfish/v1/TaskService/TaskMonitors/")
    assert [p["status"] for p in out["polls"]][-1] == 200 and len(out["polls"]) >= 2
    assert {p["status"] for p in out["polls"][:-1]} == {202}
    assert out["polls"][-1]["ExtendedInfo"][0]["MessageId"] == "Update.1.1.UpdateSuccessful"
    task = get(flavours, "generic", out["location"].replace("TaskMonitors", "Tasks"))
    assert task["TaskState"] == "Completed"  # the helper ended when the update did
    assert logged_out(flavours, "generic")


def test_dell_the_helper_stops_at_once_on_the_task_uri(library_python, flavours):
    out = drive(library_python, flavours, "dell")
    # The iDRAC's 202 has no body and points at TaskService/Tasks/JID_..., which answers 200:
    # the library's helper takes that for the end after one poll, while the job still runs.
    assert (out["status"], out["processing"]) == (202, True)
    assert out["location"].startswith("/redfish/v1/TaskService/Tasks/JID_")
    assert [p["status"] for p in out["polls"]] == [200]
    assert out["polls"][0]["TaskState"] in ("New", "Running")
    jid = out["location"].rsplit("/", 1)[-1]
    job = get(flavours, "dell", "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + jid)
    assert job["JobState"] in ("Scheduled", "Running")  # not done when the helper said so
    assert logged_out(flavours, "dell")


def test_cisco_the_helper_calls_the_update_done_after_one_poll(library_python, flavours):
    out = drive(library_python, flavours, "cisco")
    # issue 11: the CIMC's Location is its task slot, which answers 200 at once with a stale TaskState;
    # DMTF's client calls the update done after one poll while Oem.Cisco.UpdateStatus says it is starting.
    assert (out["status"], out["location"]) == (202, "/redfish/v1/TaskService/Tasks/CIMCFwUpdate")
    assert [p["status"] for p in out["polls"]] == [200]
    poll = out["polls"][0]
    assert poll["TaskState"] == "Completed"
    assert poll["Oem"]["Cisco"]["UpdateStatus"] in ("Starting (0%)",) or "In Progress" in poll["Oem"]["Cisco"][
        "UpdateStatus"]
    assert logged_out(flavours, "cisco")


def test_jobservice_the_helper_ends_with_the_hand_off_to_the_job(library_python, flavours):
    out = drive(library_python, flavours, "jobservice")
    assert (out["status"], out["processing"]) == (202, True)
    assert [p["status"] for p in out["polls"]] == [200]
    handed = out["polls"][0]["ExtendedInfo"][0]
    assert handed["MessageId"] == "Update.1.1.OperationTransitionedToJob"
    # The request is done; the update now runs as the Job the message names (the helper stops here).
    job = get(flavours, "jobservice", handed["MessageArgs"][0])
    assert job["JobState"] in ("New", "Running")
    assert logged_out(flavours, "jobservice")


def test_openbmc_the_helper_meets_the_reboot_that_ends_the_update(library_python, flavours):
    before = get(flavours, "openbmc", "/redfish/v1/Managers/bmc")["FirmwareVersion"]
    out = drive(library_python, flavours, "openbmc")
    assert (out["status"], out["processing"]) == (202, True)
    assert out["location"] == "/redfish/v1/TaskService/TaskMonitors/0"
    statuses = [p.get("status", p.get("error")) for p in out["polls"]]
    assert statuses[0] == 202
    # 202s, then the BMC reboots into the new image (connection errors, a 401 for the lost session),
    # and the monitor it comes back with is gone: 404 ends the helper's loop, no success was ever seen.
    assert statuses[-1] == 404 and 200 not in statuses and 204 not in statuses, statuses
    assert any(isinstance(s, str) for s in statuses) or 401 in statuses, statuses
    after = get(flavours, "openbmc", "/redfish/v1/Managers/bmc")
    assert after["FirmwareVersion"] != before
    image = get(flavours, "openbmc", after["Links"]["ActiveSoftwareImage"]["@odata.id"])
    assert image["Version"] == after["FirmwareVersion"]
    assert flavours.stats("openbmc")["sessions_open"] == 0
