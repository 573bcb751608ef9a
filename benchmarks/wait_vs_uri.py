"""Benchmark: one task_wait call against the usual `uri` + `until` loop, in the same run.

Starts the HTTPS simulator with one generic Redfish BMC, creates N firmware
tasks that each take D seconds, and waits for them twice per round:

  uri_until   ansible.builtin.uri with until/retries/delay 1 s, looped over the tasks
              (the pattern this collection replaces)
  task_wait   one taskstatus.infra.task_wait call for all tasks, interval 1 s

For each it measures the wall time and the CPU time of ansible-playbook and
its children (resource.getrusage), and reads from the simulator how many HTTP
requests and sessions the run cost. Prints a Markdown table of medians.

Usage: .venv/bin/python benchmarks/wait_vs_uri.py [--tasks 10] [--duration 8] [--rounds 3]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
from testlib import COLLECTION_ROOT  # noqa: E402  pylint: disable=wrong-import-position

URI_UNTIL = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Poll each task with uri until it is done
      ansible.builtin.uri:
        url: "https://{{ bmc }}/redfish/v1/TaskService/Tasks/{{ item }}"
        url_username: admin
        url_password: password
        force_basic_auth: true
        ca_path: "{{ ca }}"
      register: task
      until: task.json.TaskState in ['Completed', 'Exception', 'Killed', 'Cancelled']
      retries: 600
      delay: 1
      loop: "{{ ids }}"
"""

TASK_WAIT = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait for all tasks in one call
      taskstatus.infra.task_wait:
        platform: redfish
        host: "{{ bmc }}"
        username: admin
        password: password
        ca_path: "{{ ca }}"
        task_ids: "{{ ids }}"
        interval: 1
        timeout: 600
"""


def run_playbook(path, extra, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), path,
                           "-e", json.dumps(extra)], env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit("playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="taskstatus-bench-")
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "simulator", "run.py"), "start", "--state-dir", work,
                    "--devices", "bmc=redfish:generic"], check=True, stdout=subprocess.DEVNULL)
    try:
        state = json.load(open(os.path.join(work, "state.json"), encoding="utf-8"))
        bmc, ca = state["devices"][0]["host"], state["ca_cert"]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        playbooks = {}
        for name, text in (("uri_until", URI_UNTIL), ("task_wait", TASK_WAIT)):
            playbooks[name] = os.path.join(work, name + ".yml")
            with open(playbooks[name], "w", encoding="utf-8") as handle:
                handle.write(text)
        rows = {name: [] for name in playbooks}

        def sim(path, body=None, method="POST"):
            resp = requests.request(method, "https://%s/_sim/%s" % (bmc, path), json=body, verify=ca, timeout=10)
            resp.raise_for_status()
            return resp.json()

        for _round in range(args.rounds):
            for name, path in playbooks.items():
                sim("reset")
                ids = [sim("tasks", {"scenario": "success", "duration": args.duration})["id"]
                       for _index in range(args.tasks)]
                wall, cpu = run_playbook(path, {"bmc": bmc, "ca": ca, "ids": ids}, env)
                stats = sim("stats", method="GET")
                rows[name].append((wall, cpu, stats["requests_total"], stats["sessions_created"],
                                   stats["sessions_open"]))
        print("%d tasks of %.0f s each, %d rounds, medians (Python %s, %d CPUs)\n"
              % (args.tasks, args.duration, args.rounds, sys.version.split()[0], os.cpu_count()))
        print("| pattern | wall s | CPU s | HTTP requests | sessions opened | sessions left open |")
        print("|---|---|---|---|---|---|")
        for name, values in rows.items():
            med = [statistics.median(v[i] for v in values) for i in range(5)]
            print("| %s | %.1f | %.1f | %d | %d | %d |" % (name, med[0], med[1], med[2], med[3], med[4]))
    finally:
        subprocess.run([sys.executable, os.path.join(REPO, "tests", "simulator", "run.py"), "stop",
                        "--state-dir", work], check=False, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
