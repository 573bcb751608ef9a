"""Cisco Secure Firewall Management Center for the test simulator: on-prem FMC and cdFMC.

- ``fmc``: ``POST /api/fmc_platform/v1/auth/generatetoken`` (Basic auth, 204,
  ``X-auth-access-token``, ``X-auth-refresh-token``, ``DOMAIN_UUID``,
  ``DOMAINS``), ``refreshtoken`` (at most ``max_refreshes`` times),
  ``revokeaccess``; an access token lives ``token_lifetime`` seconds; a
  request with an expired or unknown token gets 401 ``Access token
  invalid.``. Errors are wrapped: ``{"error": {"category", "messages":
  [{"description"}], "severity"}}``.
- ``cdfmc``: the same API under ``<any prefix>/v1/cdfmc/api`` with a bearer
  API token (the device's password stands in for it); errors unwrapped, as
  the cdFMC OpenAPI's ErrorResponse.
- Both: ``rate_limit`` requests per ``rate_window`` seconds per user (a
  sliding window; 429 + ``Retry-After`` over it), two domains, task statuses
  (get, list with filter/expanded/offset/limit), device records, and
  deployments: ``POST .../deployment/deploymentrequests`` makes a
  DEVICE_DEPLOYMENT task (visible ``visible_after`` s later) with one subTask
  per device, PENDING -> RUNNING -> SUCCESS, the last device FAILED in
  scenario fail (and in scenario critical, where the task still says
  SUCCEEDED); a second deployment to a busy device gets 500; device exports:
  ``POST .../devices/operational/exports`` makes a DEVICE_EXPORT task the same
  way, whose status carries downloadUrl and checksum once it has succeeded.

The platform's own knobs are at ``/_fmcsim/config`` (GET, POST) and its
counters at ``/_fmcsim/stats``: core's ``/_sim/config`` only knows the core
knobs. Answers are checked against shared/specs/fmc by the unit tests.
"""

import collections
import copy
import hashlib
import json
import math
import secrets
import time
import uuid

from .core import ConfigError, Platform, basic_credentials, json_response, SimTask

GLOBAL = "e276abec-e0f2-11e3-8169-6d9ed49b625f"
LAB = "5a8c3b1e-62b1-4c7e-9a4f-1d2e3f405162"
DOMAINS = [{"name": "Global", "uuid": GLOBAL, "type": "Domain"},
           {"name": "Global/Lab", "uuid": LAB, "type": "Domain"}]
SETTINGS = {
    "token_lifetime": 1800.0,
    "max_refreshes": 3,
    "rate_limit": 120,
    "rate_window": 60.0,
    "visible_after": 0.3,
    "devices": 3,
}
TASK_TYPES = {"firmware_update": "DEVICE_DEPLOYMENT", "config_export": "DEVICE_EXPORT",
              "support_export": "DEVICE_TROUBLESHOOT", "other": "HIT_COUNT_REFRESH"}
# phase/outcome -> status word, for deployments and for other tasks.
DEPLOY_WORDS = {"new": "PENDING", "running": "DEPLOYING", "success": "SUCCEEDED", "critical": "SUCCEEDED",
                "fail": "FAILED", "cancel": "CANCELLED"}
TASK_WORDS = {"new": "PENDING", "running": "RUNNING", "success": "COMPLETED", "critical": "COMPLETED",
              "fail": "FAILED", "cancel": "CANCELLED"}
FAIL_TEXT = "Deployment failed: unable to apply the configuration (interface Ethernet1/3 is in use)"
EXPORT_FAIL_TEXT = "Export failed: the device did not answer"
TOKEN_INVALID = "Access token invalid."


def norm(value):
    """``Deployment``, ``DEVICE_DEPLOYMENT``: letters only, upper case, for filter matching."""
    return "".join(c for c in str(value).upper() if c.isalpha())


