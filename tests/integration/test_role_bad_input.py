"""taskstatus.infra.rollout_wait refuses bad input with a message that says what to fix.

One ansible-playbook run: every case is one include_role in a block whose rescue keeps the message, all of
them against one simulated BMC (and a second one whose inventory entry has no credentials).
"""

import json
import os
import subprocess
import sys

import pytest

from harness import REPO, running_simulator
from testlib import COLLECTION_ROOT

sys.path.insert(0, os.path.join(REPO, "tests", "inventory"))
import make_inventory  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "BadInput-Passw0rd"

# name -> role variables; every case runs on the host "bmc" except "no_credentials", on "nocreds".
CASES = {
    "neither_ids_nor_kinds": {"rollout_wait_kinds": []},
    "empty_ids": {"rollout_wait_task_ids": []},
    "unknown_kind": {"rollout_wait_kinds": ["firmware_update", "firmware_upgrade"]},
    "timeout_shorter_than_interval": {"rollout_wait_timeout": 5, "rollout_wait_interval": 10},
    "timeout_not_a_number": {"rollout_wait_timeout": "soon"},
    "unknown_platform": {"rollout_wait_platform": "ilo"},
}

PLAYBOOK = """
- name: Bad input to taskstatus.infra.rollout_wait
  hosts: bmc,nocreds
  gather_facts: false
  tasks:
    - name: Run each case
      ansible.builtin.include_tasks: case.yml
      loop: "{{ cases | dict2items if inventory_hostname == 'bmc' else [{'key': 'no_credentials', 'value': {}}] }}"
      loop_control:
        loop_var: case

- name: The same host with its credentials through module_defaults
  hosts: nocreds
  gather_facts: false
  module_defaults:
    group/taskstatus.infra.tasks:
      username: admin
      password: "{{ sim_password }}"
  tasks:
    - name: Run the role without credentials of its own
      ansible.builtin.include_role:
        name: taskstatus.infra.rollout_wait
      vars:
        rollout_wait_kinds: [firmware_update]
        rollout_wait_interval: 0.5
        rollout_wait_allow_empty: true

    - name: Keep what it did
      ansible.builtin.set_fact:
        said: "{{ said | combine({'module_defaults': rollout_wait_result}) }}"

- name: Write what each case said
  hosts: bmc,nocreds
  gather_facts: false
  tasks:
    - name: Write it
      ansible.builtin.copy:
        content: "{{ ansible_play_hosts | map('extract', hostvars, 'said') | combine | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      run_once: true
      delegate_to: localhost
"""

CASE = """
- name: Case {{ case.key }}
  block:
    - name: Run the role
      ansible.builtin.include_role:
        name: taskstatus.infra.rollout_wait
      vars:
        rollout_wait_task_ids: "{{ case.value.rollout_wait_task_ids | default(none) }}"
        rollout_wait_kinds: "{{ case.value.rollout_wait_kinds | default(['firmware_update']) }}"
        rollout_wait_timeout: "{{ case.value.rollout_wait_timeout | default(30) }}"
        rollout_wait_interval: "{{ case.value.rollout_wait_interval | default(0.5) }}"
        rollout_wait_platform: "{{ case.value.rollout_wait_platform | default(hostvars[inventory_hostname].rollout_wait_platform) }}"
    - name: Not refused
      ansible.builtin.set_fact:
        said: "{{ said | default({}) | combine({case.key: 'NOT REFUSED'}) }}"
  rescue:
    - name: Keep the message
      ansible.builtin.set_fact:
        said: "{{ said | default({}) | combine({case.key: ansible_failed_result.msg}) }}"
"""


@pytest.fixture(scope="module")
def said(tmp_path_factory):
    for sim in running_simulator(tmp_path_factory, {"bmc": "redfish:generic", "nocreds": "redfish:dell"},
                                 password=PASSWORD, options=["--duration", "1.5"]):
        work = tmp_path_factory.mktemp("badplay")
        inventory = make_inventory.write_inventory(sim.state, str(work / "hosts.yml"), no_credentials=["nocreds"],
                                                   python=sys.executable)
        (work / "play.yml").write_text(PLAYBOOK)
        (work / "case.yml").write_text(CASE)
        extra_vars = {"cases": CASES, "result_file": str(work / "said.json"), "sim_password": PASSWORD}
        (work / "vars.json").write_text(json.dumps(extra_vars))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_INVENTORY=inventory, ANSIBLE_DEPRECATION_WARNINGS="0")
        env.pop("TASKSTATUS_USERNAME", None)
        env.pop("TASKSTATUS_PASSWORD", None)
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "play.yml",
                               "-e", "@vars.json"], cwd=str(work), env=env, capture_output=True, text=True,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert PASSWORD not in proc.stdout + proc.stderr
        yield json.loads((work / "said.json").read_text())


def test_neither_ids_nor_kinds(said):
    assert said["neither_ids_nor_kinds"].startswith(
        "rollout_wait needs rollout_wait_task_ids (the ids of the tasks to wait for) or rollout_wait_kinds"), said
    assert "both are empty on bmc" in said["neither_ids_nor_kinds"]


def test_empty_list_of_ids(said):
    assert said["empty_ids"].startswith("rollout_wait_task_ids is an empty list on bmc"), said


def test_unknown_kind_is_an_argument_spec_error(said):
    msg = said["unknown_kind"]
    assert "Validation of arguments failed" in msg and "rollout_wait_kinds" in msg, msg
    assert "firmware_upgrade" in msg and "repository_export" in msg, msg  # the bad value and the choices


def test_timeout_shorter_than_interval(said):
    assert said["timeout_shorter_than_interval"].startswith(
        "rollout_wait_timeout (5 s) must not be shorter than rollout_wait_interval (10 s)"), said


def test_timeout_not_a_number_is_an_argument_spec_error(said):
    msg = said["timeout_not_a_number"]
    assert "rollout_wait_timeout" in msg and "float" in msg, msg


def test_unknown_platform_is_an_argument_spec_error(said):
    msg = said["unknown_platform"]
    assert "rollout_wait_platform" in msg and "ilo" in msg and "redfish" in msg, msg


def test_host_without_credentials_names_the_host_and_the_missing_options(said):
    msg = said["no_credentials"]
    assert msg.startswith("nocreds: "), msg
    assert "username and password (or token) are required" in msg, msg
    assert "rollout_wait_username" in msg and "rollout_wait_password" in msg and "rollout_wait_token" in msg, msg


def test_credentials_through_module_defaults(said):
    result = said["module_defaults"]
    assert not result["failed"], result
    assert result["tasks"] == [] and result["msg"].endswith("; nothing to wait for"), result
