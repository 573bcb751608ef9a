"""Redfish payloads -> normalized tasks, table-driven, from real vendor documents.

Every task of the Cisco UCS S3260 CIMC seed and of the DMTF mockups is a
fixture here, read from ../shared, with its expected normalized result.
"""

import glob
import json
import os
import re

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _redfish_parse as _redfish
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse
from testlib import REPO, SHARED

SEED = os.path.join(SHARED, "seeds", "000_e1b7cd86100c7cc2.txt")
JOB_CSDL = os.path.join(REPO, "tests", "data", "redfish", "csdl", "Job_v1.xml")
MOCKUPS = os.path.join(SHARED, "specs", "redfish", "mockups")


def seed_tasks():
    """``{Id: payload}`` for each task block of the CIMC seed."""
    text = open(SEED, encoding="utf-8").read()
    blocks = re.findall(r"^## (/redfish/v1/TaskService/Tasks/\w+)\s*```(.*?)```", text, re.S | re.M)
    return {path.rsplit("/", 1)[1]: json.loads(body) for path, body in blocks}


# id: (state, percent, kind, vendor_state, message)
CIMC_EXPECTED = {
    "BMC1FwUpdate": ("succeeded", 100, "firmware_update", "Success (100%)", "Success (100%)"),
    "Bios1FwUpdate": ("succeeded", None, "firmware_update", "Completed", None),  # "None, OK": nothing ran
    "BMC1TechSupportExport": ("pending", None, "support_export", "New", None),
    "BMC1ImportConfig": ("succeeded", None, "config_import", "Completed Successfully", "Completed Successfully"),
    "BMC1ExportConfig": ("succeeded", None, "config_export", "Completed", None),
    "CIMCFwUpdate": ("succeeded", 100, "firmware_update", "Success (100%)", "Success (100%)"),
    # No firmware in the slot (FWVersion N/A): "Starting (0%)" is a placeholder, TaskState stands.
    "PeerCMCFwUpdate": ("succeeded", None, "firmware_update", "Completed",
                        "Starting (0%): no firmware in this slot (FWVersion N/A), nothing is running"),
    "CIMCTechSupportExport": ("pending", None, "support_export", "New", None),
    "CIMCImportConfig": ("succeeded", None, "config_import", "Completed Successfully", "Completed Successfully"),
    "CIMCExportConfig": ("succeeded", None, "config_export", "Completed", None),
}


def test_seed_has_the_ten_cimc_slots():
    assert sorted(seed_tasks()) == sorted(CIMC_EXPECTED)


@pytest.mark.parametrize("task_id", sorted(CIMC_EXPECTED))
def test_cimc_seed_task(task_id):
    payload = seed_tasks()[task_id]
    task = _redfish.parse_task(payload, task_id, "https://cimc" + payload["@odata.id"])
    state, percent, kind, vendor_state, msg = CIMC_EXPECTED[task_id]
    result = task.to_dict(include_raw=True)
    assert (result["state"], result["percent"], result["kind"], result["vendor_state"], result["message"]) == (
        state, percent, kind, vendor_state, msg)
    assert result["name"] == "Task " + task_id
    assert result["terminal"] == (state in ("succeeded", "failed", "cancelled"))
    assert result["raw"] is payload
    assert result["found"] is True


MOCKUP_EXPECTED = {
    # file: (id, state, percent, kind, started, ended, messages)
    "public-rackmount1/TaskService/Tasks/545/index.json": (
        "545", "succeeded", None, "other", "2012-03-07T14:44+06:00", "2012-03-07T14:45+06:00",
        [{"severity": "warning", "id": "Base.1.0.PropertyNotWritable",
          "text": "The property SKU is a read only property and cannot be assigned a value"}]),
    "public-pmem-configuration/TaskService/Tasks/1/index.json": (
        "2", "pending", None, "other", "2018-07-26T15:01:22Z", None, []),
    "public-pmem-configuration/TaskService/TaskMonitors/1/index.json": (
        "2", "running", None, "other", "2018-07-26T15:01:22Z", None, []),
}


