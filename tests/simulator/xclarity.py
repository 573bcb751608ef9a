"""Lenovo XClarity (LXCA / LXCO) for the test simulator.

What it serves, and where each shape comes from:

- ``POST /sessions`` with ``{"UserId", "password"}`` (pylxca's body) answers
  200 and sets the cookies ``JSESSIONID``, ``csrf``, ``inactivityTimeout``
  and ``user``; every later request with the session cookie must echo the
  ``csrf`` cookie as ``X-Csrf-Token`` or gets 403. ``DELETE /sessions``
  logs out (pylxca's ``disconnect``). HTTP Basic works without a session.
- ``GET /aicc``: a small JSON object (pylxca's connection test reads it).
- ``PUT /updateRepositories/firmware?action=export`` with ``{"fixids": [...]}``
  starts a job whose one subtask exports the files; the answer names both
  (``{"jobid", "taskid"}``: the field names are the simulator's, Lenovo's
  page does not show this answer). 409 while another export runs.
- ``GET /updateRepositories/firmware/status?tasktype=EXPORTREPOSITORY&taskid=N``
  as in shared/seeds/002: ``progress`` 0 -> 50 -> 100, ``state``
  complete / error / canceled (absent while the export runs), ``current``,
  ``downloadednum/total``, ``downloadedsize/totalsize``, ``errorMsg``.
  ``taskid=0``: an array of the running exports. Unknown ids: 400.
  Vendors ``lxca`` and ``lxco`` take both spellings of the parameter
  (``tasktype`` and ``taskType``); the test vendors ``tasktype-only`` and
  ``taskType-only`` take one, to prove a client copes with either.
- ``GET /jobs``, ``GET /jobs/{id}``: ``status.state`` / ``status.percentage``,
  ``messageDisplay``, ``startTime``/``endTime`` (attribute names as in
  Lenovo's xclarity_client Job and pylxca's filters).
- ``GET /tasks``, ``GET /tasks/{id1,id2}``: ``jobUID``, ``status``,
  ``percentage``, ``children``; unknown ids are left out of the array.

Scenarios -> job states: success Complete; fail Stopped_With_Error; cancel
Cancelled; critical Running_With_Errors, then Cancelled_With_Errors;
reboot: the appliance restarts at 50 % and the job ends Interrupted;
delete: the job is gone once done; stuck: Running at 50 % forever. An export
that fails ends ``state: error`` with ``errorMsg.result: failure``. The
message ids ``FQXHMUP2500I`` (from the seed) and ``FQXHMUP2501E``,
``FQXHMUP2502W``, ``FQXHMUP2503E`` (the simulator's own) are used.
"""

import http.cookies
import json
import os
import threading
import time

from .core import REBOOT_AT_PERCENT, Conflict, Platform, Response, SimTask, basic_credentials, iso, json_response

SESSIONS = "/sessions"
EXPORT = "/updateRepositories/firmware"
STATUS = EXPORT + "/status"
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "xclarity_schemas.json")
OK_ID = "FQXHMUP2500I"
JOB_END = {"success": "Complete", "fail": "Stopped_With_Error", "cancel": "Cancelled",
           "critical": "Cancelled_With_Errors", "reboot": "Interrupted", "delete": "Complete"}
EXPORT_END = {"success": "complete", "fail": "error", "critical": "error", "cancel": "canceled",
              "reboot": "error", "delete": "complete"}
TOTAL_FILES = 8
TOTAL_SIZE = 8 * 1024 * 1024


def error_msg(text, message_id, result="failure"):
    return {"result": result, "messages": [{"id": message_id, "text": text}]}


