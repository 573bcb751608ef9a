# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redfish adapter: TaskService tasks, task monitors, Dell jobs, Cisco CIMC slots."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter, check_bare_id
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    BadResponse,
    HttpError,
    OptionError,
    TaskStatusError,
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
    as_dict,
    as_list,
    message,
    text_or_none,
)

ROOT = "/redfish/v1"
TASKS = ROOT + "/TaskService/Tasks"
# Paths of resources that are tasks or jobs themselves (anything else is read as a task monitor).
TASK_PATHS = (
    re.compile(r"^%s/[^/]+/?$" % re.escape(TASKS)),
    re.compile(r"^%s/Managers/[^/]+/Jobs/[^/]+/?$" % re.escape(ROOT)),
    re.compile(r"^%s/JobService/Jobs/[^/]+/?$" % re.escape(ROOT)),
)
SESSIONS = ROOT + "/SessionService/Sessions"
MAX_ID_LENGTH = 1024
GONE = (404, 410)
# What a task monitor may answer as the operation's own failure: every error status but a refusal
# (401, 403) and the ones that mean "not now" (408, 429, 502, 503, 504).
MONITOR_ERRORS = tuple(s for s in range(400, 600) if s not in (401, 403, 408, 429, 502, 503, 504))

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
    texts = [text_or_none(i.get("Message")) for i in as_list(err.get("@Message.ExtendedInfo")) if isinstance(i, dict)]
    texts = [t for t in texts if t]
    return "; ".join(texts) or text_or_none(err.get("message")) or text_or_none(err.get("code"))


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
            and (text_or_none(oem.get("FWVersion")) or "?").strip().lower() in CISCO_NO_INFO)


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
        state = FAILED  # Dell: Completed + TaskStatus Critical is a failure
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
        started=data.get("StartTime") or dell.get("StartTime"),
        ended=data.get("EndTime") or dell.get("CompletionTime"),
        vendor_state=vendor, target=payload.get("TargetUri"), url=url, raw=data, aliases=aliases)


def resource_type(data):
    """``ComputerSystem`` from ``"@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem"``, or None."""
    odata = data.get("@odata.type") if isinstance(data, dict) else None
    if not isinstance(odata, str):
        return None
    return odata.lstrip("#").split(".", 1)[0] or None


