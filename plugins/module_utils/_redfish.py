# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redfish adapter: TaskService tasks, task monitors, Dell jobs, Cisco CIMC slots."""

from __future__ import annotations

import posixpath
import re

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    BadResponse,
    HttpError,
    OptionError,
    TaskStatusError,
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import quote_segment
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    Task,
    message,
)

ROOT = "/redfish/v1"
TASKS = ROOT + "/TaskService/Tasks"
SESSIONS = ROOT + "/SessionService/Sessions"
MAX_ID_LENGTH = 1024
GONE = (404, 410)

TASK_STATES = {
    "new": PENDING, "pending": PENDING,
    "starting": RUNNING, "running": RUNNING, "stopping": RUNNING, "cancelling": RUNNING,
    "suspended": RUNNING, "interrupted": RUNNING, "service": RUNNING,
    "completed": SUCCEEDED,
    "exception": FAILED, "killed": FAILED,
    "cancelled": CANCELLED,
}
# DMTF Job.JobState and Dell iDRAC JobState (Oem.Dell.JobState, /Jobs/JID_*).
JOB_STATES = dict(TASK_STATES, **{
    "scheduled": PENDING, "scheduling": PENDING, "downloaded": PENDING, "waiting": PENDING,
    "readyforexecution": PENDING, "validating": PENDING, "paused": PENDING,
    "downloading": RUNNING, "continue": RUNNING, "userintervention": RUNNING,
    "failed": FAILED, "completedwitherrors": FAILED, "invalid": FAILED,
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


def error_text(data):
    """The message of a Redfish error body, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None
    err = data["error"]
    texts = [i.get("Message") for i in err.get("@Message.ExtendedInfo") or [] if isinstance(i, dict)]
    texts = [t for t in texts if t]
    return "; ".join(texts) or err.get("message") or err.get("code")


def infer_kind(data):
    oem = (data.get("Oem") or {}) if isinstance(data.get("Oem"), dict) else {}
    dell = oem.get("Dell") if isinstance(oem.get("Dell"), dict) else {}
    payload = data.get("Payload") if isinstance(data.get("Payload"), dict) else {}
    words = [payload.get("TargetUri"), data.get("JobType"), dell.get("JobType"), data.get("Id"),
             data.get("Name"), data.get("Description")]
    text = re.sub(r"[^a-z]", "", " ".join(str(w) for w in words if w).lower())
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
        state = CISCO_WORDS.get(word, CISCO_WORDS.get(word.split()[0], UNKNOWN) if word else UNKNOWN)
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
            and str(oem.get("FWVersion", "?")).strip().lower() in CISCO_NO_INFO)


def parse_task(data, task_id, url, platform="redfish"):
    """A normalized task from a Redfish Task, a DMTF Job or a Dell job resource."""
    if not isinstance(data, dict):
        raise BadResponse("a task is a JSON object", platform=platform, path=url)
    oem = data.get("Oem") if isinstance(data.get("Oem"), dict) else {}
    dell = oem.get("Dell") if isinstance(oem.get("Dell"), dict) else {}
    if "TaskState" in data:
        vendor = data.get("TaskState")
        state = TASK_STATES.get(str(vendor).lower(), UNKNOWN)
    elif "JobState" in data:
        vendor = data.get("JobState")
        state = JOB_STATES.get(str(vendor).lower(), UNKNOWN)
    else:
        raise BadResponse("the answer is not a Task or Job resource (no TaskState or JobState)",
                          platform=platform, path=url)
    health = str(data.get("TaskStatus") or data.get("JobStatus") or "").lower()
    if state == SUCCEEDED and health == "critical":
        state = FAILED  # Dell: Completed + TaskStatus Critical is a failure
    aliases = [dell.get("JobState")] if dell.get("JobState") else []
    percent = data.get("PercentComplete", dell.get("PercentComplete"))
    messages = []
    for item in data.get("Messages") or []:
        if isinstance(item, dict):
            messages.append(message(item.get("Message") or item.get("MessageId"),
                                    item.get("Severity") or item.get("MessageSeverity"),
                                    item.get("MessageId")))
    if dell.get("Message"):
        messages.append(message(dell["Message"], "critical" if state == FAILED else "info", dell.get("MessageId")))
    elif data.get("Message") and "JobState" in data:
        messages.append(message(data["Message"], "critical" if state == FAILED else "info", data.get("MessageId")))
    cisco = cisco_status(oem.get("Cisco"))
    if cisco and cisco_empty_slot(oem.get("Cisco"), cisco, state):
        messages.append(message("%s: no firmware in this slot (FWVersion %s), nothing is running"
                                % (cisco[2], oem["Cisco"]["FWVersion"]), "info", None))
    elif cisco:
        # The CIMC keeps fixed task slots whose TaskState goes stale: its OEM status decides.
        aliases.append(vendor)
        state, oem_percent, vendor = cisco
        percent = oem_percent if oem_percent is not None else percent
        messages.append(message(vendor, "critical" if state == FAILED else "info", None))
    payload = data.get("Payload") if isinstance(data.get("Payload"), dict) else {}
    return Task(
        task_id, platform, name=data.get("Name") or data.get("Id"), kind=infer_kind(data),
        state=state, percent=percent, messages=messages,
        started=data.get("StartTime") or dell.get("StartTime"),
        ended=data.get("EndTime") or dell.get("CompletionTime"),
        vendor_state=vendor, target=payload.get("TargetUri"), url=url, raw=data, aliases=aliases)


class RedfishAdapter(Adapter):
    platform = "redfish"

    def __init__(self, http, params):
        super().__init__(http, params)
        self.token = params.get("token")
        self.session_uri = None
        self.basic = None
        self.expand = None
        self._root = None
        self.monitor_tasks = {}
        self.notes = []

    # Authentication ------------------------------------------------------
    def headers(self):
        return {"X-Auth-Token": self.token} if self.token else {}

    def login(self):
        if self.params.get("token") and not self.params.get("password"):
            self.token = self.params["token"]
            self._check_login()
            return
        user, password = self.params.get("username"), self.params.get("password")
        if not user or not password:
            raise OptionError("username and password (or token) are required", platform=self.platform)
        method, self.basic = self.params.get("auth_method") or "auto", None
        # The service root is readable without credentials; Links.Sessions names the session collection.
        sessions = ((self.root().get("Links") or {}).get("Sessions") or {}).get("@odata.id")
        if method == "session" or (method == "auto" and sessions):
            resp = self.http.request("POST", sessions or SESSIONS, json_body={"UserName": user, "Password": password},
                                     retry=False)
            if resp.status in (200, 201) and resp.header("X-Auth-Token"):
                self.token = resp.header("X-Auth-Token")
                self.session_uri = resp.header("Location") or (resp.json(dict, allow_empty=True) or {}).get("@odata.id")
                return
            if resp.status in (401, 403):
                raise AuthError("credentials for user %r were refused (%s)" % (user, self._why(resp)),
                                platform=self.platform, path=SESSIONS, status=resp.status)
            if method == "session" or resp.status not in (404, 405, 501, 503):
                if resp.status >= 500:
                    raise TransientError("cannot create a session: %s" % self._why(resp), platform=self.platform,
                                         path=SESSIONS, status=resp.status, retry_after=resp.retry_after)
                raise HttpError("cannot create a session: %s" % self._why(resp), platform=self.platform,
                                path=SESSIONS, status=resp.status)
            if resp.status == 503:
                self.notes.append("the session service refused a new session (HTTP 503, full?); "
                                  "used HTTP Basic authentication instead")
        self.basic = (user, password)
        self._check_login()

    def root(self):
        """The service root (``{}`` when the service does not show it without credentials)."""
        if self._root is None:
            resp = self._check(self.http.request("GET", ROOT, headers=self.headers(), auth=self.basic))
            self._root = resp.json(dict) if resp.status == 200 else {}
        return self._root

    def _check_login(self):
        resp = self.http.request("GET", ROOT + "/TaskService", headers=self.headers(), auth=self.basic)
        if resp.status in (401, 403):
            raise AuthError("credentials were refused (%s)" % self._why(resp), platform=self.platform,
                            path=resp.path, status=resp.status)
        self._check(resp)

    def logout(self):
        if self.session_uri and self.token:
            self.http.request("DELETE", self.session_uri, headers=self.headers(), retry=False)
        self.forget_session()

    def forget_session(self):
        if self.session_uri:
            self.token = None
        self.session_uri = None

    # Requests --------------------------------------------------------------
    def get(self, path, params=None):
        resp = self.with_session(
            lambda: self.http.request("GET", path, headers=self.headers(), auth=self.basic, params=params))
        return self._check(resp)

    def _check(self, resp):
        if resp.status >= 500 and (resp.status != 500 or error_text(resp.json_or_none()) is None):
            raise TransientError(self._why(resp), platform=self.platform, path=resp.path, status=resp.status,
                                 retry_after=resp.retry_after)
        if resp.status == 429:
            raise TransientError("too many requests", platform=self.platform, path=resp.path, status=429,
                                 retry_after=resp.retry_after)
        return resp

    def _why(self, resp):
        return error_text(resp.json_or_none()) or resp.text(120) or "no details"

    # Task ids ---------------------------------------------------------------
    def resolve(self, task_id):
        """``(path, is_monitor)`` for an Id, a task URI or a task-monitor URI."""
        text = str(task_id)
        if not text.strip():
            raise OptionError("task_ids must not hold an empty id", platform=self.platform)
        if len(text) > MAX_ID_LENGTH:
            raise OptionError("task id %r... is %d characters long; a Redfish task id or URI has at most %d"
                              % (text[:40], len(text), MAX_ID_LENGTH), platform=self.platform)
        if not (text.startswith("/") or "://" in text):
            return TASKS + "/" + quote_segment(text), False
        url = self.http.url(text)
        path = self.http.path_of(url)[len(self.http.prefix):]
        if any(ord(c) < 32 for c in text) or "#" in text or \
                posixpath.normpath(path) != path.rstrip("/") or not path.startswith(ROOT + "/"):
            raise OptionError("task URI %r must be a plain path below %s/ (no '..', '#' or control characters)"
                              % (text[:120], ROOT), platform=self.platform)
        is_task = re.match(r"^%s/[^/]+/?$" % re.escape(TASKS), path) or re.match(
            r"^%s/Managers/[^/]+/Jobs/[^/]+/?$" % re.escape(ROOT), path)
        return url, not is_task

    # Reading -----------------------------------------------------------------
    def fetch(self, task_ids):
        return [self._fetch_one(task_id) for task_id in task_ids]

    def _fetch_one(self, task_id):
        path, is_monitor = self.resolve(task_id)
        if is_monitor:
            return self._read_monitor(task_id, path)
        resp = self.get(path)
        if resp.status in GONE:
            return Task(task_id, self.platform, found=False, url=self.http.url(path),
                        messages=[message("no such task", "warning")])
        self._fail_unless_ok(resp)
        return parse_task(resp.json(dict), task_id, self.http.url(path))

    def _fail_unless_ok(self, resp):
        if resp.status != 200:
            raise HttpError(self._why(resp), platform=self.platform, path=resp.path, status=resp.status)

    def _read_monitor(self, task_id, path):
        url = self.http.url(path)
        resp = self.get(path)
        body = resp.json_or_none()
        if resp.status == 202:
            self.hint(resp.retry_after)
            if isinstance(body, dict) and ("TaskState" in body or "JobState" in body):
                if body.get("@odata.id"):
                    self.monitor_tasks[task_id] = body["@odata.id"]
                task = parse_task(body, task_id, url)
                if task.terminal or task.state == UNKNOWN:
                    task.state = RUNNING  # 202 means the operation is still under way
                return task
            return Task(task_id, self.platform, state=RUNNING, vendor_state="202 Accepted", url=url)
        if resp.status in (200, 201, 204):
            if isinstance(body, dict) and "TaskState" in body:
                return parse_task(body, task_id, url)
            info = [message(i.get("Message") or i.get("MessageId"), i.get("Severity"), i.get("MessageId"))
                    for i in (body or {}).get("@Message.ExtendedInfo") or [] if isinstance(i, dict)] \
                if isinstance(body, dict) else []
            done = Task(task_id, self.platform, state=SUCCEEDED, percent=100, messages=info,
                        vendor_state="%d %s" % (resp.status, "No Content" if resp.status == 204 else "OK"),
                        url=url, raw=body, kind=infer_kind(body) if isinstance(body, dict) else "other")
            return self._with_task_resource(task_id, done, path)
        if resp.status in GONE:
            known = self.monitor_tasks.get(task_id)
            if known:
                task = self._fetch_one(known)
                task.id = task_id
                if task.found:
                    return task
            return Task(task_id, self.platform, found=False, url=url,
                        messages=[message("the task monitor answers %d" % resp.status, "warning")])
        if resp.status >= 400:
            return Task(task_id, self.platform, state=FAILED, url=url, raw=body,
                        vendor_state="%d" % resp.status,
                        messages=[message(self._why(resp), "critical", None)])
        raise BadResponse("unexpected answer from a task monitor", platform=self.platform,
                          path=resp.path, status=resp.status)

    def _with_task_resource(self, task_id, done, monitor):
        """The monitor's final answer, completed by its Task resource (name, kind, times, messages)."""
        known = self.monitor_tasks.get(task_id)
        task = self._fetch_one(known) if known else self._task_behind(monitor)
        if task is None or not task.found:
            return done
        task.id = task_id
        if not task.terminal:
            task.state, task.percent = done.state, done.percent  # the monitor's answer is final
        task.messages.extend(m for m in done.messages if m not in task.messages)
        return task

    def _task_behind(self, monitor):
        """The Task of a monitor that finished before it was first read, or None.

        Services keep it at TaskService/Tasks/<the monitor's last segment> (as the DMTF mockup
        public-pmem-configuration does); it counts only when that Task names this monitor in TaskMonitor.
        Nothing here may fail the read: the monitor has given the final answer, and some give it only once.
        """
        candidate = TASKS + "/" + self.http.path_of(monitor).rstrip("/").rsplit("/", 1)[-1]
        try:
            resp = self.get(candidate)
        except TaskStatusError:
            return None
        body = resp.json_or_none() if resp.status == 200 else None
        if not isinstance(body, dict) or "TaskState" not in body or not isinstance(body.get("TaskMonitor"), str):
            return None
        named = self.http.path_of(self.http.url(body["TaskMonitor"])).rstrip("/")
        if named != self.http.path_of(monitor).rstrip("/"):
            return None
        return parse_task(body, candidate, self.http.url(candidate))

    def list_tasks(self, filters):
        params = dict(filters.get("native") or {})
        members = self._collection(TASKS, params)
        tasks = []
        for member in members:
            if not isinstance(member, dict) or not member.get("@odata.id"):
                raise BadResponse("a Members entry has no @odata.id", platform=self.platform, path=TASKS)
            uri = member["@odata.id"]
            if "TaskState" in member or "JobState" in member:
                task = parse_task(member, member.get("Id") or uri, self.http.url(uri))
            else:
                resp = self.get(uri)
                if resp.status in GONE:
                    continue  # finished and deleted between the two requests
                self._fail_unless_ok(resp)
                data = resp.json(dict)
                task = parse_task(data, data.get("Id") or uri, self.http.url(uri))
            tasks.append(task)
        return tasks

    def _collection(self, path, params):
        if self.expand is None:
            expand = (self.root().get("ProtocolFeaturesSupported") or {}).get("ExpandQuery") or {}
            self.expand = bool(expand.get("ExpandAll") or expand.get("Levels"))
        if self.expand and "$expand" not in params:
            params["$expand"] = ".($levels=1)"
        members = []
        next_path = path
        for _page in range(1000):
            resp = self.get(next_path, params=params)
            self._fail_unless_ok(resp)
            data = resp.json(dict)
            if not isinstance(data.get("Members"), list):
                raise BadResponse("the task collection has no Members array", platform=self.platform,
                                  path=resp.path, status=resp.status)
            members.extend(data["Members"])
            next_path, params = data.get("Members@odata.nextLink"), None
            if not next_path:
                return members
        raise BadResponse("the task collection pages do not end", platform=self.platform, path=path)
