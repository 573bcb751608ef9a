"""Benchmark: how late a finished task is seen, with push (Redfish SSE) and with polling, in one run.

Starts tests/simulator/run.py with three generic Redfish BMCs that offer Server-Sent Events, creates one task
per wait with durations spread over the interval (default 5, 20, 35, 50 s: polling at interval 60 sees each
end at its next poll, 55 to 10 s late), and waits for all of them at once with ansible-playbook, one
inventory host per wait, all forks at once:

  push       taskstatus.infra.task_wait, push: auto, interval 60 (on bmc_push)
  poll       taskstatus.infra.task_wait, push: never, interval 60 (on bmc_poll)
  uri_until  ansible.builtin.uri + until, delay 60 (on bmc_uri; the pattern the collection replaces)

Lateness = when the host's result reached ansible-playbook (a callback's clock) minus when its task ended
(the time the simulator confirmed the task's creation plus its duration: a few ms early at most). Requests
per wait come from each BMC's own counters: task reads, and all requests (logins, logouts, the EventService,
stream opens). Streams and sessions left open are read after the run. Prints a Markdown table; --json too.

Usage: .venv/bin/python benchmarks/push_latency.py [--interval 60] [--durations 5,20,35,50] [--json out.json]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, "tests", "simulator", "run.py")
sys.path.insert(0, os.path.join(REPO, "tests"))
from testlib import COLLECTION_ROOT  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Push-Passw0rd"
MODES = ("push", "poll", "uri_until")
DEVICE = {"push": "bmc_push", "poll": "bmc_poll", "uri_until": "bmc_uri"}

PLAY = """
- name: Wait for each host's task
  hosts: all
  gather_facts: false
  strategy: free  # each host goes on to its own pattern's task at once
  tasks:
    - name: Wait with task_wait
      when: mode != 'uri_until'
      taskstatus.infra.task_wait:
        platform: redfish
        host: "{{ bmc }}"
        username: admin
        password: "{{ bench_password }}"
        ca_path: "{{ bench_ca }}"
        task_ids: ["{{ task_uri }}"]
        interval: "{{ bench_interval }}"
        max_interval: "{{ bench_interval }}"
        timeout: "{{ bench_timeout }}"
        push: "{{ 'auto' if mode == 'push' else 'never' }}"
    - name: Wait with uri and until
      when: mode == 'uri_until'
      ansible.builtin.uri:
        url: "https://{{ bmc }}{{ task_uri }}"
        url_username: admin
        url_password: "{{ bench_password }}"
        force_basic_auth: true
        ca_path: "{{ bench_ca }}"
      register: polled
      until: polled.json.TaskState in ['Completed', 'Exception', 'Killed', 'Cancelled']
      retries: "{{ (bench_timeout | int) // (bench_interval | int) }}"
      delay: "{{ bench_interval }}"
"""


def start_simulator(state_dir):
    spec = ",".join("%s=redfish:generic" % name for name in DEVICE.values())
    subprocess.run([sys.executable, RUN, "start", "--state-dir", state_dir, "--devices", spec,
                    "--password", PASSWORD], check=True)
    with open(os.path.join(state_dir, "state.json")) as handle:
        return json.load(handle)


def control(state, name, path, body=None, method="POST"):
    device = next(d for d in state["devices"] if d["name"] == name)
    resp = requests.request(method, "https://%s/_sim/%s" % (device["host"], path), json=body,
                            verify=state["ca_cert"], timeout=10)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def run(args):
    durations = [float(d) for d in args.durations.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-push-") as tmp:
        state = start_simulator(os.path.join(tmp, "sim"))
        try:
            return measure(args, state, durations, tmp)
        finally:
            subprocess.run([sys.executable, RUN, "stop", "--state-dir", os.path.join(tmp, "sim")], check=False)


def measure(args, state, durations, tmp):
    hosts = {}
    ends = {}
    for mode in MODES:
        for duration in durations:
            name = "%s_%02d" % (mode, int(duration))
            task = control(state, DEVICE[mode], "tasks", {"scenario": "success", "duration": duration})
            ends[name] = time.time() + duration
            device = next(d for d in state["devices"] if d["name"] == DEVICE[mode])
            hosts[name] = {"mode": mode, "bmc": device["host"], "task_uri": task["task_uri"]}
    inventory = os.path.join(tmp, "inventory.json")
    with open(inventory, "w") as handle:
        json.dump({"all": {"hosts": hosts}}, handle)
    playbook = os.path.join(tmp, "play.yml")
    with open(playbook, "w") as handle:
        handle.write(PLAY)
    timeline = os.path.join(tmp, "timeline.json")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(REPO, "benchmarks", "callback_plugins"),
               ANSIBLE_CALLBACKS_ENABLED="bench_timeline", BENCH_TIMELINE=timeline,
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_HOST_KEY_CHECKING="0")
    extra = {"bench_password": PASSWORD, "bench_ca": state["ca_cert"], "bench_interval": args.interval,
             "bench_timeout": args.interval * 3, "ansible_connection": "local"}
    started = time.time()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                           "-f", str(len(hosts)), playbook, "-e", json.dumps(extra)], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.time() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("the playbook failed (rc %d)" % proc.returncode)
    with open(timeline) as handle:
        tasks = json.load(handle)["tasks"]
    seen = {}
    for task in tasks:
        for host, entry in task["results"].items():
            if entry["status"] == "ok":
                seen[host] = entry["time"]
    figures = {"wall": round(wall, 1), "modes": {}}
    for mode in MODES:
        names = [n for n in hosts if hosts[n]["mode"] == mode]
        late = [round(seen[n] - ends[n], 2) for n in names]
        stats = control(state, DEVICE[mode], "stats", method="GET")
        reads = sum(stats["requests"].get("GET " + hosts[n]["task_uri"], 0) for n in names)
        figures["modes"][mode] = {
            "late_s": dict(zip(names, late)), "late_max_s": max(late), "late_median_s": statistics.median(late),
            "task_reads_per_wait": round(reads / len(names), 2),
            "requests_per_wait": round(sum(stats["requests"].values()) / len(names), 2),
            "sessions_left": stats.get("sessions_open"), "streams_left": stats.get("sse_open"),
            "streams_opened": stats.get("sse_opened"),
        }
    return figures


def table(figures, args):
    lines = ["interval %s s, task durations %s s, all waits at once; wall %.1f s"
             % (args.interval, args.durations, figures["wall"]), "",
             "| pattern | seen late (each wait), s | max late, s | task reads / wait | requests / wait "
             "| streams opened | sessions, streams left |",
             "|---|---|---|---|---|---|---|"]
    for mode, data in figures["modes"].items():
        lines.append("| %s | %s | %.2f | %s | %s | %s | %s, %s |" % (
            mode, ", ".join("%.2f" % v for v in data["late_s"].values()), data["late_max_s"],
            data["task_reads_per_wait"], data["requests_per_wait"], data["streams_opened"],
            data["sessions_left"], data["streams_left"]))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--durations", default="5,20,35,50")
    parser.add_argument("--json")
    args = parser.parse_args()
    figures = run(args)
    print(table(figures, args))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)


if __name__ == "__main__":
    main()
