"""Redfish for the test simulator: routes, sessions, tasks, task monitors.

Vendor flavours (one class each, picked by the device's ``vendor``):

- ``generic``: DMTF style, as the DMTF mockups in shared/specs/redfish.
- ``dell``: iDRAC. Task ids ``JID_<12 digits>``, ``Oem.Dell`` job data in the
  Task, the same jobs as DellJob resources under
  ``/redfish/v1/Managers/iDRAC.Embedded.1/Jobs``; a failed job may show as
  ``TaskState: Completed`` + ``TaskStatus: Critical`` (scenario critical).
- ``cisco``: CIMC. The ten fixed task slots of the seed
  (data/cisco_cimc_tasks.json); an update drives slot ``CIMCFwUpdate``
  whose ``Oem.Cisco.UpdateStatus`` moves while ``TaskState`` stays the stale
  ``Completed``. SimpleUpdate answers with the slot's Task URI in
  ``Location`` (no task monitor is advertised), so a client must read the
  Task resource and its OEM status, as on a real CIMC.

Task payloads are checked against Task.v1_7_4.json by the unit tests.
"""

import copy
import json
import os
import re
import time
import urllib.parse
import uuid

from .core import (
    KINDS,
    Conflict,
    ConfigError,
    Platform,
    Response,
    SimTask,
    basic_credentials,
    iso,
    json_response,
)

ROOT = "/redfish/v1"
TASKS = ROOT + "/TaskService/Tasks"
MONITORS = ROOT + "/TaskService/TaskMonitors"
SESSIONS = ROOT + "/SessionService/Sessions"
SIMPLE_UPDATE = ROOT + "/UpdateService/Actions/UpdateService.SimpleUpdate"
DELL_JOBS = ROOT + "/Managers/iDRAC.Embedded.1/Jobs"
TASK_TYPE = "#Task.v1_7_4.Task"
BASE = "Base.1.8."
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

EXPAND_RE = re.compile(r"^([.*~])(?:\(\$levels=(\d+)\))?$")


def q(task_id):
    return urllib.parse.quote(task_id, safe="")


def task_uri(task_id):
    return "%s/%s" % (TASKS, q(task_id))


def monitor_uri(task_id):
    return "%s/%s" % (MONITORS, q(task_id))


def make_message(message_id, text, severity="OK", args=None):
    return {
        "MessageId": message_id,
        "Message": text,
        "MessageArgs": list(args or []),
        "Severity": severity,
    }


def error_body(text, message_id="GeneralError", args=None, severity="Critical", resolution=None):
    if "." not in message_id:
        message_id = BASE + message_id
    info = make_message(message_id, text, severity, args)
    info["@odata.type"] = "#Message.v1_1_1.Message"
    if resolution:
        info["Resolution"] = resolution
    return {"error": {"code": BASE + "GeneralError", "message": text, "@Message.ExtendedInfo": [info]}}


# TaskState / TaskStatus for each phase or outcome (generic and Dell).
TASK_STATE = {
    "new": ("New", "OK"),
    "running": ("Running", "OK"),
    "success": ("Completed", "OK"),
    "fail": ("Exception", "Critical"),
    "cancel": ("Cancelled", "Warning"),
    "critical": ("Completed", "Critical"),  # Dell style: done, but failed
}


