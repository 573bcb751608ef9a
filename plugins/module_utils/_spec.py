# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of the modules (argument specs shared by the modules and the action plugins) and the checks
an argument spec cannot express. Every check raises ``OptionError`` before any request is made."""

from __future__ import annotations

import difflib
import os

from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import OptionError
from ansible_collections.taskstatus.infra.plugins.module_utils._models import KINDS, STATES
from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import PLATFORMS, adapter_class
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import DEFAULT_FAIL_ON


def _env(*names):
    """Like env_fallback, but a variable set to the empty string counts as unset: AWX/AAP injects an empty
    string for a credential field left empty (extensions/awx/credential_types)."""
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def connection_argument_spec():
    return dict(
        # Required, but checked in validate(): task_wait may take them from each of its targets instead.
        platform=dict(type="str", choices=sorted(PLATFORMS), fallback=(_env, ["TASKSTATUS_PLATFORM"])),
        host=dict(type="str", fallback=(_env, ["TASKSTATUS_HOST"])),
        username=dict(type="str", fallback=(_env, ["TASKSTATUS_USERNAME"])),
        password=dict(type="str", no_log=True, fallback=(_env, ["TASKSTATUS_PASSWORD"])),
        token=dict(type="str", no_log=True, fallback=(_env, ["TASKSTATUS_TOKEN"])),
        auth_method=dict(type="str", default="auto", choices=["auto", "session", "basic"]),
        validate_certs=dict(type="bool", default=True, fallback=(_env, ["TASKSTATUS_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(_env, ["TASKSTATUS_CA_PATH"])),
        request_timeout=dict(type="float", default=30.0),
        domain=dict(type="str"),
        max_requests_per_minute=dict(type="int"),
    )


CONNECTION_KEYS = ("platform", "host", "username", "password", "token", "auth_method", "validate_certs", "ca_path",
                   "request_timeout", "domain", "max_requests_per_minute")


def filters_argument_spec():
    return dict(type="dict", options=dict(
        state=dict(type="list", elements="str", choices=list(STATES)),
        kind=dict(type="list", elements="str", choices=list(KINDS)),
        native=dict(type="dict", default={}),
    ))


def selection_argument_spec():
    return dict(
        task_ids=dict(type="list", elements="str"),
        filters=filters_argument_spec(),
        include_raw=dict(type="bool", default=False),
    )


def target_argument_spec():
    """One manager of a fleet wait: the connection options (unset ones come from the module's own) and
    what to wait for there."""
    spec = {}
    for key, option in connection_argument_spec().items():
        spec[key] = dict((k, v) for k, v in option.items() if k not in ("default", "fallback"))
    spec.update(name=dict(type="str"), task_ids=dict(type="list", elements="str"), filters=filters_argument_spec())
    return spec


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
        progress_interval=dict(type="float", default=60.0),
        push=dict(type="str", default="auto", choices=["auto", "never"]),
        targets=dict(type="list", elements="dict", options=target_argument_spec()),
        concurrency=dict(type="int", default=50),
        fail_fast=dict(type="bool", default=False),
    )
    return spec


MODULE_KWARGS = dict(mutually_exclusive=[("task_ids", "filters")], supports_check_mode=True)


def check_states(params, platform):
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
            words = sorted(adapter_class(platform).VENDOR_STATES)
            raise OptionError("option %s: %s %s neither a normalized state (%s) nor one of the %d state words of %s "
                              "(%s%s)" % (name, ", ".join(hints), "is" if len(wrong) == 1 else "are", ", ".join(STATES),
                                          len(words), platform, ", ".join(words[:10]),
                                          ", ..." if len(words) > 10 else ""), platform=platform)
        params[name] = values or None


def validate(params, waiting):
    """Check one manager's parameters (a plain run, or one target of a fleet merged with the module's)."""
    missing = [k for k in ("host", "platform") if params.get(k) is None]
    if missing:
        raise OptionError("missing required arguments: %s" % ", ".join(missing))
    platform = params["platform"]

    def positive(name):
        if params.get(name) is not None and params[name] <= 0:
            raise OptionError("option %s must be greater than 0, got %s" % (name, params[name]), platform=platform)

    positive("request_timeout")
    positive("max_requests_per_minute")
    if params.get("task_ids") is not None and not params["task_ids"]:
        raise OptionError("option task_ids is empty; give at least one id, or use filters", platform=platform)
    if not waiting:
        return
    for name in ("timeout", "interval", "max_interval"):
        positive(name)
    if params["progress_interval"] < 0:
        raise OptionError("option progress_interval must not be negative (0 turns the heartbeat off)",
                          platform=platform)
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
    check_states(params, platform)


def fleet_params(params):
    """``[(name, parameters)]`` of a fleet wait: each target's options over the module's own, checked."""
    if params.get("task_ids") is not None:
        raise OptionError("option task_ids is for one manager; with targets give each target its own task_ids "
                          "(filters at the top are the default of the targets that have neither)")
    if params["concurrency"] < 1:
        raise OptionError("option concurrency must be at least 1, got %s" % params["concurrency"])
    out = []
    names = set()
    for index, target in enumerate(params["targets"]):
        merged = dict(params)
        merged.pop("targets")
        for key in CONNECTION_KEYS:
            if target.get(key) is not None:
                merged[key] = target[key]
        if target.get("task_ids") is not None or target.get("filters") is not None:
            merged["task_ids"], merged["filters"] = target.get("task_ids"), target.get("filters")
        name = target.get("name") or merged.get("host") or "target %d" % (index + 1)
        if name in names:
            raise OptionError("targets[%d]: the name %r is used twice; give each target a name of its own"
                              % (index, name))
        names.add(name)
        try:
            validate(merged, waiting=True)
        except OptionError as exc:
            raise OptionError("targets[%d] (%s): %s" % (index, name, exc.message), platform=exc.platform)
        out.append((name, merged))
    if not out:
        raise OptionError("option targets is empty; give at least one manager, or leave it out")
    return out
