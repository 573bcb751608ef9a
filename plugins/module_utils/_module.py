# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge between Ansible and the library: ``execute`` runs task_info or task_wait on validated
parameters and turns every outcome into a result dict; ``run`` is the module's one call. The action plugins
call ``execute`` in the controller's worker process. Nothing here raises to its caller.
"""

from __future__ import annotations

import signal
import threading
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.taskstatus.infra.plugins.module_utils import _http
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TaskStatusError, WaitCancelled
from ansible_collections.taskstatus.infra.plugins.module_utils._fleet import Fleet, Target, fleet_summary
from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import adapter_class
from ansible_collections.taskstatus.infra.plugins.module_utils._progress import Progress
from ansible_collections.taskstatus.infra.plugins.module_utils._push import Push
from ansible_collections.taskstatus.infra.plugins.module_utils._spec import (
    fleet_params,
    info_argument_spec,
    validate,
    wait_argument_spec,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import (
    Deadline,
    WaitAborted,
    Waiter,
    WaitOutcome,
    ensure_found,
)

MODULE_KWARGS = dict(mutually_exclusive=[("task_ids", "filters")], supports_check_mode=True)
# The modules import their argument specs from here, with the one call they make.
__all__ = ["MODULE_KWARGS", "execute", "info_argument_spec", "run", "wait_argument_spec"]


def _select(tasks, filters):
    states = set((filters or {}).get("state") or [])
    kinds = set((filters or {}).get("kind") or [])
    return [t for t in tasks if (not states or t.state in states) and (not kinds or t.kind in kinds)]


def discover(adapter, params):
    """The ids of the tasks that match ``filters`` now (a wait with filters waits for these)."""
    return [t.id for t in _select(adapter.list_tasks(params["filters"]), params["filters"])]


def _waiter(adapter, params, deadline, observer=None):
    return Waiter(adapter, deadline, interval=params["interval"], max_interval=params["max_interval"],
                  until=params["until"], states=params["states"], fail_on=params["fail_on"],
                  unreachable_timeout=params["unreachable_timeout"], observer=observer)


def _info(adapter, params, check_mode, run):
    adapter.open()
    if params.get("task_ids") is not None:
        tasks = adapter.fetch(params["task_ids"])
        if not params["missing_ok"]:
            ensure_found(tasks, adapter.platform)
    else:
        tasks = _select(adapter.list_tasks(params.get("filters") or {}), params.get("filters"))
    return dict(changed=False, tasks=[t.to_dict(params["include_raw"]) for t in tasks])


def _wait(adapter, params, check_mode, run):
    progress = run.get("progress")
    observer = (lambda tasks: progress.observe(run["label"], tasks)) if progress else None
    waiter = run["waiter"] = _waiter(adapter, params, run["deadline"], observer)
    ids = params.get("task_ids")
    if ids is None:
        adapter.ensure_session()
        ids = discover(adapter, params)
        if not ids:
            return _empty(params, adapter, check_mode)
    if check_mode:
        return _wait_result(waiter.look_once(ids), params)
    if params["push"] == "auto":
        def start_push():  # in the first poll with a session, before its read (a manager down is waited for)
            push = run["push"] = Push(adapter, watched=lambda: waiter.tasks)
            return (push.wake if push.start() else None), 0.0
        waiter.start_push = start_push
    return _wait_result(waiter.wait(ids), params)


def _empty(params, adapter, check_mode):
    """No task matched the filters: a success only when the user said that is fine (or in check mode)."""
    filters = params.get("filters") or {}
    wanted = ", ".join("%s=%s" % (k, ",".join(str(v) for v in filters[k])) for k in ("state", "kind")
                       if filters.get(k)) or "any task"
    # The list that found nothing was the one look this wait made.
    result = dict(changed=False, tasks=[], elapsed=0.0, polls=1, timed_out=False)
    if params.get("allow_empty") or check_mode:
        result["msg"] = "%sno task of %s matches %s; nothing to wait for" % (
            "check mode: " if check_mode else "", adapter.platform, wanted)
        return result
    result.update(failed=True, msg="no task of %s %s matches %s, so there is nothing to wait for; set "
                  "allow_empty=true when that is a success (for example a rollout with nothing left to do)"
                  % (adapter.platform, adapter.http.netloc, wanted))
    return result


def _wait_result(outcome, params):
    result = dict(changed=False, tasks=[t.to_dict(params["include_raw"]) for t in outcome.tasks],
                  elapsed=round(outcome.elapsed, 3), polls=outcome.polls, timed_out=outcome.timed_out,
                  msg=outcome.msg)
    if outcome.failed:
        result["failed"] = True
    return result


def _failure(waiter, deadline, params, waiting, msg):
    """A failed result that still returns what the wait knew."""
    result = dict(changed=False, failed=True, msg=msg)
    if not waiting:
        return result
    result.update(tasks=[], elapsed=0.0, polls=0, timed_out=False)
    if deadline is not None:
        result["elapsed"] = round(deadline.elapsed(), 3)
    if waiter is not None:
        result.update(tasks=[t.to_dict(params.get("include_raw")) for t in waiter.tasks], polls=waiter.polls)
    return result


def _judged(error, waiter, deadline, params, waiting):
    """The result for what ended a run: an outcome, the collection's error, a cancel or a bug."""
    if isinstance(error, WaitOutcome):
        return _wait_result(error, params)
    if isinstance(error, WaitAborted):
        result = _wait_result(error.outcome, params)
        result.update(failed=True, msg=str(error))
        return result
    if isinstance(error, TaskStatusError):
        return _failure(waiter, deadline, params, waiting, str(error))
    if isinstance(error, (WaitCancelled, KeyboardInterrupt)):
        why = "SIGTERM" if getattr(error, "signum", None) == signal.SIGTERM else "SIGINT"
        result = _failure(waiter, deadline, params, waiting, "cancelled by %s%s; the session was closed" % (
            why, " after %.0f s" % deadline.elapsed() if deadline is not None else ""))
        result["cancelled"] = True
        return result
    result = _failure(waiter, deadline, params, waiting, "internal error in taskstatus.infra (%s: %s); please "
                      "report it with the output of -vvv" % (error.__class__.__name__, _short(error)))
    result["exception"] = getattr(error, "trace", None) or traceback.format_exc()
    return result


