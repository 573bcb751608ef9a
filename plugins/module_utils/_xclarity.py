# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lenovo XClarity (LXCA / LXCO) adapter: repository export tasks, jobs and tasks.

Ids carry their kind as a prefix: ``export:12`` (repository export status),
``job:12`` (``GET /jobs/12``), ``task:12`` or plain ``12`` (``GET /tasks/12``;
several task ids are read in one ``GET /tasks/12,13`` request).
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    BadResponse,
    HttpError,
    OptionError,
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
    ratio,
    settle,
    text_or_none,
)

SESSIONS = "/sessions"
EXPORT_STATUS = "/updateRepositories/firmware/status"
JOBS = "/jobs"
TASKS = "/tasks"
CHECK = "/aicc"
PREFIXES = ("export", "job", "task")
# Lenovo's page names the parameter taskType in its table and tasktype in its example.
SPELLINGS = ("tasktype", "taskType")
ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
MAX_IDS_PER_REQUEST = 50

JOB_STATES = {
    "pending": PENDING, "scheduled": PENDING, "created": PENDING,
    "running": RUNNING, "running_with_errors": RUNNING, "cancelling": RUNNING,
    "complete": SUCCEEDED, "completed": SUCCEEDED, "success": SUCCEEDED,
    "stopped_with_error": FAILED, "stopped_with_errors": FAILED, "completewitherrors": FAILED,
    "complete_with_errors": FAILED, "interrupted": FAILED, "failed": FAILED, "error": FAILED,
    "cancelled": CANCELLED, "canceled": CANCELLED, "cancelled_with_errors": CANCELLED,
}
EXPORT_STATES = {"complete": SUCCEEDED, "error": FAILED, "canceled": CANCELLED, "cancelled": CANCELLED}
KIND_WORDS = (
    ("repository_export", ("export",)),
    ("support_export", ("servicedata", "ffdc", "supportdata")),
    ("firmware_update", ("firmware", "update", "flash")),
    ("deployment", ("deploy", "configpattern", "osimage")),
    ("backup", ("backup",)),
)


def error_text(data):
    """``(text, ids)`` from an XClarity error body (``errorMsg`` or top-level ``messages``), or None."""
    if not isinstance(data, dict):
        return None
    err = data.get("errorMsg") if isinstance(data.get("errorMsg"), dict) else data
    items = [(text_or_none(m.get("text")), text_or_none(m.get("id"))) for m in as_list(err.get("messages"))
             if isinstance(m, dict)]
    items = [(text, mid) for text, mid in items if text or mid]
    if not items:
        return None
    texts = ["%s (%s)" % (text or mid, mid) if mid else text for text, mid in items]
    return "; ".join(texts), [mid for _text, mid in items]


def vendor_messages(data):
    """``errorMsg.messages[]`` as normalized messages; ``errorMsg.result`` gives the severity."""
    err = data.get("errorMsg") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return [], None
    result = (text_or_none(err.get("result")) or "").lower() or None
    return [message(m.get("text") or m.get("id"), result, m.get("id"))
            for m in as_list(err.get("messages")) if isinstance(m, dict)], result


