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
  - Never reports a change. The session it opened is logged out on success, failure, timeout and cancel
    (SIGTERM from a cancelled AWX job, SIGINT).
  - Runs on the Ansible controller (an action plugin), whatever the inventory host's connection is; a BMC or an
    appliance runs no Python, and no C(connection=local) is needed. Delegated to a real host (C(delegate_to)), it
    runs there as a module.
  - Shows progress while it waits, through Ansible's display (under ansible-runner, AWX and AAP each line is a job
    event while the task still runs) - a line when a task fails, a heartbeat every O(progress_interval) seconds with
    how many tasks are in which state and the slowest ones, and with C(-v) a line on every change of a task's
    state, percent (by 10 points) or message. Lines start with the inventory host and name the task, its state,
    percent and the time waited.
  - With O(targets), one task waits for the tasks of many managers (a whole batch of BMCs) in one process, with at
    most O(concurrency) requests in flight and one session per manager.
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
  - taskstatus.infra.wait
attributes:
  check_mode:
    support: full
    details: In check mode the module looks once and does not wait; ids that do not exist yet are not an error.
seealso:
  - module: taskstatus.infra.task_info
options:
  progress_interval:
    description:
      - Seconds between two heartbeat lines while the wait runs (at default verbosity). V(0) turns the heartbeat
        off; failures are still shown, and changes with C(-v).
      - No line is shown for a task with C(no_log), and none when the module runs on a delegated host.
    type: float
    default: 60
  targets:
    description:
      - Wait for many managers at once (a fleet wait), each with its own session and its own tasks, in one process.
      - Each element takes the connection options (O(platform), O(host), O(username), O(password), O(token),
        O(auth_method), O(validate_certs), O(ca_path), O(request_timeout), O(domain), O(max_requests_per_minute));
        an option it leaves out is
        taken from this module's own (so common credentials can be set once, or through C(module_defaults)).
      - Each element gives its own O(targets[].task_ids) or O(targets[].filters); one without either uses this
        module's O(filters). This module's O(task_ids) cannot be combined with O(targets).
      - The wait options (O(timeout), O(interval), O(states), O(fail_on), ...) apply to every target.
      - One target's failure does not stop the others, unless O(fail_fast=true).
      - The results are in RV(targets), keyed by O(targets[].name); RV(tasks) holds every target's tasks.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The key of this target in RV(targets) and its name in progress lines, for example the inventory host.
          - Defaults to O(targets[].host). Names must be unique.
        type: str
      platform:
        description: As O(platform).
        type: str
        choices: [cdfmc, fmc, redfish, vsphere, xclarity]
      host:
        description: As O(host).
        type: str
      username:
        description: As O(username).
        type: str
      password:
        description: As O(password).
        type: str
      token:
        description: As O(token).
        type: str
      auth_method:
        description: As O(auth_method).
        type: str
        choices: [auto, session, basic]
      validate_certs:
        description: As O(validate_certs).
        type: bool
      ca_path:
        description: As O(ca_path).
        type: path
      request_timeout:
        description: As O(request_timeout).
        type: float
      domain:
        description: As O(domain).
        type: str
      max_requests_per_minute:
        description: As O(max_requests_per_minute).
        type: int
      task_ids:
        description: As O(task_ids), on this manager.
        type: list
        elements: str
      filters:
        description: As O(filters), on this manager.
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
            choices: [firmware_update, config_export, config_import, repository_export, support_export, deployment,
                      backup, other]
          native:
            description: Query parameters passed unchanged to the platform's task list.
            type: dict
            default: {}
  concurrency:
    description:
      - With O(targets), how many requests may be in flight at once, over all targets. Each target is polled at
        O(interval) as if it were waited for alone, as long as the pool keeps up.
    type: int
    default: 50
  fail_fast:
    description:
      - With O(targets), stop every wait as soon as one target fails (its tasks failed, it timed out or could not be
        reached); the sessions of the others are closed and they are reported as cancelled.
    type: bool
    default: false
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

- name: List the BMCs of this batch with the update each one started (bmc_address is an inventory variable)
  ansible.builtin.set_fact:
    batch_targets: >-
      {{ batch_targets | default([]) + [{'name': item, 'host': hostvars[item].bmc_address,
      'task_ids': [hostvars[item].update.location]}] }}
  loop: "{{ ansible_play_batch }}"
  run_once: true

- name: Wait for all of them in one task, from the controller, 50 requests in flight at most
  taskstatus.infra.task_wait:
    platform: redfish
    username: "{{ bmc_user }}"
    password: "{{ bmc_password }}"
    ca_path: /etc/pki/bmc-ca.pem
    targets: "{{ batch_targets }}"
    timeout: 2700
    interval: 15
    concurrency: 50
  run_once: true
  register: batch

- name: Fail the hosts whose update failed (the others go on)
  ansible.builtin.fail:
    msg: "{{ batch.targets[inventory_hostname].msg }}"
  when: batch.targets[inventory_hostname].failed | default(false)
"""

RETURN = r"""
tasks:
  description:
    - The last state of every task waited for, also on failure and timeout.
    - Each element is a normalized task, as RV(taskstatus.infra.task_info#module:tasks) describes.
    - A Redfish task that the BMC lost in a restart during the wait (an OpenBMC forgets its tasks in the restart
      that ends its own firmware update) is V(unknown), never V(succeeded), and fails the wait. It also has C(lost),
      a dict with C(restarted) (true), C(manager), C(firmware_before) (at the task's first read),
      C(firmware_after), C(firmware_changed) (true when the BMC runs another firmware version or image than
      before, false when the same, null when unknown) and C(image) (the active software image).
      See docs/platforms/redfish.md for what can and cannot be known, and how a playbook can accept such an
      update.
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
cancelled:
  description: True when a signal (SIGTERM from a cancelled AWX job or an ansible-runner timeout, SIGINT) ended the wait.
  returned: when cancelled
  type: bool
  sample: true
targets:
  description:
    - With O(targets), the result of each target, keyed by O(targets[].name).
    - Each holds RV(tasks), RV(elapsed), RV(polls), RV(timed_out) and RV(msg) of that manager's wait, C(failed) when
      it failed, C(cancelled) when it was stopped (O(fail_fast), a signal), and its C(platform) and C(host).
  returned: when O(targets) is given
  type: dict
  sample:
    bmc17:
      tasks: []
      elapsed: 312.4
      polls: 32
      timed_out: false
      failed: true
      msg: "1 of 1 tasks failed: /redfish/v1/TaskService/TaskMonitors/3: failed [Exception] 60% - flash error"
      platform: redfish
      host: bmc17.example.com
summary:
  description:
    - With O(targets), how the managers' waits ended, and the number of tasks.
  returned: when O(targets) is given
  type: dict
  sample:
    targets: 1000
    succeeded: 998
    failed: 1
    timed_out: 1
    cancelled: 0
    tasks: 1000
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