def test_every_mockup_task_has_an_expectation():
    found = set()
    for path in glob.glob(os.path.join(MOCKUPS, "**", "index.json"), recursive=True):
        data = json.load(open(path, encoding="utf-8"))
        if "TaskState" in data:
            found.add(os.path.relpath(path, MOCKUPS))
    assert found == set(MOCKUP_EXPECTED)


@pytest.mark.parametrize("relpath", sorted(MOCKUP_EXPECTED))
def test_dmtf_mockup_task(relpath):
    data = json.load(open(os.path.join(MOCKUPS, relpath), encoding="utf-8"))
    task = _redfish.parse_task(data, data["Id"], data["@odata.id"])
    task_id, state, percent, kind, started, ended, messages = MOCKUP_EXPECTED[relpath]
    assert (task.id, task.state, task.percent, task.kind, task.started, task.ended) == (
        task_id, state, percent, kind, started, ended)
    assert task.messages == messages
    assert task.target == "/redfish/v1/Systems/InitialBoot/MemoryDomains/PMEM-2/MemoryChunks/" or task_id == "545"


def base_task(**overrides):
    data = {"@odata.id": "/redfish/v1/TaskService/Tasks/7", "@odata.type": "#Task.v1_7_4.Task",
            "Id": "7", "Name": "Task 7", "TaskState": "Running", "TaskStatus": "OK"}
    data.update(overrides)
    return data


# Every TaskState of the DMTF Task schema, and the TaskStatus rule.
TASK_STATE_TABLE = [
    ({"TaskState": "New"}, "pending"),
    ({"TaskState": "Pending"}, "pending"),
    ({"TaskState": "Starting"}, "running"),
    ({"TaskState": "Running"}, "running"),
    ({"TaskState": "Stopping"}, "running"),
    ({"TaskState": "Cancelling"}, "running"),
    ({"TaskState": "Suspended"}, "running"),
    ({"TaskState": "Interrupted"}, "running"),
    ({"TaskState": "Service"}, "running"),
    ({"TaskState": "Completed", "TaskStatus": "OK"}, "succeeded"),
    ({"TaskState": "Completed", "TaskStatus": "Warning"}, "succeeded"),
    ({"TaskState": "Completed", "TaskStatus": "Critical"}, "failed"),
    ({"TaskState": "Exception", "TaskStatus": "Critical"}, "failed"),
    ({"TaskState": "Killed"}, "failed"),
    ({"TaskState": "Cancelled", "TaskStatus": "Warning"}, "cancelled"),
    ({"TaskState": "Verifying"}, "unknown"),
    ({"TaskState": None}, "unknown"),
    ({"TaskState": "completed"}, "succeeded"),
]


@pytest.mark.parametrize("fields,state", TASK_STATE_TABLE)
def test_task_state_mapping(fields, state):
    assert _redfish.parse_task(base_task(**fields), "7", "u").state == state


def test_schema_enum_is_fully_mapped():
    schema = json.load(open(os.path.join(SHARED, "specs", "redfish", "Task.v1_7_4.json"), encoding="utf-8"))
    enum = schema["definitions"]["TaskState"]["enum"]
    assert set(s.lower() for s in enum) <= set(_redfish.TASK_STATES)