class RedfishPlatform(Platform):
    name = "redfish"
    vendors = ("generic", "dell", "cisco")
    default_vendor = "generic"

    def __init__(self, device):
        super().__init__(device)
        self.flavour = FLAVOURS[device.vendor](self)

    # ---- answers ---------------------------------------------------------

    def error_response(self, status, message, message_id=None, message_args=None, headers=None):
        headers = dict(headers or {})
        headers.setdefault("OData-Version", "4.0")
        return json_response(status, error_body(message, message_id or "GeneralError", message_args), headers)

    def ok(self, obj, status=200, headers=None):
        headers = dict(headers or {})
        headers.setdefault("OData-Version", "4.0")
        return json_response(status, obj, headers)

    def not_found(self, req):
        return self.error_response(
            404, "The resource at the URI '%s' was not found." % req.path, "ResourceMissingAtURI", [req.path]
        )

    def not_allowed(self, req, allow):
        return self.error_response(
            405,
            "The HTTP method %s is not allowed on the URI '%s'." % (req.method, req.path),
            "OperationNotAllowed",
            headers={"Allow": ", ".join(allow)},
        )

    def unauthorized(self, req):
        return self.error_response(
            401,
            "There is no valid session established with the implementation.",
            "NoValidSession",
            headers={"WWW-Authenticate": 'Basic realm="Redfish"'},
        )

    # ---- routing ---------------------------------------------------------

    def handle(self, req):
        segs = req.segments()  # unquoted: a task id may hold "/" or spaces
        if not segs or segs[0] != "redfish":
            return self.not_found(req)
        get = req.method in ("GET", "HEAD")
        if segs == ["redfish"]:
            return self.ok({"v1": "/redfish/v1/"}) if get else self.not_allowed(req, ["GET"])
        if segs == ["redfish", "v1"]:
            return self.ok(self.service_root()) if get else self.not_allowed(req, ["GET"])
        rest = segs[2:] if segs[1] == "v1" else None
        if rest == ["SessionService", "Sessions"] and req.method == "POST":
            return self.login(req)
        if not self.authenticated(req):
            return self.unauthorized(req)
        if rest is None:
            return self.not_found(req)
        now = time.monotonic()
        if rest == ["SessionService"]:
            return self.ok(self.session_service()) if get else self.not_allowed(req, ["GET"])
        if rest == ["SessionService", "Sessions"]:
            return self.ok(self.session_collection()) if get else self.not_allowed(req, ["GET", "POST"])
        if len(rest) == 3 and rest[:2] == ["SessionService", "Sessions"]:
            return self.session_member(req, segs[-1])
        if rest == ["TaskService"]:
            return self.ok(self.flavour.task_service()) if get else self.not_allowed(req, ["GET"])
        if rest == ["TaskService", "Tasks"]:
            if not get:
                return self.not_allowed(req, ["GET"])
            return self.collection(
                req,
                self.flavour.task_collection_head(),
                self.flavour.visible_tasks(now),
                lambda t: self.flavour.task_payload(t, now),
                task_uri,
            )
        if len(rest) == 3 and rest[:2] == ["TaskService", "Tasks"]:
            if not get:
                return self.not_allowed(req, ["GET"])
            task = self.flavour.find(segs[-1], now)
            return self.ok(self.flavour.task_payload(task, now)) if task else self.not_found(req)
        if len(rest) == 3 and rest[:2] == ["TaskService", "TaskMonitors"]:
            return self.monitor(req, segs[-1], now) if get else self.not_allowed(req, ["GET"])
        if rest == ["UpdateService"]:
            return self.ok(self.update_service()) if get else self.not_allowed(req, ["GET"])
        if rest == ["UpdateService", "Actions", "UpdateService.SimpleUpdate"]:
            return self.simple_update(req) if req.method == "POST" else self.not_allowed(req, ["POST"])
        answer = self.flavour.extra_route(req, rest, segs, now)
        return answer if answer is not None else self.not_found(req)

    # ---- auth and sessions -----------------------------------------------

    def authenticated(self, req):
        token = req.headers.get("X-Auth-Token")
        if token and self.device.session_by_token(token) is not None:
            return True
        creds = basic_credentials(req.headers.get("Authorization"))
        if creds is not None:
            return self.device.check_password(*creds)
        return False

    def json_body(self, req):
        """``(body, None)``, or ``(None, the Redfish 400 answer)`` when the body is not JSON."""
        try:
            return req.json(), None
        except ValueError:
            return None, self.error_response(
                400,
                "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
                "MalformedJSON",
            )

    def login(self, req):
        body, malformed = self.json_body(req)
        if malformed:
            return malformed
        if not isinstance(body, dict) or not isinstance(body.get("UserName"), str) or "Password" not in body:
            return self.error_response(
                400,
                "The create operation failed because the required properties UserName and Password are missing.",
                "CreateFailedMissingReqProperties",
                ["UserName", "Password"],
            )
        if not self.device.check_password(body["UserName"], body.get("Password")):
            return self.error_response(
                401,
                "While accessing the resource at '%s', the service received an authorization error 'Unauthorized'."
                % SESSIONS,
                "ResourceAtUriUnauthorized",
                [SESSIONS, "Unauthorized"],
            )
        session = self.device.open_session(body["UserName"])
        if session is None:
            return self.error_response(
                503,
                "The session establishment failed due to the number of simultaneous sessions exceeding the limit of "
                "the implementation.",
                "SessionLimitExceeded",
            )
        location = "%s%s/%s" % (self.device.config["session_location"] or "", SESSIONS, session.id)
        return self.ok(self.session_resource(session), 201, {"X-Auth-Token": session.token, "Location": location})

    def session_resource(self, session):
        return {
            "@odata.id": "%s/%s" % (SESSIONS, session.id),
            "@odata.type": "#Session.v1_3_0.Session",
            "Id": session.id,
            "Name": "User Session",
            "Description": "Manager User Session",
            "UserName": session.user,
            "CreatedTime": iso(session.created),
        }

    def session_member(self, req, session_id):
        with self.device.lock:
            session = self.device.sessions.get(session_id)
            if session is None:
                return self.not_found(req)
            if req.method in ("GET", "HEAD"):
                return self.ok(self.session_resource(session))
            if req.method == "DELETE":
                self.device.close_session(session_id)
                return Response(204, b"", {"OData-Version": "4.0"}, content_type=None)
        return self.not_allowed(req, ["GET", "DELETE"])

    def session_collection(self):
        with self.device.lock:
            self.device.expire_sessions()
            members = [{"@odata.id": "%s/%s" % (SESSIONS, sid)} for sid in self.device.sessions]
        return {
            "@odata.id": SESSIONS,
            "@odata.type": "#SessionCollection.SessionCollection",
            "Name": "Session Collection",
            "Members": members,
            "Members@odata.count": len(members),
        }

    def session_service(self):
        return {
            "@odata.id": ROOT + "/SessionService",
            "@odata.type": "#SessionService.v1_1_8.SessionService",
            "Id": "SessionService",
            "Name": "Session Service",
            "ServiceEnabled": True,
            "SessionTimeout": int(self.device.config["session_timeout"]),
            "Status": {"State": "Enabled", "Health": "OK"},
            "Sessions": {"@odata.id": SESSIONS},
        }

    # ---- fixed resources -------------------------------------------------

    def service_root(self):
        vendor, product = self.flavour.vendor_product
        root = {
            "@odata.id": ROOT,
            "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
            "Id": "RootService",
            "Name": "Root Service",
            "RedfishVersion": "1.17.0",
            "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, "taskstatus-sim/" + self.device.name)),
            "Vendor": vendor,
            "Product": product,
            "ProtocolFeaturesSupported": {
                "ExpandQuery": {"ExpandAll": True, "Levels": True, "MaxLevels": 3, "Links": True, "NoLinks": True},
                "FilterQuery": False,
                "SelectQuery": False,
                "OnlyMemberQuery": False,
            },
            "SessionService": {"@odata.id": ROOT + "/SessionService"},
            "TaskService": {"@odata.id": ROOT + "/TaskService"},
            "UpdateService": {"@odata.id": ROOT + "/UpdateService"},
            "Links": {"Sessions": {"@odata.id": SESSIONS}},
        }
        root.update(self.flavour.service_root_extra())
        return root

    def update_service(self):
        return {
            "@odata.id": ROOT + "/UpdateService",
            "@odata.type": "#UpdateService.v1_11_0.UpdateService",
            "Id": "UpdateService",
            "Name": "Update Service",
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Actions": {
                "#UpdateService.SimpleUpdate": {
                    "target": SIMPLE_UPDATE,
                    "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS", "NFS", "CIFS"],
                }
            },
        }

    # ---- collections and $expand -----------------------------------------

    def collection(self, req, head, tasks, render, uri):
        expand = req.query.get("$expand")
        levels = 0
        if expand is not None:
            match = EXPAND_RE.match(expand.strip())
            if not match:
                return self.error_response(
                    400,
                    "The value '%s' for the query parameter $expand is of a different format than the parameter "
                    "can accept." % expand,
                    "QueryParameterValueFormatError",
                    [expand, "$expand"],
                )
            levels = int(match.group(2) or 1)
        with self.device.lock:
            members = [render(t) if levels else {"@odata.id": uri(t.id)} for t in tasks]
        body = dict(head)
        body["Members"] = members
        body["Members@odata.count"] = len(members)
        return self.ok(body)

    # ---- tasks -----------------------------------------------------------

    def monitor(self, req, task_id, now):
        flavour = self.flavour
        with self.device.lock:
            task = self.device.tasks.get(task_id)
            if task is None:
                return self.not_found(req)
            p = task.progress(now)
            if task.scenario == "delete" and p.done:
                if task.final_served:
                    return self.not_found(req)
                task.final_served = True
                return Response(204, b"", {"OData-Version": "4.0"}, content_type=None)
            if p is not None and not p.done:
                retry = str(self.device.config["retry_after"])
                return self.ok(
                    flavour.task_payload(task, now),
                    202,
                    {"Retry-After": retry, "Location": monitor_uri(task.id)},
                )
            outcome = p.outcome if p is not None else "success"
            if outcome == "success":
                return self.ok(flavour.result_body(task))
            return self.error_response(500, flavour.failure_text(task, p), flavour.failure_id(task, p))

    def simple_update(self, req):
        body, malformed = self.json_body(req)
        if malformed:
            return malformed
        if not isinstance(body, dict) or not isinstance(body.get("ImageURI"), str) or not body["ImageURI"]:
            return self.error_response(
                400,
                "The action UpdateService.SimpleUpdate requires the parameter ImageURI to be present in the request "
                "body.",
                "ActionParameterMissing",
                ["UpdateService.SimpleUpdate", "ImageURI"],
            )
        try:
            task = self.flavour.start_task(
                self.device.next_scenario(), self.device.config["duration"], "firmware_update", request=body
            )
        except Conflict as exc:
            return self.error_response(409, str(exc), "ResourceInUse")
        now = time.monotonic()
        with self.device.lock:
            payload = self.flavour.task_payload(task, now)
        headers = {"Location": self.flavour.location(task), "Retry-After": str(self.device.config["retry_after"])}
        return self.ok(payload, 202, headers)

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None):
        task = self.flavour.start_task(scenario, duration, kind, task_id=task_id, started_ago=started_ago, name=name)
        return {"id": task.id, "task_uri": task_uri(task.id), "monitor_uri": monitor_uri(task.id)}

    def reset(self):
        self.flavour.reset()


