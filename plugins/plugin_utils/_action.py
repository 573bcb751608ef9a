# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the task_info and task_wait action plugins share: run the library in the controller's worker.

A BMC runs no Python, so the wait runs on the controller whatever the inventory host's connection is
(``connection: local`` is not needed); only a task delegated to a real host (``delegate_to: jumphost``, a
management network reachable only from there) runs the module there. The options are validated with the
module's own argument spec, environment fallbacks and ``no_log`` included; progress lines go through
Ansible's display while the wait runs.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.taskstatus.infra.plugins.module_utils import _http
from ansible_collections.taskstatus.infra.plugins.module_utils._module import MODULE_KWARGS, execute

display = Display()


class TaskStatusAction(ActionBase):
    """Base of the action plugins; a subclass sets ``ACTION``, ``MODULE`` and ``argument_spec``."""

    TRANSFERS_FILES = False
    ACTION = None
    MODULE = None

    def argument_spec(self):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if self._runs_remotely():
            result.update(self._execute_module(module_name=self.MODULE, module_args=self._task.args,
                                               task_vars=task_vars))
            return result
        if _http.requests is None:
            raise AnsibleActionFail("the Python library requests is required on the controller "
                                    "(pip install requests): %s" % _http.REQUESTS_IMPORT_ERROR)
        with _environment(self._task_environment()):
            validation, args = self.validate_argument_spec(argument_spec=self.argument_spec(),
                                                           mutually_exclusive=MODULE_KWARGS["mutually_exclusive"])
        params = validation.validated_parameters
        secrets = set(validation._no_log_values)
        check_mode = bool(self._task.check_mode)
        host = (task_vars or {}).get("inventory_hostname") or "localhost"
        emit = None if self._task.no_log else _Emitter(host, secrets)
        outcome, warnings, found = execute(params, self.ACTION, check_mode=check_mode, emit=emit, label=host)
        secrets.update(found)
        if emit is not None:
            emit.secrets.update(found)
        outcome["invocation"] = {"module_args": remove_values(dict(params), secrets)}
        if warnings:
            outcome["warnings"] = list(warnings)
        result.update(remove_values(outcome, secrets))
        return result

    def _runs_remotely(self):
        """A task delegated to a host reached by a real connection runs the module there."""
        return bool(self._task.delegate_to) and getattr(self._connection, "transport", "local") != "local"

    def _task_environment(self):
        """The task's ``environment:`` keyword, as a module would see it (for the TASKSTATUS_* fallbacks)."""
        env = {}
        for item in self._task.environment or []:
            value = self._templar.template(item)
            if isinstance(value, dict):
                env.update((str(k), str(v)) for k, v in value.items())
        return env


class _Emitter:
    """Progress lines to Ansible's display: failures and heartbeats at default verbosity, changes with -v.

    In a worker process Ansible sends them to the main process at once, so that under ansible-runner each
    line is a job event while the task still runs.
    """

    def __init__(self, host, secrets):
        self.host = host
        self.secrets = secrets

    def __call__(self, level, text):
        text = remove_values(text, self.secrets)
        if level == "change":
            display.v("[%s] %s" % (self.host, text))
        else:
            display.display("[%s] %s" % (self.host, text))


class _environment:
    """``os.environ`` with the task's environment on top, for the length of the validation."""

    def __init__(self, extra):
        self.extra = extra
        self.saved = {}

    def __enter__(self):
        for key, value in self.extra.items():
            self.saved[key] = os.environ.get(key)
            os.environ[key] = value
        return self

    def __exit__(self, *exc_info):
        for key, value in self.saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        return False
