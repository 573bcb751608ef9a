# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vSphere adapter: vCenter cis tasks over ``/api`` (7.0 U2+) or ``/rest`` (older)."""

from __future__ import annotations

import re

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    BadResponse,
    HttpError,
    OptionError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import quote_segment
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (
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
    text_or_none,
)

API, REST = "api", "rest"
SESSION = {API: "/api/session", REST: "/rest/com/vmware/cis/session"}
TASKS = {API: "/api/cis/tasks", REST: "/rest/cis/tasks"}
HEADER = "vmware-api-session-id"
MAX_ID_LENGTH = 512
# Ids per list call: /api takes them in a JSON body, /rest in the query string.
CHUNK = {API: 1000, REST: 200}
STATUS = {"PENDING": PENDING, "RUNNING": RUNNING, "BLOCKED": RUNNING, "SUCCEEDED": SUCCEEDED, "FAILED": FAILED}
# Normalized state -> cis status, to narrow a list on the server.
STATE_STATUS = {PENDING: ["PENDING"], RUNNING: ["RUNNING", "BLOCKED"], SUCCEEDED: ["SUCCEEDED"], FAILED: ["FAILED"]}
FILTER_KEYS = ("tasks", "services", "operations", "status", "targets", "users")
RESULT_KEYS = ("return_all", "exclude_result")
# (service pattern, operation pattern, kind) of the vLCM operations that run as cis tasks
# (?vmw-task=true): image apply/stage, software export (depot/ISO), configuration import.
KIND_RULES = (
    (r"^com\.vmware\.esx\.settings\.(clusters|hosts)\.software$", r"^(apply|stage)$", "firmware_update"),
    (r"^com\.vmware\.esx\.settings\.(clusters|hosts)\.software$", r"^export$", "repository_export"),
    (r"^com\.vmware\.esx\.settings\.(clusters|hosts)\.configuration$", r"^import", "config_import"),
)


def localizable(msg):
    """The text of a vAPI LocalizableMessage (or a plain string), or None."""
    if isinstance(msg, str):
        return msg or None
    if not isinstance(msg, dict):
        return None
    return text_or_none(msg.get("localized")) or text_or_none(msg.get("default_message")) or \
        text_or_none(msg.get("id"))


def vapi_error(data):
    """``(KIND, text)`` of a vAPI error body (``/api`` plain, ``/rest`` ``{type, value}``), or None."""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("type"), str) and isinstance(data.get("value"), dict):
        kind, body = data["type"].rsplit(".", 1)[-1].upper(), data["value"]
    elif "error_type" in data or isinstance(data.get("messages"), list):
        kind, body = str(data.get("error_type") or "ERROR").upper(), data
    else:
        return None
    texts = [localizable(m) for m in as_list(body.get("messages"))]
    return kind, "; ".join(t for t in texts if t) or kind.lower()


def error_messages(error):
    """``[(text, id)]`` of a task's ``error``: a string or an object with ``messages``."""
    if error is None:
        return []
    if isinstance(error, str):
        return [(error, None)] if error else []
    if isinstance(error, dict):
        body = error.get("value") if isinstance(error.get("value"), dict) else error
        out = [(localizable(m), m.get("id") if isinstance(m, dict) else None) for m in as_list(body.get("messages"))]
        out = [o for o in out if o[0]]
        return out or [(text_or_none(body.get("error_type")) or text_or_none(error.get("type")) or "error", None)]
    return [(str(error), None)]


def infer_kind(service, operation):
    service, operation = text_or_none(service) or "", text_or_none(operation) or ""
    for service_re, operation_re, kind in KIND_RULES:
        if re.match(service_re, service) and re.match(operation_re, operation):
            return kind
    return "other"


