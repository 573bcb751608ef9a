#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: task_wait
short_description: Wait for the long-running tasks of an infrastructure manager
version_added: 0.1.0
description:
  - Polls until every selected task (or the first one, with O(until=any)) reaches one of O(states), or
    O(timeout) is up.
  - One module run waits for many tasks at once and keeps one HTTP session, instead of one module run per poll
    as an M(ansible.builtin.uri) loop with C(until) costs.
  - Fails as soon as one task enters a state in O(fail_on), without waiting for the others.
  - Survives a manager that is unreachable for a while, such as a BMC rebooting during its own firmware update,
    and logs in again when it forgot the session.
  - Never reports a change. The session it opened is logged out on success, failure and timeout.
author:
  - taskstatus.infra maintainers (@taskstatus)
requirements:
  - requests
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - taskstatus.infra.connection
  - taskstatus.infra.selection
  - taskstatus.infra.wait
attributes:
  check_mode:
    support: full
    details: In check mode the module looks once and does not wait; ids that do not exist yet are not an error.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: taskstatus.infra.task_info
notes:
  - With O(filters), the tasks that match when the module starts are the ones waited for.
  - A task that was seen and then disappears (a Redfish task monitor that answers 404) is reported and fails
    the module; it is never taken for a success.
"""

EXAMPLES = r"""
- name: Start a firmware update
  ansible.builtin.uri:
    url: "https://{{ inventory_hostname }}/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
    method: POST
    user: "{{ bmc_user }}"
    password: "{{ bmc_password }}"
    force_basic_auth: true
    body_format: json
    body:
      ImageURI: "http://repo.example.com/firmware/bmc-2.14.bin"
    status_code: 202
  register: update

- name: Wait for it, through the BMC's own reboot
  taskstatus.infra.task_wait:
    platform: redfish
    host: "{{ inventory_hostname }}"
    username: "{{ bmc_user }}"
    password: "{{ bmc_password }}"
    task_ids:
      - "{{ update.location }}"
    timeout: 2700
    interval: 15
    unreachable_timeout: 900
  register: waited

- name: Wait for every running firmware update of an iDRAC, with connection options from module_defaults
  module_defaults:
    group/taskstatus.infra.tasks:
      platform: redfish
      host: idrac1.example.com
      username: root
      password: "{{ idrac_password }}"
      ca_path: /etc/pki/idrac-ca.pem
  taskstatus.infra.task_wait:
    filters:
      kind: [firmware_update]
      state: [pending, running]
    timeout: 3600

- name: A staged iDRAC update is done for now when its job is Scheduled
  taskstatus.infra.task_wait:
    platform: redfish
    host: idrac1.example.com
    username: root
    password: "{{ idrac_password }}"
    task_ids: [JID_123456789012]
    states: [scheduled, succeeded]

- name: Continue as soon as the first of several exports is done, and judge failures yourself
  taskstatus.infra.task_wait:
    platform: redfish
    host: bmc1.example.com
    username: admin
    password: "{{ bmc_password }}"
    task_ids: ["12", "13"]
    until: any
    fail_on: []
  register: first_done
"""

RETURN = r"""
tasks:
  description:
    - The last state of every task waited for, also on failure and timeout.
    - Each element is a normalized task, as RV(taskstatus.infra.task_info#module:tasks) describes.
  returned: always
  type: list
  elements: dict
  sample:
    - id: /redfish/v1/TaskService/TaskMonitors/7
      platform: redfish
      name: Task 7
      kind: firmware_update
      state: succeeded
      terminal: true
      percent: 100
      message: The update completed successfully.
      messages:
        - severity: ok
          text: The update completed successfully.
          id: Update.1.0.UpdateSuccessful
      started: "2026-11-22T14:01:22Z"
      ended: "2026-11-22T14:09:51Z"
      vendor_state: Completed
      target: /redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate
      url: https://bmc1.example.com/redfish/v1/TaskService/TaskMonitors/7
      found: true
elapsed:
  description: Seconds the wait took.
  returned: always
  type: float
  sample: 512.4
polls:
  description: How many times the tasks were read (each poll reads every task once).
  returned: always
  type: int
  sample: 35
timed_out:
  description: True when O(timeout) was up before the tasks reached O(states); the module then fails.
  returned: always
  type: bool
  sample: false
msg:
  description: >-
    One line a person can read: each failed or unfinished task by its id and name, with its state, percent and
    vendor message.
  returned: always
  type: str
  sample: "1 failed, 2 succeeded: JID_123456789012 (Firmware Update): failed [Exception] 40% - Image verification failed"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.taskstatus.infra.plugins.module_utils._module import (
    MODULE_KWARGS,
    run,
    wait_argument_spec,
)


def main():
    module = AnsibleModule(argument_spec=wait_argument_spec(), **MODULE_KWARGS)
    run(module, "wait")


if __name__ == "__main__":
    main()
