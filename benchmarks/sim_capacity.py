"""Benchmark: what the simulator costs when it serves a fleet of Redfish BMCs in one process.

Starts tests/simulator/run.py with ``--fleet N`` (each device at its own
127.0.x.y, one port, one certificate) and measures, from /proc of the
simulator's process:

  start      seconds until run.py start returns (every port accepts, a sample answers over TLS)
  idle       CPU of the simulator over --idle seconds with nothing connected, its RSS and threads
  connect    one kept-alive TLS connection and one Redfish session per device, from --clients
             processes of --threads threads each (handshakes + logins per second)
  load       --load seconds of task reads (GET the device's task with X-Auth-Token) over those
             connections: requests/s, simulator CPU, RSS, peak RSS, threads
  fleet API  /_sim/fleet/tasks (one task per device) and /_sim/fleet/stats, seconds each

Then it logs every session out and checks, in one /_sim/fleet/stats request, that
no session is left on any device and that the simulator counted exactly the
requests the clients sent. The clients run on the same 2 cores as the server:
requests/s is what the pair reaches, with the clients' CPU shown next to it.

Usage: .venv/bin/python benchmarks/sim_capacity.py [--devices 1000] [--idle 10] [--load 20]
                                                    [--clients 2] [--threads 8] [--json out.json]
"""

import argparse
import http.client
import json
import multiprocessing
import os
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(REPO, "tests", "simulator", "run.py")
SESSIONS = "/redfish/v1/SessionService/Sessions"
TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """User + system CPU seconds of a process (all its threads)."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as handle:
        for line in handle:
            key, _sep, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    return {"rss_mb": round(out["VmRSS"] / 1024, 1), "peak_rss_mb": round(out["VmHWM"] / 1024, 1),
            "threads": out["Threads"]}


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Device:
    """One client's kept-alive connection to one device, its session and task."""

    def __init__(self, info, task_uri, context):
        self.info = info
        self.task_uri = task_uri
        host, _colon, port = info["host"].rpartition(":")
        self.conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=30)
        self.token = self.location = None

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        resp = self.conn.getresponse()
        data = resp.read()
        return resp, data

    def login(self):
        body = json.dumps({"UserName": "admin", "Password": "password"})
        resp, _data = self.call("POST", SESSIONS, body, {"Content-Type": "application/json"})
        assert resp.status == 201, resp.status
        self.token, self.location = resp.getheader("X-Auth-Token"), resp.getheader("Location")

    def read_task(self):
        resp, data = self.call("GET", self.task_uri, headers={"X-Auth-Token": self.token})
        assert resp.status == 200 and b"TaskState" in data, resp.status

    def logout(self):
        resp, _data = self.call("DELETE", self.location, headers={"X-Auth-Token": self.token})
        assert resp.status in (200, 204), resp.status
        self.conn.close()