# Dell iDRAC: a Task with Oem.Dell (iDRAC 9 shape, placeholder times as the iDRAC sends them) and a
# Lifecycle Controller job from /redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_*.
IDRAC_TASK = {
    "@odata.id": "/redfish/v1/TaskService/Tasks/JID_609230557311",
    "@odata.type": "#Task.v1_4_3.Task",
    "Id": "JID_609230557311",
    "Name": "Firmware Update: BIOS",
    "Messages": [{"Message": "Task successfully scheduled.", "MessageArgs": [], "MessageId": "IDRAC.2.8.JCP001"}],
    "Oem": {"Dell": {"@odata.type": "#DellJob.v1_4_0.DellJob", "CompletionTime": None,
                     "Description": "Job Instance", "EndTime": "TIME_NA", "Id": "JID_609230557311",
                     "JobState": "Scheduled", "JobType": "FirmwareUpdate", "Message": "Task successfully scheduled.",
                     "MessageArgs": [], "MessageId": "JCP001", "Name": "Firmware Update: BIOS",
                     "PercentComplete": 0, "StartTime": "TIME_NOW", "TargetSettingsURI": None}},
    "PercentComplete": 0,
    "StartTime": "TIME_NOW",
    "EndTime": "TIME_NA",
    "TaskState": "Starting",
    "TaskStatus": "OK",
}
IDRAC_JOB = {
    "@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_609230557312",
    "@odata.type": "#DellJob.v1_4_0.DellJob",
    "CompletionTime": "2026-11-22T10:11:09",
    "Description": "Job Instance",
    "EndTime": "TIME_NA",
    "Id": "JID_609230557312",
    "JobState": "Failed",
    "JobType": "FirmwareUpdate",
    "Message": "Unable to verify Update Package signature.",
    "MessageArgs": [],
    "MessageId": "RED004",
    "Name": "Firmware Update: iDRAC",
    "PercentComplete": 100,
    "StartTime": "2026-11-22T10:01:02",
    "TargetSettingsURI": None,
}


def test_idrac_task_scheduled():
    task = _redfish.parse_task(IDRAC_TASK, "JID_609230557311", "u")
    assert (task.state, task.percent, task.kind, task.vendor_state) == ("running", 0, "firmware_update", "Starting")
    assert task.started is None and task.ended is None  # TIME_NOW / TIME_NA are not times
    assert task.matches({"scheduled"})  # the states option may name iDRAC's JobState
    assert task.message == "Task successfully scheduled."


def test_idrac_completed_critical_is_a_failure():
    data = dict(IDRAC_TASK, TaskState="Completed", TaskStatus="Critical",
                Messages=[{"Message": "Job failed.", "MessageId": "IDRAC.2.8.RED063", "Severity": "Critical"}])
    data["Oem"] = {"Dell": dict(IDRAC_TASK["Oem"]["Dell"], JobState="Failed", Message="Job failed.")}
    task = _redfish.parse_task(data, "JID_609230557311", "u")
    assert task.state == "failed" and task.terminal


@pytest.mark.parametrize("job_state,state", [
    ("Scheduled", "pending"), ("New", "pending"), ("Downloading", "running"), ("Running", "running"),
    ("Completed", "succeeded"), ("Failed", "failed"), ("CompletedWithErrors", "failed"),
    ("Paused", "pending"), ("Cancelled", "cancelled"), ("SomethingNew", "unknown"),
    # DellJob states beyond DMTF's (sushy's Dell OEM constants): a reboot or an activation still to come
    ("RebootPending", "pending"), ("PendingActivation", "pending"), ("RebootFailed", "failed"),
    ("RebootCompleted", "unknown"), ("Unknown", "unknown"),
])
def test_idrac_job_states(job_state, state):
    task = _redfish.parse_task(dict(IDRAC_JOB, JobState=job_state), "JID_609230557312", "u")
    assert task.state == state


def test_idrac_job_fields():
    task = _redfish.parse_task(IDRAC_JOB, "JID_609230557312", "u")
    assert (task.state, task.kind, task.percent, task.started, task.message) == (
        "failed", "firmware_update", 100, "2026-11-22T10:01:02", "Unable to verify Update Package signature.")
    assert task.messages[-1]["severity"] == "critical"


