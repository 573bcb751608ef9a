# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge between Ansible and the library: argument specs, and the one call
each module makes.  This is the only module_utils file that ends a run with
``exit_json`` or ``fail_json``.
"""

from __future__ import annotations

import os

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.taskstatus.infra.plugins.module_utils import _http
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import OptionError, TaskStatusError
from ansible_collections.taskstatus.infra.plugins.module_utils._models import KINDS, STATES
from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import PLATFORMS, adapter_class
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import (
    DEFAULT_FAIL_ON,
    Deadline,
    WaitAborted,
    Waiter,
    ensure_found,
)


def _env(*names):
    """Like env_fallback, but a variable set to the empty string counts as unset: AWX/AAP injects an empty
    string for a credential field left empty (extensions/awx/credential_types)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def connection_argument_spec():
    return dict(
        platform=dict(type="str", required=True, choices=sorted(PLATFORMS),
                      fallback=(_env, ["TASKSTATUS_PLATFORM"])),
        host=dict(type="str", required=True, fallback=(_env, ["TASKSTATUS_HOST"])),
        username=dict(type="str", fallback=(_env, ["TASKSTATUS_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(_env, ["TASKSTATUS_PASSWORD"])),
        token=dict(type="str", no_log=True, fallback=(_env, ["TASKSTATUS_TOKEN"])),
        auth_method=dict(type="str", default="auto", choices=["auto", "session", "basic"]),
        validate_certs=dict(type="bool", default=True, fallback=(_env, ["TASKSTATUS_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(_env, ["TASKSTATUS_CA_PATH"])),
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
    )
    return spec


MODULE_KWARGS = dict(mutually_exclusive=[("task_ids", "filters")], supports_check_mode=True)


def _validate(params, waiting):
    platform = params["platform"]

    def positive(name):
        if params.get(name) is not None and params[name] <= 0:
            raise OptionError("option %s must be greater than 0, got %s" % (name, params[name]), platform=platform)

    positive("request_timeout")
    if params.get("task_ids") is not None and not params["task_ids"]:
        raise OptionError("option task_ids is empty; give at least one id, or use filters", platform=platform)
    if waiting:
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
        for name in ("states", "fail_on"):
            params[name] = [str(s).strip().lower() for s in params.get(name) or [] if str(s).strip()] or None


def _select(tasks, filters):
    states = set((filters or {}).get("state") or [])
    kinds = set((filters or {}).get("kind") or [])
    return [t for t in tasks if (not states or t.state in states) and (not kinds or t.kind in kinds)]


def _info(adapter, params, deadline, check_mode):
    adapter.open()
    if params.get("task_ids") is not None:
        tasks = adapter.fetch(params["task_ids"])
        if not params["missing_ok"]:
            ensure_found(tasks, adapter.platform)
    else:
        tasks = _select(adapter.list_tasks(params.get("filters") or {}), params.get("filters"))
    return dict(changed=False, tasks=[t.to_dict(params["include_raw"]) for t in tasks])


def _wait(adapter, params, deadline, check_mode):
    waiter = Waiter(adapter, deadline, interval=params["interval"], max_interval=params["max_interval"],
                    until=params["until"], states=params["states"], fail_on=params["fail_on"],
                    unreachable_timeout=params["unreachable_timeout"])
    ids = params.get("task_ids")
    if ids is None:
        adapter.ensure_session()
        ids = [t.id for t in _select(adapter.list_tasks(params["filters"]), params["filters"])]
    if check_mode:
        outcome = waiter.look_once(ids)
    else:
        outcome = waiter.wait(ids)
    return _wait_result(outcome, params)


def _wait_result(outcome, params):
    result = dict(changed=False, tasks=[t.to_dict(params["include_raw"]) for t in outcome.tasks],
                  elapsed=round(outcome.elapsed, 3), polls=outcome.polls, timed_out=outcome.timed_out,
                  msg=outcome.msg)
    if outcome.failed:
        result["failed"] = True
    return result


def run(module, action):
    """Validate, connect, do ``action`` ('info' or 'wait'), always log out, then exit."""
    if _http.requests is None:
        module.fail_json(msg=missing_required_lib("requests"), exception=_http.REQUESTS_IMPORT_ERROR)
    params = module.params
    waiting = action == "wait"
    adapter = None
    notes = []
    try:
        _validate(params, waiting)
        deadline = Deadline(params["timeout"] if waiting else None)
        http = _http.HttpClient(params["host"], params["platform"], validate_certs=params["validate_certs"],
                                ca_path=params["ca_path"], request_timeout=params["request_timeout"],
                                deadline=deadline.left)
        adapter = adapter_class(params["platform"])(http, params)
        result = (_wait if waiting else _info)(adapter, params, deadline, module.check_mode)
    except WaitAborted as exc:
        result = _wait_result(exc.outcome, params)
        result.update(failed=True, msg=str(exc))
    except TaskStatusError as exc:
        result = dict(changed=False, failed=True, msg=str(exc))
    finally:
        if adapter is not None:
            adapter.close()
            notes = getattr(adapter, "notes", [])
    for note in notes:
        module.warn(note)
    if result.get("failed"):
        result.pop("failed")
        module.fail_json(**result)
    module.exit_json(**result)
