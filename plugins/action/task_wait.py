# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin of taskstatus.infra.task_wait: the library runs in the controller's worker process."""

from __future__ import annotations

from ansible_collections.taskstatus.infra.plugins.module_utils._spec import wait_argument_spec
from ansible_collections.taskstatus.infra.plugins.plugin_utils._action import TaskStatusAction


class ActionModule(TaskStatusAction):
    ACTION = "wait"
    MODULE = "taskstatus.infra.task_wait"

    def argument_spec(self):
        return wait_argument_spec()
