# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""task_events: an ansible-rulebook event source that puts one event on the queue per task state change.

It watches the tasks of one or more managers (Redfish BMCs, vCenter, FMC/cdFMC, XClarity) with the
collection's own adapters, the ones task_info and task_wait use. The library blocks, so each manager's reads
run in a thread of a pool of the source's own; the event loop never waits on the network. Where a Redfish
service pushes task events (Server-Sent Events), an event makes the source read that manager's tasks at
once; the task resources stay the one source of truth, and ``interval`` goes on as a safety poll.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import os
import sys
import threading
import time

DOCUMENTATION = r"""
---
short_description: One event per state change of the tasks of Redfish BMCs, vCenter, FMC and XClarity.
description:
  - An ansible-rulebook event source plugin that watches the long-running tasks of one or more managers and puts
    one event on the queue each time a task changes its normalized state (C(pending), C(running), C(succeeded),
    C(failed), C(cancelled), C(unknown)).
  - "Each event is C({task, previous_state, manager, timestamp}): O(task) is the normalized task as
    M(taskstatus.infra.task_info) returns it (C(id), C(name), C(kind), C(state), C(terminal), C(percent),
    C(message), C(messages), C(vendor_state), ...) plus C(gone); C(previous_state) is the state the source saw
    before, or C(null) when it sees the task for the first time; C(manager) is C({name, platform, host});
    C(timestamp) is the time of the read (ISO 8601, UTC)."
  - What is reported at the start is set by O(initial). A task that appears later is always reported, with
    C(previous_state=null), even when it has already finished (a firmware update may fail between two reads).
  - A task that disappears from the manager's list before it finished is reported once with C(state=unknown),
    C(found=false) and C(gone=true).
  - Where a Redfish service offers Server-Sent Events (C(EventService.ServerSentEventUri)) and O(push=auto), one
    stream is opened per manager and each task event makes the source read that manager's tasks at once;
    O(interval) goes on as a safety poll. Any stream error falls back to polling; the stream is opened again after
    five minutes.
  - A manager that cannot be reached does not stop the others. Its first failure after a read that worked (or
    after the start) is reported as one event C({error, manager, timestamp}) with
    C(error={message, type, status, fatal}) (see O(error_events)) and logged; the source keeps reading it, backing
    off up to O(max_interval). Credentials refused (HTTP 401/403 at login) are fatal for that manager only; it is
    reported with C(fatal=true) and not tried again, so that the account is not locked out.
  - When every manager has ended (all of their O(task_ids) finished, or a fatal error), the source ends; it fails
    when one of them ended with a fatal error.
  - When the rulebook shuts down, every stream is closed and every session logged out before the source ends.
  - Options not set in an entry of O(managers) are taken from the options of the same name at the top. Without
    O(managers), the top-level options are the one manager.
  - Needs the Python library C(requests) and ansible-core (its argument spec validator) in the environment
    ansible-rulebook runs in; the decision environment in the collection's C(docs/eda.md) has both.
options:
  managers:
    description:
      - The managers to watch. Each entry takes the connection options below (O(platform), O(host), O(username),
        O(password), O(token), O(auth_method), O(validate_certs), O(ca_path), O(request_timeout), O(domain),
        O(max_requests_per_minute)) and O(task_ids); an option it leaves out comes from the top level.
      - C(name) names the manager in the events (default its O(host)); names must be unique.
    type: list
    elements: dict
  platform:
    description:
      - The kind of manager, as in M(taskstatus.infra.task_wait).
      - If not set, the environment variable E(TASKSTATUS_PLATFORM) is used.
    type: str
    choices: [cdfmc, fmc, redfish, vsphere, xclarity]
  host:
    description:
      - The manager's name or address (optionally with V(:port)), or a base URL.
      - If not set, the environment variable E(TASKSTATUS_HOST) is used.
    type: str
  username:
    description:
      - The user to log in as. If not set, the environment variable E(TASKSTATUS_USERNAME) is used.
    type: str
  password:
    description:
      - The password of O(username). It never appears in events or logs.
      - If not set, the environment variable E(TASKSTATUS_PASSWORD) is used.
    type: str
  token:
    description:
      - A ready session token (Redfish, vSphere) or the cdFMC API token, instead of O(username) and O(password).
      - If not set, the environment variable E(TASKSTATUS_TOKEN) is used.
    type: str
  auth_method:
    description:
      - How to authenticate with O(username) and O(password), as in M(taskstatus.infra.task_wait).
    type: str
    choices: [auto, session, basic]
    default: auto
  validate_certs:
    description:
      - Verify the manager's TLS certificate. If not set, the environment variable E(TASKSTATUS_VALIDATE_CERTS)
        is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the manager's certificate with.
      - If not set, the environment variable E(TASKSTATUS_CA_PATH) is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for the answer to one HTTP request.
    type: float
    default: 30
  domain:
    description:
      - For O(platform=fmc) and O(platform=cdfmc), the domain UUID or name; discovered when omitted.
    type: str
  max_requests_per_minute:
    description:
      - At most this many requests a minute to this manager as this user (default 110 for FMC and cdFMC).
    type: int
  task_ids:
    description:
      - Watch only these tasks (each platform's own id form, as in M(taskstatus.infra.task_wait)) instead of
        every task the manager lists. An id the manager does not know yet is read again at each poll until it
        appears.
      - The manager's watch ends when all of them have finished (or are gone).
      - May be given per entry of O(managers).
    type: list
    elements: str
  interval:
    description:
      - Seconds between two reads of a manager's tasks. With a live push stream, reads also happen at each task
        event, and O(interval) is the safety poll (events can be lost).
    type: float
    default: 10
  max_interval:
    description:
      - The longest pause between reads while a manager fails (the pause doubles from O(interval) up to this).
    type: float
    default: 60
  kinds:
    description:
      - Report only tasks of these kinds. Empty or unset means every kind.
    type: list
    elements: str
    choices: [firmware_update, config_export, config_import, repository_export, support_export, deployment,
              backup, other]
  states:
    description:
      - Report only changes into these states, normalized states (V(failed), V(succeeded), ...) or the
        platform's own state words (V(Scheduled), V(Exception), ...). Empty or unset means every state.
      - The source still follows every task, so C(previous_state) is right when a task does enter one of them.
    type: list
    elements: str
  initial:
    description:
      - What to report of the tasks that are there at the first successful read of a manager.
      - V(unfinished) reports the tasks that have not finished yet (C(previous_state=null)); finished ones are
        only remembered.
      - V(all) reports every task found, finished or not.
      - V(none) reports nothing of the first read; only the changes after it.
    type: str
    choices: [unfinished, all, none]
    default: unfinished
  push:
    description:
      - V(auto) reads a manager's tasks at once when its Redfish service pushes a task event (Server-Sent Events),
        where the service offers them.
      - V(never) only polls.
    type: str
    choices: [auto, never]
    default: auto
  include_raw:
    description:
      - Add the vendor's payload to each event's task as C(raw).
    type: bool
    default: false
  error_events:
    description:
      - Put an event C({error, manager, timestamp}) on the queue when a manager starts failing (and when it fails
        for good). Errors are logged either way.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: React to failed firmware updates
  hosts: all
  sources:
    - taskstatus.infra.task_events:
        username: "{{ bmc_user }}"
        password: "{{ bmc_password }}"
        ca_path: /etc/pki/bmc-ca.pem
        managers:
          - platform: redfish
            host: bmc1.example.com
          - platform: redfish
            host: bmc2.example.com
        kinds: [firmware_update]
        states: [failed, succeeded]
        interval: 30
  rules:
    - name: A firmware update failed
      condition: event.task.state == "failed"
      action:
        run_playbook:
          name: playbooks/open_ticket.yml
"""