class RedfishAdapter(Adapter):
    platform = "redfish"
    VENDOR_STATES = tuple(sorted(set(JOB_STATES) | set(CISCO_WORDS)))

    def __init__(self, http, params):
        super().__init__(http, params)
        self.token = params.get("token")
        self.session_uri = None
        self.basic = None
        self.expand = None
        self._root = None
        self.monitor_tasks = {}
        self.accepted = set()  # task monitors that answered 202 in this run

    # Authentication ------------------------------------------------------
    def credentials(self):
        return ({"X-Auth-Token": self.token} if self.token else {}), self.basic

    def login(self):
        if self.params.get("token") and not self.params.get("password"):
            self.token = self.params["token"]
            self._check_login()
            return
        user, password = self.params.get("username"), self.params.get("password")
        if not user or not password:
            raise OptionError("username and password (or token) are required", platform=self.platform)
        method, self.basic, self.token = self.params.get("auth_method") or "auto", None, None
        # The service root is readable without credentials; Links.Sessions names the session collection.
        sessions = as_dict(as_dict(self.root().get("Links")).get("Sessions")).get("@odata.id")
        if method == "session" or (method == "auto" and sessions):
            path = sessions if isinstance(sessions, str) and sessions.startswith(ROOT + "/") else SESSIONS
            resp = self.http.request("POST", path, json_body={"UserName": user, "Password": password}, retry=False)
            if resp.status in (200, 201) and resp.header("X-Auth-Token"):
                self.token = self.secret(resp.header("X-Auth-Token"))
                self.session_uri = self._session_path(path, resp)
                return
            full = session_table_full(resp)
            if method == "session" or not (full or resp.status in (404, 405, 501)):
                self.check_login(resp, "credentials for user %r were refused" % user)
                raise HttpError("cannot create a session: %s" % self.why(resp), platform=self.platform,
                                path=resp.path, status=resp.status)
            if full:
                self.notes.append("the session service refused a new session (HTTP %d: %s); used HTTP Basic "
                                  "authentication instead" % (resp.status, self.why(resp)))
        self.basic = (user, password)
        self._check_login()

    def _session_path(self, sessions, resp):
        """Where the new session is deleted: the path of its ``Location`` (kept as a path, on the configured
        host, whatever authority the service wrote), below the session collection."""
        body = as_dict(resp.json_or_none())
        location = resp.header("Location") or body.get("@odata.id")
        path = urlsplit(location).path.rstrip("/") if isinstance(location, str) else ""
        if path.startswith(sessions.rstrip("/") + "/") and ".." not in path:
            return path
        fallback = sessions.rstrip("/") + "/" + quote_segment(text_or_none(body.get("Id")) or "?")
        self.notes.append("the new session's Location (%s) is not below %s; it is deleted at %s"
                          % (text_or_none(location) or "none", sessions, fallback))
        return fallback

    def root(self):
        """The service root (``{}`` when the service does not show it without credentials)."""
        if self._root is None:
            headers, auth = self.credentials()
            resp = self.transmit("GET", ROOT, headers=headers, auth=auth)
            if resp.status not in (401, 403):
                self.classify(resp)
            self._root = resp.json(dict) if resp.status == 200 else {}
        return self._root

    def _check_login(self):
        self.request("GET", ROOT + "/TaskService")

    def logout(self):
        if self.session_uri and self.token:
            self.logged_out(self.request("DELETE", self.session_uri, final=True))

    def forget_session(self):
        if self.session_uri:
            self.token = None
        self.session_uri = None

    # Requests --------------------------------------------------------------
    def get(self, path, params=None, accept=()):
        return self.request("GET", path, params=params, accept=accept)

    def why(self, resp):
        return error_text(resp.json_or_none()) or resp.text(120) or "HTTP %d, no details" % resp.status

    # Task ids ---------------------------------------------------------------
    def check_ids(self, task_ids):
        for task_id in task_ids:
            self.resolve(task_id)

    def resolve(self, task_id):
        """``(url, is_monitor)`` for an Id, a task URI or a task-monitor URI; ``OptionError`` for anything else."""
        text = str(task_id)
        if len(text) > MAX_ID_LENGTH:
            raise OptionError("task id %r... is %d characters long; a Redfish task id or URI has at most %d"
                              % (text[:40], len(text), MAX_ID_LENGTH), platform=self.platform)
        if not (text.startswith("/") or "://" in text):
            return TASKS + "/" + quote_segment(check_bare_id(text, self.platform)), False
        url = self.http.url(text)
        path = self.http.path_of(url)[len(self.http.prefix):]
        if any(ord(c) < 32 for c in text) or "#" in text or "%2f" in path.lower() or "%2e" in path.lower() or \
                posixpath.normpath(path) != path.rstrip("/") or not path.startswith(ROOT + "/"):
            raise OptionError("task URI %r must be a plain path below %s/ (no '..', '#', encoded '/' or control "
                              "characters)" % (text[:120], ROOT), platform=self.platform)
        return url, not self.is_task_path(path)

    def is_task_path(self, path):
        return any(p.match(path) for p in TASK_PATHS)

    def task_link(self, uri):
        """A server-given link (a monitor's ``@odata.id``) as a task URL on this host, or None.

        Only a link to a Task or Job resource counts; anything else (another monitor, the monitor itself,
        another host) is ignored, so that links the server gives are followed at most once.
        """
        if not isinstance(uri, str):
            return None
        path = self.http.local_path(uri)
        if not path or not self.is_task_path(path[len(self.http.prefix):]):
            return None
        try:
            return self.http.path_of(self.resolve(path)[0])
        except OptionError:
            return None

    # Reading -----------------------------------------------------------------
    def fetch(self, task_ids):
        return [self._fetch_one(task_id) for task_id in task_ids]

    def _fetch_one(self, task_id):
        path, is_monitor = self.resolve(task_id)
        if is_monitor:
            return self._read_monitor(task_id, path)
        return self._read_task(task_id, path)

    def _read_task(self, task_id, path):
        url = self.http.url(path)
        resp = self.get(path)
        if resp.status in GONE:
            return Task(task_id, self.platform, found=False, url=url, messages=[message("no such task", "warning")])
        self._fail_unless_ok(resp)
        return parse_task(resp.json(dict), task_id, url)

    def _fail_unless_ok(self, resp):
        if resp.status != 200:
            raise HttpError(self.why(resp), platform=self.platform, path=resp.path, status=resp.status)

    def _read_monitor(self, task_id, path):
        url = self.http.url(path)
        resp = self.get(path, accept=MONITOR_ERRORS)
        body = resp.json_or_none()
        if resp.status == 202:
            self.accepted.add(url)
            self.hint(resp.retry_after)
            if isinstance(body, dict) and ("TaskState" in body or "JobState" in body):
                link = self.task_link(body.get("@odata.id"))
                if link and self.http.url(link) != url:
                    self.monitor_tasks[task_id] = link
                task = parse_task(body, task_id, url)
                if task.terminal or task.state == UNKNOWN:
                    task.state = RUNNING  # 202 means the operation is still under way
                return task
            return Task(task_id, self.platform, state=RUNNING, vendor_state="202 Accepted", url=url)
        if resp.status in (200, 201, 204):
            if isinstance(body, dict) and ("TaskState" in body or "JobState" in body):
                return parse_task(body, task_id, url)
            return self._monitor_done(task_id, path, resp, body)
        if resp.status in GONE:
            known = self.monitor_tasks.get(task_id)
            if known:
                task = self._read_task(task_id, known)
                if task.found:
                    return task
            return Task(task_id, self.platform, found=False, url=url,
                        messages=[message("the task monitor answers %d" % resp.status, "warning")])
        if resp.status >= 400:
            # The operation's own answer: it failed. (A failure is never taken for a success, so this holds
            # also for a monitor whose 202 this run did not see.)
            return Task(task_id, self.platform, state=FAILED, url=url, raw=body, vendor_state="%d" % resp.status,
                        messages=[message(self.why(resp), "critical", None)])
        raise BadResponse("unexpected answer from a task monitor", platform=self.platform,
                          path=resp.path, status=resp.status)

    def _monitor_done(self, task_id, path, resp, body):
        """A monitor's final answer (200/201/204 without a Task body).

        It counts as the operation's success only for a URI that answered 202 in this run, or whose Task
        resource names it as its TaskMonitor. Anything else stays unknown, or is refused when the body says
        what it is (``/redfish/v1/Systems/1`` answers 200 too).
        """
        info = [message(i.get("Message") or i.get("MessageId"), i.get("MessageSeverity") or i.get("Severity"),
                        i.get("MessageId"))
                for i in as_list(as_dict(body).get("@Message.ExtendedInfo")) if isinstance(i, dict)]
        vendor = "%d %s" % (resp.status, "No Content" if resp.status == 204 else "OK")
        url = self.http.url(path)
        known = self.monitor_tasks.get(task_id)
        task = self._task_resource(task_id, known) if known else self._task_behind(path)
        if task is not None:
            task.id = task_id
            if url in self.accepted and not task.terminal:
                task.state, task.percent = SUCCEEDED, 100  # the monitor's answer is final
            task.messages.extend(m for m in info if m not in task.messages)
            return task
        if url in self.accepted:
            return Task(task_id, self.platform, state=SUCCEEDED, percent=100, messages=info, vendor_state=vendor,
                        url=url, raw=body, kind=infer_kind(body) if isinstance(body, dict) else "other")
        kind = resource_type(body)
        if kind and kind not in ("Task", "Job"):
            raise OptionError("task id %s is a %s resource, not a task, a job or a task monitor"
                              % (task_id if len(str(task_id)) < 120 else str(task_id)[:120], kind),
                              platform=self.platform)
        return Task(task_id, self.platform, state=UNKNOWN, messages=info + [message(
            "answered %s before this run saw it as a task monitor (202), and no Task names it: its outcome "
            "is unknown" % vendor, "warning")], vendor_state=vendor, url=url, raw=body)

    def _task_resource(self, task_id, path):
        """The Task a monitor named, read once; None when it cannot be read."""
        try:
            task = self._read_task(task_id, path)
        except TaskStatusError:
            return None
        return task if task.found else None

    def _task_behind(self, monitor):
        """The Task of a monitor that finished before it was first read, or None.

        Services keep it at TaskService/Tasks/<the monitor's last segment> (as the DMTF mockup
        public-pmem-configuration does); it counts only when that Task names this monitor in TaskMonitor.
        Nothing here may fail the read: the monitor has given the final answer, and some give it only once.
        """
        try:
            candidate = TASKS + "/" + self.http.path_of(monitor).rstrip("/").rsplit("/", 1)[-1]
            resp = self.get(candidate)
            body = resp.json_or_none() if resp.status == 200 else None
            if not isinstance(body, dict) or "TaskState" not in body or not isinstance(body.get("TaskMonitor"), str):
                return None
            named = self.http.local_path(body["TaskMonitor"])
            if not named or named.rstrip("/") != self.http.path_of(self.http.url(monitor)).rstrip("/"):
                return None
            task = parse_task(body, candidate, self.http.url(candidate))
        except TaskStatusError:
            return None
        self.accepted.add(self.http.url(monitor))  # the Task vouches for the monitor: its answer is final
        return task

    def list_tasks(self, filters):
        params = dict(filters.get("native") or {})
        members = self._collection(TASKS, params)
        tasks = []
        for member in members:
            uri = member.get("@odata.id") if isinstance(member, dict) else None
            if not isinstance(uri, str) or not uri:
                raise BadResponse("a Members entry has no @odata.id", platform=self.platform, path=TASKS)
            url = self.http.url(uri)
            if "TaskState" in member or "JobState" in member:
                task = parse_task(member, text_or_none(member.get("Id")) or uri, url)
            else:
                resp = self.get(uri)
                if resp.status in GONE:
                    continue  # finished and deleted between the two requests
                self._fail_unless_ok(resp)
                data = resp.json(dict)
                task = parse_task(data, text_or_none(data.get("Id")) or uri, url)
            tasks.append(task)
        return tasks

    def _collection(self, path, params):
        if self.expand is None:
            expand = as_dict(as_dict(self.root().get("ProtocolFeaturesSupported")).get("ExpandQuery"))
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
            if not isinstance(next_path, str):
                raise BadResponse("Members@odata.nextLink is not a URI", platform=self.platform, path=resp.path)
        raise BadResponse("the task collection pages do not end", platform=self.platform, path=path)
