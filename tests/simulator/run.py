#!/usr/bin/env python
"""Run the simulator as a background process.

    python tests/simulator/run.py start  --state-dir DIR [--devices SPEC] [--redfish N] [--duration S] ...
    python tests/simulator/run.py status --state-dir DIR
    python tests/simulator/run.py stop   --state-dir DIR
    python tests/simulator/run.py serve  --state-dir DIR ...   (foreground; what start runs)

SPEC: ``bmc1=redfish:generic,bmc2=redfish:dell,cimc=redfish:cisco`` (Redfish
vendors: generic, dell, cisco, jobservice, openbmc; an
optional ``@PORT`` after each fixes its port). ``--redfish N`` adds N generic
Redfish devices named redfish1..redfishN. Without either: one device
``bmc1=redfish:generic``.

A fleet: ``--fleet N`` adds N devices bmc0001..bmcN (``--fleet-prefix``), of
``--fleet-platform`` (redfish) and ``--fleet-vendor`` (generic), each at its
own loopback address 127.0.x.y (x, y from 1: 127.0.1.1, 127.0.1.2, ...
127.0.1.254, 127.0.2.1, ...), all on one port (``--fleet-port``, or one found
free), under one certificate that names every address. ``/_sim/fleet/stats``,
``/_sim/fleet/tasks``, ``/_sim/fleet/config``, ``/_sim/fleet/reset`` on any
device act on all devices (see core.fleet_control).

``start`` returns once every port accepts connections and the devices (all of
them, or 16 spread over a larger set) answer GET /_sim/info, having written
DIR/state.json: ``{"pid", "ca_cert", "devices": [{"name", "platform", "vendor",
"host", "port", "url"}], "fleet": {"count", "port"} (with --fleet), ...}``.
The server logs to DIR/sim.log. Exit codes: 0 ok; 1 error; 3 (status) not running.
"""

import argparse
import json
import socket
import logging
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from simulator.core import ConfigError, Simulator, fleet_specs, parse_devices_spec  # noqa: E402
else:
    from .core import ConfigError, Simulator, fleet_specs, parse_devices_spec  # noqa: E402

TLS_SAMPLE = 16  # devices asked over TLS when there are more; the others must accept a connection


def _state_path(state_dir):
    return os.path.join(state_dir, "state.json")