@pytest.mark.parametrize("oem,expected", [
    ({"UpdateStatus": "Success (100%)"}, ("succeeded", 100)),
    ({"UpdateStatus": "Starting (0%)"}, ("running", 0)),
    ({"UpdateStatus": "In Progress (45%)"}, ("running", 45)),
    ({"UpdateStatus": "Failed (30%)"}, ("failed", 30)),
    ({"UpdateStatus": "Error, Image corrupted"}, ("failed", None)),
    ({"UpdateStatus": "Error: Image verification failed"}, ("failed", None)),
    ({"UpdateStatus": "Bizarre (10%)"}, ("unknown", 10)),
    ({"UpdateStatus": "None, OK"}, None),
    ({"ExportStatus": "NA"}, None),
    ({"ExportStatus": "None"}, None),
    ({"ImportStatus": "Completed Successfully"}, ("succeeded", None)),
    ({"ExportStatus": "In Progress"}, ("running", None)),
    ({}, None),
])
def test_cisco_oem_status(oem, expected):
    result = _redfish.cisco_status(oem)
    assert (result[:2] if result else None) == expected


@pytest.mark.parametrize("task_state,cisco,expected", [
    # the seed's empty peer slot: TaskState stands
    ("Completed", {"FWVersion": "N/A", "UpdateStatus": "Starting (0%)"}, ("succeeded", None, "Completed")),
    # firmware in the slot: an update that has just started outranks the stale TaskState
    ("Completed", {"FWVersion": "4.1(1f)", "UpdateStatus": "Starting (0%)"}, ("running", 0, "Starting (0%)")),
    # progress past 0% is progress, whatever FWVersion says
    ("Completed", {"FWVersion": "N/A", "UpdateStatus": "Updating (45%)"}, ("running", 45, "Updating (45%)")),
    # a running TaskState with an empty slot: nothing to overrule
    ("Running", {"FWVersion": "N/A", "UpdateStatus": "Starting (0%)"}, ("running", 0, "Starting (0%)")),
    # an export slot has no FWVersion: its OEM status decides as before
    ("Completed", {"ExportStatus": "Exporting (0%)"}, ("running", 0, "Exporting (0%)")),
])
def test_cisco_empty_firmware_slot(task_state, cisco, expected):
    payload = {"Id": "PeerCMCFwUpdate", "Name": "Task PeerCMCFwUpdate", "TaskState": task_state, "TaskStatus": "OK",
               "Oem": {"Cisco": cisco}}
    task = _redfish.parse_task(payload, "PeerCMCFwUpdate", "u")
    assert (task.state, task.percent, task.vendor_state) == expected


IDRAC_OEM = "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Oem/"


@pytest.mark.parametrize("fields,kind", [
    ({"Payload": {"TargetUri": "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"}}, "firmware_update"),
    ({"Payload": {"TargetUri": IDRAC_OEM + "EID_674_Manager.ExportSystemConfiguration"}}, "config_export"),
    ({"Payload": {"TargetUri": IDRAC_OEM + "EID_674_Manager.ImportSystemConfiguration"}}, "config_import"),
    ({"Payload": {"TargetUri": "/redfish/v1/Systems/1/LogServices/Dump/Actions/LogService.CollectDiagnosticData"}},
     "support_export"),
    ({"Name": "Task 9"}, "other"),
])
def test_kind_inference(fields, kind):
    assert _redfish.parse_task(base_task(**fields), "7", "u").kind == kind


@pytest.mark.parametrize("data", [[], "text", 3, {"Id": "7"}])
def test_not_a_task(data):
    with pytest.raises(BadResponse) as err:
        _redfish.parse_task(data, "7", "/redfish/v1/TaskService/Tasks/7")
    assert "redfish" in str(err.value) and "/redfish/v1/TaskService/Tasks/7" in str(err.value)


def test_percent_clamped_and_messages():
    task = _redfish.parse_task(base_task(PercentComplete=140, Messages=[
        {"MessageId": "Update.1.1.TransferringToComponent", "Message": "Transferring image", "Severity": "OK"},
        {"MessageId": "Base.1.8.Success", "MessageSeverity": "Warning"},
    ]), "7", "u")
    assert task.percent == 100
    assert task.messages == [
        {"severity": "ok", "text": "Transferring image", "id": "Update.1.1.TransferringToComponent"},
        {"severity": "warning", "text": "Base.1.8.Success", "id": "Base.1.8.Success"},
    ]
    assert task.message == "Base.1.8.Success"


