# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge between Ansible and the library: argument specs, and the one call
each module makes.  This is the only module_utils file that ends a run with
``exit_json`` or ``fail_json``.
"""

from __future__ import annotations

import difflib
import signal
import threading
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.taskstatus.infra.plugins.module_utils import _http
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    OptionError,
    TaskStatusError,
    WaitCancelled,
)
from ansible_collections.taskstatus.infra.plugins.module_utils._models import KINDS, STATES
from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import PLATFORMS, adapter_class
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import (
    DEFAULT_FAIL_ON,
    Deadline,
    WaitAborted,
    Waiter,
    ensure_found,
)


def connection_argument_spec():
    return dict(
        platform=dict(type="str", required=True, choices=sorted(PLATFORMS)),
        host=dict(type="str", required=True),
        username=dict(type="str", fallback=(env_fallback, ["TASKSTATUS_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(env_fallback, ["TASKSTATUS_PASSWORD"])),
        token=dict(type="str", no_log=True),
        auth_method=dict(type="str", default="auto", choices=["auto", "session", "basic"]),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        request_timeout=dict(type="float", default=30.0),
        domain=dict(type="str"),
    )


def selection_argument_spec():
    return dict(
        task_ids=dict(type="list", elements="str"),
        filters=dict(type="dict", options=dict(
            state=dict(type="list", elements="str", choices=list(STATES)),
            kind=dict(type="list", elements="str", choices=list(KINDS)),
            native=dict(type="dict", default={}),
        )),
        include_raw=dict(type="bool", default=False),
    )


def info_argument_spec():
    spec = connection_argument_spec()
    spec.update(selection_argument_spec())
    spec.update(missing_ok=dict(type="bool", default=False))
    return spec


def wait_argument_spec():
    spec = connection_argument_spec()
    spec.update(selection_argument_spec())
    spec.update(
        timeout=dict(type="float", default=3600.0),
        interval=dict(type="float", default=10.0),
        max_interval=dict(type="float", default=60.0),
        until=dict(type="str", default="all", choices=["all", "any"]),
        states=dict(type="list", elements="str"),
        fail_on=dict(type="list", elements="str", default=list(DEFAULT_FAIL_ON)),
        unreachable_timeout=dict(type="float", default=900.0),
        allow_empty=dict(type="bool", default=False),
    )
    return spec


MODULE_KWARGS = dict(mutually_exclusive=[("task_ids", "filters")], supports_check_mode=True)


def _check_states(params, platform):
    """``states`` and ``fail_on`` name normalized states or the platform's own words; a typo is an error."""
    known = set(STATES) | set(adapter_class(platform).VENDOR_STATES)
    for name in ("states", "fail_on"):
        values = params.get(name)
        if values is None:
            continue
        values = [str(s).strip().lower() for s in values if str(s).strip()]
        wrong = [v for v in values if v not in known]
        if wrong:
            close = [difflib.get_close_matches(v, sorted(known), n=1) for v in wrong]
            hints = ["%r (did you mean %r?)" % (v, c[0]) if c else repr(v) for v, c in zip(wrong, close)]
            raise OptionError("option %s: %s %s neither a normalized state (%s) nor one of %s's own state words (%s)"
                              % (name, ", ".join(hints), "is" if len(wrong) == 1 else "are", ", ".join(STATES),
                                 platform, ", ".join(sorted(adapter_class(platform).VENDOR_STATES))),
                              platform=platform)
        params[name] = values or None


def _validate(params, waiting):
    platform = params["platform"]

    def positive(name):
        if params.get(name) is not None and params[name] <= 0:
            raise OptionError("option %s must be greater than 0, got %s" % (name, params[name]), platform=platform)

    positive("request_timeout")
    if params.get("task_ids") is not None and not params["task_ids"]:
        raise OptionError("option task_ids is empty; give at least one id, or use filters", platform=platform)
    if not waiting:
        return
    for name in ("timeout", "interval", "max_interval"):
        positive(name)
    if params["unreachable_timeout"] < 0:
        raise OptionError("option unreachable_timeout must not be negative", platform=platform)
    if params["interval"] > params["timeout"]:
        raise OptionError("option interval (%s s) is longer than timeout (%s s)"
                          % (params["interval"], params["timeout"]), platform=platform)
    if params["max_interval"] < params["interval"]:
        raise OptionError("option max_interval (%s s) is shorter than interval (%s s)"
                          % (params["max_interval"], params["interval"]), platform=platform)
    if params.get("task_ids") is None and params.get("filters") is None:
        raise OptionError("one of task_ids or filters is required to know what to wait for", platform=platform)
    if params.get("states") is not None and not [s for s in params["states"] if str(s).strip()]:
        raise OptionError("option states is empty; leave it out to wait for the terminal states",
                          platform=platform)
    _check_states(params, platform)


