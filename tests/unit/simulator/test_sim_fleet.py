"""The simulator as a fleet: devices each at their own 127.0.x.y, one port, one
certificate, one accept loop; the /_sim/fleet/* control routes; run.py --fleet.

A small fleet (20 devices) here; the 1,000-device figures come from
benchmarks/sim_capacity.py.
"""

import http.client as httpclient
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

import pytest
import requests

from simulator import Simulator, fleet_address, fleet_specs
from simulator.core import ConfigError

RUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simulator", "run.py")
COUNT = 20
TASKS = "/redfish/v1/TaskService/Tasks"
SESSIONS = "/redfish/v1/SessionService/Sessions"
AUTH = ("admin", "password")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # one device on 127.0.0.1 with a port of its own next to the fleet: both modes in one simulator
    devices = [{"name": "solo", "platform": "redfish", "vendor": "dell"}] + fleet_specs(COUNT, vendor="generic")
    simulator = Simulator(tmp_path_factory.mktemp("fleet"), devices=devices, duration=1.0, reboot_seconds=1.0)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(fleet):
    fleet.reset()
    return fleet


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify=
    yield session
    session.close()


def names(sim):
    return [n for n in sim.devices if n != "solo"]


def get(http, sim, name, path, **kwargs):
    kwargs.setdefault("timeout", 5)
    return http.get(sim.url(name) + path, verify=sim.ca_cert, **kwargs)


def post(http, sim, name, path, **kwargs):
    kwargs.setdefault("timeout", 5)
    return http.post(sim.url(name) + path, verify=sim.ca_cert, **kwargs)


def refused(address, port):
    try:
        socket.create_connection((address, port), timeout=0.5).close()
        return False
    except (ConnectionRefusedError, ConnectionResetError):
        return True


# ---- addresses, port, certificate ----------------------------------------


def test_fleet_addresses():
    assert [fleet_address(i) for i in (0, 1, 253, 254, 507, 508, 999)] == [
        "127.0.1.1",
        "127.0.1.2",
        "127.0.1.254",
        "127.0.2.1",
        "127.0.2.254",
        "127.0.3.1",
        "127.0.4.238",
    ]
    specs = fleet_specs(3, vendor="dell", duration=5)
    assert specs[2] == {"name": "bmc0003", "platform": "redfish", "vendor": "dell", "address": "127.0.1.3", "duration": 5}
    assert fleet_specs(12000, prefix="n")[-1]["name"] == "n12000"
    with pytest.raises(ConfigError):
        fleet_address(255 * 254)
    with pytest.raises(ConfigError):
        fleet_specs(0)


@pytest.mark.parametrize("address", ["10.0.0.1", "::1", "bmc.example.com"])
def test_only_loopback_addresses(tmp_path, address):
    with pytest.raises(ConfigError):
        Simulator(tmp_path, devices=[{"name": "a", "address": address}])


