# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Which tasks to read; shared by task_info and task_wait.
    DOCUMENTATION = r"""
options:
  task_ids:
    description:
      - The tasks, each in the platform's own id form.
      - For O(platform=redfish) a task C(Id) (V(545), V(JID_123456789012)), a task URI
        (V(/redfish/v1/TaskService/Tasks/545), V(/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_123456789012))
        or a task-monitor URI, as returned in the C(Location) header of the request that started the task.
      - A URI must be on O(host). An id is data; it is quoted into the URL path.
      - Mutually exclusive with O(filters).
    type: list
    elements: str
  filters:
    description:
      - Without O(task_ids), select the platform's tasks by these filters. All given filters must match.
    type: dict
    suboptions:
      state:
        description: Normalized states to keep.
        type: list
        elements: str
        choices: [pending, running, succeeded, failed, cancelled, unknown]
      kind:
        description: Task kinds to keep.
        type: list
        elements: str
        choices: [firmware_update, config_export, config_import, repository_export, support_export, deployment, backup, other]
      native:
        description:
          - Query parameters passed unchanged to the platform's task list.
          - "For example C({\"$filter\": \"TaskState eq 'Running'\"}) for a Redfish service that supports C($filter)."
        type: dict
        default: {}
  include_raw:
    description:
      - Add the vendor payload of each task as RV(ignore:tasks[].raw).
    type: bool
    default: false
"""