class FmcPlatform(Platform):
    name = "fmc"
    vendors = ("cisco",)
    default_vendor = "cisco"
    unwrapped_errors = False

    def reset(self):
        self.settings = dict(SETTINGS)
        self.meta = {}  # session id -> {access, refresh, issued, refreshes}
        self.windows = {}  # user -> deque of accepted request times
        self.counters = {"rate_limited": 0, "max_in_window": 0, "tokens_generated": 0, "tokens_refreshed": 0,
                         "tokens_revoked": 0, "refreshes_refused": 0}
        self.seq = 4294970000
        self.make_devices()

    def make_devices(self):
        self.ftds = [{"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "ftd-%d.%s" % (i, self.device.name))),
                      "name": "ftd-%d" % i, "type": "Device"} for i in range(1, int(self.settings["devices"]) + 1)]

    # ---- answers ---------------------------------------------------------

    def error_response(self, status, message, message_id=None, message_args=None, headers=None):
        body = {"category": "FRAMEWORK", "messages": [{"description": message}], "severity": "ERROR"}
        return json_response(status, body if self.unwrapped_errors else {"error": body}, headers)

    def ok(self, obj, status=200, headers=None):
        return json_response(status, obj, headers)

    def link(self, path):
        return "%s%s" % (self.device.info()["url"], path)

    # ---- routing ---------------------------------------------------------

    def api_rest(self, req):
        segs = req.segments()
        if segs[:1] == ["api"]:
            return segs[1:]
        return None

    def handle(self, req):
        if req.path.startswith("/_fmcsim/"):
            return self.control(req)
        rest = self.api_rest(req)
        if rest is None:
            return self.error_response(404, "No API at %s" % req.path)
        auth = rest[:3] == ["fmc_platform", "v1", "auth"] and len(rest) == 4
        if auth and req.method == "POST" and not self.unwrapped_errors:
            return {"generatetoken": self.generate, "refreshtoken": self.refresh,
                    "revokeaccess": self.revoke}.get(rest[3], self.not_found)(req)
        user = self.authenticate(req)
        if user is None:
            return self.error_response(401, TOKEN_INVALID)
        limited = self.rate(user)
        if limited is not None:
            return limited
        with self.device.lock:
            return self.route(req, rest)

    def not_found(self, req):
        return self.error_response(404, "Not found: %s %s" % (req.method, req.path))

    def route(self, req, rest):
        get = req.method == "GET"
        if rest == ["fmc_platform", "v1", "info", "domain"] and get:
            return self.ok(self.page(req, list(DOMAINS), "/fmc_platform/v1/info/domain"))
        if rest == ["fmc_platform", "v1", "info", "serverversion"] and get:
            return self.ok({"items": [{"serverVersion": "7.4.1 (build 172)", "vdbVersion": "build 376",
                                       "sruVersion": "2024-03-06-001-vrt", "geoVersion": "2024-03-04-002",
                                       "type": "ServerVersion"}], "paging": {"offset": 0, "limit": 25, "count": 1,
                                                                             "pages": 1}})
        if len(rest) < 5 or rest[:3] != ["fmc_config", "v1", "domain"]:
            return self.not_found(req)
        domain, tail = rest[3], rest[4:]
        if domain not in (d["uuid"] for d in DOMAINS):
            return self.error_response(404, "Invalid domain UUID %s." % domain)
        if tail == ["job", "taskstatuses"] and get:
            return self.list_tasks(req, domain)
        if len(tail) == 3 and tail[:2] == ["job", "taskstatuses"] and get:
            return self.get_task(req, domain, tail[2])
        if tail == ["devices", "devicerecords"] and get:
            return self.ok(self.page(req, copy.deepcopy(self.ftds), "/devices/devicerecords"))
        if tail == ["deployment", "deploymentrequests"] and req.method == "POST":
            return self.deploy(req, domain)
        if tail == ["devices", "operational", "exports"] and req.method == "POST":
            return self.export(req, domain)
        return self.not_found(req)

    # ---- tokens ----------------------------------------------------------

    def sweep(self, now):
        """Forget sessions that died: the token expired and cannot be refreshed any more."""
        life = self.settings["token_lifetime"]
        for sid, meta in list(self.meta.items()):
            if sid not in self.device.sessions:
                del self.meta[sid]
            elif now > meta["issued"] + life and (meta["refreshes"] >= self.settings["max_refreshes"]
                                                  or now > meta["issued"] + 2 * life):
                del self.meta[sid]
                self.device.sessions.pop(sid, None)
                self.device.stats.sessions_expired += 1

    def by_access(self, token, now, alive_only=True):
        with self.device.lock:
            self.sweep(now)
            for sid, meta in self.meta.items():
                if token and secrets.compare_digest(meta["access"], token):
                    if alive_only and now > meta["issued"] + self.settings["token_lifetime"]:
                        return None, None
                    return sid, meta
        return None, None

    def authenticate(self, req):
        sid, _meta = self.by_access(req.headers.get("X-auth-access-token") or "", time.monotonic())
        return self.device.sessions[sid].user if sid else None

    def token_headers(self, meta):
        return {"X-auth-access-token": meta["access"], "X-auth-refresh-token": meta["refresh"],
                "DOMAIN_UUID": GLOBAL, "DOMAINS": json.dumps([{"name": d["name"], "uuid": d["uuid"]} for d in DOMAINS]),
                "USER_UUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, "user.%s" % self.device.config["username"]))}

    def generate(self, req):
        creds = basic_credentials(req.headers.get("Authorization"))
        if creds is None or not self.device.check_password(*creds):
            return self.error_response(401, "Unauthorized")
        limited = self.rate(creds[0])
        if limited is not None:
            return limited
        session = self.device.open_session(creds[0])
        if session is None:
            return self.error_response(403, "Maximum number of concurrent sessions reached for user %s." % creds[0])
        with self.device.lock:
            meta = {"access": session.token, "refresh": self.device.issued(secrets.token_hex(16)),
                    "issued": time.monotonic(), "refreshes": 0}
            self.meta[session.id] = meta
            self.counters["tokens_generated"] += 1
        return self.ok(None, 204, self.token_headers(meta))

    def refresh(self, req):
        now = time.monotonic()
        sid, meta = self.by_access(req.headers.get("X-auth-access-token") or "", now, alive_only=False)
        if sid is None or not secrets.compare_digest(meta["refresh"], req.headers.get("X-auth-refresh-token") or ""):
            return self.error_response(401, TOKEN_INVALID)
        limited = self.rate(self.device.sessions[sid].user)
        if limited is not None:
            return limited
        with self.device.lock:
            if meta["refreshes"] >= self.settings["max_refreshes"]:
                self.counters["refreshes_refused"] += 1
                return self.error_response(400, "Refresh token has been used %d times: the maximum. "
                                                "Generate a new token." % meta["refreshes"])
            meta.update(access=self.device.issued(secrets.token_hex(16)),
                        refresh=self.device.issued(secrets.token_hex(16)), issued=now, refreshes=meta["refreshes"] + 1)
            self.device.sessions[sid].token = meta["access"]
            self.counters["tokens_refreshed"] += 1
        return self.ok(None, 204, self.token_headers(meta))

    def revoke(self, req):
        sid, _meta = self.by_access(req.headers.get("X-auth-access-token") or "", time.monotonic(), alive_only=False)
        if sid is None:
            return self.error_response(401, TOKEN_INVALID)
        with self.device.lock:
            self.meta.pop(sid, None)
            self.counters["tokens_revoked"] += 1
        self.device.close_session(sid)
        return self.ok(None, 204)

    def rate(self, user):
        """None, or a 429 when ``user`` is over ``rate_limit`` requests in ``rate_window`` seconds."""
        now = time.monotonic()
        with self.device.lock:
            window = self.windows.setdefault(user, collections.deque())
            while window and window[0] <= now - self.settings["rate_window"]:
                window.popleft()
            if len(window) >= self.settings["rate_limit"]:
                self.counters["rate_limited"] += 1
                wait = max(1, int(math.ceil(window[0] + self.settings["rate_window"] - now)))
                return self.error_response(429, "Too many requests: the limit is %d a minute per user."
                                           % self.settings["rate_limit"], headers={"Retry-After": str(wait)})
            window.append(now)
            self.counters["max_in_window"] = max(self.counters["max_in_window"], len(window))
        return None

    # ---- tasks -----------------------------------------------------------

    def next_id(self):
        with self.device.lock:
            self.seq += 1
            return str(self.seq)

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, domain=GLOBAL,
                    targets=None, visible_after=0.0):
        task_type = TASK_TYPES.get(kind, "HIT_COUNT_REFRESH")
        if targets is None:
            targets = self.ftds if task_type == "DEVICE_DEPLOYMENT" else self.ftds[:1]
        task = SimTask(task_id or self.next_id(), kind, scenario, duration, name=name or task_type.replace("_", " ").title(),
                       started_ago=started_ago, extra={"domain": domain, "task_type": task_type,
                                                       "targets": [dict(t) for t in targets],
                                                       "visible_at": time.monotonic() + visible_after})
        self.device.add_task(task)
        path = self.api_base() + "/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (domain, task.id)
        return {"id": task.id, "task_uri": path, "monitor_uri": None}

    def api_base(self):
        return "/api"

    def visible(self, task, domain, now):
        return task.extra.get("domain") == domain and now >= task.extra["visible_at"] and not task.gone(now)

    def get_task(self, req, domain, task_id):
        now = time.monotonic()
        task = self.device.tasks.get(task_id)
        if task is None or not self.visible(task, domain, now):
            return self.error_response(404, "Task status with id %s was not found." % task_id)
        detailed = str(req.query.get("showDetailedDeviceStatus", "")).lower() == "true"
        return self.ok(self.task_body(task, now, detailed))

    def task_body(self, task, now, detailed=True):
        p = task.progress(now)
        deployment = task.extra["task_type"] == "DEVICE_DEPLOYMENT"
        words = DEPLOY_WORDS if deployment else TASK_WORDS
        key = p.phase if not p.done else p.outcome
        path = self.api_base() + "/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (task.extra["domain"], task.id)
        subs = self.subtasks(task, now, p)
        failed = [s for s in subs if s["status"] == "FAILED"]
        if key == "new":
            text = "Task queued"
        elif not p.done:
            text = "%s in progress on %d device(s)" % ("Deployment" if deployment else task.name, len(subs))
        elif failed:
            text = "Failed on %d of %d device(s)" % (len(failed), len(subs))
        else:
            text = "%s %s" % (task.name, words[key].lower())
        body = {"id": task.id, "type": "DeviceImportExportTaskStatus" if task.kind == "config_export" else "TaskStatus",
                "taskType": task.extra["task_type"], "status": words[key], "message": text, "description": task.name,
                "links": {"self": self.link(path)}}
        if detailed or not deployment:
            body["subTasks"] = subs
        if task.kind == "config_export" and p.done and p.outcome == "success":
            body["metadata"] = {"checksum": hashlib.sha256(task.id.encode()).hexdigest(),
                                "downloadUrl": "/importExport/device/download.cgi?type=export&id=%s" % task.id}
        return body

    def subtasks(self, task, now, p):
        targets = task.extra["targets"]
        t_new = task.duration * 0.1
        span = task.duration - t_new
        elapsed = task.elapsed(now)
        out = []
        for i, target in enumerate(targets):
            loser = i == len(targets) - 1 and task.scenario in ("fail", "critical")
            cancelled = task.scenario == "cancel" and i >= len(targets) // 2
            done_at = float("inf") if cancelled else t_new + span * (i + 1) / len(targets)
            deployment = task.extra["task_type"] == "DEVICE_DEPLOYMENT"
            if elapsed < t_new:
                status, text = "PENDING", "Waiting to deploy" if deployment else "Queued"
            elif cancelled and p.done:
                status, text = "CANCELLED", "Cancelled by the user"
            elif elapsed >= done_at or (p.done and not cancelled):
                status, text = ("FAILED", FAIL_TEXT if deployment else EXPORT_FAIL_TEXT) if loser else (
                    "SUCCESS", "%s successful" % ("Deployment to device" if deployment else task.name))
            else:
                status, text = "RUNNING", "Deploying the policy" if deployment else "In progress"
            out.append({"status": status, "message": text, "target": dict(target)})
        return out

    def list_tasks(self, req, domain):
        now = time.monotonic()
        want = {}
        for part in (req.query.get("filter") or "").split(";"):
            key, sep, value = part.partition(":")
            if sep and value:
                want[key.strip().lower()] = value.strip()
        expanded = str(req.query.get("expanded", "")).lower() == "true"
        items = []
        for task in sorted(self.device.tasks.values(), key=lambda t: t.created):
            if not self.visible(task, domain, now):
                continue
            body = self.task_body(task, now)
            if "type" in want and norm(want["type"]) not in (norm(body["taskType"]), norm(body["taskType"])[6:]):
                continue
            if "status" in want and want["status"].lower() != body["status"].lower():
                continue
            items.append(body if expanded else {"id": body["id"], "type": body["type"], "links": body["links"]})
        return self.ok(self.page(req, items, "/fmc_config/v1/domain/%s/job/taskstatuses" % domain))

    def page(self, req, items, path):
        try:
            offset = max(0, int(req.query.get("offset", 0)))
            limit = max(1, min(1000, int(req.query.get("limit", 25))))
        except ValueError:
            raise ConfigError("offset and limit are integers")
        chunk = items[offset:offset + limit]
        paging = {"offset": offset, "limit": limit, "count": len(items), "pages": max(1, -(-len(items) // limit))}
        if offset + limit < len(items):
            paging["next"] = [self.link("%s%s?offset=%d&limit=%d" % (self.api_base(), path, offset + limit, limit))]
        return {"items": chunk, "links": {"self": self.link(self.api_base() + path)}, "paging": paging}

    def device_list(self, req):
        """``(body, [device])`` of a request that names managed devices in deviceList, or ``(error answer, None)``."""
        try:
            body = req.json()
        except ValueError:
            body = None
        ids = body.get("deviceList") if isinstance(body, dict) else None
        known = {d["id"]: d for d in self.ftds}
        if not isinstance(ids, list) or not ids or any(i not in known for i in ids):
            return self.error_response(400, "Invalid deviceList: give the ids of managed devices (%s)."
                                       % ", ".join(sorted(known))), None
        return body, [known[i] for i in ids]

    def task_ref(self, made):
        return {"id": made["id"], "links": {"self": self.link(made["task_uri"])}}

    def deploy(self, req, domain):
        body, targets = self.device_list(req)
        if targets is None:
            return body
        ids = [t["id"] for t in targets]
        now = time.monotonic()
        busy = sorted({t["name"] for task in self.device.tasks.values()
                       if task.extra.get("task_type") == "DEVICE_DEPLOYMENT" and not task.progress(now).done
                       for t in task.extra["targets"] if t["id"] in ids})
        if busy:
            return self.error_response(500, "Another deployment is in progress for %s; a device takes one "
                                       "deployment at a time." % ", ".join(busy))
        made = self.create_task(self.device.next_scenario(), self.device.config["duration"], "firmware_update",
                                name="Deployment to %d device(s)" % len(ids), domain=domain,
                                targets=targets, visible_after=self.settings["visible_after"])
        answer = {"type": "DeploymentRequest", "version": body.get("version"), "forceDeploy": body.get("forceDeploy"),
                  "ignoreWarning": body.get("ignoreWarning"), "deviceList": ids, "metadata": {"task": self.task_ref(made)}}
        return self.ok(answer, 202)

    def export(self, req, domain):
        """``POST .../devices/operational/exports``: a DEVICE_EXPORT task packaging the devices' configuration.

        The answer is Cisco's DeviceExport model (properties metadata, exportOptions, deviceList, name,
        description, links, id, type, version; metadata is a DeviceImportExportMetadata: lastUser, task,
        domain, downloadUrl, readOnly, timestamp), as the FMC REST API reference publishes it
        (CiscoDevNet/secure-firewall, FMC/fmcansible_doc_latest_downloaded: operation createDeviceExport,
        components DeviceExport and DeviceImportExportMetadata); the task's own status, with downloadUrl and
        checksum once done, is the DeviceImportExportTaskStatus example of shared/specs/fmc.
        """
        body, targets = self.device_list(req)
        if targets is None:
            return body
        made = self.create_task(self.device.next_scenario(), self.device.config["duration"], "config_export",
                                name="Export of %d device configuration(s)" % len(targets), domain=domain,
                                targets=targets, visible_after=self.settings["visible_after"])
        answer = {"type": "DeviceExport", "deviceList": [t["id"] for t in targets],
                  "metadata": {"task": self.task_ref(made), "domain": {"id": domain, "type": "Domain"},
                               "lastUser": {"name": self.device.config["username"]}}}
        return self.ok(answer, 202)

    # ---- control ---------------------------------------------------------

    def control(self, req):
        route = req.path.rstrip("/")
        if route == "/_fmcsim/stats" and req.method == "GET":
            with self.device.lock:
                return self.ok(dict(self.counters, tokens_alive=len(self.meta)))
        if route == "/_fmcsim/config" and req.method in ("GET", "POST"):
            if req.method == "POST":
                try:
                    changes = req.json() if req.body.strip() else {}
                    self.configure(changes)
                except (ValueError, ConfigError) as exc:
                    return json_response(400, {"error": str(exc)})
            return self.ok(dict(self.settings, domains=DOMAINS, ftds=self.ftds))
        return json_response(404, {"error": "no control route %s %s" % (req.method, req.path)})

    def configure(self, changes):
        if not isinstance(changes, dict):
            raise ConfigError("config must be a JSON object")
        for key, value in changes.items():
            if key not in SETTINGS:
                raise ConfigError("unknown setting %r; known: %s" % (key, ", ".join(SETTINGS)))
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError("%s must be a positive number" % key)
        with self.device.lock:
            self.settings.update(changes)
            if "devices" in changes:
                self.make_devices()


class CdfmcPlatform(FmcPlatform):
    name = "cdfmc"
    unwrapped_errors = True

    def api_rest(self, req):
        segs = req.segments()
        for i in range(len(segs) - 2):
            if segs[i:i + 3] == ["v1", "cdfmc", "api"]:
                self.prefix = "/" + "/".join(segs[:i + 3])
                return segs[i + 3:]
        return None

    def api_base(self):
        return getattr(self, "prefix", "/v1/cdfmc/api")

    def authenticate(self, req):
        header = req.headers.get("Authorization") or ""
        if header[:7].lower() == "bearer " and secrets.compare_digest(header[7:].strip(), self.device.config["password"]):
            return "api-token"
        return None