class XclarityPlatform(Platform):
    name = "xclarity"
    vendors = ("lxca", "lxco", "tasktype-only", "taskType-only")
    default_vendor = "lxca"

    def __init__(self, device):
        super().__init__(device)
        self.csrf = {}
        self.seq = 0
        self.seq_lock = threading.Lock()

    def reset(self):
        self.csrf = {}
        with self.seq_lock:
            self.seq = 0

    # ---- answers ---------------------------------------------------------

    def error_response(self, status, message, message_id=None, message_args=None, headers=None):
        return json_response(status, {"result": "failure", "messages": [
            {"id": message_id or "FQXHMSE0001E", "text": message, "explanation": message,
             "recovery": {"text": "Correct the request, then try again."}}]}, headers)

    def _next_id(self):
        with self.seq_lock:
            self.seq += 1
            return str(self.seq)

    # ---- routing ---------------------------------------------------------

    def handle(self, req):
        path = req.path.rstrip("/") or "/"
        if path == SESSIONS and req.method == "POST":
            return self.login(req)
        who = self.authenticate(req)
        if isinstance(who, Response):
            return who
        get = req.method in ("GET", "HEAD")
        segs = req.segments()
        if path == SESSIONS and req.method == "DELETE":
            return self.logout(who)
        if path == "/aicc" and get:
            return json_response(200, {"appliance": {"name": "taskstatus-sim", "product": self.vendor.upper()}})
        if path == EXPORT and req.method == "PUT":
            return self.start_export(req)
        if path == STATUS and get:
            return self.export_status(req)
        if segs[:1] in (["jobs"], ["tasks"]) and len(segs) <= 2 and get:
            return self.jobs(segs, req)
        return self.error_response(404, "The resource %s %s was not found." % (req.method, req.path), "FQXHMSE0404E")

    # ---- sessions --------------------------------------------------------

    def login(self, req):
        try:
            body = req.json()
        except ValueError:
            body = None
        password = body.get("password", body.get("Password")) if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("UserId"), str) or not isinstance(password, str):
            return self.error_response(400, "The request body must hold UserId and password.", "FQXHMSE0400E")
        if not self.device.check_password(body["UserId"], password):
            return self.error_response(401, "The user ID or password is not valid.", "FQXHMSE0002E")
        session = self.device.open_session(body["UserId"])
        if session is None:
            return self.error_response(503, "The maximum number of sessions is reached.", "FQXHMSE0003E")
        csrf = self.device.issued(os.urandom(16).hex())
        with self.device.lock:
            self.csrf[session.id] = csrf
        timeout = int(self.device.config["session_timeout"])
        # One Set-Cookie line per cookie; the core keeps one value per header
        # name, so each line gets its own spelling of the (case-blind) name.
        headers = {
            "Set-Cookie": "JSESSIONID=%s; Path=/; Secure; HttpOnly" % session.token,
            "set-cookie": "csrf=%s; Path=/; Secure" % csrf,
            "SET-COOKIE": "inactivityTimeout=%d; Path=/; Secure" % timeout,
            "Set-cookie": "user=%s; Path=/; Secure" % session.user,
        }
        return json_response(200, {"csrf": csrf}, headers)

    def authenticate(self, req):
        """The session, True (Basic) or an error Response."""
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(req.headers.get("Cookie") or "")
        except http.cookies.CookieError:
            pass
        token = cookies["JSESSIONID"].value if "JSESSIONID" in cookies else None
        if token:
            session = self.device.session_by_token(token)
            if session is not None:
                with self.device.lock:
                    expected = self.csrf.get(session.id)
                if not expected or req.headers.get("X-Csrf-Token") != expected:
                    return self.error_response(
                        403, "The request was refused: the X-Csrf-Token header is missing or does not match "
                        "the session.", "FQXHMSE0403E")
                return session
        creds = basic_credentials(req.headers.get("Authorization"))
        if creds is not None and self.device.check_password(*creds):
            return True
        return self.error_response(401, "The user cannot be authenticated; log in again.", "FQXHMSE0001E",
                                   headers={"WWW-Authenticate": 'Basic realm="LXCA"'})

    def logout(self, who):
        if who is True:
            return self.error_response(400, "There is no session to log out of.", "FQXHMSE0400E")
        self.device.close_session(who.id)
        with self.device.lock:
            self.csrf.pop(who.id, None)
        return json_response(200, {"result": "success", "messages": []})

    # ---- exports ---------------------------------------------------------

    def start_export(self, req):
        if req.query.get("action") != "export":
            return self.error_response(400, "The simulator only implements action=export.", "FQXHMSE0400E")
        try:
            body = req.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("fixids"), list) or not body["fixids"]:
            return json_response(400, {"errorMsg": error_msg("fixids is required for action=export.",
                                                             "FQXHMUP2503E")})
        try:
            job, export = self.new_export(self.device.next_scenario(), self.device.config["duration"], body["fixids"])
        except Conflict as exc:
            return json_response(409, {"errorMsg": error_msg(str(exc), "FQXHMUP2502W", "warning")})
        return json_response(200, {"jobid": job.id, "taskid": export.id.split(":")[1]})

    def new_export(self, scenario, duration, fixids, started_ago=0.0):
        now = time.monotonic()
        with self.device.lock:
            for task in self.device.tasks.values():
                if task.extra.get("export") and not task.progress(now).done:
                    raise Conflict("A repository export is already running (task %s); wait for it to end."
                                   % task.id.split(":")[1])
            job_id, export_id = self._next_id(), self._next_id()
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
            job = SimTask(job_id, "other", scenario, duration, name="Export firmware updates",
                          started_ago=started_ago, extra={"children": ["export:" + export_id]})
            export = SimTask("export:" + export_id, "other", scenario, duration, name="repository%s.zip" % stamp,
                             started_ago=started_ago, extra={"export": True, "fixids": list(fixids), "parent": job_id})
            self.device.add_task(job)
            self.device.add_task(export)
        return job, export

    def export_status(self, req):
        names = ("tasktype", "taskType") if self.vendor in ("lxca", "lxco") else (self.vendor.split("-")[0],)
        kind = next((req.query[n] for n in names if n in req.query), None)
        if kind != "EXPORTREPOSITORY":
            return json_response(400, {"errorMsg": error_msg(
                "The query parameter %s=EXPORTREPOSITORY is missing or not valid." % names[0], "FQXHMUP2503E")})
        taskid = req.query.get("taskid", "")
        if not taskid.isdigit():
            return json_response(400, {"errorMsg": error_msg("The taskid %r is not a number." % taskid[:40],
                                                             "FQXHMUP2503E")})
        now = time.monotonic()
        with self.device.lock:
            if int(taskid) == 0:
                running = [t for t in self.device.tasks.values() if t.extra.get("export") and not t.progress(now).done]
                return json_response(200, [self.export_body(t, now) for t in running])
            task = self.device.tasks.get("export:" + str(int(taskid)))
            if task is None or task.gone(now):
                return json_response(400, {"errorMsg": error_msg("The repository task %s was not found." % taskid,
                                                                 "FQXHMUP2503E")})
            return json_response(200, self.export_body(task, now))

    def export_body(self, task, now):
        p = task.progress(now)
        fraction = 1.0 if p.done and p.outcome == "success" else p.percent / 100.0
        body = {
            "current": task.name,
            "downloadednum": int(TOTAL_FILES * fraction),
            "downloadedsize": int(TOTAL_SIZE * fraction),
            "progress": 0 if p.phase == "new" else (100 if p.done else 50),
            "taskIds": task.id.split(":")[1],
            "total": TOTAL_FILES,
            "totalsize": TOTAL_SIZE,
            "updates": list(task.extra.get("fixids") or []),
        }
        if p.done:
            state = EXPORT_END.get(task.scenario, "complete")
            body["state"] = state
            if state == "complete":
                body["errorMsg"] = error_msg("Repository operation completed successfully.", OK_ID, "informational")
            elif state == "error":
                body["errorMsg"] = error_msg("The repository export failed: not enough space for %s." % task.name,
                                             "FQXHMUP2501E")
            else:
                body["errorMsg"] = error_msg("The repository export was canceled.", "FQXHMUP2502W", "warning")
        return body

    # ---- jobs and tasks --------------------------------------------------

    def jobs(self, segs, req):
        now = time.monotonic()
        as_job = segs[0] == "jobs"
        render = self.job_body if as_job else self.task_body
        with self.device.lock:
            top = [t for t in self.device.tasks.values() if not t.extra.get("export") and not t.gone(now)]
            if len(segs) == 1:
                return json_response(200, [render(t, now) for t in top])
            wanted = segs[1].split(",")
            if as_job:
                task = self.device.tasks.get(wanted[0])
                if len(wanted) != 1 or task is None or task.extra.get("export") or task.gone(now):
                    return self.error_response(404, "The job %s was not found." % segs[1][:40], "FQXHMJM0404E")
                return json_response(200, render(task, now))
            found = [self.device.tasks.get(w) for w in wanted]
            return json_response(200, [render(t, now) for t in found
                                       if t is not None and not t.extra.get("export") and not t.gone(now)])

    def state_of(self, task, now):
        p = task.progress(now)
        if p.phase == "new":
            return "Pending", 0
        if task.scenario == "reboot" and (p.done or p.percent >= REBOOT_AT_PERCENT):
            return "Interrupted", p.percent  # the appliance restarted under the job
        if not p.done:
            return ("Running_With_Errors" if task.scenario == "critical" else "Running"), p.percent
        return JOB_END.get(task.scenario, "Complete"), p.percent

    def job_body(self, task, now):
        state, percent = self.state_of(task, now)
        end = task.end_epoch() if task.progress(now).done else None
        text = {"Complete": "The job completed successfully.", "Pending": "The job is waiting to start.",
                "Running": "The job is running."}.get(state, "The job ended: %s." % state.replace("_", " ").lower())
        return {
            "id": task.id, "uuid": "", "category": "Updates" if task.kind == "firmware_update" else "General",
            "typeId": task.kind, "createdBy": self.device.config["username"], "cancelledBy": "",
            "messageBundle": "com.lenovo.lxca.sim.jobs", "messageID": "FQXHMJM0001I",
            "messageDisplay": "%s: %s" % (task.name or "Job %s" % task.id, text), "messageParameters": [],
            "isCancelable": state in ("Pending", "Running", "Running_With_Errors"), "cancelURI": "",
            "hidden": False, "rebootPersistent": False,
            "startTime": iso(task.start_epoch()), "endTime": iso(end) if end else "",
            "status": {"state": state, "percentage": percent},
        }

    def task_body(self, task, now):
        state, percent = self.state_of(task, now)
        children = []
        for child_id in task.extra.get("children") or []:
            child = self.device.tasks.get(child_id)
            if child is not None:
                c_state, c_percent = self.state_of(child, now)
                children.append(self.task_entry(child, child_id.split(":")[-1], c_state, c_percent, task.id, now, []))
        if not task.extra.get("children"):  # a job of the simulator: one subtask per target
            for n, target in enumerate(("node-1", "node-2"), 1):
                c_state = state if not (task.scenario == "critical" and n == 2) else "Stopped_With_Error"
                children.append(self.task_entry(task, "%s.%d" % (task.id, n), c_state, percent, task.id, now, [],
                                                name="%s on %s" % (task.name or "Job", target)))
        return self.task_entry(task, task.id, state, percent, None, now, children)

    def task_entry(self, task, uid, state, percent, parent, now, children, name=None):
        done = task.progress(now).done
        return {
            "jobUID": uid, "parentJobID": parent or "", "name": name or task.name or "Job %s" % uid,
            "description": task.name or "", "status": state, "percentage": percent,
            "createdBy": self.device.config["username"], "startTime": iso(task.start_epoch()),
            "endTime": iso(task.end_epoch()) if done else "", "cancelURL": "", "targetResourceType": "",
            "messageParameters": [], "children": children,
        }

    # ---- /_sim/tasks -----------------------------------------------------

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None):
        if task_id is not None and task_id in self.device.tasks:
            raise Conflict("a task with id %s exists" % task_id)
        task = SimTask(task_id or self._next_id(), kind, scenario, duration,
                       name=name or {"firmware_update": "Firmware update", "config_export": "Configuration export",
                                     "support_export": "Service data collection"}.get(kind, "Job"),
                       started_ago=started_ago)
        self.device.add_task(task)
        return {"id": task.id, "task_uri": "/tasks/" + task.id, "job_uri": "/jobs/" + task.id, "monitor_uri": None}


def schemas():
    with open(SCHEMA_FILE) as handle:
        return json.load(handle)
