"""Benchmark: waiting for 1,000 BMCs from one controller, four ways, in one run against one simulated fleet.

Starts tests/simulator/run.py with ``--fleet N`` (each BMC at its own 127.0.x.y, one port, one certificate)
and, for each pattern, starts one firmware task of --duration seconds on every BMC, then waits with:

  a  fleet      one taskstatus.infra.task_wait with ``targets`` (run once, on the controller)
  b  per_host   one task_wait per inventory host, forks --forks
  c  uri_until  ansible.builtin.uri + until/retries/delay per host, forks --forks (cut off after --uri-bound s)
  d  rollout    playbooks/firmware_rollout.yml, one batch of all hosts, the role in its default (fleet) mode;
                the playbook starts the updates itself (SimpleUpdate with uri), which is reported apart

For each it measures the wall time (and, for d, the time from the last update started to the end of the
batch's wait), the CPU seconds of ansible-playbook and all its children (getrusage), the peak resident
memory of the controller's process tree (sampled from /proc), the task reads per task per poll and the
sessions left open (from the simulator's fleet counters). Prints a Markdown table; --json writes the figures.

Usage: .venv/bin/python benchmarks/fleet.py [--devices 1000] [--duration 60] [--interval 10] [--forks 50]
                                             [--concurrency 50] [--uri-bound 300] [--only a,b,c,d] [--push never]
                                             [--json out.json]
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, "tests", "simulator", "run.py")
sys.path.insert(0, os.path.join(REPO, "tests"))
from testlib import COLLECTION_ROOT  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Fleet-Passw0rd"
TASK_GETS = ("GET /redfish/v1/TaskService/Tasks/", "GET /redfish/v1/TaskService/TaskMonitors/")

FLEET = """
- name: Wait for the whole fleet in one task
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait for every BMC
      taskstatus.infra.task_wait:
        platform: redfish
        username: admin
        password: "{{ bench_password }}"
        ca_path: "{{ bench_ca }}"
        targets: "{{ bench_targets }}"
        interval: "{{ bench_interval }}"
        timeout: "{{ bench_timeout }}"
        concurrency: "{{ bench_concurrency }}"
        push: "{{ bench_push }}"
"""

PER_HOST = """
- name: One wait per host
  hosts: bmcs
  gather_facts: false
  tasks:
    - name: Wait for this BMC
      taskstatus.infra.task_wait:
        platform: redfish
        host: "{{ rollout_wait_host }}"
        username: admin
        password: "{{ bench_password }}"
        ca_path: "{{ bench_ca }}"
        task_ids: ["{{ bench_task }}"]
        interval: "{{ bench_interval }}"
        timeout: "{{ bench_timeout }}"
        push: "{{ bench_push }}"
"""

URI_UNTIL = """
- name: uri + until per host
  hosts: bmcs
  gather_facts: false
  tasks:
    - name: Poll this BMC's task until it is done
      ansible.builtin.uri:
        url: "https://{{ rollout_wait_host }}{{ bench_task }}"
        url_username: admin
        url_password: "{{ bench_password }}"
        force_basic_auth: true
        ca_path: "{{ bench_ca }}"
      delegate_to: localhost
      register: bench_poll
      until: bench_poll.json.TaskState | default('') in ['Completed', 'Exception', 'Killed', 'Cancelled']
      retries: "{{ (bench_timeout | int) // (bench_interval | int) }}"
      delay: "{{ bench_interval }}"
