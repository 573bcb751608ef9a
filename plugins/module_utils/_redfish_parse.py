# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redfish payloads -> normalized tasks: Tasks, DMTF Jobs, iDRAC jobs, CIMC slots, and the vendor quirks that
the adapter (_redfish.py) acts on, each a small named function.

Nothing here makes a request; every function takes any JSON and raises only the collection's own errors.
"""

from __future__ import annotations

import json
import re

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    Task,
    as_dict,
    as_list,
    iso_time,
    message,
    text_or_none,
)

ROOT = "/redfish/v1"
TASKS = ROOT + "/TaskService/Tasks"

TASK_STATES = {
    "new": PENDING, "pending": PENDING,
    "starting": RUNNING, "running": RUNNING, "stopping": RUNNING, "cancelling": RUNNING,
    "suspended": RUNNING, "interrupted": RUNNING, "service": RUNNING,
    "completed": SUCCEEDED,
    "exception": FAILED, "killed": FAILED,
    "cancelled": CANCELLED,
}
# DMTF Job.JobState and Dell iDRAC JobState (Oem.Dell.JobState, /Jobs/JID_*). An iDRAC job has no cancelled
# state: a cancelled job is deleted from the queue, or ends Failed with the iDRAC's message.
JOB_STATES = dict(TASK_STATES, **{
    "scheduled": PENDING, "scheduling": PENDING, "downloaded": PENDING, "waiting": PENDING,
    "readyforexecution": PENDING, "validating": PENDING, "paused": PENDING, "rebootpending": PENDING,
    "pendingactivation": PENDING,
    "downloading": RUNNING, "continue": RUNNING, "userintervention": RUNNING,
    "failed": FAILED, "completedwitherrors": FAILED, "invalid": FAILED, "rebootfailed": FAILED,
    "canceled": CANCELLED,
})
# Cisco CIMC Oem.Cisco.*Status words, e.g. "Success (100%)", "Starting (0%)".
CISCO_WORDS = {
    "success": SUCCEEDED, "successful": SUCCEEDED, "completed": SUCCEEDED,
    "completed successfully": SUCCEEDED, "done": SUCCEEDED,
    "starting": RUNNING, "in progress": RUNNING, "inprogress": RUNNING, "updating": RUNNING,
    "downloading": RUNNING, "writing": RUNNING, "verifying": RUNNING, "activating": RUNNING,
    "running": RUNNING, "exporting": RUNNING, "importing": RUNNING, "collecting": RUNNING,
    "failed": FAILED, "failure": FAILED, "error": FAILED, "aborted": FAILED,
    "cancelled": CANCELLED, "canceled": CANCELLED,
}
CISCO_NO_INFO = ("none", "na", "n/a", "")
CISCO_STATUS = re.compile(r"^\s*([A-Za-z][A-Za-z _/-]*?)\s*(?:\(\s*(\d{1,3})\s*%\s*\))?\s*(?:,.*)?$")
KIND_WORDS = (
    ("support_export", ("techsupport", "supportassist", "collectdiagnosticdata", "lclogexport", "diagnostic")),
    ("config_export", ("exportsystemconfiguration", "exportconfig", "configexport", "exportconfiguration")),
    ("config_import", ("importsystemconfiguration", "importconfig", "configimport", "importconfiguration")),
    ("firmware_update", ("updateservice", "simpleupdate", "multipartupdate", "fwupdate", "firmware",
                         "repositoryupdate", "biosupdate")),
)
# DMTF Update registry: "The update operation has transitioned to the job at URI '%1'." ("Follow the referenced
# job and monitor the job for further updates.")
HANDOFF_MESSAGE = re.compile(r"^Update\.\d+\.\d+(?:\.\d+)?\.OperationTransitionedToJob$")
# Dell iDRAC job ids (JID_ jobs, RID_ reboot jobs): the same id names a TaskService task and a job-queue entry.
IDRAC_JOB_ID = re.compile(r"^[JR]ID_\d{1,20}$")


def error_text(data):
    """The message of a Redfish error body, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None
    err = data["error"]
    texts = [text_or_none(i.get("Message")) for i in as_list(err.get("@Message.ExtendedInfo")) if isinstance(i, dict)]
    texts = [t for t in texts if t]
    return "; ".join(texts) or text_or_none(err.get("message")) or text_or_none(err.get("code"))


def infer_kind(data):
    oem = as_dict(data.get("Oem"))
    dell = as_dict(oem.get("Dell"))
    payload = as_dict(data.get("Payload"))
    words = [payload.get("TargetUri"), data.get("JobType"), dell.get("JobType"), data.get("Id"),
             data.get("Name"), data.get("Description")]
    text = re.sub(r"[^a-z]", "", " ".join(text_or_none(w) or "" for w in words).lower())
    for kind, needles in KIND_WORDS:
        if any(n in text for n in needles):
            return kind
    return "other"