class _Signals:
    """SIGTERM (a cancelled AWX job, an ansible-runner timeout) and SIGINT end the run through the ``finally``
    that logs out, also in an Ansible worker process (whose own handlers exit at once, without cleanup).

    The first signal raises; the ones after it (Ansible forwards the signal it got to its workers, so one
    may come twice) are ignored until the sessions are closed, so that they cannot cut a logout short.
    Only the main thread can set handlers; elsewhere this does nothing.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.saved = {}
        self.fired = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self.saved[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.fired:
            return
        self.fired = True
        raise WaitCancelled(signum)

    def __exit__(self, *exc_info):
        for signum, handler in self.saved.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        return False


def execute(params, action, check_mode=False, emit=None, label=None):
    """Validate ``params``, connect, do ``action`` ('info' or 'wait'), always log out.

    ``emit(level, text)`` shows progress lines while a wait runs (the action plugins pass Ansible's
    display); ``label`` names the manager in them (the inventory host). Never raises. Returns
    ``(result, warnings, secrets)``: the result dict (``failed`` set on failure, and for a wait always
    ``tasks``, ``elapsed``, ``polls``, ``timed_out``), the warnings to show, and the tokens obtained at run
    time, which the caller masks.
    """
    waiting = action == "wait"
    if waiting and params.get("targets") is not None:
        return _execute_fleet(params, check_mode, emit)
    run = {"label": label or params.get("host") or "task_wait"}
    adapter = deadline = None
    with _Signals():
        try:
            try:
                validate(params, waiting)
                if waiting and emit is not None and params["progress_interval"] >= 0:
                    run["progress"] = Progress(emit, params["progress_interval"])
                deadline = run["deadline"] = Deadline(params["timeout"] if waiting else None)
                http = _http.HttpClient.from_params(params, deadline.left)
                adapter = adapter_class(params["platform"])(http, params)
                adapter.check_ids(params.get("task_ids") or [])
                result = (_wait if waiting else _info)(adapter, params, check_mode, run)
            finally:
                if run.get("push") is not None:
                    run["push"].stop()  # a stream is closed like a session, before it
                if adapter is not None:
                    adapter.close()
        except (Exception, WaitCancelled, KeyboardInterrupt) as exc:  # noqa: BLE001 - the edge never raises
            result = _judged(exc, run.get("waiter"), deadline, params, waiting)
    warnings = list(adapter.notes) if adapter is not None else []
    if run.get("push") is not None and run["push"].note():
        warnings.append(run["push"].note())
    if adapter is not None and getattr(adapter.http.limiter, "note", None):
        warnings.append(adapter.http.limiter.note)
    secrets = set(adapter.secrets) if adapter is not None else set()
    return result, warnings, secrets


def _execute_fleet(params, check_mode, emit):
    """task_wait with ``targets``: every manager's wait in this process, ``concurrency`` requests at most."""
    try:
        targets = [Target(name, merged) for name, merged in fleet_params(params)]
    except TaskStatusError as exc:
        return dict(changed=False, failed=True, msg=str(exc), tasks=[], elapsed=0.0, polls=0, timed_out=False,
                    targets={}), [], set()
    deadline = Deadline(params["timeout"])
    # A session and (with push) a stream per manager, in one process: 1000 managers need more than the usual
    # 1024 open files.
    _allow_files(len(targets) * (2 if params["push"] == "auto" else 1) + 64)
    progress = Progress(emit, params["progress_interval"], label="task_wait (%d managers)" % len(targets)) \
        if emit is not None else None

    def open_target(target, cancelled):
        def left():
            return -1.0 if cancelled.is_set() else deadline.left()

        http = _http.HttpClient.from_params(target.params, left)
        adapter = adapter_class(target.params["platform"])(http, target.params)
        adapter.check_ids(target.params.get("task_ids") or [])
        observer = (lambda tasks: progress.observe(target.name, tasks)) if progress is not None else None
        return adapter, _waiter(adapter, target.params, deadline, observer)

    def select(target):
        return discover(target.adapter, target.params)

    def finish(target, outcome, cancelled=False):
        if cancelled:
            outcome = WaitCancelled(signal.SIGTERM)
        if outcome is None:
            result = _empty(target.params, target.adapter, check_mode)
        else:
            result = _judged(outcome, target.waiter, deadline, target.params, True)
        if cancelled:
            result["msg"] = "cancelled after %.0f s; the session was closed" % deadline.elapsed()
        result.update(platform=target.params["platform"], host=target.params["host"])
        return result

    def start_push(target, on_wake):
        push = Push(target.adapter, on_wake=on_wake, watched=lambda: target.waiter.tasks)
        push.start(wait=False, on_ready=on_wake)  # the target is read when its stream has answered
        return push  # started or not: its note says why push could not be used

    fleet = Fleet(targets, open_target, select, finish, concurrency=params["concurrency"],
                  fail_fast=params["fail_fast"], check_mode=check_mode, progress=progress,
                  start_push=start_push if params["push"] == "auto" else None)
    interrupted = None
    with _Signals():
        try:
            fleet.run()
        except (WaitCancelled, KeyboardInterrupt) as exc:
            interrupted = exc
    return _fleet_result(targets, deadline, params, check_mode, interrupted)