# --------------------------------------------------------------------------
# Vendor flavours
# --------------------------------------------------------------------------

# (HttpOperation, TargetUri, example JsonBody, Name) per task kind.
GENERIC_KINDS = {
    "firmware_update": ("POST", SIMPLE_UPDATE, {"ImageURI": "http://192.0.2.10/fw/bmc.bin"}, "Firmware Update"),
    # No DMTF action exports a manager's configuration; this OEM path is the simulator's own.
    "config_export": (
        "POST",
        ROOT + "/Managers/1/Actions/Oem/Contoso.ExportConfiguration",
        {"ShareType": "Local"},
        "Configuration Export",
    ),
    "support_export": (
        "POST",
        ROOT + "/Managers/1/LogServices/Dump/Actions/LogService.CollectDiagnosticData",
        {"DiagnosticDataType": "Manager"},
        "Diagnostic Data Collection",
    ),
    "other": ("PATCH", ROOT + "/Systems/1/Bios/Settings", {"Attributes": {"BootMode": "Uefi"}}, "BIOS Configuration"),
}


class GenericFlavour:
    vendor_product = ("Contoso", "Simulated Redfish BMC")
    kinds = GENERIC_KINDS

    def __init__(self, platform):
        self.platform = platform
        self.device = platform.device
        self.seq = 0

    # ids and life cycle

    def reset(self):
        self.seq = 0
        self.device.tasks.clear()

    def new_id(self):
        while True:
            self.seq += 1
            candidate = self.format_id(self.seq)
            if candidate not in self.device.tasks:
                return candidate

    def format_id(self, seq):
        return str(seq)

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        op, target, example, default_name = self.kinds[kind]
        with self.device.lock:
            if task_id is None:
                task_id = self.new_id()
            elif task_id in self.device.tasks:
                raise Conflict("task id %r exists" % task_id)
            task = SimTask(
                task_id,
                kind,
                scenario,
                duration,
                name=name or default_name,
                started_ago=started_ago,
                extra={"op": op, "target": target, "body": request if request is not None else example},
            )
            return self.device.add_task(task)

    def find(self, task_id, now):
        task = self.device.tasks.get(task_id)
        return None if task is None or task.gone(now) else task

    def visible_tasks(self, now):
        with self.device.lock:
            return [t for t in self.device.tasks.values() if not t.gone(now)]

    def location(self, task):
        return monitor_uri(task.id)

    # rendering

    def task_service(self):
        return {
            "@odata.id": ROOT + "/TaskService",
            "@odata.type": "#TaskService.v1_3_0.TaskService",
            "Id": "TaskService",
            "Name": "Task Service",
            "CompletedTaskOverWritePolicy": "Oldest",
            "LifeCycleEventOnTaskStateChange": True,
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Tasks": {"@odata.id": TASKS},
        }

    def task_collection_head(self):
        return {"@odata.id": TASKS, "@odata.type": "#TaskCollection.TaskCollection", "Name": "Task Collection"}

    def service_root_extra(self):
        return {}

    def extra_route(self, req, rest, segs, now):
        return None

    @staticmethod
    def state_key(p):
        return p.phase if not p.done else p.outcome

    def messages(self, task, p):
        started = make_message(
            "TaskEvent.1.0.TaskStarted", "The task with Id '%s' has started." % task.id, "OK", [task.id]
        )
        if p.phase == "new":
            return []
        if p.phase == "running":
            return [started]
        if p.outcome == "success":
            if task.kind == "firmware_update":
                image = task.extra["body"].get("ImageURI", "")
                return [
                    started,
                    make_message(
                        "Update.1.0.UpdateSuccessful",
                        "Device 'BMC' successfully updated with image '%s'." % image,
                        "OK",
                        ["BMC", image],
                    ),
                ]
            return [
                started,
                make_message(
                    "TaskEvent.1.0.TaskCompletedOK", "The task with Id '%s' has completed." % task.id, "OK", [task.id]
                ),
            ]
        if p.outcome == "cancel":
            return [
                started,
                make_message(
                    "TaskEvent.1.0.TaskCancelled",
                    "Work on the task with Id '%s' has been halted prior to completion due to an explicit request."
                    % task.id,
                    "Warning",
                    [task.id],
                ),
            ]
        return [
            started,
            make_message(self.failure_id(task, p), self.failure_text(task, p), "Critical", self.failure_args(task)),
        ]

    def failure_id(self, task, p):
        if p is not None and p.outcome == "cancel":
            return "TaskEvent.1.0.TaskCancelled"
        return "Update.1.0.ApplyFailed" if task.kind == "firmware_update" else "TaskEvent.1.0.TaskAborted"

    def failure_args(self, task):
        if task.kind == "firmware_update":
            return [task.extra["body"].get("ImageURI", ""), "BMC"]
        return [task.id]

    def failure_text(self, task, p):
        if p is not None and p.outcome == "cancel":
            return "Work on the task with Id '%s' has been halted prior to completion due to an explicit request." % (
                task.id
            )
        if task.kind == "firmware_update":
            return "Installation or activation of '%s' on 'BMC' failed: the image signature is not valid." % (
                task.extra["body"].get("ImageURI", "")
            )
        return "The task with Id '%s' has been aborted." % task.id

    def result_body(self, task):
        if task.kind == "firmware_update":
            image = task.extra["body"].get("ImageURI", "")
            info = make_message(
                "Update.1.0.UpdateSuccessful",
                "Device 'BMC' successfully updated with image '%s'." % image,
                "OK",
                ["BMC", image],
            )
        else:
            info = make_message("Base.1.8.Success", "The request completed successfully.", "OK")
        return {"@Message.ExtendedInfo": [info]}

    def task_payload(self, task, now):
        p = task.progress(now)
        state, status = TASK_STATE[self.state_key(p)]
        payload = {
            "@odata.id": task_uri(task.id),
            "@odata.type": TASK_TYPE,
            "Id": task.id,
            "Name": task.name,
            "TaskState": state,
            "TaskStatus": status,
            "PercentComplete": p.percent,
            "StartTime": iso(task.start_epoch()),
            "Messages": self.messages(task, p),
            "TaskMonitor": monitor_uri(task.id),
            "Payload": {
                "HttpOperation": task.extra["op"],
                "TargetUri": task.extra["target"],
                "HttpHeaders": [],
                "JsonBody": json.dumps(task.extra["body"], sort_keys=True),
            },
        }
        if p.done:
            payload["EndTime"] = iso(task.end_epoch())
        return payload


