# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cisco Secure Firewall Management Center: on-prem FMC and cloud-delivered cdFMC task statuses."""

from __future__ import annotations

import json
import re
import time

from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import Adapter
from ansible_collections.taskstatus.infra.plugins.module_utils._adapter import check_bare_id
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    AuthError,
    BadResponse,
    HttpError,
    OptionError,
    SessionExpired,
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import clamp_retry_after, quote_segment
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
    settle,
    text_or_none,
)

STATUS = {
    "pending": PENDING, "queued": PENDING,
    "running": RUNNING, "in_progress": RUNNING, "deploying": RUNNING,
    "success": SUCCEEDED, "succeeded": SUCCEEDED, "completed": SUCCEEDED, "deployed": SUCCEEDED,
    "failed": FAILED,
    "cancelled": CANCELLED, "canceled": CANCELLED,
}
# taskType (an open enum: new FMC releases add values) -> kind.
KINDS = {
    "DEVICEDEPLOYMENT": "deployment", "DEVICEEXPORT": "config_export", "POLICYEXPORT": "config_export",
    "DEVICEIMPORT": "config_import", "DEVICEBACKUP": "backup",
}
DETAILED = ("DEVICEDEPLOYMENT", "DEVICEROLLBACK")
IN_PROGRESS = re.compile(r"deploy\w*.{0,40}(in progress|already running|is running)", re.I | re.S)
MAX_ID_LENGTH = 256
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def error_text(data):
    """The descriptions of an FMC error, wrapped (``{"error": {...}}``) or not, or None."""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        return None
    texts = []
    for item in data["messages"]:
        if isinstance(item, dict):
            text = text_or_none(item.get("description")) or text_or_none(item.get("details")) or \
                text_or_none(item.get("code")) or text_or_none(item.get("errorCode"))
            if text and text not in texts:
                texts.append(text)
    return "; ".join(texts) or None


def explain(text):
    """FMC error text plus what to do, for the errors people keep running into."""
    if text and IN_PROGRESS.search(text):
        return text + " (another deployment to these devices is still running: wait for its task, " \
                      "for example with task_wait, then deploy again)"
    return text


def type_key(task_type):
    return re.sub(r"[^A-Z]", "", (text_or_none(task_type) or "").upper())


def state_of(status):
    return STATUS.get(status.strip().lower(), UNKNOWN) if isinstance(status, str) else UNKNOWN


def subtask_list(data):
    out = []
    for sub in [s for s in as_list(data.get("subTasks")) if isinstance(s, dict)]:
        target = as_dict(sub.get("target"))
        out.append({"status": text_or_none(sub.get("status")), "state": state_of(sub.get("status")),
                    "target_name": text_or_none(target.get("name")), "target_id": text_or_none(target.get("id")),
                    "message": text_or_none(sub.get("message")) or text_or_none(sub.get("description"))})
    return out


def device_message(sub):
    name, uid = sub["target_name"], sub["target_id"]
    who = "%s (%s)" % (name, uid) if name and uid else name or uid or "device"
    tail = " - %s" % sub["message"] if sub["message"] else ""
    return message("%s: %s%s" % (who, sub["status"], tail), "critical" if sub["state"] == FAILED else "info")


def parse_task(data, task_id, url, platform="fmc"):
    """A normalized task from an FMC TaskStatus object."""
    if not isinstance(data, dict) or ("status" not in data and "taskType" not in data):
        raise BadResponse("the answer is not a TaskStatus object (no status, no taskType)", platform=platform, path=url)
    vendor = data.get("status")
    subtasks = subtask_list(data)
    failed = [s for s in subtasks if s["state"] in (FAILED, CANCELLED)]
    messages = [device_message(s) for s in subtasks if s not in failed]
    if text_or_none(data.get("message")):
        messages.append(message(data["message"], "critical" if state_of(vendor) == FAILED else "info"))
    # A deployment that failed on a device did not succeed: the rule every platform follows.
    state, verdict = settle(state_of(vendor), [(s["target_name"] or s["target_id"] or "device", s["state"])
                                               for s in subtasks], "devices")
    if verdict:
        messages.append(verdict)
    messages.extend(device_message(s) for s in failed)  # last: ``message`` is the latest text
    extra = {"subtasks": subtasks, "task_type": text_or_none(data.get("taskType"))}
    metadata = as_dict(data.get("metadata"))
    if metadata.get("downloadUrl") or metadata.get("checksum"):
        extra.update(download_url=text_or_none(metadata.get("downloadUrl")),
                     checksum=text_or_none(metadata.get("checksum")))
    targets = [s["target_name"] or s["target_id"] for s in subtasks]
    return Task(task_id, platform, name=text_or_none(data.get("name")) or text_or_none(data.get("description")) or
                text_or_none(data.get("taskType")),
                kind=KINDS.get(type_key(data.get("taskType")), "other"), state=state,
                percent=100 if state == SUCCEEDED else None, messages=messages, vendor_state=vendor,
                target=targets[0] if len(targets) == 1 else None, url=url, raw=data, extra=extra)