@pytest.mark.parametrize("body,text", [
    ({"error": {"code": "Base.1.8.GeneralError", "message": "A general error has occurred.",
                "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.NoValidSession",
                                           "Message": "There is no valid session established with the implementation."}]}},
     "There is no valid session established with the implementation."),
    ({"error": {"code": "Base.1.8.GeneralError", "message": "A general error has occurred."}},
     "A general error has occurred."),
    ({"error": "nope"}, None),
    ([], None),
])
def test_error_text(body, text):
    assert _redfish.error_text(body) == text


def test_dmtf_job_state_enum_is_fully_mapped():
    """Every JobState of DMTF's Job schema (the CSDL the Service Validator uses) has a normalized state."""
    csdl = open(JOB_CSDL, encoding="utf-8").read()
    block = csdl[csdl.index('<EnumType Name="JobState">'):]
    members = re.findall(r'<Member Name="(\w+)"', block[:block.index("</EnumType>")])
    assert len(members) >= 14
    assert {m.lower() for m in members} <= set(_redfish.JOB_STATES)


@pytest.mark.parametrize("fields,state", [
    ({"JobState": "Completed", "JobStatus": "OK"}, "succeeded"),
    ({"JobState": "Completed", "JobStatus": "Warning"}, "succeeded"),
    ({"JobState": "Completed", "JobStatus": "Critical"}, "failed"),  # done, but failed
    ({"JobState": "Exception", "JobStatus": "Critical"}, "failed"),
    ({"JobState": "Cancelled", "JobStatus": "Warning"}, "cancelled"),
    ({"JobState": "Validating"}, "pending"),
    ({"JobState": "UserIntervention"}, "running"),
])
def test_dmtf_job_states(fields, state):
    job = dict({"@odata.id": "/redfish/v1/JobService/Jobs/1", "@odata.type": "#Job.v1_2_5.Job", "Id": "1",
                "Name": "Firmware Update", "PercentComplete": 100}, **fields)
    assert _redfish.parse_task(job, "1", "u").state == state


def test_idrac_job_times_come_from_the_job_queue_fields():
    task = _redfish.parse_task(dict(IDRAC_JOB, StartTime="TIME_NOW", ActualRunningStartTime="2026-11-22T10:01:05"),
                               "JID_609230557312", "u")
    assert (task.started, task.ended) == ("2026-11-22T10:01:05", "2026-11-22T10:11:09")


HANDED = {"MessageId": "Update.1.1.OperationTransitionedToJob", "MessageArgs": ["/redfish/v1/JobService/Jobs/4"],
          "Message": "The update operation has transitioned to the job at URI '/redfish/v1/JobService/Jobs/4'."}


@pytest.mark.parametrize("data,link", [
    ({"Messages": [{"MessageId": "TaskEvent.1.0.TaskStarted"}, HANDED]}, "/redfish/v1/JobService/Jobs/4"),
    ({"@Message.ExtendedInfo": [HANDED]}, "/redfish/v1/JobService/Jobs/4"),  # a monitor's final answer
    ({"Messages": [dict(HANDED, MessageId="Update.1.3.0.OperationTransitionedToJob")]}, "/redfish/v1/JobService/Jobs/4"),
    ({"Messages": [dict(HANDED, MessageArgs=[])]}, ""),  # the message without its URI
    ({"Messages": [dict(HANDED, MessageArgs=[4])]}, ""),
    ({"Messages": [dict(HANDED, MessageId="Contoso.1.0.OperationTransitionedToJob")]}, None),  # not DMTF's
    ({"Messages": [dict(HANDED, MessageId="Update.1.1.UpdateSuccessful")]}, None),
    ({"Messages": "Update.1.1.OperationTransitionedToJob"}, None),
    ([HANDED], None),
    (None, None),
])
def test_handoff_link(data, link):
    assert _redfish.handoff_link(data) == link