def read_state(state_dir):
    try:
        with open(_state_path(state_dir)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody reaped yet is not running
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def probe_context(state):
    """TLS context of the start-up probes: trusts the simulator's CA; no host-name check (a probe of our own
    server; --cert-name may name another host on purpose)."""
    if not state.get("ca_cert"):
        return None
    context = ssl.create_default_context(cafile=state["ca_cert"])
    context.check_hostname = False
    return context


def device_answers(state, device, timeout=2.0, context=None):
    """True when the device answers GET /_sim/info (over TLS when the sim uses it)."""
    url = "%s/_sim/info" % device.get("url", "https://%s" % device["host"])
    if url.startswith("https") and context is None:
        context = probe_context(state)
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def device_accepts(device, timeout=2.0):
    """True when the device's address and port accept a TCP connection."""
    host, _colon, port = device["host"].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
        return True
    except (OSError, ValueError):
        return False


def devices_up(state, timeout=2.0):
    """{name: up}: all devices asked GET /_sim/info, or beyond TLS_SAMPLE a sample of
    them, the rest only asked to accept a connection (a fleet of 1,000 checks in well under a second)."""
    devices = state["devices"]
    context = probe_context(state)
    step = max(1, len(devices) // TLS_SAMPLE)
    sample = set(range(0, len(devices), step)) | {len(devices) - 1}
    up = {}
    for index, device in enumerate(devices):
        if index in sample:
            up[device["name"]] = device_answers(state, device, timeout, context)
        else:
            up[device["name"]] = device_accepts(device, timeout)
    return up


def build_devices(args):
    devices = parse_devices_spec(args.devices) if args.devices else []
    if args.devices_json:
        with open(args.devices_json) as handle:
            devices.extend(json.load(handle))
    for i in range(1, (args.redfish or 0) + 1):
        devices.append({"name": "redfish%d" % i, "platform": "redfish", "vendor": "generic"})
    if args.fleet:
        devices.extend(
            fleet_specs(args.fleet, platform=args.fleet_platform, vendor=args.fleet_vendor, prefix=args.fleet_prefix)
        )
    if not devices:
        devices = [{"name": "bmc1", "platform": "redfish", "vendor": "generic"}]
    return devices


def sim_settings(args):
    settings = {}
    for key in ("duration", "scenario", "session_limit", "retry_after", "reboot_seconds", "task_retention", "username",
                "password"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    return settings


def add_server_options(parser):
    parser.add_argument("--devices", help="name=platform[:vendor][@port],... e.g. bmc1=redfish:dell,cimc=redfish:cisco")
    parser.add_argument(
        "--devices-json", help="JSON file: a list of device specs (name, platform, vendor, port, settings)"
    )
    parser.add_argument("--redfish", type=int, help="add N generic Redfish devices redfish1..redfishN")
    parser.add_argument(
        "--fleet", type=int, help="add a fleet of N devices, each at its own 127.0.x.y, all on one port"
    )
    parser.add_argument("--fleet-platform", default="redfish", help="platform of the fleet's devices (redfish)")
    parser.add_argument("--fleet-vendor", help="vendor flavour of the fleet's devices (the platform's default: generic)")
    parser.add_argument("--fleet-prefix", default="bmc", help="fleet device names: PREFIX0001... (bmc)")
    parser.add_argument("--fleet-port", type=int, help="the fleet's one port (default: one free on every address)")
    parser.add_argument("--duration", type=float, help="default task duration in seconds (6)")
    parser.add_argument("--scenario", help="default scenario for SimpleUpdate tasks (success)")
    parser.add_argument("--session-limit", type=int, help="sessions per device (4)")
    parser.add_argument("--retry-after", type=int, help="Retry-After of task monitors (1)")
    parser.add_argument("--reboot-seconds", type=float, help="length of a reboot window (3)")
    parser.add_argument(
        "--task-retention", type=float, help="seconds a finished task stays in TaskService (vendor habit: iDRAC 600)"
    )
    parser.add_argument("--username", help="device user (admin)")
    parser.add_argument("--password", help="device password (password)")
    parser.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS (debugging)")
    parser.add_argument("--cert-name", action="append", dest="cert_names",
                        help="a name the certificate is issued for (repeat; default 127.0.0.1 and localhost)")
    parser.add_argument("--verbose", action="store_true", help="log every request to sim.log")


def cmd_serve(args):
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    logging.basicConfig(
        filename=os.path.join(state_dir, "sim.log"),
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    log = logging.getLogger("taskstatus.simulator")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        extra = {"cert_names": args.cert_names} if args.cert_names else {}
        sim = Simulator(
            state_dir,
            build_devices(args),
            tls=not args.http,
            mode="daemon",
            fleet_port=args.fleet_port,
            **extra,
            **sim_settings(args)
        )
        sim.start()
    except Exception:
        log.exception("simulator failed to start")
        return 1
    devices = sim.state()["devices"]
    shown = ", ".join("%(name)s=%(host)s" % d for d in devices[:20])
    if len(devices) > 20:
        shown += ", ... %s=%s (%d devices)" % (devices[-1]["name"], devices[-1]["host"], len(devices))
    log.info("simulator pid %d serving %s", os.getpid(), shown)
    while not stop.wait(1.0):
        pass
    log.info("stopping")
    sim.stop()
    state = read_state(state_dir)
    if state and state.get("pid") == os.getpid():
        try:
            os.unlink(_state_path(state_dir))
        except OSError:
            pass
    log.info("stopped")
    return 0


def cmd_start(args):
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    old = read_state(state_dir)
    if old and pid_alive(old.get("pid", -1)):
        print("simulator already running in %s (pid %s)" % (state_dir, old["pid"]), file=sys.stderr)
        return 1
    try:
        build_devices(args)  # fail here, not in the background, on a bad spec
    except (ConfigError, ValueError, OSError) as exc:
        print("bad devices: %s" % exc, file=sys.stderr)
        return 1
    if old is not None:
        os.unlink(_state_path(state_dir))
    argv = [sys.executable, os.path.abspath(__file__), "serve"] + args.passthrough
    log = open(os.path.join(state_dir, "sim.log"), "ab")
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
        close_fds=True,
        cwd=state_dir,
    )
    log.close()
    deadline = time.monotonic() + args.timeout
    state = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        state = read_state(state_dir)
        if state and state.get("pid") == proc.pid and all(devices_up(state).values()):
            print(json.dumps(state, indent=2))
            return 0
        time.sleep(0.1)
    if proc.poll() is None:
        proc.terminate()
    print("simulator did not come up; see %s" % os.path.join(state_dir, "sim.log"), file=sys.stderr)
    try:
        with open(os.path.join(state_dir, "sim.log")) as handle:
            sys.stderr.write("".join(handle.readlines()[-20:]))
    except OSError:
        pass
    return 1


def cmd_status(args):
    state_dir = os.path.abspath(args.state_dir)
    state = read_state(state_dir)
    if not state or not pid_alive(state.get("pid", -1)):
        print(json.dumps({"running": False, "state_dir": state_dir}))
        return 3
    up = devices_up(state)
    for device in state["devices"]:
        device["up"] = up[device["name"]]
    state["running"] = True
    print(json.dumps(state, indent=2))
    return 0


def cmd_stop(args):
    state_dir = os.path.abspath(args.state_dir)
    state = read_state(state_dir)
    if not state:
        print("not running")
        return 0
    pid = state.get("pid")
    if state.get("mode") != "daemon":
        print(
            "state.json in %s belongs to an in-process simulator (pid %s); not stopping it" % (state_dir, pid),
            file=sys.stderr,
        )
        return 1
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.05)
    try:
        os.unlink(_state_path(state_dir))
    except OSError:
        pass
    print("stopped (pid %s)" % pid)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--state-dir", required=True)
        add_server_options(p)
        if name == "start":
            p.add_argument("--timeout", type=float, default=30, help="seconds to wait for every port (30)")
    for name in ("stop", "status"):
        p = sub.add_parser(name)
        p.add_argument("--state-dir", required=True)
        if name == "stop":
            p.add_argument("--timeout", type=float, default=10, help="seconds before SIGKILL (10)")
    args = parser.parse_args(argv)
    if args.command == "start":
        # the serve process gets the same options, minus start's own --timeout
        passthrough, skip = [], False
        for item in argv[1:]:
            if skip:
                skip = False
                continue
            if item == "--timeout":
                skip = True
                continue
            if item.startswith("--timeout="):
                continue
            passthrough.append(item)
        args.passthrough = passthrough
        for i, item in enumerate(args.passthrough):  # the child runs in the state dir: make paths absolute
            if item == "--state-dir" and i + 1 < len(passthrough):
                passthrough[i + 1] = os.path.abspath(passthrough[i + 1])
            elif item.startswith("--state-dir="):
                passthrough[i] = "--state-dir=" + os.path.abspath(item.split("=", 1)[1])
            elif item == "--devices-json" and i + 1 < len(passthrough):
                passthrough[i + 1] = os.path.abspath(passthrough[i + 1])
            elif item.startswith("--devices-json="):
                passthrough[i] = "--devices-json=" + os.path.abspath(item.split("=", 1)[1])
    return {"start": cmd_start, "serve": cmd_serve, "stop": cmd_stop, "status": cmd_status}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