def parse_info(info, task_id, url, platform="vsphere", path=None):
    """A normalized task from a cis ``Info`` (the ``/api`` object or the ``/rest`` ``value``)."""
    if not isinstance(info, dict) or not isinstance(info.get("status"), str):
        raise BadResponse("a cis task Info is a JSON object with a status string", platform=platform,
                          path=path or url)
    vendor = info["status"]
    state = STATUS.get(vendor.upper(), UNKNOWN)
    progress = as_dict(info.get("progress"))
    percent = ratio(progress.get("completed"), progress.get("total"))
    messages = []
    text = localizable(progress.get("message"))
    if text:
        pid = as_dict(progress["message"]).get("id")
        messages.append(message(text, "info", pid))
    for text, mid in error_messages(info.get("error")):
        messages.append(message(text, "critical", mid))
    if vendor.upper() == "BLOCKED":  # first, so that the vendor's own words stay the latest message
        messages.insert(0, message("BLOCKED: the task waits for another operation or for input", "warning"))
    service, operation = text_or_none(info.get("service")), text_or_none(info.get("operation"))
    target = info.get("target")
    if isinstance(target, dict) and text_or_none(target.get("id")):
        kind = text_or_none(target.get("type"))
        target = "%s:%s" % (kind, text_or_none(target["id"])) if kind else text_or_none(target["id"])
    elif not isinstance(target, str):
        target = None
    name = localizable(info.get("description")) or ".".join(p for p in (service, operation) if p) or task_id
    return Task(task_id, platform, name=name, kind=infer_kind(service, operation), state=state,
                percent=percent, messages=messages, started=info.get("start_time"), ended=info.get("end_time"),
                vendor_state=vendor, target=target, url=url, raw=info)


def check_task_id(task_id, platform="vsphere"):
    """A vSphere task id as given (``52f0...:com.vmware.esx.settings.clusters.software``), or OptionError."""
    text = "" if task_id is None else str(task_id)
    if not text.strip():
        raise OptionError("task_ids must not hold an empty id", platform=platform)
    if len(text) > MAX_ID_LENGTH:
        raise OptionError("task id %r... is %d characters long; a vSphere task id has at most %d"
                          % (text[:40], len(text), MAX_ID_LENGTH), platform=platform)
    bad = [c for c in ("/", "?", "#", "\\", "..") if c in text] + (["white space"] if re.search(r"\s", text) else [])
    if bad or any(ord(c) < 32 for c in text):
        raise OptionError("task id %r is not a vSphere task id (it contains %s); give the id that the "
                          "?vmw-task=true operation returned, for example 52f0c2d4-...:com.vmware.esx.settings."
                          "clusters.software" % (text[:120], ", ".join(repr(b) for b in bad) or "control characters"),
                          platform=platform)
    return text