@pytest.mark.parametrize("path,jid", [
    ("/redfish/v1/TaskService/Tasks/JID_609230557311", "JID_609230557311"),
    ("/redfish/v1/TaskService/Tasks/RID_609230557311/", "RID_609230557311"),
    ("/redfish/v1/TaskService/Tasks/7", None),
    ("/redfish/v1/TaskService/Tasks/JID_", None),
    ("/redfish/v1/TaskService/Tasks/JID_1/x", None),
    ("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_609230557311", None),
    (None, None),
])
def test_idrac_job_id(path, jid):
    assert _redfish.idrac_job_id(path) == jid


OBMC_TASK = {"@odata.id": "/redfish/v1/TaskService/Tasks/0", "Id": "0", "Name": "Task 0", "TaskState": "Running",
             "StartTime": "2026-11-22T10:01:02+00:00", "Payload": {"TargetUri": "/redfish/v1/UpdateService"}}


@pytest.mark.parametrize("before,now,same", [
    (OBMC_TASK, dict(OBMC_TASK, TaskState="Completed", PercentComplete=100), True),
    (OBMC_TASK, dict(OBMC_TASK, StartTime="2026-11-22T10:09:40+00:00"), False),  # task 0 after a restart
    (OBMC_TASK, dict(OBMC_TASK, Payload={"TargetUri": "/redfish/v1/Managers/bmc/Actions/Oem/Export"}), False),
    (OBMC_TASK, dict(OBMC_TASK, Name="Task 7"), False),
    (OBMC_TASK, {k: v for k, v in OBMC_TASK.items() if k != "StartTime"}, False),  # its start time is gone
    ({k: v for k, v in OBMC_TASK.items() if k != "StartTime"}, OBMC_TASK, True),  # nothing tells them apart
    ({"Id": "CIMCFwUpdate", "Name": "Task CIMCFwUpdate"}, {"Id": "CIMCFwUpdate", "Name": "Task CIMCFwUpdate"}, True),
    (dict(OBMC_TASK, StartTime="TIME_NOW"), dict(OBMC_TASK, StartTime="2026-11-22T10:09:40"), True),  # no time
    ([], None, True),
])
def test_task_identity(before, now, same):
    assert _redfish.same_task(_redfish.task_identity(before), _redfish.task_identity(now)) is same


MANAGER = "/redfish/v1/Managers/bmc"
OLD = ("2.16.0-dev-212", "/redfish/v1/UpdateService/FirmwareInventory/03cab5b8", None)
NEW = ("2.16.0-dev-213", "/redfish/v1/UpdateService/FirmwareInventory/6118ef01", "2.16.0-dev-213")


@pytest.mark.parametrize("before,after,changed,words", [
    ({MANAGER: OLD}, {MANAGER: NEW}, True, "now runs firmware 2.16.0-dev-213 (was 2.16.0-dev-212)"),
    ({MANAGER: OLD}, {MANAGER: OLD}, False, "still runs firmware 2.16.0-dev-212: the update did not take effect"),
    ({MANAGER: (None,) + OLD[1:]}, {MANAGER: (None,) + NEW[1:]}, True, "now runs firmware 2.16.0-dev-213"),
    ({MANAGER: OLD[:1] + (None, None)}, {MANAGER: NEW}, True, "(was 2.16.0-dev-212)"),
    ({}, {MANAGER: NEW}, None, "its version before the update could not be read"),
    ({MANAGER: OLD}, {}, None, "cannot be read, so its outcome is unknown"),
    ({"/redfish/v1/Managers/a": OLD, MANAGER: OLD}, {"/redfish/v1/Managers/a": OLD, MANAGER: NEW}, True,
     "The BMC (/redfish/v1/Managers/bmc) now runs"),
])
def test_firmware_verdict(before, after, changed, words):
    text, fields = _redfish.firmware_verdict(before, after)
    assert words.lower() in text.lower() and fields["firmware_changed"] is changed
    assert "succeeded" not in text.replace("never said that this update succeeded", "")