def cisco_status(oem):
    """``(state, percent, vendor words)`` from Oem.Cisco, or None when it says nothing."""
    if not isinstance(oem, dict):
        return None
    for key in ("UpdateStatus", "ExportStatus", "ImportStatus"):
        value = oem.get(key)
        if not isinstance(value, str):
            continue
        match = CISCO_STATUS.match(value)
        word = (match.group(1) if match else value).strip().lower()
        if word in CISCO_NO_INFO:
            continue
        percent = int(match.group(2)) if match and match.group(2) else None
        first = re.split(r"[\s:,(]", word, maxsplit=1)[0]  # "Error: Image verification failed"
        state = CISCO_WORDS.get(word, CISCO_WORDS.get(first, UNKNOWN))
        if state == SUCCEEDED and percent is None and key == "UpdateStatus":
            percent = 100
        return state, percent, value
    return None


def cisco_empty_slot(oem, cisco, task_state):
    """True for a CIMC firmware slot with no firmware in it that still shows "Starting (0%)".

    The seed's PeerCMCFwUpdate on a chassis without a peer controller: FWVersion "N/A", UpdateStatus
    "Starting (0%)", TaskState "Completed". No update has run there, so the OEM words are a placeholder,
    not progress; read as progress they would hold a wait for firmware updates until its timeout.
    """
    return (task_state in (SUCCEEDED, FAILED, CANCELLED) and cisco[0] == RUNNING and not cisco[1]
            and (text_or_none(oem.get("FWVersion")) or "?").strip().lower() in CISCO_NO_INFO)


def first_time(*values):
    """The first ISO 8601 time among ``values`` (iDRAC puts ``TIME_NOW``/``TIME_NA`` where it has none)."""
    for value in values:
        if iso_time(value):
            return value
    return None


def parse_task(data, task_id, url, platform="redfish"):
    """A normalized task from a Redfish Task, a DMTF Job or a Dell job resource."""
    if not isinstance(data, dict):
        raise BadResponse("a task is a JSON object", platform=platform, path=url)
    oem = as_dict(data.get("Oem"))
    dell = as_dict(oem.get("Dell"))
    if "TaskState" in data:
        vendor = data.get("TaskState")
        table = TASK_STATES
    elif "JobState" in data:
        vendor = data.get("JobState")
        table = JOB_STATES
    else:
        raise BadResponse("the answer is not a Task or Job resource (no TaskState or JobState)",
                          platform=platform, path=url)
    state = table.get(vendor.lower(), UNKNOWN) if isinstance(vendor, str) else UNKNOWN
    health = (text_or_none(data.get("TaskStatus")) or text_or_none(data.get("JobStatus")) or "").lower()
    if state == SUCCEEDED and health == "critical":
        state = FAILED  # Dell, DMTF Job: Completed + TaskStatus/JobStatus Critical is a failure
    aliases = [dell.get("JobState")]
    percent = data.get("PercentComplete", dell.get("PercentComplete"))
    messages = []
    for item in as_list(data.get("Messages")):
        if isinstance(item, dict):
            messages.append(message(item.get("Message") or item.get("MessageId"),
                                    item.get("MessageSeverity") or item.get("Severity"),
                                    item.get("MessageId")))
    if dell.get("Message"):
        messages.append(message(dell["Message"], "critical" if state == FAILED else "info", dell.get("MessageId")))
    elif data.get("Message") and "JobState" in data:
        messages.append(message(data["Message"], "critical" if state == FAILED else "info", data.get("MessageId")))
    cisco_oem = as_dict(oem.get("Cisco"))
    cisco = cisco_status(cisco_oem)
    if cisco and cisco_empty_slot(cisco_oem, cisco, state):
        messages.append(message("%s: no firmware in this slot (FWVersion %s), nothing is running"
                                % (cisco[2], text_or_none(cisco_oem.get("FWVersion"))), "info", None))
    elif cisco:
        # The CIMC keeps fixed task slots whose TaskState goes stale: its OEM status decides.
        aliases.append(vendor)
        state, oem_percent, vendor = cisco
        percent = oem_percent if oem_percent is not None else percent
        messages.append(message(vendor, "critical" if state == FAILED else "info", None))
    payload = as_dict(data.get("Payload"))
    return Task(
        task_id, platform, name=text_or_none(data.get("Name")) or text_or_none(data.get("Id")),
        kind=infer_kind(data), state=state, percent=percent, messages=messages,
        started=first_time(data.get("StartTime"), data.get("ActualRunningStartTime"), dell.get("StartTime")),
        ended=first_time(data.get("EndTime"), data.get("CompletionTime"), dell.get("CompletionTime")),
        vendor_state=vendor, target=payload.get("TargetUri"), url=url, raw=data, aliases=aliases)


def resource_type(data):
    """``ComputerSystem`` from ``"@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem"``, or None."""
    odata = data.get("@odata.type") if isinstance(data, dict) else None
    if not isinstance(odata, str):
        return None
    return odata.lstrip("#").split(".", 1)[0] or None


# ---- vendor quirks ---------------------------------------------------------------------------------