# ---- Dell iDRAC ----------------------------------------------------------

DELL_MANAGER = ROOT + "/Managers/iDRAC.Embedded.1"
DELL_KINDS = {
    "firmware_update": (
        "POST",
        SIMPLE_UPDATE,
        {"ImageURI": "http://192.0.2.10/fw/BIOS_1.bin"},
        "Firmware Update: BIOS",
    ),
    "config_export": (
        "POST",
        DELL_MANAGER + "/Actions/Oem/EID_674_Manager.ExportSystemConfiguration",
        {"ExportFormat": "XML", "ShareParameters": {"Target": ["ALL"]}},
        "Export: Server Configuration Profile",
    ),
    "support_export": (
        "POST",
        ROOT + "/Dell/Managers/iDRAC.Embedded.1/DellLCService/Actions/DellLCService.SupportAssistCollection",
        {"ShareType": "Local", "DataSelectorArrayIn": ["HWData"]},
        "SupportAssist Collection",
    ),
    "other": (
        "PATCH",
        ROOT + "/Systems/System.Embedded.1/Bios/Settings",
        {"Attributes": {"BootMode": "Uefi"}},
        "Configure: BIOS.Setup.1-1",
    ),
}
DELL_JOB_TYPE = {
    "firmware_update": "FirmwareUpdate",
    "config_export": "ExportConfiguration",
    "support_export": "SACollectExportHealthData",
    "other": "BIOSConfiguration",
}
# (JobState, MessageId, Message) per phase/outcome. RED001 is iDRAC's real
# "Job completed successfully."; the others are illustrative iDRAC-style ids.
DELL_JOB = {
    "new": ("New", "JCP001", "Task successfully scheduled."),
    "running": ("Running", "PR20", "Job in progress."),
    "success": ("Completed", "RED001", "Job completed successfully."),
    "fail": ("Failed", "SUP0518", "Unable to complete the operation because the image is not valid for this system."),
    "critical": (
        "Failed",
        "SUP0518",
        "Unable to complete the operation because the image is not valid for this system.",
    ),
    "cancel": ("Failed", "SUP0535", "Job was cancelled by the user."),
}
DELL_SEVERITY = {"fail": "Critical", "critical": "Critical", "cancel": "Warning"}