def test_each_device_its_own_address_one_port_and_the_hostname_check_passes(sim, http):
    devices = [sim.device(n) for n in names(sim)]
    assert len({d.address for d in devices}) == COUNT and {d.port for d in devices} == {sim.fleet_port_in_use()}
    assert sim.device("solo").address == "127.0.0.1" and sim.device("solo").port != sim.fleet_port_in_use()
    for name in sim.devices:  # requests checks the certificate's name against each address
        info = get(http, sim, name, "/_sim/info").json()
        assert info["name"] == name and info["url"] == sim.url(name)
        assert get(http, sim, name, "/redfish/v1/TaskService", auth=AUTH).status_code == 200
    # every address in the certificate, checked by the ssl module itself as well
    ctx = ssl.create_default_context(cafile=sim.ca_cert)
    last = sim.device(names(sim)[-1])
    with socket.create_connection((last.address, last.port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=last.address) as tls:
            assert tls.version()


def test_state_json_describes_the_fleet(sim):
    with open(os.path.join(sim.state_dir, "state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    assert state["fleet"] == {"count": COUNT, "port": sim.fleet_port_in_use()}
    hosts = [d["host"] for d in state["devices"]]
    assert hosts[0] == "127.0.0.1:%d" % sim.device("solo").port
    assert hosts[1:] == ["%s:%d" % (fleet_address(i), sim.fleet_port_in_use()) for i in range(COUNT)]


def test_a_large_state_json_is_still_json(tmp_path):
    specs = fleet_specs(150)
    sim = Simulator(tmp_path, devices=specs, tls=False)
    sim.start()
    try:
        with open(os.path.join(sim.state_dir, "state.json"), encoding="utf-8") as handle:
            state = json.load(handle)
        assert len(state["devices"]) == 150 and state["fleet"]["count"] == 150 and state["scheme"] == "http"
        assert requests.get(sim.url("bmc0150") + "/_sim/info", timeout=5).json()["name"] == "bmc0150"
    finally:
        sim.stop()


def test_given_fleet_port(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.1.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    sim = Simulator(tmp_path, devices=fleet_specs(3), tls=False, fleet_port=port)
    sim.start()
    try:
        assert {d.port for d in sim.devices.values()} == {port}
        assert requests.get("http://127.0.1.3:%d/_sim/info" % port, timeout=5).json()["name"] == "bmc0003"
    finally:
        sim.stop()
    assert refused("127.0.1.3", port)


# ---- one accept loop -------------------------------------------------------


def test_one_accept_thread_and_no_thread_per_idle_device(tmp_path):
    before = set(threading.enumerate())
    sim = Simulator(tmp_path, devices=fleet_specs(COUNT), tls=False)
    sim.start()
    try:
        new = [t for t in threading.enumerate() if t not in before]
        assert [t.name for t in new] == ["sim-accept"]
    finally:
        sim.stop()
    assert not [t for t in threading.enumerate() if t not in before and t.is_alive() and t.name == "sim-accept"]


def test_kept_alive_connections(sim, http):
    first, second = names(sim)[:2]
    accepted = sim.hub.accepted
    for _round in range(5):
        assert get(http, sim, first, "/redfish/v1/TaskService", auth=AUTH).status_code == 200
        assert get(http, sim, second, "/redfish/v1/TaskService", auth=AUTH).status_code == 200
    assert sim.hub.accepted - accepted == 2  # one connection per device, reused


def test_a_stalled_handshake_does_not_hold_up_the_others(sim, http):
    stalled = sim.device(names(sim)[0])
    with socket.create_connection((stalled.address, stalled.port), timeout=5):
        # connected, no ClientHello: the handshake waits in that connection's thread, not in the accept loop
        for name in names(sim)[1:4] + ["solo"]:
            assert get(http, sim, name, "/_sim/info", timeout=5).status_code == 200


def test_over_the_connection_limit_a_connection_is_cut(sim, http, monkeypatch):
    target = names(sim)[0]
    monkeypatch.setattr(sim.hub, "MAX_CONNECTIONS", 0)
    with pytest.raises(requests.ConnectionError):
        get(http, sim, target, "/_sim/info", timeout=5)
    monkeypatch.undo()
    http.close()
    assert get(http, sim, target, "/_sim/info").status_code == 200


def test_reboot_of_one_fleet_device(sim, http, wait):
    rebooting, other = (sim.device(n) for n in names(sim)[:2])
    assert post(http, sim, rebooting.name, "/_sim/config", json={"reboot_now": {"seconds": 0.6}}).status_code == 200
    wait(lambda: refused(rebooting.address, rebooting.port), timeout=2, interval=0.02)
    assert get(http, sim, other.name, "/_sim/info").status_code == 200  # same port, other address: up
    wait(lambda: not refused(rebooting.address, rebooting.port), timeout=5, interval=0.05)
    http.close()
    assert get(http, sim, rebooting.name, "/_sim/info").json()["port"] == sim.fleet_port_in_use()
    assert sim.fleet_stats()["totals"]["reboots"] == 1


def test_reboot_cuts_open_connections(sim, wait):
    device = sim.device(names(sim)[2])
    conn = httpclient.HTTPSConnection(
        device.address, device.port, context=ssl.create_default_context(cafile=sim.ca_cert), timeout=5
    )
    try:
        conn.request("GET", "/_sim/info")
        assert json.loads(conn.getresponse().read())["name"] == device.name
        assert device.reboot(0.5)
        try:
            data = conn.sock.recv(1)
        except OSError:  # reset, or TLS without close_notify
            data = b""
        assert data == b""  # the kept-alive connection is gone, as when a BMC reboots
    finally:
        conn.close()
    wait(lambda: not device.down, timeout=5)


# ---- /_sim/fleet/* -----------------------------------------------------------


def test_fleet_stats_sessions_and_requests(sim, http):
    some = names(sim)[3:6]
    tokens = {}
    for name in some:
        resp = post(http, sim, name, SESSIONS, json={"UserName": "admin", "Password": "password"})
        assert resp.status_code == 201
        tokens[name] = (resp.headers["X-Auth-Token"], resp.headers["Location"])
    stats = get(http, sim, "solo", "/_sim/fleet/stats").json()  # any device answers for all
    assert stats["count"] == COUNT + 1 and stats["sessions_open_on"] == some and stats["down"] == []
    assert stats["totals"]["sessions_open"] == 3 and stats["totals"]["sessions_created"] == 3
    assert stats["totals"]["requests"] == {"POST " + SESSIONS: 3}
    assert stats["per_device"][some[0]]["sessions_open"] == 1 and "requests" not in stats["per_device"][some[0]]
    for name, (token, location) in tokens.items():
        assert http.delete(sim.url(name) + location, headers={"X-Auth-Token": token}, verify=sim.ca_cert,
                           timeout=5).status_code in (200, 204)
    stats = get(http, sim, some[0], "/_sim/fleet/stats", params={"requests": "1"}).json()
    assert stats["totals"]["sessions_open"] == 0 and stats["sessions_open_on"] == []
    assert stats["totals"]["sessions_deleted"] == 3
    assert stats["per_device"][some[1]]["requests"]["POST " + SESSIONS] == 1
    narrow = get(http, sim, some[0], "/_sim/fleet/stats", params={"devices": ",".join(some), "per_device": "0"})
    assert narrow.json()["count"] == 3 and "per_device" not in narrow.json()
    assert narrow.json()["totals"]["requests_total"] == 6
    bad = get(http, sim, some[0], "/_sim/fleet/stats", params={"devices": "nope"})
    assert bad.status_code == 400 and "nope" in bad.json()["error"]


def test_fleet_tasks_one_per_device(sim, http):
    fleet_names = names(sim)
    resp = post(http, sim, fleet_names[0], "/_sim/fleet/tasks",
                json={"devices": fleet_names, "duration": 30, "per_device": {fleet_names[1]: {"scenario": "fail"}}})
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["created"] == COUNT and sorted(made["tasks"]) == fleet_names
    for name in fleet_names:
        (task,) = made["tasks"][name]
        body = get(http, sim, name, task["task_uri"], auth=AUTH).json()
        assert body["Id"] == task["id"] and body["TaskState"] in ("New", "Running")
    scenarios = {t["scenario"] for t in get(http, sim, fleet_names[1], "/_sim/tasks").json()}
    assert scenarios == {"fail"}
    assert get(http, sim, "solo", "/_sim/tasks").json() == []


def test_fleet_tasks_count_all_devices_and_errors(sim, http):
    resp = post(http, sim, "solo", "/_sim/fleet/tasks", json={"count": 2, "duration": 5, "kind": "config_export"})
    assert resp.status_code == 201 and resp.json()["created"] == 2 * (COUNT + 1)
    assert all(len(tasks) == 2 for tasks in resp.json()["tasks"].values())
    before = sim.fleet_stats()["totals"]
    for body, status, words in [
        ({"scenario": "explode"}, 400, "unknown scenario"),
        ({"devices": ["bmc0001", "ghost"]}, 400, "ghost"),
        ({"per_device": {"bmc0002": {"duration": -1}}}, 400, "duration"),
        ({"per_device": {"ghost": {}}, "devices": ["bmc0001"]}, 400, "ghost"),
        ({"id": "x", "count": 2}, 400, "count"),
        ({"color": "red"}, 400, "unknown keys"),
        ([], 400, "object"),
    ]:
        resp = post(http, sim, "bmc0001", "/_sim/fleet/tasks", json=body)
        assert resp.status_code == status and words in resp.json()["error"], (body, resp.text)
    assert sum(len(d.tasks) for d in sim.devices.values()) == 2 * (COUNT + 1)  # nothing made by a bad request
    assert sim.fleet_stats()["totals"] == before  # control routes are not counted
    taken = post(http, sim, "bmc0001", "/_sim/fleet/tasks", json={"id": "1", "devices": ["bmc0003"]})
    assert taken.status_code == 409


def test_fleet_config_and_reset(sim, http):
    resp = post(http, sim, "bmc0001", "/_sim/fleet/config", json={"devices": names(sim)[:4], "duration": 42})
    assert resp.json() == {"configured": 4}
    assert [sim.device(n).config["duration"] for n in names(sim)[:5]] == [42.0] * 4 + [1.0]
    bad = post(http, sim, "bmc0001", "/_sim/fleet/config", json={"duration": "long"})
    assert bad.status_code == 400 and sim.device("bmc0010").config["duration"] == 1.0
    sim.fleet_tasks({"devices": ["bmc0002"]})
    assert post(http, sim, "bmc0003", "/_sim/fleet/reset", json={}).json() == {"reset": COUNT + 1}
    assert sim.device("bmc0001").config["duration"] == 1.0 and not sim.device("bmc0002").tasks
    info = get(http, sim, "bmc0004", "/_sim/fleet").json()
    assert info["count"] == COUNT + 1 and info["port"] == sim.fleet_port_in_use()
    assert get(http, sim, "bmc0004", "/_sim/fleet/nope").status_code == 404


# ---- run.py --fleet ------------------------------------------------------------


def _run(*args, timeout=60):
    return subprocess.run([sys.executable, RUN] + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)


def test_cli_fleet(tmp_path):
    state_dir = str(tmp_path / "state")
    started = _run("start", "--state-dir", state_dir, "--fleet", str(COUNT), "--fleet-vendor", "dell",
                   "--devices", "solo=redfish:cisco", "--duration", "3")
    assert started.returncode == 0, started.stderr
    try:
        state = json.loads(started.stdout)
        assert state["fleet"]["count"] == COUNT and len(state["devices"]) == COUNT + 1
        fleet_devices = state["devices"][1:]
        assert {d["vendor"] for d in fleet_devices} == {"dell"}
        assert {d["port"] for d in fleet_devices} == {state["fleet"]["port"]}
        assert fleet_devices[-1]["name"] == "bmc%04d" % COUNT
        with requests.Session() as http:
            http.trust_env = False
            base = fleet_devices[-1]["url"]
            made = http.post(base + "/_sim/fleet/tasks", json={"devices": [d["name"] for d in fleet_devices]},
                             verify=state["ca_cert"], timeout=10).json()
            assert made["created"] == COUNT
            stats = http.get(base + "/_sim/fleet/stats", verify=state["ca_cert"], timeout=10).json()
            assert stats["count"] == COUNT + 1 and stats["totals"]["sessions_open"] == 0
        status = _run("status", "--state-dir", state_dir)
        assert status.returncode == 0 and all(d["up"] for d in json.loads(status.stdout)["devices"])
    finally:
        stopped = _run("stop", "--state-dir", state_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert refused(fleet_devices[0]["host"].split(":")[0], state["fleet"]["port"])
