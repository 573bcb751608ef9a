"""The Event-Driven Ansible source taskstatus.infra.task_events under ansible-rulebook (PyPI).

A rulebook watches a simulated BMC and runs a playbook when a firmware update fails; the playbook writes the
event it was given, and the test checks the task's id and the vendor's message in it, that ansible-rulebook
shut the source down cleanly, and that the BMC has no session left.

ansible-rulebook runs in a venv of its own (tests/tools/peers/rulebook.sh: ansible-rulebook, ansible-core for
ansible-galaxy and ansible-playbook, requests; Java 17 from Debian's openjdk-17-jre-headless when missing).
When it cannot be installed the test fails: it is never skipped. The collection is found the way
ansible-rulebook finds any collection, with ``ansible-galaxy collection list`` over ANSIBLE_COLLECTIONS_PATH.
"""

import json
import os
import re
import subprocess
import sys
import time

import requests
import yaml

from harness import PASSWORD
from testlib import COLLECTION_ROOT, REPO

INSTALL = os.path.join(REPO, "tests", "tools", "peers", "rulebook.sh")
TASKS = "GET /redfish/v1/TaskService/Tasks"


def test_a_rulebook_runs_a_playbook_with_the_event_when_a_firmware_update_fails(sim, tmp_path):
    install = subprocess.run([INSTALL], capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, "ansible-rulebook could not be installed:\n" + install.stderr[-3000:]
    bin_dir = install.stdout.strip().splitlines()[-1]
    rulebook_bin = os.path.join(bin_dir, "ansible-rulebook")
    assert os.access(rulebook_bin, os.X_OK), install.stdout

    # Held: the task's clock starts once the source has read the task list (below), so the rulebook sees it
    # running before it fails however slowly ansible-rulebook starts; a successful update and a failed
    # configuration export must not run the playbook.
    bad = sim.create_tasks("bmc", 1, scenario="fail", duration=2, hold=True)[0]
    good = sim.create_tasks("bmc", 1, scenario="success", duration=1, hold=True)[0]
    export = sim.create_tasks("bmc", 1, scenario="fail", duration=1, kind="config_export", hold=True)[0]
    received = tmp_path / "received.json"
    playbook = tmp_path / "on_failure.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "A firmware update failed", "hosts": "all", "gather_facts": False,
        "tasks": [{"name": "Keep the event", "ansible.builtin.copy": {
            "content": "{{ ansible_eda.event | to_json }}", "dest": str(received), "mode": "0600"}}],
    }]))
    rulebook = tmp_path / "rulebook.yml"
    rulebook.write_text(yaml.safe_dump([{
        "name": "Firmware updates that fail",
        "hosts": "all",
        "sources": [{"name": "BMC tasks", "taskstatus.infra.task_events": {
            "platform": "redfish", "host": sim.host("bmc"), "username": "admin", "password": "{{ bmc_password }}",
            "ca_path": sim.ca, "interval": 0.3, "kinds": ["firmware_update"], "states": ["failed"]}}],
        "rules": [{
            "name": "Open a ticket",
            "condition": 'event.task.state == "failed" and event.task.kind == "firmware_update"',
            "actions": [{"run_playbook": {"name": str(playbook)}},
                        {"shutdown": {"message": "handled", "delay": 0}}],
        }],
    }], sort_keys=False))
    variables = tmp_path / "vars.yml"
    variables.write_text(yaml.safe_dump({"bmc_password": PASSWORD}))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": os.path.join(bin_dir, "python")}}}}))

    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0")
    for name in [k for k in env if k.startswith("TASKSTATUS_")]:
        env.pop(name)
    started = time.monotonic()
    log = open(tmp_path / "rulebook.log", "w+", encoding="utf-8")  # pylint: disable=consider-using-with
    proc = subprocess.Popen([rulebook_bin, "--rulebook", str(rulebook), "--inventory", str(inventory),
                             "--vars", str(variables), "-v"], cwd=str(tmp_path), env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        for _attempt in range(1200):  # until the source has listed the tasks once (bounded: 1200 x 0.1 s)
            if sim.stats("bmc")["requests"].get(TASKS) or proc.poll() is not None:
                break
            time.sleep(0.1)
        for made in (bad, good, export):
            resp = requests.get(sim.url("bmc", made["task_uri"]), auth=("admin", PASSWORD), verify=sim.ca,
                                timeout=10)
            assert resp.status_code == 200, resp.text
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    took = time.monotonic() - started
    log.seek(0)
    output = log.read()
    log.close()
    assert proc.returncode == 0, output[-6000:]

    event = json.loads(received.read_text())
    task = event["task"]
    assert task["id"] == bad["id"] and task["state"] == "failed" and task["kind"] == "firmware_update", event
    vendor = requests.get(sim.url("bmc", bad["task_uri"]), auth=("admin", PASSWORD), verify=sim.ca, timeout=10).json()
    assert task["message"] and task["message"] == vendor["Messages"][-1]["Message"], (task, vendor["Messages"])
    assert task["vendor_state"] == vendor["TaskState"] == "Exception"
    assert event["previous_state"] in ("pending", "running")
    assert event["manager"] == {"name": sim.host("bmc"), "platform": "redfish", "host": sim.host("bmc")}
    assert event["meta"]["source"]["type"] == "taskstatus.infra.task_events"
    # the source was shut down by the rulebook, not killed, and logged out
    assert "task cancelled" in output or "Cancelling event source tasks" in output, output[-3000:]
    assert "Source error" not in output, output[-3000:]
    assert PASSWORD not in output
    assert sim.no_session_left("bmc")
    assert sim.stats("bmc").get("sse_open", 0) == 0  # push is on by default: a stream, where offered, is closed
    print("ansible-rulebook run: %.1f s" % took)


def doc_blocks():
    """The YAML examples of docs/eda.md, by what they are."""
    with open(os.path.join(REPO, "docs", "eda.md"), encoding="utf-8") as handle:
        blocks = re.findall(r"```yaml\n(.*?)```", handle.read(), re.S)
    found = {}
    for block in blocks:
        data = yaml.safe_load(block)
        if isinstance(data, list) and data and "rules" in data[0]:
            found["rulebook"] = block
        elif isinstance(data, dict) and data.get("version") == 3:
            found["decision_environment"] = block
        elif isinstance(data, dict) and "collections" in data:
            found["requirements"] = block
        elif isinstance(data, dict) and "fields" in data:
            found["credential_input"] = data
        elif isinstance(data, dict) and "extra_vars" in data:
            found["credential_injector"] = data
    assert len(found) == 5, sorted(found)
    return found


def test_the_rulebook_of_docs_eda_md_is_one_ansible_rulebook_accepts_and_its_source_arguments_are_valid(tmp_path):
    install = subprocess.run([INSTALL], capture_output=True, text=True, timeout=900, check=False)
    assert install.returncode == 0, "ansible-rulebook could not be installed:\n" + install.stderr[-3000:]
    bin_dir = install.stdout.strip().splitlines()[-1]
    blocks = doc_blocks()
    rulebook = tmp_path / "firmware_failures.yml"
    rulebook.write_text(blocks["rulebook"])
    check = ("import sys, yaml\n"
             "from ansible_rulebook import rules_parser\n"
             "from ansible_rulebook.validators import Validate\n"
             "data = yaml.safe_load(open(sys.argv[1]))\n"
             "Validate.rulebook(data)\n"
             "sets = rules_parser.parse_rule_sets(data, {})\n"
             "print(sets[0].sources[0].source_name, [r.name for r in sets[0].rules])\n")
    proc = subprocess.run([os.path.join(bin_dir, "python"), "-c", check, str(rulebook)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("taskstatus.infra.task_events "), proc.stdout

    # the source's arguments, as the credential's injector fills them in, pass the source's own checks
    from ansible_collections.taskstatus.infra.extensions.eda.plugins.event_source import task_events  # noqa: PLC0415

    source = yaml.safe_load(blocks["rulebook"])[0]["sources"][0]["taskstatus.infra.task_events"]
    injected = blocks["credential_injector"]["extra_vars"]
    assert set(injected) == {"bmc_username", "bmc_password"}
    assert {f["id"] for f in blocks["credential_input"]["fields"]} == {"username", "password"}
    source = dict(source, username="admin", password="secret")
    options = task_events.parse_args(source)
    assert [name for name, _params in options.managers] == ["bmc1", "bmc2"]


def test_the_decision_environment_of_docs_eda_md_makes_a_build_context_with_the_collection(tmp_path):
    blocks = doc_blocks()
    definition = tmp_path / "definition"
    definition.mkdir()
    bin_dir = os.path.dirname(sys.executable)
    build = subprocess.run([os.path.join(bin_dir, "ansible-galaxy"), "collection", "build", REPO, "--output-path",
                            str(definition), "--force"], capture_output=True, text=True, timeout=300, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = next(definition.glob("taskstatus-infra-*.tar.gz")).name
    # the docs name the tarball of the current version
    assert tarball in blocks["decision_environment"] and tarball in blocks["requirements"], tarball
    (definition / "decision-environment.yml").write_text(blocks["decision_environment"])
    (definition / "requirements.yml").write_text(blocks["requirements"])
    (definition / "bmc-ca.pem").write_text("a CA bundle\n")
    proc = subprocess.run([os.path.join(bin_dir, "ansible-builder"), "create", "--file",
                           str(definition / "decision-environment.yml"), "--context", str(tmp_path / "context"),
                           "--output-filename", "Containerfile"], capture_output=True, text=True, timeout=300,
                          check=False, env=dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", "")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text()
    assert "de-minimal-rhel9" in containerfile and "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile  # the collection's requirements.txt (requests) goes into the image
    assert "COPY _build/certs/bmc-ca.pem /etc/pki/taskstatus/bmc-ca.pem" in containerfile
    assert (tmp_path / "context" / "_build" / "collections" / tarball).is_file()