class DellFlavour(GenericFlavour):
    vendor_product = ("Dell", "Integrated Dell Remote Access Controller")
    kinds = DELL_KINDS
    JID_BASE = 878000000000

    def format_id(self, seq):
        return "JID_%012d" % (self.JID_BASE + seq * 137)

    def service_root_extra(self):
        return {"Managers": {"@odata.id": ROOT + "/Managers"}}

    def job_fields(self, task, p):
        key = self.state_key(p)
        job_state, message_id, text = DELL_JOB[key]
        if key == "new" and task.kind == "firmware_update":
            job_state = "Scheduled"
        return job_state, message_id, text

    def messages(self, task, p):
        message_id, text = self.job_fields(task, p)[1:]
        return [make_message("IDRAC.2.9." + message_id, text, DELL_SEVERITY.get(self.state_key(p), "OK"))]

    def failure_id(self, task, p):
        return "IDRAC.2.9." + self.job_fields(task, p)[1]

    def failure_text(self, task, p):
        return self.job_fields(task, p)[2]

    def task_payload(self, task, now):
        payload = super().task_payload(task, now)
        p = task.progress(now)
        job_state, message_id, text = self.job_fields(task, p)
        payload["Oem"] = {
            "Dell": {
                "@odata.type": "#DellJob.v1_5_0.DellJob",
                "Id": task.id,
                "Name": task.name,
                "JobState": job_state,
                "JobType": DELL_JOB_TYPE[task.kind],
                "PercentComplete": p.percent,
                "Message": text,
                "MessageId": message_id,
                "MessageArgs": [],
                "CompletionTime": iso(task.end_epoch(), tz=False) if p.done else None,
            }
        }
        return payload

    def job_resource(self, task, now):
        p = task.progress(now)
        job_state, message_id, text = self.job_fields(task, p)
        return {
            "@odata.context": "/redfish/v1/$metadata#DellJob.DellJob",
            "@odata.id": "%s/%s" % (DELL_JOBS, q(task.id)),
            "@odata.type": "#DellJob.v1_5_0.DellJob",
            "ActualRunningStartTime": iso(task.start_epoch(), tz=False) if p.phase != "new" else None,
            "ActualRunningStopTime": iso(task.end_epoch(), tz=False) if p.done else None,
            "CompletionTime": iso(task.end_epoch(), tz=False) if p.done else None,
            "Description": "Job Instance",
            "EndTime": "TIME_NA",
            "Id": task.id,
            "JobState": job_state,
            "JobType": DELL_JOB_TYPE[task.kind],
            "Message": text,
            "MessageArgs": [],
            "MessageArgs@odata.count": 0,
            "MessageId": message_id,
            "Name": task.name,
            "PercentComplete": p.percent,
            "StartTime": "TIME_NOW",
            "TargetSettingsURI": None,
        }

    def extra_route(self, req, rest, segs, now):
        get = req.method in ("GET", "HEAD")
        platform = self.platform
        if rest == ["Managers"]:
            return (
                platform.ok(
                    {
                        "@odata.id": ROOT + "/Managers",
                        "@odata.type": "#ManagerCollection.ManagerCollection",
                        "Name": "Manager Collection",
                        "Members": [{"@odata.id": DELL_MANAGER}],
                        "Members@odata.count": 1,
                    }
                )
                if get
                else platform.not_allowed(req, ["GET"])
            )
        if rest == ["Managers", "iDRAC.Embedded.1", "Jobs"]:
            if not get:
                return platform.not_allowed(req, ["GET"])
            head = {
                "@odata.context": "/redfish/v1/$metadata#DellJobCollection.DellJobCollection",
                "@odata.id": DELL_JOBS,
                "@odata.type": "#DellJobCollection.DellJobCollection",
                "Name": "JobQueue",
                "Description": "Collection of Job Instances",
            }
            return platform.collection(
                req,
                head,
                self.visible_tasks(now),
                lambda t: self.job_resource(t, now),
                lambda tid: "%s/%s" % (DELL_JOBS, q(tid)),
            )
        if len(rest) == 4 and rest[:3] == ["Managers", "iDRAC.Embedded.1", "Jobs"]:
            if not get:
                return platform.not_allowed(req, ["GET"])
            with self.device.lock:
                task = self.find(segs[-1], now)
                return platform.ok(self.job_resource(task, now)) if task else platform.not_found(req)
        if rest == ["Managers", "iDRAC.Embedded.1", "Actions", "Oem", "EID_674_Manager.ExportSystemConfiguration"]:
            if req.method != "POST":
                return platform.not_allowed(req, ["POST"])
            return self.export_system_configuration(req, now)
        return None

    def export_system_configuration(self, req, now):
        """The iDRAC's Server Configuration Profile export: 202 and the job's Task URI in Location."""
        platform = self.platform
        body, malformed = platform.json_body(req)
        if malformed:
            return malformed
        if not isinstance(body, dict) or not isinstance(body.get("ShareParameters"), dict):
            return platform.error_response(
                400,
                "The action EID_674_Manager.ExportSystemConfiguration requires the parameter ShareParameters to be "
                "present in the request body.",
                "ActionParameterMissing",
                ["EID_674_Manager.ExportSystemConfiguration", "ShareParameters"],
            )
        task = self.start_task(self.device.next_scenario(), self.device.config["duration"], "config_export",
                               request=body)
        with self.device.lock:
            payload = self.task_payload(task, now)
        return platform.ok(payload, 202, {"Location": task_uri(task.id)})


