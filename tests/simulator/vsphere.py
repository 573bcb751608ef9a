"""vSphere (vCenter) platform of the simulator: sessions and cis tasks over /api and /rest.

Vendors (API generations):

- ``vcenter``: vCenter 8 - both ``/api`` and the deprecated ``/rest``;
- ``api``: only ``/api`` (a vCenter with the old ``/rest`` switched off);
- ``rest``: only ``/rest`` (vCenter 6.7/7.0 before U2: no ``/api``, answers 404).

Answers follow ../shared/specs/vsphere/cis-8.0.2.json and session-8.0.2.json
(checked by tests/unit/simulator/test_vsphere_spec.py). ``/rest`` session
creation (``POST /rest/com/vmware/cis/session`` -> 200 ``{"value": id}``) and
the vLCM operation that starts a task (``POST /api/esx/settings/clusters/{c}/
software?action=apply&vmw-task=true`` -> 202 + task id) are not in those two
documents; they follow the vSphere Automation API reference.

Scenarios: success -> SUCCEEDED; fail/critical -> FAILED with an error;
cancel -> FAILED (vSphere has no cancelled status; the error says canceled);
stuck -> BLOCKED forever; delete -> the task is gone once done; reboot -> the
core's reboot window. Idle sessions expire after the ``session_timeout`` knob.
"""

import time
import urllib.parse
import uuid

from .core import Conflict, Platform, Response, SimTask, basic_credentials, iso, json_response

API_SESSION = "/api/session"
REST_SESSION = "/rest/com/vmware/cis/session"
SOFTWARE = "com.vmware.esx.settings.clusters.software"
MAX_LIST = 1000
# kind -> (service, operation, description)
KIND_OPS = {
    "firmware_update": (SOFTWARE, "apply", "Remediating cluster {target}"),
    "config_export": (SOFTWARE, "export", "Exporting the software specification of {target}"),
    "support_export": ("com.vmware.esx.settings.clusters.software.reports.hardware_compatibility", "check",
                       "Checking hardware compatibility of {target}"),
    "other": (SOFTWARE, "scan", "Checking compliance of cluster {target}"),
}
ERROR_TYPES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "UNAUTHORIZED", 404: "NOT_FOUND",
    500: "INTERNAL_SERVER_ERROR", 503: "SERVICE_UNAVAILABLE", 429: "RESOURCE_BUSY",
}


def lmsg(msg_id, text, args=()):
    return {"id": msg_id, "default_message": text, "args": list(args)}