def handoff_link(data):
    """The job URI of a DMTF ``Update.x.y.OperationTransitionedToJob`` message in a Task's ``Messages`` or a
    task monitor's ``@Message.ExtendedInfo`` (a JobService service hands an update over to a Job).

    None when there is no such message; ``""`` when there is one without a URI in ``MessageArgs``.
    """
    if not isinstance(data, dict):
        return None
    for key in ("Messages", "@Message.ExtendedInfo"):
        for item in as_list(data.get(key)):
            if isinstance(item, dict) and isinstance(item.get("MessageId"), str) and \
                    HANDOFF_MESSAGE.match(item["MessageId"]):
                args = as_list(item.get("MessageArgs"))
                return args[0] if args and isinstance(args[0], str) else ""
    return None


def idrac_job_id(path):
    """The iDRAC job id (``JID_...``) of a ``TaskService/Tasks/<id>`` path, or None."""
    if not isinstance(path, str) or not path.startswith(TASKS + "/"):
        return None
    segment = path[len(TASKS) + 1:].rstrip("/")
    return segment if IDRAC_JOB_ID.match(segment) else None


def task_identity(data):
    """What tells a task from another one that later got the same URI: ``(start time, name, payload)``.

    bmcweb counts task ids from 0 again after every restart, so after a restart ``Tasks/0`` may be another
    task. Each part is None when the payload does not have it.
    """
    if not isinstance(data, dict):
        return (None, None, None)
    payload = data.get("Payload")
    try:
        payload = json.dumps(payload, sort_keys=True) if isinstance(payload, dict) else None
    except (TypeError, ValueError, RecursionError):
        payload = None
    return (first_time(data.get("StartTime")), text_or_none(data.get("Name")), payload)


def same_task(before, now):
    """False when two identities tell different tasks apart: a part both have differs, or the start time
    that the task had is gone. True when nothing tells them apart (a service without start times)."""
    if before[0] is not None and now[0] is None:
        return False
    return all(a is None or b is None or a == b for a, b in zip(before, now))


def manager_firmware(data):
    """``(FirmwareVersion, path of Links.ActiveSoftwareImage)`` of a Manager resource (each None when absent)."""
    data = as_dict(data)
    image = as_dict(as_dict(data.get("Links")).get("ActiveSoftwareImage")).get("@odata.id")
    return text_or_none(data.get("FirmwareVersion")), image if isinstance(image, str) and image else None


def member_links(data):
    """The ``@odata.id`` of each member of a collection, as given."""
    return [m["@odata.id"] for m in as_list(as_dict(data).get("Members"))
            if isinstance(m, dict) and isinstance(m.get("@odata.id"), str)]


def session_table_full(resp):
    """A refused session POST that means "no free session slot": 503, Redfish SessionLimitExceeded, or the
    iDRAC's 400 RAC0218 ("The maximum number of user sessions is reached")."""
    if resp.status == 503:
        return True
    if resp.status != 400:
        return False
    data = resp.json_or_none()
    ids = [text_or_none(i.get("MessageId")) or "" for i in as_list(as_dict(as_dict(data).get("error")).get(
        "@Message.ExtendedInfo")) if isinstance(i, dict)]
    text = (error_text(data) or "").lower()
    return any(i.endswith(("RAC0218", "SessionLimitExceeded")) for i in ids) or "maximum number of user sessions" in text


def firmware_verdict(before, after):
    """``(text, fields)`` about the firmware of a BMC that restarted and lost an update's task.

    ``before``/``after``: ``{manager path: (version, image path, image version)}`` read at the task's first read
    and after the restart. The manager whose firmware changed is named, else the first one known before and
    after, else the first one known now. ``fields`` are the task's ``lost`` fields; nothing here is a success.
    """
    fields = {"manager": None, "firmware_before": None, "firmware_after": None, "firmware_changed": None,
              "image": None}
    both = [m for m in after if m in before]
    changed = [m for m in both if firmware_differs(before[m], after[m])]
    manager = (changed or both or list(after) or [None])[0]
    if manager is None:
        return "; the firmware version of the BMC cannot be read, so its outcome is unknown", fields
    now = after[manager]
    fields.update(manager=manager, firmware_after=now[0] or now[2] or now[1], image=now[1])
    if manager not in before:
        return ("; the BMC (%s) now runs firmware %s, but its version before the update could not be read, so whether "
                "the update took effect is unknown" % (manager, fields["firmware_after"]), fields)
    was = before[manager]
    fields.update(firmware_before=was[0] or was[2] or was[1], firmware_changed=bool(changed))
    if changed:
        return ("; the BMC (%s) now runs firmware %s (was %s): a new image is active, but the service never said "
                "that this update succeeded" % (manager, fields["firmware_after"], fields["firmware_before"]), fields)
    return ("; the BMC (%s) still runs firmware %s: the update did not take effect"
            % (manager, fields["firmware_after"]), fields)


def firmware_differs(before, after):
    """True when a manager's FirmwareVersion or active image differs (both known) between two reads."""
    return any(a is not None and b is not None and a != b for a, b in zip(before[:2], after[:2]))