# ---- Cisco CIMC ----------------------------------------------------------

CISCO_KIND_SLOT = {
    "firmware_update": "CIMCFwUpdate",
    "config_export": "CIMCExportConfig",
    "support_export": "CIMCTechSupportExport",
    "other": "CIMCImportConfig",
}


def _load_cisco():
    with open(os.path.join(DATA_DIR, "cisco_cimc_tasks.json")) as handle:
        return json.load(handle)


def _slot_kind(slot_id):
    if slot_id.endswith("FwUpdate"):
        return "firmware_update"
    if slot_id.endswith("TechSupportExport"):
        return "support_export"
    if slot_id.endswith("ExportConfig"):
        return "config_export"
    return "other"


class CiscoFlavour(GenericFlavour):
    """Fixed slots; only Oem.Cisco.<X>Status moves, TaskState/TaskStatus stay stale."""

    vendor_product = ("Cisco Systems Inc.", "UCS S3260 Storage Server (simulated CIMC)")
    _data = None

    def __init__(self, platform):
        super().__init__(platform)
        if CiscoFlavour._data is None:
            CiscoFlavour._data = _load_cisco()

    def reset(self):
        self.device.tasks.clear()
        for seed in self._data["slots"]:
            slot_id = seed["Id"]
            self.device.tasks[slot_id] = SimTask(
                slot_id, _slot_kind(slot_id), None, 0, name=seed["Name"], extra={"seed": seed}
            )

    def task_service(self):
        return copy.deepcopy(self._data["TaskService"])

    def task_collection_head(self):
        head = copy.deepcopy(self._data["TaskCollection"])
        head.pop("Members", None)
        head.pop("Members@odata.count", None)
        return head

    def location(self, task):
        return task_uri(task.id)  # CIMC points at the Task itself, not at a monitor

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        slot_id = task_id or CISCO_KIND_SLOT[kind]
        if scenario == "delete":
            scenario = "success"  # fixed slots cannot vanish; a CIMC keeps them
        with self.device.lock:
            slot = self.device.tasks.get(slot_id)
            if slot is None:
                raise ConfigError("CIMC has no task slot %r; slots: %s" % (slot_id, ", ".join(self.device.tasks)))
            p = slot.progress()
            if p is not None and not p.done:
                raise Conflict("task slot %s is busy with a running operation" % slot_id)
            task = SimTask(
                slot_id,
                slot.kind,
                scenario,
                duration,
                name=slot.name,
                started_ago=started_ago,
                extra={"seed": slot.extra["seed"], "body": request or {}},
            )
            return self.device.add_task(task)

    @staticmethod
    def status_key(seed):
        for key in ("UpdateStatus", "ExportStatus", "ImportStatus"):
            if key in seed.get("Oem", {}).get("Cisco", {}):
                return key
        return None

    def status_text(self, task, p):
        update = task.kind == "firmware_update"
        if p.phase == "new":
            return "Starting (0%)"
        if p.phase == "running":
            return "In Progress (%d%%)" % p.percent
        if p.outcome == "success":
            return "Success (100%)" if update else "Completed Successfully"
        if p.outcome == "fail":
            return "Failed (%d%%)" % p.percent
        if p.outcome == "cancel":
            return "Cancelled (%d%%)" % p.percent
        return "Error: Image verification failed" if update else "Error: Operation failed"

    def task_payload(self, task, now):
        seed = task.extra["seed"]
        payload = copy.deepcopy(seed)
        p = task.progress(now)
        key = self.status_key(seed)
        if p is not None and key:
            payload["Oem"]["Cisco"][key] = self.status_text(task, p)
        return payload

    def failure_text(self, task, p):
        return self.status_text(task, p)

    def failure_id(self, task, p):
        return "GeneralError"

    def result_body(self, task):
        return {
            "@Message.ExtendedInfo": [make_message("Base.1.8.Success", "The request completed successfully.", "OK")]
        }


FLAVOURS = {"generic": GenericFlavour, "dell": DellFlavour, "cisco": CiscoFlavour}
assert set(FLAVOURS) == set(RedfishPlatform.vendors)
assert set(GENERIC_KINDS) == set(DELL_KINDS) == set(CISCO_KIND_SLOT) == set(KINDS)