class FmcAdapter(Adapter):
    platform = "fmc"
    VENDOR_STATES = tuple(sorted(STATUS))
    API = "/api"
    RATE_LIMIT = 110  # the FMC allows 120 requests a minute per user (300 from 7.4.1)
    RATE_WINDOW = 60.0
    TOKEN_LIFETIME = 1800.0  # an access token lives 30 minutes ...
    TOKEN_MARGIN = 120.0  # ... and is renewed this long before it runs out
    MAX_REFRESHES = 3  # then a new one is generated
    NOT_FOUND_GRACE = 10.0  # the FMC creates a task record a moment after returning its id
    INFO_GRACE = 2.0  # task_info asks again for this long before it calls an id unknown
    MAX_429_RETRIES = 2

    def __init__(self, http, params):
        super().__init__(http, params)
        self.access = self.refresh = None
        self.refreshes = 0
        self.issued = None
        self.domain_uuid = None
        self.domains = []
        self.first_asked = {}
        self.found_ids = set()
        self.detailed = set()
        self.polling = False
        self.verified = False
        self.notes = []
        self.stats = {"requests": 0, "refreshes": 0, "generated": 0, "rate_limited": 0, "refresh_refused": 0,
                      "token_refused": 0}

    def path(self, rest):
        return self.API + rest

    def tasks_path(self):
        return self.path("/fmc_config/v1/domain/%s/job/taskstatuses" % quote_segment(self.domain_uuid))

    # Requests ------------------------------------------------------------------
    def credentials(self):
        return ({"X-auth-access-token": self.access} if self.access else {}), None

    def transmit(self, method, path, headers=None, auth=None, params=None, json_body=None, retry=None,
                 final=False):
        """One request (paced by the HTTP layer's budget, RATE_LIMIT a minute); 429 waits for ``Retry-After``
        and tries again."""
        for attempt in range(self.MAX_429_RETRIES + 1):
            self.stats["requests"] += 1
            resp = self.http.request(method, path, headers=headers, params=params, auth=auth, json_body=json_body,
                                     retry=False, final=final)
            if resp.status != 429 or final:
                return resp
            self.stats["rate_limited"] += 1
            wait = clamp_retry_after(resp.retry_after if resp.retry_after is not None else 5.0)
            left = self.http.deadline()
            if attempt == self.MAX_429_RETRIES or (left is not None and wait >= left):
                self.hint(wait)
                raise TransientError("rate limited (HTTP 429): %s" % self.why(resp), platform=self.platform,
                                     path=resp.path, status=429, retry_after=wait)
            self.http.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path, params=None):
        self.renew_if_due()
        resp = self.request("GET", path, params=params)
        self.verified = True
        return resp

    def why(self, resp):
        return explain(error_text(resp.json_or_none()) or resp.text(160) or "HTTP %d, no details" % resp.status)

    def fail(self, resp):
        raise HttpError(self.why(resp), platform=self.platform, path=resp.path, status=resp.status)

    # Token life cycle ------------------------------------------------------------
    def login(self):
        user, password = self.params.get("username"), self.params.get("password")
        if not user or not password:
            raise OptionError("username and password are required for platform fmc", platform=self.platform)
        path = self.path("/fmc_platform/v1/auth/generatetoken")
        resp = self.transmit("POST", path, auth=(user, password))
        self.check_login(resp, "credentials for user %r were refused" % user)
        if resp.status not in (200, 204):
            self.fail(resp)
        if not resp.header("X-auth-access-token"):
            raise BadResponse("the answer has no X-auth-access-token header", platform=self.platform,
                              path=resp.path, status=resp.status)
        self.take_tokens(resp)
        self.refreshes = 0
        self.stats["generated"] += 1
        try:
            domains = json.loads(resp.header("DOMAINS") or "[]")
        except ValueError:
            domains = []
        self.domains = [d for d in domains if isinstance(d, dict) and isinstance(d.get("uuid"), str)] \
            if isinstance(domains, list) else []
        if self.domain_uuid is None:
            try:
                self.domain_uuid = self.pick_domain(resp.header("DOMAIN_UUID"))
            except OptionError:
                self.logout()  # the token is of no use: end it before failing
                self.forget_session()
                raise

    def take_tokens(self, resp):
        self.access = self.secret(resp.header("X-auth-access-token"))
        self.refresh = self.secret(resp.header("X-auth-refresh-token"))
        self.issued = time.monotonic()

    def pick_domain(self, default):
        wanted = self.params.get("domain")
        if not wanted:
            if not default:
                raise BadResponse("the FMC named no domain (DOMAIN_UUID); set the domain option",
                                  platform=self.platform)
            return default
        wanted = str(wanted).strip()
        for dom in self.domains:
            if wanted.lower() == str(dom["uuid"]).lower():
                return dom["uuid"]
        for dom in self.domains:
            name = text_or_none(dom.get("name")) or ""
            if wanted.lower() in (name.lower(), name.lower().rsplit("/", 1)[-1]):
                return dom["uuid"]
        if not self.domains and UUID.match(wanted):
            return wanted
        raise OptionError("domain %r does not exist; known domains: %s" % (wanted, ", ".join(
            "%s (%s)" % (text_or_none(d.get("name")), d["uuid"]) for d in self.domains) or "none"),
            platform=self.platform)

    def renew_if_due(self):
        if self.access and self.issued is not None and \
                time.monotonic() - self.issued >= self.TOKEN_LIFETIME - self.TOKEN_MARGIN:
            self.renew(expired=False)

    def relogin(self):
        """A 401 mid-wait: the token expired early (an FMC restart, a revocation): renew it."""
        self.stats["token_refused"] += 1
        self.renew(expired=True)

    def renew(self, expired):
        """Refresh the token up to MAX_REFRESHES times, then generate a new one."""
        if self.refresh and self.refreshes < self.MAX_REFRESHES:
            resp = self.transmit("POST", self.path("/fmc_platform/v1/auth/refreshtoken"),
                                 headers={"X-auth-access-token": self.access, "X-auth-refresh-token": self.refresh})
            if resp.status in (200, 204) and resp.header("X-auth-access-token"):
                self.take_tokens(resp)
                self.refreshes += 1
                self.stats["refreshes"] += 1
                return
            if resp.status in (408, 429) or resp.status >= 500:
                self.classify(resp)
            self.stats["refresh_refused"] += 1
            expired = True  # refused (budget spent, or the token is gone): generate a new one
        if not expired:
            self._end_session()  # the refresh budget is spent but the token still works: end it cleanly
        super().relogin()

    def logout(self):
        if self.access:
            self.logged_out(self.request("POST", self.path("/fmc_platform/v1/auth/revokeaccess"), final=True))

    def forget_session(self):
        self.access = self.refresh = None
        self.issued = None

    # Reading -----------------------------------------------------------------------
    def check_id(self, task_id):
        text = check_bare_id(task_id, self.platform)
        if len(text) > MAX_ID_LENGTH:
            raise OptionError("task id %r... is not an FMC task id (a UUID or a number)" % text[:60],
                              platform=self.platform)
        return text

    def check_ids(self, task_ids):
        for task_id in task_ids:
            self.check_id(task_id)

    def poll(self, task_ids):
        self.polling = True
        try:
            return super().poll(task_ids)
        finally:
            self.polling = False
            self._seen &= self.found_ids  # a "not found yet" placeholder was not seen

    def fetch(self, task_ids):
        return [self.fetch_one(self.check_id(t)) for t in task_ids]

    def fetch_one(self, task_id):
        path = self.tasks_path() + "/" + quote_segment(task_id)
        url = self.http.url(path)
        first = self.first_asked.setdefault(task_id, time.monotonic())
        while True:
            params = {"showDetailedDeviceStatus": "true"} if task_id in self.detailed else None
            resp = self.get(path, params=params)
            if resp.status == 404:
                waited = time.monotonic() - first
                grace = self.NOT_FOUND_GRACE if self.polling else self.INFO_GRACE
                if task_id in self.found_ids or waited >= grace:
                    return Task(task_id, self.platform, found=False, url=url,
                                messages=[message(self.why(resp), "warning")])
                if self.polling:
                    return Task(task_id, self.platform, state=PENDING, url=url, messages=[message(
                        "not found yet: the FMC creates the task record a moment after it returns the id "
                        "(waiting up to %.0f s for it)" % self.NOT_FOUND_GRACE, "info")])
                self.http.sleep(min(0.5, grace - waited))
                continue
            if resp.status != 200:
                self.fail(resp)
            data = resp.json(dict)
            if type_key(data.get("taskType")) in DETAILED and task_id not in self.detailed:
                self.detailed.add(task_id)
                continue  # read it again with the per-device details
            self.found_ids.add(task_id)
            return parse_task(data, task_id, url, self.platform)

    def list_tasks(self, filters):
        params = dict((k, str(v).lower() if isinstance(v, bool) else v) for k, v in (filters.get("native") or {}).items())
        params.setdefault("expanded", "true")
        params.setdefault("limit", 100)
        path = self.tasks_path()
        tasks = []
        for _page in range(1000):
            resp = self.get(path, params=params)
            if resp.status != 200:
                self.fail(resp)
            data = resp.json(dict)
            items = data.get("items", [])
            if not isinstance(items, list):
                raise BadResponse("the task list has no items array", platform=self.platform, path=resp.path,
                                  status=resp.status)
            for item in items:
                uid = text_or_none(item.get("id")) if isinstance(item, dict) else None
                if not uid:
                    raise BadResponse("a task list item has no id", platform=self.platform, path=resp.path)
                if "status" in item:
                    tasks.append(parse_task(item, uid, self.http.url(path + "/" + quote_segment(uid)), self.platform))
                else:
                    one = self.get(path + "/" + quote_segment(uid))
                    if one.status == 404:
                        continue  # deleted between the two requests
                    if one.status != 200:
                        self.fail(one)
                    tasks.append(parse_task(one.json(dict), uid, self.http.url(one.path), self.platform))
            paging = as_dict(data.get("paging"))
            try:
                offset = int(paging.get("offset") or params.get("offset") or 0) + len(items)
                more = bool(items) and offset < int(paging.get("count") or 0)
            except (TypeError, ValueError):
                raise BadResponse("the task list's paging is not numbers", platform=self.platform, path=resp.path)
            if not more:
                return tasks
            params["offset"] = offset
        raise BadResponse("the task list pages do not end", platform=self.platform, path=path)


