"""Simulator core: the timeline, plain HTTP, robustness, the run.py CLI."""

import json
import os
import socket
import ssl
import subprocess
import sys

import pytest
import requests

from simulator import Simulator, parse_devices_spec, progress
from simulator.core import ConfigError

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simulator", "run.py")


def test_progress_timeline():
    assert progress("success", 10, 0) == ("new", 0, None)
    assert progress("success", 10, 0.99).phase == "new"
    running = [progress("success", 10, t).percent for t in (1, 3, 5, 7, 9.99)]
    assert running == sorted(running) and running[-1] == 99
    assert progress("success", 10, 10) == ("done", 100, "success")
    assert progress("fail", 10, 10) == ("done", 60, "fail")
    assert progress("cancel", 10, 11) == ("done", 30, "cancel")
    assert progress("critical", 10, 10).outcome == "critical"
    assert progress("delete", 10, 10).outcome == "success"
    assert progress("reboot", 10, 10).outcome == "success"
    assert progress("stuck", 10, 1e6) == ("running", 50, None)
    assert progress("success", 0, 0).done


def test_devices_spec():
    assert parse_devices_spec("bmc1=redfish:generic, bmc2=redfish:dell@8443,c=redfish") == [
        {"name": "bmc1", "platform": "redfish", "vendor": "generic"},
        {"name": "bmc2", "platform": "redfish", "vendor": "dell", "port": 8443},
        {"name": "c", "platform": "redfish"},
    ]
    with pytest.raises(ConfigError):
        parse_devices_spec("justaname")


def test_bad_device_specs(tmp_path):
    with pytest.raises(ConfigError):
        Simulator(tmp_path, devices=[{"name": "a", "platform": "nope"}]).start()
    with pytest.raises(ConfigError):
        Simulator(tmp_path, devices=[{"name": "a", "platform": "redfish", "vendor": "hp"}]).start()
    with pytest.raises(ConfigError):
        Simulator(tmp_path, devices=[{"name": "a"}, {"name": "a"}])


def test_plain_http_and_many_devices(tmp_path):
    devices = [{"name": "r%d" % i, "platform": "redfish"} for i in range(10)]
    with Simulator(tmp_path, devices=devices, tls=False, password="s3cret", session_limit=2) as sim:
        state = json.loads((tmp_path / "state.json").read_text())
        assert state["ca_cert"] is None and len({d["port"] for d in state["devices"]}) == 10
        for name in sim.devices:
            url = sim.url(name)
            assert url.startswith("http://127.0.0.1:")
            assert requests.get(url + "/redfish/v1/TaskService", auth=("admin", "s3cret"), timeout=5).ok
        assert sim.device("r3").config["session_limit"] == 2


def _drain(sock):
    try:
        sock.recv(100)
    except OSError:  # reset or TLS alert: fine, the point is the server lives on
        pass


def test_survives_garbage(sim):
    device = sim.device("gen")
    # not TLS at all
    with socket.create_connection(("127.0.0.1", device.port), timeout=2) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        _drain(sock)
    # TLS, then nonsense
    ctx = ssl.create_default_context(cafile=sim.ca_cert)
    with socket.create_connection(("127.0.0.1", device.port), timeout=2) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
            sock.sendall(b"\x00\x01garbage\r\n\r\n")
            _drain(sock)
    # a client that does not trust the CA
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url("gen") + "/redfish/v1", timeout=5)
    # a truncated body
    with socket.create_connection(("127.0.0.1", device.port), timeout=2) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(b"POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    resp = requests.get(sim.url("gen") + "/redfish/v1", verify=sim.ca_cert, timeout=5)
    assert resp.status_code == 200


def _run(*args, timeout=60):
    return subprocess.run(
        [sys.executable, RUN] + list(args),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_cli_start_status_stop(tmp_path):
    state_dir = str(tmp_path / "state")
    started = _run(
        "start",
        "--state-dir",
        state_dir,
        "--devices",
        "bmc1=redfish:generic,bmc2=redfish:dell,cimc=redfish:cisco",
        "--redfish",
        "2",
        "--duration",
        "2",
    )
    assert started.returncode == 0, started.stderr
    try:
        state = json.loads(open(os.path.join(state_dir, "state.json")).read())
        assert json.loads(started.stdout)["pid"] == state["pid"]
        assert [(d["name"], d["vendor"]) for d in state["devices"]] == [
            ("bmc1", "generic"),
            ("bmc2", "dell"),
            ("cimc", "cisco"),
            ("redfish1", "generic"),
            ("redfish2", "generic"),
        ]
        assert os.path.isabs(state["ca_cert"])
        for device in state["devices"]:
            assert device["host"] == "127.0.0.1:%d" % device["port"]
            resp = requests.get(
                "https://%s/redfish/v1/TaskService" % device["host"],
                verify=state["ca_cert"],
                auth=("admin", "password"),
                timeout=5,
            )
            assert resp.status_code == 200
        made = requests.post(
            "https://%s/_sim/tasks" % state["devices"][0]["host"], json={}, verify=state["ca_cert"], timeout=5
        ).json()
        assert made["id"] == "1"
        status = _run("status", "--state-dir", state_dir)
        assert status.returncode == 0 and all(d["up"] for d in json.loads(status.stdout)["devices"])
        again = _run("start", "--state-dir", state_dir)
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stopped = _run("stop", "--state-dir", state_dir)
    assert stopped.returncode == 0, stopped.stderr
    status = _run("status", "--state-dir", state_dir)
    assert status.returncode == 3 and json.loads(status.stdout)["running"] is False
    assert not os.path.exists(os.path.join(state_dir, "state.json"))
    assert "serving" in open(os.path.join(state_dir, "sim.log")).read()


def test_cli_bad_spec(tmp_path):
    result = _run("start", "--state-dir", str(tmp_path), "--devices", "oops")
    assert result.returncode == 1 and "bad devices" in result.stderr