def _allow_files(wanted):
    """Raise the soft limit of open files towards ``wanted`` (never above the hard limit)."""
    try:
        import resource  # pylint: disable=import-outside-toplevel  # POSIX only
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))
    except (ImportError, ValueError, OSError):
        pass


def _fleet_result(targets, deadline, params, check_mode, interrupted):
    counts, line = fleet_summary(targets)
    tasks = []
    warnings = []
    secrets = set()
    for target in targets:
        result = target.result
        for task in result.get("tasks", []):
            tasks.append(dict(task, manager=target.name))
        if target.adapter is not None:
            warnings.extend("%s: %s" % (target.name, note) for note in target.adapter.notes)
        if target.push and target.push.note():
            warnings.append("%s: %s" % (target.name, target.push.note()))
            secrets.update(target.adapter.secrets)
    result = dict(changed=False, targets=dict((t.name, t.result) for t in targets), summary=counts, tasks=tasks,
                  elapsed=round(deadline.elapsed(), 3), polls=sum(t.result.get("polls", 0) for t in targets),
                  timed_out=counts["timed_out"] > 0, msg=line)
    if check_mode:
        result["msg"] = "check mode: looked once at every manager and did not wait. " + line
    if interrupted is not None:
        result["msg"] = "cancelled by %s after %.0f s; every session was closed. %s" % (
            "SIGTERM" if getattr(interrupted, "signum", None) == signal.SIGTERM else "SIGINT", deadline.elapsed(), line)
        result["cancelled"] = True
    if any(t.result.get("failed") for t in targets) or interrupted is not None:
        result["failed"] = True
    return result, warnings, secrets


def _short(exc, limit=200):
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


def run(module, action):
    """The module's one call: ``execute`` its params, then exit or fail."""
    if _http.requests is None:
        module.fail_json(msg=missing_required_lib("requests"), exception=_http.REQUESTS_IMPORT_ERROR)
    result, warnings, secrets = execute(module.params, action, module.check_mode)
    module.no_log_values.update(secrets)
    for warning in warnings:
        module.warn(warning)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)