def _importable():
    """Put the root of the collection this file belongs to on ``sys.path``.

    ansible-rulebook loads a source with ``runpy.run_path``; the collections it finds with ansible-galaxy are not
    on ``sys.path``. This file lies at ``<root>/ansible_collections/taskstatus/infra/extensions/eda/plugins/
    event_source/``: its own copy of the collection's library is the one it imports, also when another copy is
    importable too.
    """
    parts = os.path.abspath(globals().get("__file__") or "").split(os.sep)
    if len(parts) > 8 and parts[-8] == "ansible_collections":
        root = os.sep.join(parts[:-8]) or os.sep
        if root not in sys.path:
            sys.path.insert(0, root)


_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (  # noqa: E402
    AuthError,
    OptionError,
    TaskStatusError,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient  # noqa: E402
from ansible_collections.taskstatus.infra.plugins.module_utils._models import (  # noqa: E402
    KINDS,
    TERMINAL_STATES,
    missing_task,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import adapter_class  # noqa: E402
from ansible_collections.taskstatus.infra.plugins.module_utils._push import Push  # noqa: E402
from ansible_collections.taskstatus.infra.plugins.module_utils._spec import (  # noqa: E402
    CONNECTION_KEYS,
    check_states,
    connection_argument_spec,
    target_argument_spec,
    validate,
)


# pylint: enable=wrong-import-position

LOGGER = logging.getLogger("taskstatus.infra.task_events")
INITIAL = ("unfinished", "all", "none")
# A push stream that ended (an error, the service's limit) is tried again after this many seconds.
PUSH_RETRY = 300.0
# The message of a task that was listed, then was not, before it finished.
GONE_TEXT = "the task was seen earlier and is gone now; its outcome is unknown"
MASK = "********"


def argument_spec():
    """The source's options: the collection's connection options (env fallbacks included) and its own."""
    spec = connection_argument_spec()
    manager = target_argument_spec()
    manager.pop("filters", None)
    spec.update(
        managers=dict(type="list", elements="dict", options=manager),
        task_ids=dict(type="list", elements="str"),
        interval=dict(type="float", default=10.0),
        max_interval=dict(type="float", default=60.0),
        kinds=dict(type="list", elements="str", choices=list(KINDS)),
        states=dict(type="list", elements="str"),
        initial=dict(type="str", default="unfinished", choices=list(INITIAL)),
        push=dict(type="str", default="auto", choices=["auto", "never"]),
        include_raw=dict(type="bool", default=False),
        error_events=dict(type="bool", default=True),
    )
    return spec


class Options:
    """What the source was asked to do: the managers (merged, checked) and the shared options."""

    def __init__(self, params, managers, secrets):
        self.params = params
        self.managers = managers  # [(name, params)]
        self.secrets = secrets
        self.interval = params["interval"]
        self.max_interval = max(params["max_interval"], params["interval"])
        self.kinds = frozenset(params["kinds"] or ())
        self.initial = params["initial"]
        self.push = params["push"] == "auto"
        self.include_raw = params["include_raw"]
        self.error_events = params["error_events"]


def parse_args(args):
    """The rulebook's arguments -> ``Options``; ``OptionError`` naming every problem before any request."""
    args = dict(args or {})
    args.pop("eda_feedback_queue", None)  # added by ansible-rulebook when the source asks for feedback
    result = ArgumentSpecValidator(argument_spec()).validate(args)
    secrets = set(result._no_log_values)  # pylint: disable=protected-access
    if result.error_messages:
        raise OptionError("taskstatus.infra.task_events: %s" % "; ".join(
            _masked(message, secrets) for message in result.error_messages))
    params = result.validated_parameters
    for name in ("interval", "max_interval"):
        if params[name] <= 0:
            raise OptionError("option %s must be greater than 0, got %s" % (name, params[name]))
    entries = params["managers"]
    if entries is None:
        entries = [{}]
    elif not entries:
        raise OptionError("option managers is empty; give at least one manager, or leave it out")
    elif params.get("task_ids") is not None:
        raise OptionError("option task_ids is for one manager; with managers give each manager its own task_ids")
    managers = []
    names = set()
    for index, entry in enumerate(entries):
        merged = dict(params)
        merged.pop("managers")
        for key in CONNECTION_KEYS + ("task_ids",):
            if entry.get(key) is not None:
                merged[key] = entry[key]
        for key in ("password", "token"):
            if merged.get(key):
                secrets.add(str(merged[key]))
        name = entry.get("name") or merged.get("host") or "manager %d" % (index + 1)
        where = "managers[%d] (%s)" % (index, name) if params["managers"] is not None else name
        if name in names:
            raise OptionError("%s: the name %r is used twice; give each manager a name of its own" % (where, name))
        names.add(name)
        try:
            validate(merged, waiting=False)
            check_states(merged, merged["platform"])
            _check_ids(merged)
        except OptionError as exc:
            raise OptionError("%s: %s" % (where, exc.message), platform=exc.platform)
        managers.append((name, merged))
    return Options(params, managers, secrets)


def _check_ids(params):
    """Malformed task ids (and a malformed host) are refused before any request."""
    http = HttpClient(params["host"], params["platform"])
    try:
        adapter_class(params["platform"])(http, params).check_ids(params.get("task_ids") or [])
    finally:
        http.close()


def _masked(text, secrets):
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class Watch:  # pylint: disable=too-many-instance-attributes
    """One manager: a session, maybe a push stream, the last state of each task, and the events."""

    def __init__(self, name, params, options, queue, executor):
        self.name = name
        self.params = params
        self.options = options
        self.queue = queue
        self.executor = executor
        self.manager = {"name": name, "platform": params["platform"], "host": params["host"]}
        self.states = frozenset(params["states"] or ())
        self.task_ids = list(params["task_ids"]) if params.get("task_ids") is not None else None
        self.known = {}  # task id -> the state last seen
        self.baseline = False  # the first read that worked is done
        self.failing = False  # the last read failed (an error event was reported for this episode)
        self.fatal = None  # why this manager is not read any more
        self.reads = 0
        self.events = 0
        self.stopping = threading.Event()
        self.wake = None
        self.loop = None
        self.push = None
        self.push_tried = None
        self.adapter = None
        self.inflight = None

    # The blocking side (in the pool's threads) ------------------------------
    def _left(self):
        """What ``HttpClient`` asks before each request: no time is left once the rulebook shuts down."""
        return -1.0 if self.stopping.is_set() else None

    def _adapter(self):
        if self.adapter is None:
            http = HttpClient.from_params(self.params, self._left)
            self.adapter = adapter_class(self.params["platform"])(http, self.params)
        return self.adapter

    def read(self):
        """Log in when needed, start push when it is offered, read the tasks; blocks."""
        adapter = self._adapter()
        adapter.ensure_session()
        self._start_push()
        if self.task_ids is not None:
            asked = list(self.task_ids)
            return asked, adapter.poll(asked)
        filters = {"kind": sorted(self.options.kinds) or None, "state": None, "native": {}}
        return None, adapter.list_tasks(filters)

    def _start_push(self):
        if not self.options.push or self.stopping.is_set():
            return
        if self.push is not None and self.push.live:
            return
        now = time.monotonic()
        if self.push_tried is not None and now - self.push_tried < PUSH_RETRY:
            return
        self.push_tried = now
        if self.push is not None:
            note = self.push.note()
            self.push.stop()
            if note:
                LOGGER.info("%s: %s", self.name, _masked(note, self.secrets()))
        self.push = Push(self.adapter, on_wake=self._woken)
        if self.push.start():
            LOGGER.info("%s: reading tasks at each pushed task event", self.name)
        elif self.push.note():
            LOGGER.info("%s: %s", self.name, _masked(self.push.note(), self.secrets()))

    def _woken(self):
        """In the stream's thread: a task event came; the loop reads at once."""
        try:
            self.loop.call_soon_threadsafe(self.wake.set)
        except RuntimeError:  # the event loop is closed: the source is over
            pass

    def close(self):
        """Close the stream and the session; blocks, never raises."""
        try:
            if self.push is not None:
                self.push.stop()
        finally:
            if self.adapter is not None:
                self.adapter.close()
                for note in self.adapter.notes:
                    LOGGER.warning("%s: %s", self.name, _masked(note, self.secrets()))

    def secrets(self):
        found = set(self.options.secrets)
        if self.adapter is not None:
            found.update(self.adapter.secrets)
        return found

    # The event loop's side ------------------------------------------------
    async def _call(self, func):
        # Shielded: a cancel ends the wait for it, not the read, which _shutdown waits for before logging out.
        self.inflight = self.loop.run_in_executor(self.executor, func)
        try:
            return await asyncio.shield(self.inflight)
        finally:
            if self.inflight.done():
                self.inflight = None

    async def run(self):
        """Read until cancelled, until every one of ``task_ids`` finished, or until a fatal error."""
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        try:
            await self._watch()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one manager's bug must not end the other managers' watches
            LOGGER.exception("%s: internal error in taskstatus.infra.task_events", self.name)
            self.fatal = "internal error (%s: %s)" % (exc.__class__.__name__, exc)
            await self._report_error(exc, fatal=True)
        finally:
            await self._shutdown()

    async def _watch(self):
        delay = self.options.interval
        while True:
            self.wake.clear()
            try:
                asked, tasks = await self._call(self.read)
            except (AuthError, OptionError) as exc:  # refused credentials are not an outage: never tried again
                self.fatal = _masked(str(exc), self.secrets())
                await self._report_error(exc, fatal=True)
                return
            except TaskStatusError as exc:
                delay = self.options.interval if not self.failing else min(self.options.max_interval, delay * 2)
                if not self.failing:
                    self.failing = True
                    await self._report_error(exc, fatal=False)
                else:
                    LOGGER.debug("%s: still failing: %s", self.name, _masked(str(exc), self.secrets()))
            else:
                if self.failing:
                    LOGGER.info("%s: answering again", self.name)
                self.failing = False
                delay = self.options.interval
                for event in self.changes(tasks, asked):
                    await self.queue.put(event)
                    self.events += 1
                if self.task_ids is not None and not self.task_ids:
                    LOGGER.info("%s: every task watched has finished", self.name)
                    return
            await self._pause(delay)

    async def _pause(self, seconds):
        """Sleep ``seconds``, or less when a pushed task event wakes the watch."""
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _report_error(self, exc, fatal):
        message = _masked(str(exc), self.secrets())
        if fatal:
            LOGGER.error("%s: %s; this manager is not read any more", self.name, message)
        else:
            LOGGER.warning("%s: %s; trying again", self.name, message)
        if not self.options.error_events:
            return
        error = {"message": message, "type": exc.__class__.__name__, "status": getattr(exc, "status", None),
                 "fatal": fatal}
        await self.queue.put({"error": error, "manager": dict(self.manager), "timestamp": _now()})
        self.events += 1

    async def _shutdown(self):
        """Stop the stream and log out, also when cancelled (again) meanwhile; waits for a read in flight."""
        self.stopping.set()
        if self.inflight is not None:
            await _settle(self.inflight)
        await _settle(self.loop.run_in_executor(self.executor, self.close))

    # What changed -----------------------------------------------------------
    def changes(self, tasks, asked=None):
        """The events of one read, in the order the manager gave the tasks; updates what is known.

        ``asked`` are the ids of ``task_ids`` this read asked for, in the order of ``tasks``: the ones that
        finished (or are gone) are not asked for again.
        """
        stamp = _now()
        first = not self.baseline
        self.baseline = True
        self.reads += 1
        events = []
        listed = set()
        for index, task in enumerate(tasks):
            if asked is not None and (task.terminal or task.gone) and asked[index] in self.task_ids:
                self.task_ids.remove(asked[index])
            if self.options.kinds and task.kind not in self.options.kinds:
                continue
            if not task.found and task.id not in self.known:
                continue  # an id of task_ids the manager does not know (yet)
            listed.add(task.id)
            previous = self.known.get(task.id)
            self.known[task.id] = task.state
            if previous is None:
                report = not first or self.options.initial == "all" or (
                    self.options.initial == "unfinished" and not task.terminal)
            else:
                report = previous != task.state
            if report and self._wanted(task):
                events.append(self._event(task, previous, stamp))
        if asked is None:
            for task_id in [k for k in self.known if k not in listed]:
                previous = self.known.pop(task_id)
                if previous in TERMINAL_STATES:
                    continue  # finished, then deleted: nothing new
                task = missing_task(task_id, self.params["platform"], GONE_TEXT)
                task.gone = True
                if self._wanted(task):
                    events.append(self._event(task, previous, stamp))
        return events

    def _wanted(self, task):
        return not self.states or task.matches(self.states)

    def _event(self, task, previous, stamp):
        data = task.to_dict(self.options.include_raw)
        data["gone"] = bool(task.gone)
        return {"task": data, "previous_state": previous, "manager": dict(self.manager), "timestamp": stamp}


async def _settle(future):
    """Wait for ``future`` to finish, even when this task is cancelled again meanwhile; never raises."""
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            continue
        except Exception:  # noqa: BLE001 - its outcome does not matter any more, only that it ended
            break
    if future.done() and not future.cancelled():
        future.exception()  # retrieved: no "exception was never retrieved" warning


async def main(queue: asyncio.Queue, args: dict) -> None:
    """Watch the managers in ``args`` and put one event per task state change on ``queue``."""
    options = parse_args(args)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=len(options.managers),
                                                     thread_name_prefix="taskstatus-events")
    watches = [Watch(name, params, options, queue, executor) for name, params in options.managers]
    runs = [asyncio.ensure_future(watch.run()) for watch in watches]
    LOGGER.info("watching the tasks of %d manager%s", len(watches), "" if len(watches) == 1 else "s")
    try:
        await asyncio.wait(runs)
    finally:
        for run in runs:
            run.cancel()
        for run in runs:
            await _settle(run)
        executor.shutdown(wait=False)
    failed = ["%s: %s" % (w.name, w.fatal) for w in watches if w.fatal]
    if failed:
        raise TaskStatusError("taskstatus.infra.task_events: %d of %d manager%s failed: %s" % (
            len(failed), len(watches), "" if len(watches) == 1 else "s", "; ".join(failed)))


if __name__ == "__main__":
    # python task_events.py '{"platform": "redfish", "host": "...", ...}': print the events (a debugging aid).
    import json

    class _PrintQueue:
        async def put(self, event):
            print(json.dumps(event))  # noqa: T201

    asyncio.run(main(_PrintQueue(), json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")))
