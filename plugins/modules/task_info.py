#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: task_info
short_description: Read the long-running tasks of an infrastructure manager
version_added: 0.1.0
description:
  - Reads tasks by id, or lists a manager's tasks narrowed by filters, and returns each as the same
    normalized task whatever the platform.
  - Read-only; never reports a change.
  - Runs on the Ansible controller (an action plugin), whatever the inventory host's connection is; a BMC or an
    appliance runs no Python, and no C(connection=local) is needed. Delegated to a real host (C(delegate_to)), it
    runs there as a module.
author:
  - taskstatus.infra maintainers (@taskstatus)
requirements:
  - requests
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.conn
  - ansible.builtin.action_common_attributes.flow
  - taskstatus.infra.controller
  - taskstatus.infra.connection
  - taskstatus.infra.selection
attributes:
  check_mode:
    support: full
options:
  missing_ok:
    description:
      - Return ids the platform does not know as tasks with RV(tasks[].found=false) and RV(tasks[].state=unknown)
        instead of failing.
    type: bool
    default: false
seealso:
  - module: taskstatus.infra.task_wait
notes:
  - Without O(task_ids) a Redfish service is asked for C(/redfish/v1/TaskService/Tasks), with C($expand) when the
    service advertises it, else one request per member.
"""

EXAMPLES = r"""
- name: Read a firmware update task by its task-monitor URI
  taskstatus.infra.task_info:
    platform: redfish
    host: bmc1.example.com
    username: admin
    password: "{{ bmc_password }}"
    ca_path: /etc/pki/bmc-ca.pem
    task_ids:
      - /redfish/v1/TaskService/TaskMonitors/7
  register: fw_task

- name: Show its state and progress
  ansible.builtin.debug:
    msg: "{{ fw_task.tasks[0].state }} {{ fw_task.tasks[0].percent }}%"

- name: List the running firmware updates of an iDRAC
  taskstatus.infra.task_info:
    platform: redfish
    host: idrac1.example.com
    username: root
    password: "{{ idrac_password }}"
    filters:
      state: [pending, running]
      kind: [firmware_update]
  register: running_updates

- name: Ids that may not exist any more are returned, not fatal
  taskstatus.infra.task_info:
    platform: redfish
    host: bmc1.example.com
    task_ids: [JID_123456789012, JID_123456789013]
    missing_ok: true
  register: jobs
"""

RETURN = r"""
tasks:
  description: The normalized tasks, in the order of O(task_ids), or as the platform lists them.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The task's id as given in O(task_ids), or the platform's own id when listing.
      type: str
      sample: /redfish/v1/TaskService/TaskMonitors/7
    platform:
      description: The platform the task runs on.
      type: str
      sample: redfish
    name:
      description: The task's name on the platform.
      type: str
      sample: Task 7
    kind:
      description: >-
        What the task does: V(firmware_update), V(config_export), V(config_import), V(repository_export),
        V(support_export), V(deployment), V(backup) or V(other).
      type: str
      sample: firmware_update
    state:
      description: >-
        V(pending), V(running), V(succeeded), V(failed), V(cancelled) or V(unknown).
        A vendor state this collection does not know is V(unknown), never V(succeeded).
      type: str
      sample: running
    terminal:
      description: True for V(succeeded), V(failed) and V(cancelled).
      type: bool
      sample: false
    percent:
      description: Progress from 0 to 100, or null when the platform does not say.
      type: int
      sample: 45
    message:
      description: The latest message text, or null.
      type: str
      sample: Image is being written
    messages:
      description: The task's messages, oldest first.
      type: list
      elements: dict
      contains:
        severity:
          description: V(ok), V(info), V(warning), V(critical), or the platform's own word.
          type: str
        text:
          description: The message.
          type: str
        id:
          description: The platform's message id, or null.
          type: str
      sample:
        - severity: info
          text: Image is being written
          id: Update.1.0.UpdateInProgress
    started:
      description: When the task started, ISO 8601, or null.
      type: str
      sample: "2026-11-22T14:01:22Z"
    ended:
      description: When the task ended, ISO 8601, or null.
      type: str
      sample: null
    vendor_state:
      description: The platform's own state words, unchanged (Redfish C(TaskState), iDRAC C(JobState), CIMC C(UpdateStatus)).
      type: str
      sample: Running
    target:
      description: What the task acts on, when the platform says (Redfish C(Payload.TargetUri)).
      type: str
      sample: /redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate
    url:
      description: The URL the task was read from.
      type: str
      sample: https://bmc1.example.com/redfish/v1/TaskService/TaskMonitors/7
    found:
      description: False for an id the platform does not know (only with O(missing_ok=true)).
      type: bool
      sample: true
    raw:
      description: The vendor payload, only with O(include_raw=true).
      type: dict
      returned: when O(include_raw=true)
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.taskstatus.infra.plugins.module_utils._module import (
    MODULE_KWARGS,
    info_argument_spec,
    run,
)


def main():
    module = AnsibleModule(argument_spec=info_argument_spec(), **MODULE_KWARGS)
    run(module, "info")


if __name__ == "__main__":
    main()