def as_time(value):
    """ISO 8601 from an ISO string or an epoch number (seconds or milliseconds)."""
    if isinstance(value, bool) or value in (None, "", 0):
        return None
    if not isinstance(value, (int, float)):
        return str(value)
    try:
        when = datetime.datetime.fromtimestamp(value / 1000.0 if value > 1e11 else value, datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return when.replace(microsecond=0).isoformat()


def infer_kind(*words):
    text = re.sub(r"[^a-z]", "", " ".join(text_or_none(w) or "" for w in words).lower())
    for kind, needles in KIND_WORDS:
        if any(n in text for n in needles):
            return kind
    return "other"


def parse_export(data, task_id, url, platform="xclarity"):
    """A normalized task from a ``GET /updateRepositories/firmware/status`` answer."""
    if not isinstance(data, dict) or not ("progress" in data or "state" in data):
        raise BadResponse("an export status is a JSON object with progress and state", platform=platform, path=url)
    word = (text_or_none(data.get("state")) or "").strip().lower()
    progress = data.get("progress")
    messages, result = vendor_messages(data)
    if word in EXPORT_STATES:
        state = EXPORT_STATES[word]
    elif result == "failure":
        state = FAILED
    elif progress in (0, 0.0):
        state = PENDING
    elif isinstance(progress, (int, float)) and not isinstance(progress, bool) and 0 < progress < 100:
        state = RUNNING
    else:
        state = UNKNOWN
    if state == SUCCEEDED and result == "failure":
        state = FAILED
    if state == SUCCEEDED:
        percent = 100
    else:
        # progress is coarse (0 / 50 / 100): the bytes or files exported say more.
        finer = ratio(data.get("downloadedsize"), data.get("totalsize"))
        if finer is None:
            finer = ratio(data.get("downloadednum"), data.get("total"))
        percent = finer if finer is not None else progress
        if state in (PENDING, RUNNING) and isinstance(percent, (int, float)) and not isinstance(percent, bool):
            percent = min(99, percent)
    return Task(task_id, platform, name=text_or_none(data.get("current")) or
                "repository export %s" % str(task_id).split(":", 1)[-1],
                kind="repository_export", state=state, percent=percent, messages=messages,
                vendor_state=data.get("state") or ("progress %s" % progress), target=data.get("current") or None,
                url=url, raw=data)


def job_state(word):
    return JOB_STATES.get(word.strip().lower(), UNKNOWN) if isinstance(word, str) else UNKNOWN


def parse_job(data, task_id, url, platform="xclarity"):
    """A normalized task from ``GET /jobs/{id}`` (``status.state``, ``status.percentage``)."""
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, dict) or "state" not in status:
        raise BadResponse("a job is a JSON object with status.state", platform=platform, path=url)
    vendor = status.get("state")
    state = job_state(vendor)
    severity = "critical" if state == FAILED else ("warning" if "error" in str(vendor).lower() else "info")
    messages = [message(data["messageDisplay"], severity, data.get("messageID"))] \
        if text_or_none(data.get("messageDisplay")) else []
    return Task(task_id, platform, name=text_or_none(data.get("name")) or "job %s" % (
                text_or_none(data.get("id")) or task_id),
                kind=infer_kind(data.get("category"), data.get("typeId"), data.get("messageDisplay")),
                state=state, percent=100 if state == SUCCEEDED else status.get("percentage"), messages=messages,
                started=as_time(data.get("startTime")), ended=as_time(data.get("endTime")),
                vendor_state=vendor, target=data.get("uuid"), url=url, raw=data)


def parse_task(data, task_id, url, platform="xclarity"):
    """A normalized task from one ``GET /tasks/{ids}`` entry; troubled subtasks become messages.

    A task that says ``Complete`` while one of its subtasks failed or was cancelled did not succeed: the
    rule every platform follows (``settle``).
    """
    if not isinstance(data, dict) or "status" not in data:
        raise BadResponse("a task is a JSON object with status", platform=platform, path=url)
    vendor = data.get("status")
    messages = []
    children = []
    for child in _walk(data.get("children")):
        word = text_or_none(child.get("status")) or "?"
        child_state = job_state(word)
        label = text_or_none(child.get("name")) or text_or_none(child.get("description")) or ""
        children.append(("%s (%s)" % (label, text_or_none(child.get("jobUID"))), child_state))
        if child_state in (FAILED, CANCELLED) or "error" in word.lower():
            messages.append(message("subtask %s (%s): %s" % (label, text_or_none(child.get("jobUID")), word),
                                    "critical" if child_state == FAILED else "warning", None))
    state, verdict = settle(job_state(vendor), children)
    if text_or_none(data.get("description")) and state in (FAILED, CANCELLED) and not messages:
        messages.append(message(data["description"], "critical", None))
    if verdict:
        messages.append(verdict)
    return Task(task_id, platform, name=text_or_none(data.get("name")) or text_or_none(data.get("description")) or
                "task %s" % text_or_none(data.get("jobUID")),
                kind=infer_kind(data.get("name"), data.get("description"), data.get("targetResourceType")),
                state=state, percent=100 if state == SUCCEEDED else data.get("percentage"), messages=messages,
                started=as_time(data.get("startTime")), ended=as_time(data.get("endTime")),
                vendor_state=vendor, url=url, raw=data)


def _walk(children, depth=0):
    for child in as_list(children):
        if isinstance(child, dict) and depth < 8:
            yield child
            yield from _walk(child.get("children"), depth + 1)