def client_process(devices, tasks, ca_cert, threads, go, stop, results):
    """Connect and log in to ``devices``, wait for ``go``, read tasks until ``stop``, log out."""
    context = ssl.create_default_context(cafile=ca_cert)
    mine = [Device(d, tasks[d["name"]], context) for d in devices]
    groups = [mine[i::threads] for i in range(threads)]
    counts = [0] * threads
    errors = []

    def connect(group):
        for device in group:
            device.login()

    def poll(index, group):
        try:
            while not stop.is_set():
                for device in group:
                    device.read_task()
                    counts[index] += 1
                    if stop.is_set():
                        break
        except Exception as exc:  # reported, not raised: the parent prints it
            errors.append(repr(exc))

    started = time.monotonic()
    workers = [threading.Thread(target=connect, args=(g,)) for g in groups]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    connected = time.monotonic() - started
    results.put(("connected", connected))
    go.wait()
    workers = [threading.Thread(target=poll, args=(i, g)) for i, g in enumerate(groups)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for device in mine:
        device.logout()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(("done", {"requests": sum(counts), "errors": errors, "cpu": usage.ru_utime + usage.ru_stime}))


def control(state, method, path, body=None):
    context = ssl.create_default_context(cafile=state["ca_cert"])
    host, _colon, port = state["devices"][0]["host"].rpartition(":")
    conn = http.client.HTTPSConnection(host, int(port), context=context, timeout=120)
    started = time.monotonic()
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    assert resp.status in (200, 201), (resp.status, data)
    return data, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle measurement (10)")
    parser.add_argument("--load", type=float, default=20.0, help="seconds of task reads (20)")
    parser.add_argument("--clients", type=int, default=2, help="client processes (2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per client process (8)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    state_dir = tempfile.mkdtemp(prefix="sim-capacity-")
    env = dict(os.environ)
    figures = {"devices": args.devices, "clients": args.clients, "threads": args.threads}
    try:
        started = time.monotonic()
        subprocess.run([sys.executable, RUN, "start", "--state-dir", state_dir, "--fleet", str(args.devices),
                        "--duration", "3600", "--timeout", "120"], check=True, stdout=subprocess.DEVNULL, env=env)
        figures["start_s"] = round(time.monotonic() - started, 2)
        with open(os.path.join(state_dir, "state.json")) as handle:
            state = json.load(handle)
        pid = state["pid"]
        figures["state_json_kb"] = round(os.path.getsize(os.path.join(state_dir, "state.json")) / 1024, 1)
        figures["after_start"] = proc_status(pid)

        time.sleep(1.0)  # let the start-up checks' connections end
        cpu0, wall0 = proc_cpu(pid), time.monotonic()
        time.sleep(args.idle)
        cpu1, wall1 = proc_cpu(pid), time.monotonic()
        figures["idle"] = dict(proc_status(pid), cpu_percent=round(100 * (cpu1 - cpu0) / (wall1 - wall0), 2),
                               fds=open_fds(pid))

        made, seconds = control(state, "POST", "/_sim/fleet/tasks", {"duration": 3600})
        figures["fleet_tasks_s"] = round(seconds, 3)
        tasks = {name: created[0]["task_uri"] for name, created in made["tasks"].items()}

        ctx = multiprocessing.get_context("fork")
        go, stop, results = ctx.Event(), ctx.Event(), ctx.Queue()
        slices = [state["devices"][i::args.clients] for i in range(args.clients)]
        procs = [ctx.Process(target=client_process, args=(s, tasks, state["ca_cert"], args.threads, go, stop, results))
                 for s in slices]
        cpu_c0, wall_c0 = proc_cpu(pid), time.monotonic()
        for proc in procs:
            proc.start()
        connect_times = [results.get(timeout=600)[1] for _proc in procs]
        wall_c1 = time.monotonic()
        figures["connect"] = dict(proc_status(pid), seconds=round(max(connect_times), 2),
                                  per_second=round(args.devices / (wall_c1 - wall_c0), 1),
                                  server_cpu_s=round(proc_cpu(pid) - cpu_c0, 2), fds=open_fds(pid))

        cpu2, wall2 = proc_cpu(pid), time.monotonic()
        go.set()
        time.sleep(args.load)
        during = proc_status(pid)
        stop.set()
        cpu3, wall3 = proc_cpu(pid), time.monotonic()
        done = [results.get(timeout=600)[1] for _proc in procs]
        for proc in procs:
            proc.join(60)
        sent = sum(d["requests"] for d in done)
        figures["load"] = dict(during, seconds=round(wall3 - wall2, 1), requests=sent,
                               requests_per_s=round(sent / (wall3 - wall2), 1),
                               server_cpu_percent=round(100 * (cpu3 - cpu2) / (wall3 - wall2), 1),
                               server_cpu_ms_per_request=round(1000 * (cpu3 - cpu2) / max(sent, 1), 3),
                               client_cpu_s=round(sum(d["cpu"] for d in done), 1),
                               errors=sum((d["errors"] for d in done), [])[:5])

        stats, seconds = control(state, "GET", "/_sim/fleet/stats")
        figures["fleet_stats_s"] = round(seconds, 3)
        totals = stats["totals"]
        expected = sent + 2 * args.devices  # the reads, one login and one logout per device
        figures["check"] = {"sessions_open": totals["sessions_open"], "sessions_open_on": len(stats["sessions_open_on"]),
                            "sessions_created": totals["sessions_created"],
                            "sessions_deleted": totals["sessions_deleted"],
                            "requests_counted": totals["requests_total"], "requests_sent": expected,
                            "ok": totals["sessions_open"] == 0 and totals["requests_total"] == expected}
        figures["after"] = proc_status(pid)
    finally:
        subprocess.run([sys.executable, RUN, "stop", "--state-dir", state_dir], check=False,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(state_dir, ignore_errors=True)

    idle, connect, load = figures["idle"], figures["connect"], figures["load"]
    print("| simulator, %d Redfish devices, one process | figure |" % args.devices)
    print("|---|---|")
    print("| start (run.py start returns) | %.2f s |" % figures["start_s"])
    print("| state.json | %.1f kB |" % figures["state_json_kb"])
    print("| idle CPU over %.0f s | %.2f %% |" % (args.idle, idle["cpu_percent"]))
    print("| idle RSS / threads / fds | %.1f MB / %d / %d |" % (idle["rss_mb"], idle["threads"], idle["fds"]))
    print("| %d TLS connections + logins | %.1f s (%.0f/s), server CPU %.1f s |"
          % (args.devices, connect["seconds"], connect["per_second"], connect["server_cpu_s"]))
    print("| connected: RSS / threads / fds | %.1f MB / %d / %d |"
          % (connect["rss_mb"], connect["threads"], connect["fds"]))
    print("| kept-alive task reads (%d procs x %d threads) | %.0f req/s, %d requests in %.1f s |"
          % (args.clients, args.threads, load["requests_per_s"], load["requests"], load["seconds"]))
    print("| server CPU under load | %.1f %% (%.3f ms/request); clients %.1f CPU-s |"
          % (load["server_cpu_percent"], load["server_cpu_ms_per_request"], load["client_cpu_s"]))
    print("| under load: RSS / peak RSS / threads | %.1f MB / %.1f MB / %d |"
          % (load["rss_mb"], load["peak_rss_mb"], load["threads"]))
    print("| /_sim/fleet/tasks (one per device) / /_sim/fleet/stats | %.3f s / %.3f s |"
          % (figures["fleet_tasks_s"], figures["fleet_stats_s"]))
    print("| after logout: sessions open / counted = sent | %d / %s |"
          % (figures["check"]["sessions_open"], figures["check"]["ok"]))
    if load["errors"]:
        print("client errors: %s" % load["errors"])
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0 if figures["check"]["ok"] and not load["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