class CdfmcAdapter(FmcAdapter):
    """cdFMC: a bearer API token, paths under ``/v1/cdfmc/api``, the domain from the domain list."""

    platform = "cdfmc"
    API = "/v1/cdfmc/api"

    def credentials(self):
        return {"Authorization": "Bearer %s" % self.params.get("token")}, None

    def login(self):
        if not self.params.get("token"):
            raise OptionError("token (a cdFMC API token) is required for platform cdfmc", platform=self.platform)
        wanted = str(self.params.get("domain") or "").strip()
        if UUID.match(wanted):
            self.domain_uuid = wanted  # no need for the domain list; the token is checked by the first read
            return
        headers, _auth = self.credentials()
        resp = self.transmit("GET", self.path("/fmc_platform/v1/info/domain"), headers=headers, params={"limit": 1000})
        self.check_login(resp, "the API token was refused")
        if resp.status != 200:
            self.fail(resp)
        items = resp.json(dict).get("items")
        if not isinstance(items, list):
            raise BadResponse("the domain list has no items array", platform=self.platform, path=resp.path)
        self.domains = [d for d in items if isinstance(d, dict) and isinstance(d.get("uuid"), str)]
        self.verified = True
        if self.domain_uuid is None:
            named = [d for d in self.domains if str(d.get("name")).lower() == "global"] or self.domains
            self.domain_uuid = self.pick_domain(named[0]["uuid"] if named else None)

    def renew_if_due(self):
        pass

    def relogin(self):
        """An API token cannot be renewed: refused at the first request it is wrong; refused later, the
        service may be restarting, up to ``MAX_REFUSED`` times in a row."""
        self.refused += 1
        if not self.verified:
            raise AuthError("the API token was refused", platform=self.platform, status=401)
        if self.refused >= self.MAX_REFUSED:
            raise AuthError("the API token was refused %d times in a row after it had worked; stopped trying"
                            % self.refused, platform=self.platform, status=401)
        raise SessionExpired("the API token was refused", platform=self.platform, status=401)

    def logout(self):
        pass  # an API token is not a session: nothing to end