class VsphereSimPlatform(Platform):
    name = "vsphere"
    vendors = ("vcenter", "api", "rest")
    default_vendor = "vcenter"

    def __init__(self, device):
        super().__init__(device)
        self.seq = 0

    @property
    def flavours(self):
        return {"vcenter": ("api", "rest"), "api": ("api",), "rest": ("rest",)}[self.vendor]

    # ---- answers ---------------------------------------------------------

    def error_response(self, status, message, message_id=None, message_args=None, headers=None, flavour="api"):
        kind = (message_id if message_id and message_id.isupper() else None) or ERROR_TYPES.get(status, "ERROR")
        msg = lmsg("com.vmware.vapi.std.errors.%s" % kind.lower(), message, [str(a) for a in message_args or []])
        if flavour == "rest":
            body = {"type": "com.vmware.vapi.std.errors.%s" % kind.lower(), "value": {"messages": [msg]}}
        else:
            body = {"error_type": kind, "messages": [msg]}
        return json_response(status, body, headers)

    def no_such_path(self):
        # What a vCenter without this API generation answers: not a vAPI error.
        return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html")

    # ---- routing ---------------------------------------------------------

    def handle(self, req):
        segs = req.segments()
        flavour = segs[0] if segs and segs[0] in ("api", "rest") else None
        if flavour is None or flavour not in self.flavours:
            return self.no_such_path()
        path = "/" + "/".join(segs)
        session_path = API_SESSION if flavour == "api" else REST_SESSION
        if path == session_path and req.method == "POST" and "~action" not in req.query:
            return self.login(req, flavour)
        session = self.session(req)
        if session is None:
            return self.error_response(401, "Authentication required.", "UNAUTHENTICATED", flavour=flavour)
        now = time.monotonic()
        if path == session_path:
            return self.session_op(req, flavour, session)
        tasks = "/%s/cis/tasks" % flavour
        if flavour == "api" and path == tasks and req.method == "POST" and req.query.get("action") == "list":
            try:
                body = req.json() if req.body.strip() else {}
            except ValueError:
                return self.error_response(400, "The request body is not JSON.", flavour=flavour)
            if not isinstance(body, dict):
                return self.error_response(400, "The request body must be an object.", flavour=flavour)
            return self.list_tasks(body.get("filter_spec") or {}, flavour, now)
        if flavour == "rest" and path == tasks and req.method == "GET":
            spec = {}
            for key, value in urllib.parse.parse_qsl(req.query_string, keep_blank_values=True):
                if key.startswith("filter_spec."):
                    spec.setdefault(key[len("filter_spec."):], []).append(value)
            return self.list_tasks(spec, flavour, now)
        if path.startswith(tasks + "/") and len(segs) == 4 and req.method == "GET":
            task = self.find(segs[3], now)
            if task is None:
                return self.error_response(404, "Task %s not found." % segs[3], "NOT_FOUND", [segs[3]],
                                           flavour=flavour)
            info = self.info(task, now, flavour)
            return json_response(200, info if flavour == "api" else {"value": info})
        if (flavour == "api" and len(segs) == 6 and segs[1:4] == ["esx", "settings", "clusters"]
                and segs[5] == "software" and req.method == "POST"):
            return self.apply(req, segs[4])
        return self.error_response(404, "Operation %s %s not found." % (req.method, path), "OPERATION_NOT_FOUND",
                                   flavour=flavour)

    # ---- sessions --------------------------------------------------------

    def session(self, req):
        token = req.headers.get("vmware-api-session-id")
        return self.device.session_by_token(token) if token else None

    def login(self, req, flavour):
        creds = basic_credentials(req.headers.get("Authorization"))
        if creds is None or not self.device.check_password(*creds):
            return self.error_response(401, "Authentication required.", "UNAUTHENTICATED", flavour=flavour)
        session = self.device.open_session(creds[0])
        if session is None:
            return self.error_response(503, "Too many sessions: the session limit was reached.",
                                       "SERVICE_UNAVAILABLE", flavour=flavour)
        if flavour == "api":
            return json_response(201, session.token)
        return json_response(200, {"value": session.token})

    def session_op(self, req, flavour, session):
        info = {"user": session.user, "created_time": iso(session.created),
                "last_accessed_time": iso(time.time())}
        if req.method == "DELETE":
            self.device.close_session(session.id)
            return Response(204, b"", content_type=None) if flavour == "api" else Response(200, b"", content_type=None)
        if flavour == "api" and req.method == "GET":
            return json_response(200, info)
        if flavour == "rest" and req.method == "POST" and req.query.get("~action") == "get":
            return json_response(200, {"value": info})
        return self.error_response(404, "Operation not found.", "OPERATION_NOT_FOUND", flavour=flavour)

    # ---- tasks -----------------------------------------------------------

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, target=None):
        service, operation, text = KIND_OPS.get(kind, KIND_OPS["other"])
        target = target or "domain-c%d" % (8 + self.seq)
        with self.device.lock:
            self.seq += 1
            if task_id is None:
                task_id = "%s:%s" % (uuid.uuid4(), service)
            elif task_id in self.device.tasks:
                raise Conflict("task id %r exists" % task_id)
            task = SimTask(task_id, kind, scenario, duration, name=name or text.format(target=target),
                           started_ago=started_ago,
                           extra={"service": service, "operation": operation, "target": target})
            self.device.add_task(task)
        return {"id": task.id, "task_uri": "/api/cis/tasks/" + urllib.parse.quote(task.id, safe=""),
                "monitor_uri": None}

    def reset(self):
        self.seq = 0
        self.device.tasks.clear()

    def find(self, task_id, now):
        task = self.device.tasks.get(task_id)
        return None if task is None or task.gone(now) else task

    def apply(self, req, cluster):
        if req.query.get("action") != "apply":
            return self.error_response(400, "Unsupported action.", "INVALID_ARGUMENT")
        if req.query.get("vmw-task") != "true":
            return self.error_response(400, "This simulator runs apply only as a task (vmw-task=true).",
                                       "UNSUPPORTED")
        scenario = self.device.next_scenario()
        created = self.create_task(scenario, self.device.config["duration"], "firmware_update", target=cluster)
        return json_response(202, created["id"])

    def info(self, task, now, flavour):
        p = task.progress(now)
        status = "PENDING"
        if p is None:
            status = "SUCCEEDED"
        elif p.phase == "running":
            status = "BLOCKED" if task.scenario == "stuck" and p.percent >= 50 else "RUNNING"
        elif p.done:
            status = "SUCCEEDED" if p.outcome == "success" else "FAILED"
        description = lmsg("com.vmware.esx.settings.clusters.software.%s" % task.extra["operation"], task.name)
        info = {
            "description": description,
            "service": task.extra["service"],
            "operation": task.extra["operation"],
            "target": {"type": "ClusterComputeResource", "id": task.extra["target"]},
            "status": status,
            "cancelable": status in ("PENDING", "RUNNING", "BLOCKED"),
            "user": "VSPHERE.LOCAL\\%s" % self.device.config["username"],
        }
        if status != "PENDING":
            info["start_time"] = iso(task.start_epoch() + task.duration * 0.1).replace("+00:00", ".000Z")
            texts = {
                "RUNNING": "Remediating hosts (%d%%)." % (p.percent if p else 100),
                "BLOCKED": "Waiting for host 192.0.2.21 to enter maintenance mode.",
                "SUCCEEDED": "Remediation completed.",
                "FAILED": "Remediation failed.",
            }
            info["progress"] = {
                "total": 100,
                "completed": 100 if status == "SUCCEEDED" else (p.percent if p else 0),
                "message": lmsg("com.vmware.vcIntegrity.lifecycle.Progress", texts[status]),
            }
        if status in ("SUCCEEDED", "FAILED"):
            info["end_time"] = iso(task.end_epoch()).replace("+00:00", ".000Z")
        if status == "FAILED":
            info["error"] = {
                "fail": "Host 192.0.2.22 failed to install the image: the VIB depends on a missing component.",
                "critical": "Cluster remediation failed: a host could not enter maintenance mode.",
                "cancel": "The operation was canceled by VSPHERE.LOCAL\\administrator.",
            }.get(p.outcome, "Remediation failed.")
        if flavour == "rest":
            info["description"] = dict(description, params=[])
        return info

    def list_tasks(self, spec, flavour, now):
        if not isinstance(spec, dict):
            return self.error_response(400, "filter_spec must be an object.", flavour=flavour)
        wanted = {k: spec.get(k) or [] for k in ("tasks", "services", "operations", "status", "users")}
        if not wanted["tasks"] and not wanted["services"]:
            return self.error_response(
                400, "Invalid filter_spec: either tasks or services must be specified.", "INVALID_ARGUMENT",
                flavour=flavour)
        with self.device.lock:
            tasks = [t for t in self.device.tasks.values() if not t.gone(now)]
        out = []
        for task in tasks:
            info = self.info(task, now, flavour)
            if wanted["tasks"] and task.id not in wanted["tasks"]:
                continue
            if wanted["services"] and info["service"] not in wanted["services"]:
                continue
            if wanted["operations"] and info["operation"] not in wanted["operations"]:
                continue
            if wanted["status"] and info["status"] not in wanted["status"]:
                continue
            if wanted["users"] and info["user"] not in wanted["users"]:
                continue
            out.append((task.id, info))
        if len(out) > MAX_LIST:
            status = 500 if flavour == "api" else 400
            return self.error_response(
                status, "Over %d tasks (%d) match the filter spec." % (MAX_LIST, len(out)), "RESOURCE_INACCESSIBLE",
                flavour=flavour)
        if flavour == "api":
            return json_response(200, dict(out))
        return json_response(200, {"value": [{"key": k, "value": v} for k, v in out]})
