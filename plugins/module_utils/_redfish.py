# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redfish adapter: TaskService tasks, task monitors, DMTF JobService jobs, iDRAC jobs, CIMC slots.

What real services do that a plain reading of DSP0266 misses (docs/platforms/redfish.md):

- iDRAC: finished tasks leave TaskService (seconds to 10 minutes after they end) while the job stays in
  the iDRAC's job queue: a ``Tasks/JID_...`` that answers 404 is read from ``Managers/<id>/Jobs/JID_...``.
- JobService services: the task of an update ends at once with ``OperationTransitionedToJob``; the update
  runs on as the Job it names, which is followed (once, on this host, a ``JobService/Jobs`` path).
- OpenBMC (bmcweb): tasks live in memory and die in the restart that ends a BMC update, and ids count
  from 0 again. A task lost across a restart is reported as lost, with the firmware version noted at its
  first read and read again afterwards; a task that now holds its URI is not taken for it.

Payloads are parsed in _redfish_parse.py.
"""

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
    TransientError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import quote_segment
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    UNKNOWN,
    Task,
    as_dict,
    as_list,
    message,
    show,
    text_or_none,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish_parse import (
    CISCO_WORDS,
    JOB_STATES,
    ROOT,
    TASKS,
    error_text,
    firmware_verdict,
    handoff_link,
    idrac_job_id,
    infer_kind,
    manager_firmware,
    member_links,
    parse_task,
    resource_type,
    same_task,
    session_table_full,
    task_identity,
)

# Paths of resources that are tasks or jobs themselves (anything else is read as a task monitor).
TASK_PATHS = (
    re.compile(r"^%s/[^/]+/?$" % re.escape(TASKS)),
    re.compile(r"^%s/Managers/[^/]+/Jobs/[^/]+/?$" % re.escape(ROOT)),
    re.compile(r"^%s/JobService/Jobs/[^/]+/?$" % re.escape(ROOT)),
)
JOB_PATH = TASK_PATHS[2]
MANAGER_PATH = re.compile(r"^%s/Managers/[^/]+$" % re.escape(ROOT))
INVENTORY_PATH = re.compile(r"^%s/UpdateService/FirmwareInventory/[^/]+$" % re.escape(ROOT))
SESSIONS = ROOT + "/SessionService/Sessions"
IDRAC_MANAGER = ROOT + "/Managers/iDRAC.Embedded.1"
MAX_ID_LENGTH = 1024
MAX_MANAGERS = 8  # managers read from the Managers collection (job queues, firmware versions)
GONE = (404, 410)
# What a task monitor may answer as the operation's own failure: every error status but a refusal
# (401, 403) and the ones that mean "not now" (408, 429, 502, 503, 504).
MONITOR_ERRORS = tuple(s for s in range(400, 600) if s not in (401, 403, 408, 429, 502, 503, 504))


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
        self.moved = {}  # task id -> (path of the job that now stands for it, the message saying why)
        self.handoffs = {}  # task id -> the job a finished monitor handed over to (its Task was read instead)
        self.sightings = {}  # task id -> _Sighting: what was read of it last
        self.verdicts = {}  # task id -> (message, lost) of a task lost in a restart of the BMC
        self.restarts = 0  # connection failures and forgotten sessions seen in this run
        self.firmware_before = None  # {manager path: (version, image, image version)} at a firmware task's first read
        self._managers_seen = None
        self.job_queue = None  # the manager whose job queue answered for an iDRAC job

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

    def relogin(self):
        self.restarts += 1  # the manager forgot the session: it may have restarted, and forgotten its tasks too
        super().relogin()

    # Requests --------------------------------------------------------------
    def transmit(self, method, path, headers=None, auth=None, params=None, json_body=None, retry=None,
                 final=False):
        try:
            return super().transmit(method, path, headers=headers, auth=auth, params=params, json_body=json_body,
                                    retry=retry, final=final)
        except TransientError as exc:
            if exc.status is None and not final:
                self.restarts += 1  # no answer at all: the manager may be restarting
            raise

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

    def poll(self, task_ids):
        tasks = super().poll(task_ids)
        for task in tasks:
            verdict = self.verdicts.get(task.id)
            if verdict is not None and verdict[0] in task.messages:
                task.messages.remove(verdict[0])
                task.messages.append(verdict[0])  # why it is gone is the task's latest word
        return tasks

    def _fetch_one(self, task_id):
        moved = self.moved.get(task_id)
        if moved is not None:
            task = self._read_job(task_id, *moved)
        else:
            path, is_monitor = self.resolve(task_id)
            task = self._read_monitor(task_id, path) if is_monitor else self._read_task(task_id, path)
            link = self.handoffs.pop(task_id, None)
            if link is None and task.found:
                link = handoff_link(task.raw)
            if link is not None:
                task = self._follow_handoff(task_id, task, link)
        return self._track(task_id, task)

    def _read_task(self, task_id, path):
        url = self.http.url(path)
        resp = self.get(path)
        if resp.status in GONE:
            job = self._idrac_job(task_id, self.http.path_of(url)[len(self.http.prefix):])
            if job is not None:
                return job
            return Task(task_id, self.platform, found=False, url=url, messages=[message("no such task", "warning")])
        self._fail_unless_ok(resp)
        return parse_task(resp.json(dict), task_id, url)

    def _read_job(self, task_id, path, note):
        """The job that stands for ``task_id`` (a hand-off's Job, an iDRAC job-queue entry), ``note`` first."""
        url = self.http.url(path)
        resp = self.get(path)
        if resp.status in GONE:
            return Task(task_id, self.platform, found=False, url=url,
                        messages=[note, message("the job answers %d" % resp.status, "warning")])
        self._fail_unless_ok(resp)
        task = parse_task(resp.json(dict), task_id, url)
        task.messages.insert(0, note)
        return task

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
            link = handoff_link(body)
            if link is not None:
                self.handoffs[task_id] = link  # the monitor's own answer hands over to a job
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

    # Vendor habits -------------------------------------------------------------
    def _follow_handoff(self, task_id, task, link):
        """The Job a JobService service handed an update over to (DMTF ``OperationTransitionedToJob``).

        The task that hands over is done at once; the update is the Job. The link comes from the server: it is
        followed once (later polls read the Job), only to a ``JobService/Jobs`` path on the configured host.
        """
        path = self._job_path(link)
        if path is None:
            raise BadResponse("%s was handed over to the job %r (OperationTransitionedToJob), which is not a %s/"
                              "JobService/Jobs/<id> path on %s: not followed, so its outcome is unknown"
                              % (show(task_id), show(link, 160), ROOT, self.http.netloc),
                              platform=self.platform, path=self.http.path_of(task.url or TASKS))
        note = message("the update was handed over to the job at %s (OperationTransitionedToJob); this is the "
                       "job's state" % path, "info", None)
        self.moved[task_id] = (path, note)
        return self._read_job(task_id, path, note)

    def _job_path(self, link):
        if not isinstance(link, str) or not (link.startswith("/") or "://" in link):
            return None
        try:
            url = self.resolve(link)[0]  # refuses another host, '..', encoded '/', paths outside /redfish/v1
        except OptionError:
            return None
        path = self.http.path_of(url)[len(self.http.prefix):]
        return path if JOB_PATH.match(path) else None

    def _idrac_job(self, task_id, path):
        """An iDRAC job that has left TaskService, read from the iDRAC's job queue; None when it is not there.

        The iDRAC removes a finished task from TaskService (seconds after it ends before iDRAC 5.00, ten
        minutes from 5.00) while the job stays in the queue of its manager, ``iDRAC.Embedded.1`` on every
        iDRAC seen; other managers of the Managers collection are tried when that one does not know it.
        """
        jid = idrac_job_id(path)
        if jid is None:
            return None
        for manager in self._job_queues():
            job = "%s/Jobs/%s" % (manager, quote_segment(jid))
            resp = self.get(job)
            if resp.status in GONE:
                continue
            self._fail_unless_ok(resp)
            self.job_queue = manager
            note = message("TaskService no longer lists %s (the iDRAC removes finished tasks from it); read from "
                           "the iDRAC job queue at %s" % (jid, job), "info", None)
            self.moved[task_id] = (job, note)
            task = parse_task(resp.json(dict), task_id, self.http.url(job))
            task.messages.insert(0, note)
            return task
        return None

    def _job_queues(self):
        if self.job_queue:
            yield self.job_queue
            return
        yield IDRAC_MANAGER
        for manager in self._managers():
            if manager != IDRAC_MANAGER:
                yield manager

    def _managers(self):
        """The paths of the service's managers (at most MAX_MANAGERS), read once; [] when the root has none."""
        if self._managers_seen is None:
            paths = []
            link = self._own_path(as_dict(self.root().get("Managers")).get("@odata.id"))
            if link == ROOT + "/Managers":
                resp = self.get(link)
                paths = [self._own_path(m) for m in member_links(resp.json_or_none() if resp.status == 200 else None)]
            self._managers_seen = [p for p in paths if p and MANAGER_PATH.match(p)][:MAX_MANAGERS]
        return self._managers_seen

    def _own_path(self, uri):
        """The path (below the prefix) of a link the service gave about itself, or None."""
        path = self.http.local_path(uri) if isinstance(uri, str) and uri else None
        if not path or not path.startswith(self.http.prefix + ROOT + "/") or ".." in path or "%" in path:
            return None
        return path[len(self.http.prefix):].rstrip("/")

    # Tasks lost in a restart (OpenBMC keeps its tasks in memory) --------------------
    def _track(self, task_id, task):
        """Remember what was read of a task; a task lost across a restart of the BMC gets its verdict."""
        seen = self.sightings.get(task_id)
        if not task.found:
            return self._lost(task_id, task, seen) if seen is not None else task
        key = self._resource_key(task)
        identity = task_identity(task.raw)
        if seen is not None and seen.key == key and self.restarts > seen.restarts and \
                not same_task(seen.identity, identity):
            # bmcweb counts ids from 0 again after a restart: the URI now names another task.
            other = Task(task_id, self.platform, found=False, url=task.url, messages=[message(
                "%s now names another task (started %s, %s); this one (started %s) was lost" % (
                    key, identity[0] or "at an unknown time", show(identity[1] or "no name"),
                    seen.identity[0] or "at an unknown time"), "warning")])
            return self._lost(task_id, other, seen)
        if seen is None or seen.key != key:
            seen = self.sightings[task_id] = _Sighting(key, identity, self.restarts)
        seen.restarts = self.restarts
        seen.task = task
        if task.kind == "firmware_update" and self.firmware_before is None and self.restarts == seen.first:
            self._note_firmware()
        return task

    def _resource_key(self, task):
        odata = task.raw.get("@odata.id") if isinstance(task.raw, dict) else None
        return self._own_path(odata) or self.http.path_of(task.url or "").rstrip("/")

    def _note_firmware(self):
        """The managers' firmware before an update runs, so that a restart that loses the task can be judged."""
        try:
            self.firmware_before = self._read_firmware()
        except TransientError:
            return  # tried again at the next read, unless the BMC restarts first
        except TaskStatusError:
            self.firmware_before = {}

    def _read_firmware(self, images=False):
        """``{manager path: (FirmwareVersion, active image path, that image's Version)}``; the image's
        FirmwareInventory entry is read when ``images`` is set or the Manager has no FirmwareVersion."""
        found = {}
        for manager in self._managers():
            resp = self.get(manager)
            if resp.status != 200:
                continue
            version, image = manager_firmware(resp.json_or_none())
            image = self._own_path(image)
            image_version = None
            if image and INVENTORY_PATH.match(image) and (images or version is None):
                answer = self.get(image)
                if answer.status == 200:
                    image_version = text_or_none(as_dict(answer.json_or_none()).get("Version"))
            if version or image:
                found[manager] = (version, image, image_version)
        return found

    def _lost(self, task_id, task, seen):
        """A task this run had read is gone: after a restart of the BMC, say what can be known about it.

        Without a restart (the service deleted it) the base class reports it as gone. After one, the verdict
        compares the firmware noted at the task's first read with what runs now; it never says succeeded.
        """
        if self.restarts <= seen.restarts:
            return task
        verdict = self.verdicts.get(task_id)
        if verdict is None:
            text = "the task was lost when the BMC restarted (it was unreachable or forgot the session since the " \
                   "task was last read)"
            lost = {"restarted": True}
            if seen.task.kind == "firmware_update":
                more, firmware = firmware_verdict(self.firmware_before or {}, self._read_firmware(images=True))
                text += more
                lost.update(firmware)
            else:
                text += "; its outcome is unknown"
            verdict = self.verdicts[task_id] = (message(text, "critical", None), lost)
        last = seen.task  # what was known of it: its name, kind and target stay
        task.name, task.kind, task.target = last.name, last.kind, last.target
        task.state, task.percent = UNKNOWN, None
        task.messages.append(verdict[0])
        task.extra["lost"] = dict(verdict[1])
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
            link = handoff_link(task.raw)
            if link is not None:
                task = self._follow_handoff(task.id, task, link)
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


class _Sighting:
    """What was read of a task: its resource's path and identity, the restarts seen at the first and the last
    read, and the task as it was last read."""

    def __init__(self, key, identity, restarts):
        self.key = key
        self.identity = identity
        self.first = restarts
        self.restarts = restarts
        self.task = None