def split_id(task_id, platform="xclarity"):
    """``(kind, number)`` for ``export:N``, ``job:N``, ``task:N`` or a plain task id."""
    text = str(task_id).strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        kind, rest = "task", text
    kind = kind.strip().lower()
    rest = rest.strip()
    if kind not in PREFIXES:
        raise OptionError("task id %r: the prefix must be one of %s (export:N for a repository export, job:N for "
                          "GET /jobs/N, task:N or a plain N for GET /tasks/N)"
                          % (text[:60], ", ".join(p + ":" for p in PREFIXES)), platform=platform)
    if kind == "export":
        if not rest.isdigit():
            raise OptionError("task id %r: a repository export task id is a number (the taskid the export "
                              "returned), for example export:12" % text[:60], platform=platform)
        if int(rest) == 0:
            raise OptionError("task id %r: taskid 0 means 'every running export' to XClarity, not one task; to wait "
                              "for all running exports use filters: {kind: [repository_export]}" % text,
                              platform=platform)
    elif not ID_RE.match(rest):
        raise OptionError("task id %r is not an XClarity job or task id (letters, digits, '.', '_' or '-')"
                          % text[:60], platform=platform)
    return kind, rest


class XclarityAdapter(Adapter):
    platform = "xclarity"
    VENDOR_STATES = tuple(sorted(set(JOB_STATES) | set(EXPORT_STATES)))

    def __init__(self, http, params):
        super().__init__(http, params)
        self.csrf = None
        self.basic = None
        self.spelling = None

    def check_ids(self, task_ids):
        for task_id in task_ids:
            split_id(task_id, self.platform)  # a malformed id fails before any login

    # Authentication ------------------------------------------------------
    def credentials(self):
        return ({"X-Csrf-Token": self.csrf} if self.csrf else {}), self.basic

    def login(self):
        user, password = self.params.get("username"), self.params.get("password")
        if not user or not password:
            raise OptionError("username and password are required for XClarity", platform=self.platform)
        method = self.params.get("auth_method") or "auto"
        refused = "credentials for user %r were refused" % user
        if method in ("auto", "session"):
            resp = self.http.request("POST", SESSIONS, json_body={"UserId": user, "password": password}, retry=False)
            if resp.status in (200, 201):
                body = as_dict(resp.json_or_none())
                self.csrf = self.secret(self.http.cookie("csrf") or text_or_none(body.get("csrf")))
                if not self.csrf:
                    self.csrf = "-"  # log out with what we have, then report
                    self._end_session()
                    raise BadResponse("the session answer has no csrf cookie; XClarity refuses every request "
                                      "without the X-Csrf-Token header (403)", platform=self.platform,
                                      path=SESSIONS, status=resp.status)
                return
            if method == "session" or resp.status not in (404, 405, 501, 503):
                self.check_login(resp, refused)
                raise HttpError("cannot create a session: %s" % self.why(resp), platform=self.platform,
                                path=SESSIONS, status=resp.status)
            self.notes.append("XClarity refused a new session (HTTP %d); used HTTP Basic authentication instead"
                              % resp.status)
        self.basic = (user, password)
        self.check_login(self.request("GET", CHECK), refused)

    def logout(self):
        if self.csrf:
            self.logged_out(self.request("DELETE", SESSIONS, final=True))

    def forget_session(self):
        self.csrf = None
        self.http.clear_cookies()

    # Requests --------------------------------------------------------------
    def get(self, path, params=None):
        resp = self.request("GET", path, params=params)
        if resp.status == 409:
            raise HttpError("conflict: %s (XClarity answers 409 while another repository operation runs; "
                            "wait for it, then retry)" % self.why(resp), platform=self.platform,
                            path=resp.path, status=409)
        return resp

    def why(self, resp):
        found = error_text(resp.json_or_none())
        text = found[0] if found else (resp.text(120) or "HTTP %d, no details" % resp.status)
        if resp.status == 403:
            text += (" (XClarity answers 403 when the X-Csrf-Token header does not match the session, or the user "
                     "lacks the privilege)")
        return text

    def _ok(self, resp, expect):
        if resp.status != 200:
            raise HttpError(self.why(resp), platform=self.platform, path=resp.path, status=resp.status)
        return resp.json(expect)

    # Reading -----------------------------------------------------------------
    def fetch(self, task_ids):
        parsed = [(task_id, split_id(task_id, self.platform)) for task_id in task_ids]
        found = {}
        task_numbers = []
        for task_id, (kind, number) in parsed:
            if kind == "task" and number not in task_numbers:
                task_numbers.append(number)
        for start in range(0, len(task_numbers), MAX_IDS_PER_REQUEST):
            found.update(self._tasks(task_numbers[start:start + MAX_IDS_PER_REQUEST]))
        out = []
        for task_id, (kind, number) in parsed:
            if kind == "export":
                out.append(self._export(task_id, number))
            elif kind == "job":
                out.append(self._job(task_id, number))
            else:
                data = found.get(number)
                url = self.http.url("%s/%s" % (TASKS, quote_segment(number)))
                if data is None:
                    out.append(Task(task_id, self.platform, found=False, url=url, messages=[message(
                        "no such job or task; a repository export's taskid is read as export:%s" % number,
                        "warning")]))
                else:
                    out.append(parse_task(data, task_id, url, self.platform))
        return out

    def _tasks(self, numbers):
        """``{jobUID: entry}`` for task ids, in one ``GET /tasks/a,b,c``."""
        path = "%s/%s" % (TASKS, ",".join(quote_segment(n) for n in numbers))
        resp = self.get(path)
        if resp.status in (404, 410):
            if len(numbers) == 1:
                return {}
            result = {}  # an appliance that refuses the whole list for one unknown id: ask one by one
            for number in numbers:
                result.update(self._tasks([number]))
            return result
        return self._entries(resp, (list, dict))

    def _entries(self, resp, expect):
        """``{jobUID: entry}`` of a ``/tasks`` answer."""
        data = self._ok(resp, expect)
        result = {}
        for entry in data if isinstance(data, list) else [data]:
            uid = text_or_none(entry.get("jobUID")) if isinstance(entry, dict) else None
            if uid is None:
                raise BadResponse("a task entry has no jobUID", platform=self.platform, path=resp.path,
                                  status=resp.status)
            result[uid] = entry
        return result

    def _job(self, task_id, number):
        path = "%s/%s" % (JOBS, quote_segment(number))
        resp = self.get(path)
        if resp.status in (404, 410):
            return Task(task_id, self.platform, found=False, url=self.http.url(path),
                        messages=[message("no such job", "warning")])
        data = self._ok(resp, (dict, list))
        if isinstance(data, list):
            if len(data) != 1:
                raise BadResponse("GET /jobs/{id} answered %d jobs" % len(data), platform=self.platform,
                                  path=resp.path, status=resp.status)
            data = data[0]
        return parse_job(data, task_id, self.http.url(path), self.platform)

    def _export_get(self, taskid):
        """The status answer, trying the other spelling of the tasktype parameter on a 400."""
        spellings = (self.spelling,) if self.spelling else SPELLINGS
        resp = None
        for spelling in spellings:
            resp = self.get(EXPORT_STATUS, params={spelling: "EXPORTREPOSITORY", "taskid": taskid})
            if resp.status == 200:
                self.spelling = spelling
                return resp
            if resp.status != 400:
                break
        return resp

    def _export(self, task_id, number):
        url = self.http.url("%s?taskid=%s" % (EXPORT_STATUS, number))
        resp = self._export_get(number)
        if resp.status in (400, 404):
            # Both spellings refused (or the one known to work): the taskid is what XClarity does not know.
            return Task(task_id, self.platform, found=False, url=url, kind="repository_export",
                        messages=[message("no such repository export task (%s)" % self.why(resp), "warning")])
        data = self._ok(resp, (dict, list))
        if isinstance(data, list):
            data = next((d for d in data if isinstance(d, dict) and _export_number(d) == number), None)
            if data is None:
                return Task(task_id, self.platform, found=False, url=url, kind="repository_export",
                            messages=[message("no such repository export task", "warning")])
        return parse_export(data, task_id, url, self.platform)

    def list_tasks(self, filters):
        params = dict(filters.get("native") or {})
        kinds = set(filters.get("kind") or [])
        tasks = []
        if not kinds or kinds - {"repository_export"}:
            for uid, entry in self._entries(self.get(TASKS, params=params or None), list).items():
                tasks.append(parse_task(entry, uid, self.http.url("%s/%s" % (TASKS, quote_segment(uid))),
                                        self.platform))
        if not kinds or "repository_export" in kinds:
            resp = self._export_get(0)
            data = self._ok(resp, (list, dict))
            for entry in data if isinstance(data, list) else [data]:
                number = _export_number(entry) if isinstance(entry, dict) else None
                if number is None:
                    continue  # no taskIds: nothing a later poll could ask for
                task_id = "export:%s" % number
                tasks.append(parse_export(entry, task_id, self.http.url("%s?taskid=%s" % (EXPORT_STATUS, number)),
                                          self.platform))
        return tasks


def _export_number(entry):
    """The export's own taskid from ``taskIds`` (a string), when it holds one number."""
    text = (text_or_none(entry.get("taskIds")) or "").split(",", maxsplit=1)[0].strip()
    return text if text.isdigit() and int(text) > 0 else None