def _select(tasks, filters):
    states = set((filters or {}).get("state") or [])
    kinds = set((filters or {}).get("kind") or [])
    return [t for t in tasks if (not states or t.state in states) and (not kinds or t.kind in kinds)]


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
    waiter = run["waiter"] = Waiter(
        adapter, run["deadline"], interval=params["interval"], max_interval=params["max_interval"],
        until=params["until"], states=params["states"], fail_on=params["fail_on"],
        unreachable_timeout=params["unreachable_timeout"], observer=run.get("observer"))
    ids = params.get("task_ids")
    if ids is None:
        adapter.ensure_session()
        ids = [t.id for t in _select(adapter.list_tasks(params["filters"]), params["filters"])]
        if not ids:
            return _empty(params, adapter, check_mode)
    if check_mode:
        outcome = waiter.look_once(ids)
    else:
        outcome = waiter.wait(ids)
    return _wait_result(outcome, params)


def _empty(params, adapter, check_mode):
    """No task matched the filters: a success only when the user said that is fine (or in check mode)."""
    filters = params.get("filters") or {}
    wanted = ", ".join("%s=%s" % (k, ",".join(str(v) for v in filters[k])) for k in ("state", "kind")
                       if filters.get(k)) or "any task"
    result = dict(changed=False, tasks=[], elapsed=0.0, polls=0, timed_out=False)
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


class _Signals:
    """SIGTERM (a cancelled AWX job, an ansible-runner timeout) ends the run like SIGINT does: through the
    ``finally`` that logs out. Only the main thread can set handlers; elsewhere this does nothing."""

    def __init__(self):
        self.saved = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.saved = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _cancel)
        return self

    def __exit__(self, *exc_info):
        if self.saved is not None:
            signal.signal(signal.SIGTERM, self.saved)
        return False


def _cancel(signum, frame):
    raise WaitCancelled(signum)


def execute(params, action, check_mode=False, observer=None):
    """Validate ``params``, connect, do ``action`` ('info' or 'wait'), always log out.

    The one edge of the library: it never raises. Returns ``(result, warnings, secrets)``: the result
    dict (``failed`` set on failure, and for a wait always ``tasks``, ``elapsed``, ``polls``,
    ``timed_out``), the warnings to show, and the tokens obtained at run time, which the caller masks.
    """
    waiting = action == "wait"
    run = {"observer": observer}
    adapter = None
    with _Signals():
        try:
            try:
                _validate(params, waiting)
                run["deadline"] = Deadline(params["timeout"] if waiting else None)
                http = _http.HttpClient(params["host"], params["platform"], validate_certs=params["validate_certs"],
                                        ca_path=params["ca_path"], request_timeout=params["request_timeout"],
                                        deadline=run["deadline"].left)
                adapter = adapter_class(params["platform"])(http, params)
                adapter.check_ids(params.get("task_ids") or [])
                result = (_wait if waiting else _info)(adapter, params, check_mode, run)
            finally:
                if adapter is not None:
                    adapter.close()
        except WaitAborted as exc:
            result = _wait_result(exc.outcome, params)
            result.update(failed=True, msg=str(exc))
        except TaskStatusError as exc:
            result = _failure(run, params, waiting, str(exc))
        except (WaitCancelled, KeyboardInterrupt) as exc:
            why = "SIGTERM" if isinstance(exc, WaitCancelled) and exc.signum == signal.SIGTERM else "an interrupt"
            result = _failure(run, params, waiting, "cancelled by %s%s; the session was closed" % (
                why, " after %.0f s" % run["deadline"].elapsed() if "deadline" in run else ""))
        except Exception as exc:  # noqa: BLE001 - the last resort: a clean failure instead of a traceback
            result = _failure(run, params, waiting, "internal error in taskstatus.infra (%s: %s); please report it "
                              "with the output of -vvv" % (exc.__class__.__name__, _short(exc)))
            result["exception"] = traceback.format_exc()
    warnings = list(adapter.notes) if adapter is not None else []
    secrets = set(adapter.secrets) if adapter is not None else set()
    return result, warnings, secrets


def _failure(run, params, waiting, msg):
    """A failed result that still returns what the wait knew."""
    result = dict(changed=False, failed=True, msg=msg)
    if not waiting:
        return result
    result.update(tasks=[], elapsed=0.0, polls=0, timed_out=False)
    if "deadline" in run:
        result["elapsed"] = round(run["deadline"].elapsed(), 3)
    waiter = run.get("waiter")
    if waiter is not None:
        result.update(tasks=[t.to_dict(params.get("include_raw")) for t in waiter.tasks], polls=waiter.polls)
    return result


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