class VsphereAdapter(Adapter):
    platform = "vsphere"
    VENDOR_STATES = tuple(s.lower() for s in STATUS)

    def __init__(self, http, params):
        super().__init__(http, params)
        self.token = None
        self.own_session = False
        self.session_path = None  # where our own session was created, and is deleted
        self.flavour = None
        self.notes = []

    # Sessions ----------------------------------------------------------------
    def credentials(self):
        return ({HEADER: self.token} if self.token else {}), None

    def login(self):
        user, password = self.params.get("username"), self.params.get("password")
        if self.params.get("token") and not self.ever_logged_in:
            self.token, self.own_session = self.params["token"], False
            self._check_token()
            return
        if not user or not password:
            if self.params.get("token"):
                raise AuthError("the session given in token expired or was deleted; give username and password "
                                "as well so that the module can log in again", platform=self.platform)
            raise OptionError("username and password (or token) are required", platform=self.platform)
        for flavour in [REST] if self.flavour == REST else [API, REST]:
            path = SESSION[flavour]
            resp = self.http.request("POST", path, auth=(user, password), retry=False,
                                     headers={"vmware-use-header-authn": "true"})
            if resp.status in (200, 201):
                data = resp.json((str, dict))
                token = data if flavour == API else (data.get("value") if isinstance(data, dict) else None)
                if not isinstance(token, str) or not token:
                    raise BadResponse("the new session is not a session id (%s)" % (
                        "a JSON string" if flavour == API else '{"value": "<session id>"}'),
                        platform=self.platform, path=path, status=resp.status)
                self.token, self.own_session, self.flavour, self.session_path = self.secret(token), True, flavour, path
                return
            self.check_login(resp, "credentials for user %r were refused" % user)
            if flavour == API and self._endpoint_missing(resp):
                continue  # no /api (vCenter before 7.0 U2): try /rest
            raise HttpError("cannot create a session: %s" % self.why(resp), platform=self.platform, path=resp.path,
                            status=resp.status)
        raise HttpError("this vCenter has neither /api/session nor /rest/com/vmware/cis/session",
                        platform=self.platform, path=SESSION[REST], status=404)

    def _check_token(self):
        for flavour, method, params in ((API, "GET", None), (REST, "POST", {"~action": "get"})):
            headers, _auth = self.credentials()
            resp = self.transmit(method, SESSION[flavour], headers=headers, params=params,
                                 retry=method == "GET" or None)
            self.check_login(resp, "the session given in token was refused")
            if resp.status == 200:
                self.flavour = flavour
                return
            if not (flavour == API and self._endpoint_missing(resp)):
                raise HttpError("cannot check the session given in token: %s" % self.why(resp),
                                platform=self.platform, path=resp.path, status=resp.status)
        raise HttpError("this vCenter has no session API", platform=self.platform, path=SESSION[REST])

    def logout(self):
        if self.own_session and self.token:
            self.logged_out(self.request("DELETE", self.session_path, final=True))

    def forget_session(self):
        self.token = None
        self.own_session = False

    # Requests ----------------------------------------------------------------
    def call(self, method, path, params=None, json_body=None):
        """One request with the session; a 401 after login (idle timeout) logs in again, once."""
        return self.request(method, path, params=params, json_body=json_body, retry=True)

    def relogin(self):
        if not (self.params.get("username") and self.params.get("password")):
            raise AuthError("the session given in token expired or was deleted; give username and password "
                            "as well so that the module can log in again", platform=self.platform)
        super().relogin()

    def _kind(self, resp):
        err = vapi_error(resp.json_or_none())
        return err[0] if err else None

    def why(self, resp):
        err = vapi_error(resp.json_or_none())
        if not err:
            return resp.text(120) or "HTTP %d, no details" % resp.status
        text = "%s: %s" % (err[0].lower(), err[1])
        if err[0] == "RESOURCE_INACCESSIBLE" and self.http.path_of(resp.path).endswith("/cis/tasks"):
            text += (" (more than 1000 tasks match the filter, or a task's state cannot be accessed: narrow "
                     "filters.native (status, operations, targets, users) or give task_ids)")
        return text

    def _endpoint_missing(self, resp):
        """404/405 without a vAPI error: the path does not exist on this vCenter."""
        return resp.status in (404, 405) and vapi_error(resp.json_or_none()) is None

    def _raise(self, resp, prefix=""):
        raise HttpError(prefix + self.why(resp), platform=self.platform, path=resp.path, status=resp.status)

    def check_ids(self, task_ids):
        for task_id in task_ids:
            check_task_id(task_id, self.platform)

    # Reading -----------------------------------------------------------------
    def fetch(self, task_ids):
        ids = [check_task_id(t, self.platform) for t in task_ids]
        if len(ids) == 1:
            return [self._get(ids[0])]
        unique = list(dict.fromkeys(ids))
        infos = {}
        try:
            for start in range(0, len(unique), CHUNK[self.flavour or API]):
                infos.update(self._list({"tasks": unique[start:start + CHUNK[self.flavour or API]]}, {}))
        except HttpError as exc:
            if exc.status != 400:
                raise
            # For instance tasks of different providers in one list: read them one by one.
            self.notes.append("vCenter refused to list these tasks together (%s); read them one by one" % exc.message)
            return [self._get(i) for i in ids]
        return [infos[i] if i in infos else self._missing(i) for i in ids]

    def _missing(self, task_id):
        return Task(task_id, self.platform, found=False, messages=[message("no such task", "warning")],
                    url=self.http.url(self._task_path(task_id)))

    def _task_path(self, task_id, flavour=None):
        return TASKS[flavour or self.flavour or API] + "/" + quote_segment(task_id)

    def _get(self, task_id):
        for flavour in [REST] if self.flavour == REST else [API, REST]:
            path = self._task_path(task_id, flavour)
            resp = self.call("GET", path)
            if resp.status == 200:
                self.flavour = flavour
                data = resp.json(dict)
                if flavour == REST:
                    if "value" not in data:
                        raise BadResponse('the answer is not {"value": Info}', platform=self.platform,
                                          path=resp.path, status=resp.status)
                    data = data["value"]
                return parse_info(data, task_id, self.http.url(path), self.platform, resp.path)
            if flavour == API and self._endpoint_missing(resp):
                continue
            if resp.status == 404:
                self.flavour = flavour
                return self._missing(task_id)
            self._raise(resp, "cannot read the task: ")
        raise HttpError("this vCenter serves neither /api/cis/tasks nor /rest/cis/tasks", platform=self.platform,
                        path=TASKS[REST], status=404)

    def list_tasks(self, filters):
        spec, result_spec = self.filter_spec(filters)
        return list(self._list(spec, result_spec).values())

    def filter_spec(self, filters):
        """``(filter_spec, result_spec)`` from ``filters.native`` (and ``filters.state``)."""
        native = dict((filters or {}).get("native") or {})
        spec = dict(native.pop("filter_spec", None) or {})
        result_spec = dict(native.pop("result_spec", None) or {})
        for key, value in native.items():
            name = key.split(".", 1)[1] if key.startswith(("filter_spec.", "result_spec.")) else key
            if name in FILTER_KEYS and not key.startswith("result_spec."):
                spec[name] = value
            elif name in RESULT_KEYS and not key.startswith("filter_spec."):
                result_spec[name] = value
            else:
                raise OptionError("filters.native: unknown key %r; vSphere takes filter_spec keys %s and "
                                  "result_spec keys %s" % (key, ", ".join(FILTER_KEYS), ", ".join(RESULT_KEYS)),
                                  platform=self.platform)
        for key in list(spec):
            if key not in FILTER_KEYS:
                raise OptionError("filters.native.filter_spec: unknown key %r (%s)" % (key, ", ".join(FILTER_KEYS)),
                                  platform=self.platform)
            if spec[key] is None or isinstance(spec[key], (str, dict)):
                spec[key] = [] if spec[key] is None else [spec[key]]
        if spec.get("status"):
            spec["status"] = [str(s).upper() for s in spec["status"]]
        states = (filters or {}).get("state") or []
        if states and "status" not in spec and all(s in STATE_STATUS for s in states):
            spec["status"] = [v for s in states for v in STATE_STATUS[s]]
        if not spec.get("tasks") and not spec.get("services"):
            raise OptionError("vCenter lists tasks only by task id or by service: set filters.native.services "
                              "(for example [com.vmware.esx.settings.clusters.software]) or filters.native.tasks, "
                              "or give task_ids; the cis tasks API refuses a filter_spec without tasks or services",
                              platform=self.platform)
        return spec, result_spec

    def _list(self, spec, result_spec):
        """``{id: Task}`` of one list call."""
        for flavour in [REST] if self.flavour == REST else [API, REST]:
            path = TASKS[flavour]
            if flavour == API:
                body = {"filter_spec": spec}
                if result_spec:
                    body["result_spec"] = result_spec
                resp = self.call("POST", path, params={"action": "list"}, json_body=body)
            else:
                resp = self.call("GET", path, params=self._query(spec, result_spec))
            if resp.status == 200:
                self.flavour = flavour
                return self._list_answer(resp, flavour)
            if flavour == API and self._endpoint_missing(resp):
                continue
            self._raise(resp, "cannot list tasks: ")
        raise HttpError("this vCenter serves neither /api/cis/tasks nor /rest/cis/tasks", platform=self.platform,
                        path=TASKS[REST], status=404)

    def _query(self, spec, result_spec):
        """``/rest`` query parameters: repeated ``filter_spec.<key>`` keys."""
        params = []
        for key, values in spec.items():
            for value in values:
                if isinstance(value, dict):
                    raise OptionError("filter_spec.%s with objects works only over /api, not /rest" % key,
                                      platform=self.platform)
                params.append(("filter_spec." + key, str(value)))
        for key, value in result_spec.items():
            params.append(("result_spec." + key, str(value).lower() if isinstance(value, bool) else str(value)))
        return params

    def _list_answer(self, resp, flavour):
        data = resp.json(dict)
        if flavour == REST:
            pairs = data.get("value")
            if not isinstance(pairs, list) or not all(isinstance(p, dict) and "key" in p for p in pairs):
                raise BadResponse('the answer is not {"value": [{"key": id, "value": Info}, ...]}',
                                  platform=self.platform, path=resp.path, status=resp.status)
            data = dict((text_or_none(p["key"]) or "?", p.get("value")) for p in pairs)
        return dict((key, parse_info(info, key, self.http.url(self._task_path(key, flavour)), self.platform,
                                     resp.path)) for key, info in data.items())