"""


def tree_rss_mb(root):
    """Resident memory of ``root`` and all its descendants, in MB."""
    children = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 1e6


def run_playbook(name, text, work, extra, env, bound=None, inventory=None):
    """Run a playbook; returns wall, cpu, peak_rss, returncode, cut_off, timeline."""
    path = os.path.join(work, name + ".yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    vars_file = os.path.join(work, name + "-vars.json")
    with open(vars_file, "w", encoding="utf-8") as handle:
        json.dump(extra, handle)
    timeline = os.path.join(work, name + "-timeline.json")
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), path, "-e", "@" + vars_file]
    if inventory:
        cmd[1:1] = ["-i", inventory]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=dict(env, BENCH_TIMELINE=timeline), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd=work)
    peak = [0.0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            done.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cut_off = False
    try:
        output = proc.communicate(timeout=bound)[0]
    except subprocess.TimeoutExpired:
        cut_off = True
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            output = proc.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0]
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(work, name + ".log"), "w", encoding="utf-8") as handle:
        handle.write(output)
    data = None
    if os.path.exists(timeline):
        with open(timeline, encoding="utf-8") as handle:
            data = json.load(handle)
    return {"wall": wall, "cpu": cpu, "peak_rss_mb": peak[0], "rc": proc.returncode, "cut_off": cut_off,
            "timeline": data, "log": os.path.join(work, name + ".log")}


class Fleet:
    def __init__(self, state):
        self.state = state
        self.ca = state["ca_cert"]
        self.devices = state["devices"]
        self.first = self.devices[0]["host"]

    def control(self, path, body=None, method="POST", params=None):
        resp = requests.request(method, "https://%s/_sim/fleet/%s" % (self.first, path), json=body, params=params,
                                verify=self.ca, timeout=120)
        resp.raise_for_status()
        return resp.json()

    def tasks(self, duration):
        made = self.control("tasks", {"scenario": "success", "duration": duration, "kind": "firmware_update"})
        return dict((name, tasks[0]) for name, tasks in made["tasks"].items())

    def stats(self):
        return self.control("stats", method="GET", params={"requests": "1", "per_device": "0"})["totals"]


def task_reads(totals):
    return sum(n for key, n in totals.get("requests", {}).items() if key.startswith(TASK_GETS))


def polls_of(timeline, task_name):
    """Polls the waits made, from the bench_timeline callback (module results or uri attempts)."""
    for task in (timeline or {}).get("tasks", []):
        if not task["name"].endswith(task_name):  # a role's tasks are named "role : task"
            continue
        polls = tasks = 0
        for entry in task["results"].values():
            if "target_polls" in entry:
                polls += entry["target_polls"]
                tasks += entry["target_tasks"]
            elif "polls" in entry:
                polls += entry["polls"]
                tasks += 1
            elif "attempts" in entry:
                polls += entry["attempts"]
                tasks += 1
            else:  # an uri that succeeded at once has no attempts key
                polls += 1
                tasks += 1
        return polls, tasks
    return 0, 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--uri-bound", type=float, default=300.0, help="cut pattern c off after this many seconds")
    parser.add_argument("--only", default="a,b,c,d")
    parser.add_argument("--push", default="never", choices=["never", "auto"],
                        help="task_wait's push in a, b and d (never: the polling this compares; the simulated BMCs "
                             "offer SSE, and 1,000 simulated event streams share the simulator's 2 CPUs)")
    parser.add_argument("--json")
    args = parser.parse_args()
    only = set(args.only.split(","))
    ideal = args.duration + args.interval
    timeout = max(600.0, 6 * ideal)

    work = tempfile.mkdtemp(prefix="taskstatus-fleet-bench-")
    subprocess.run([sys.executable, RUN, "start", "--state-dir", work, "--fleet", str(args.devices),
                    "--password", PASSWORD, "--duration", str(args.duration), "--timeout", "300"], check=True,
                   stdout=subprocess.DEVNULL)
    results = {}
    try:
        with open(os.path.join(work, "state.json"), encoding="utf-8") as handle:
            fleet = Fleet(json.load(handle))
        hosts = dict((d["name"], d["host"]) for d in fleet.devices)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_FORKS=str(args.forks), ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_RETRY_FILES_ENABLED="0",
                   ANSIBLE_CALLBACK_PLUGINS=os.path.join(REPO, "benchmarks", "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="bench_timeline", ANSIBLE_DEPRECATION_WARNINGS="0")
        common = {"bench_password": PASSWORD, "bench_ca": fleet.ca, "bench_interval": args.interval,
                  "bench_timeout": timeout, "bench_concurrency": args.concurrency, "bench_push": args.push}

        def inventory(tasks):
            path = os.path.join(work, "inventory.json")
            host_vars = {}
            for name, host in hosts.items():
                entry = {"rollout_wait_platform": "redfish", "rollout_wait_host": host, "rollout_wait_username": "admin",
                         "rollout_wait_password": PASSWORD, "rollout_wait_ca_path": fleet.ca}
                if tasks:
                    entry["bench_task"] = tasks[name]["task_uri"]
                host_vars[name] = entry
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"bmcs": {"hosts": host_vars}}, handle)  # no connection setting: none is used
            return path

        def measure(key, name, text, task_name, with_tasks=True, bound=None, extra=None):
            fleet.control("reset", {})
            tasks = fleet.tasks(args.duration) if with_tasks else None
            inv = inventory(tasks)
            run_extra = dict(common, **(extra or {}))
            if key == "a":
                run_extra["bench_targets"] = [{"name": n, "host": hosts[n], "task_ids": [tasks[n]["task_uri"]]}
                                              for n in hosts]
            out = run_playbook(name, text, work, run_extra, env, bound=bound, inventory=inv)
            totals = fleet.stats()
            polls, waited = polls_of(out["timeline"], task_name)
            out.update(sessions_left=totals["sessions_open"], sessions_created=totals["sessions_created"],
                       requests_total=totals["requests_total"], task_reads=task_reads(totals), polls=polls,
                       waited=waited, reads_per_task_poll=(task_reads(totals) / polls) if polls else None)
            results[key] = out
            print("%s %-9s wall %.1f s, CPU %.1f s, peak RSS %.0f MB, %d task reads / %d polls, %d sessions "
                  "left, rc %s%s" % (key, name, out["wall"], out["cpu"], out["peak_rss_mb"], out["task_reads"],
                                     polls, out["sessions_left"], out["rc"], " (cut off)" if out["cut_off"] else ""),
                  flush=True)
            return out

        if "a" in only:
            measure("a", "fleet", FLEET, "Wait for every BMC")
        if "b" in only:
            measure("b", "per_host", PER_HOST, "Wait for this BMC")
        if "c" in only:
            measure("c", "uri_until", URI_UNTIL, "Poll this BMC's task until it is done", bound=args.uri_bound)
        if "d" in only:
            extra = {"firmware_rollout_image": "http://192.0.2.10/fw/bmc.bin",
                     "firmware_rollout_batch": args.devices, "rollout_wait_interval": args.interval,
                     "rollout_wait_timeout": timeout, "rollout_wait_concurrency": args.concurrency,
                     "rollout_wait_push": args.push}
            with open(os.path.join(REPO, "playbooks", "firmware_rollout.yml"), encoding="utf-8") as handle:
                text = handle.read()
            out = measure("d", "rollout", text, "Wait for the tasks of every host of the batch in one task",
                          with_tasks=False, extra=extra)
            starts = [t for t in out["timeline"]["tasks"] if "Start the firmware update" in t["name"]]
            waits = [t for t in out["timeline"]["tasks"]
                     if t["name"].endswith("Wait for the tasks of every host of the batch in one task")]
            if starts and waits and waits[0]["results"]:
                last_start = max(r["time"] for r in starts[0]["results"].values())
                wait_end = max(r["time"] for r in waits[0]["results"].values())
                out["starts"] = last_start - starts[0]["start"]
                out["wait_after_last_start"] = wait_end - last_start
                out["after_wait"] = out["timeline"]["end"] - wait_end
                print("d rollout: starting the updates took %.1f s; the batch's wait ended %.1f s after the last "
                      "update started; the per-host steps after it took %.1f s" % (
                          out["starts"], out["wait_after_last_start"], out["after_wait"]), flush=True)
    finally:
        subprocess.run([sys.executable, RUN, "stop", "--state-dir", work], check=False, stdout=subprocess.DEVNULL)

    print("\n%d BMCs, tasks of %.0f s, interval %.0f s (ideal wait %.0f s), forks %d, concurrency %d, "
          "push %s, Python %s, %d CPUs\n" % (args.devices, args.duration, args.interval, ideal, args.forks,
                                             args.concurrency, args.push, sys.version.split()[0], os.cpu_count()))
    print("| pattern | wall s | wall / (task + interval) | controller CPU s | peak controller RSS MB | "
          "task reads per task per poll | sessions left open |")
    print("|---|---|---|---|---|---|---|")
    labels = {"a": "a: one fleet task_wait", "b": "b: task_wait per host, forks %d" % args.forks,
              "c": "c: uri + until per host, forks %d" % args.forks, "d": "d: firmware_rollout.yml (role, fleet)"}
    for key in "abcd":
        if key not in results:
            continue
        out = results[key]
        wall = out["wall"]
        note = " (cut off at %.0f s, %d of %d hosts done)" % (
            args.uri_bound, out["waited"], args.devices) if out["cut_off"] else ""
        if key == "d" and "wait_after_last_start" in out:
            note = " (starting the updates %.0f s; wait ended %.0f s after the last start = %.2f x)" % (
                out["starts"], out["wait_after_last_start"], out["wait_after_last_start"] / ideal)
        print("| %s%s | %.1f | %.2f | %.1f | %.0f | %s | %d |" % (
            labels[key], note, wall, wall / ideal, out["cpu"], out["peak_rss_mb"],
            "%.2f" % out["reads_per_task_poll"] if out["reads_per_task_poll"] is not None else "n/a",
            out["sessions_left"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(dict(args=vars(args), results=dict((k, dict((kk, vv) for kk, vv in v.items() if kk != "timeline"))
                                                         for k, v in results.items())), handle, indent=1)


if __name__ == "__main__":
    main()
