"""playbooks/firmware_rollout.yml, config_export.yml and task_report.yml against the simulator.

One simulator for this module with a device per platform (three BMCs: generic, Dell, Cisco; a vCenter, an
XClarity, and an FMC and a cdFMC when their adapter is registered), and an inventory made from its
state.json that points each host at its own device (tests/inventory/make_inventory.py).
"""

import os
import re
import sys

import pytest
import requests

from harness import REPO, running_simulator
from testlib import COLLECTION_ROOT

sys.path.insert(0, os.path.join(REPO, "tests", "inventory"))
import make_inventory  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.taskstatus.infra.plugins.module_utils._platforms import PLATFORMS  # noqa: E402

PASSWORD = "Rollout-Passw0rd"
PLAYBOOKS = os.path.join(REPO, "playbooks")
BMCS = ("bmc", "cimc", "idrac")  # inventory order: the batches of firmware_rollout.yml
DEVICES = {"bmc": "redfish:generic", "cimc": "redfish:cisco", "idrac": "redfish:dell",
           "vcenter": "vsphere:vcenter", "lxca": "xclarity:lxca"}
DEVICES.update({name: name for name in ("fmc", "cdfmc") if name in PLATFORMS})
# The role's report: one debug per host (rollout_wait_fleet: false), or one list for the batch (the default).
LINE = re.compile(r'(?:"msg": |^ +)"(?:check mode, would wait for: )?(\S+) \| (.+?) \| (\w+) \| (\w+) \| (\S+) '
                  r'\| [\d.]+ s(.*?)",?$', re.M)


@pytest.fixture(scope="module")
def fleet_session(tmp_path_factory):
    for sim in running_simulator(tmp_path_factory, DEVICES, password=PASSWORD, options=["--duration", "1.5"]):
        sim.inventory = make_inventory.write_inventory(sim.state, os.path.join(sim.state_dir, "hosts.yml"),
                                                       python=sys.executable)
        yield sim


@pytest.fixture
def fleet(fleet_session):
    for name in fleet_session.devices:
        fleet_session.control(name, "reset")
    return fleet_session


def run(ansible, fleet, playbook, extra_vars=None, check=False, env=None, verbosity=0):
    proc = ansible.playbook(os.path.join(PLAYBOOKS, playbook), extra_vars, check=check, verbosity=verbosity,
                            # each host's wait holds a fork while it lasts: one fork per host, as docs/guide.md says
                            env={"ANSIBLE_INVENTORY": fleet.inventory, "ANSIBLE_COLLECTIONS_PATH": COLLECTION_ROOT,
                                 "ANSIBLE_FORKS": "10", **(env or {})})
    assert PASSWORD not in proc.stdout + proc.stderr
    return proc


def summary_lines(output):
    """The role's one line per task: [(host, task, kind, state, percent, rest)]."""
    return [m.groups() for m in LINE.finditer(output)]


def sim_tasks(fleet, name):
    return fleet.control(name, "tasks", method="GET")


def fmc_counters(fleet):
    """The simulated FMC's token counters (generated, refreshed, revoked)."""
    return requests.get(fleet.url("fmc", "/_fmcsim/stats"), verify=fleet.ca, timeout=10).json()


def assert_no_session_left(fleet, names):
    for name in names:
        stats = fleet.stats(name)
        assert stats.get("sessions_open", 0) == 0, (name, stats)


FAST = {"rollout_wait_interval": 0.5, "rollout_wait_timeout": 60, "firmware_rollout_image": "http://192.0.2.10/fw.bin"}


def test_firmware_rollout_in_batches_of_two(fleet, ansible):
    proc = run(ansible, fleet, "firmware_rollout.yml", dict(FAST, firmware_rollout_batch=2))
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    lines = summary_lines(out)
    assert sorted(line[0] for line in lines) == sorted(BMCS), out
    assert all(line[2] == "firmware_update" and line[3] == "succeeded" and line[4] == "100%"
               for line in lines), lines
    # two batches: bmc+cimc, then idrac
    assert out.count("PLAY [Roll out BMC firmware in batches]") == 2
    for name in ("bmc", "idrac"):
        updates = [t for t in sim_tasks(fleet, name) if t["kind"] == "firmware_update"]
        assert len(updates) == 1, updates
    assert_no_session_left(fleet, BMCS)


def test_a_failed_batch_stops_the_rollout(fleet, ansible):
    fleet.control("cimc", "config", {"scenario": "fail"})
    proc = run(ansible, fleet, "firmware_rollout.yml", dict(FAST, firmware_rollout_batch=1))
    out = proc.stdout
    assert proc.returncode != 0, out
    lines = {line[0]: line for line in summary_lines(out)}
    assert lines["bmc"][3] == "succeeded"
    assert lines["cimc"][3] == "failed"
    assert "idrac" not in lines
    # the host fails with the vendor's own message, and the third batch never starts
    assert re.search(r'fatal: \[cimc\]: FAILED! => \{"changed": false, "msg": "cimc: 1 of 1 tasks failed: .+'
                     r'CIMCFwUpdate.+failed', out), out
    assert not [t for t in sim_tasks(fleet, "idrac") if t["kind"] == "firmware_update"]
    assert "NO MORE HOSTS LEFT" in out
    assert_no_session_left(fleet, BMCS)


def test_firmware_rollout_check_mode_starts_nothing_and_says_what_it_would_wait_for(fleet, ansible):
    running = fleet.create_tasks("bmc", 1, kind="firmware_update", duration=60)[0]
    proc = run(ansible, fleet, "firmware_rollout.yml", dict(FAST, firmware_rollout_hosts="bmc:idrac"), check=True)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "check mode, would wait for: bmc | %s (Firmware Update) | firmware_update | pending" % running["id"] in out \
        or "check mode, would wait for: bmc | %s (Firmware Update) | firmware_update | running" % running["id"] in out, out
    assert "check mode: idrac: no pending and running tasks of kinds firmware_update - nothing to wait for" in out
    assert len(sim_tasks(fleet, "bmc")) == 1 and not sim_tasks(fleet, "idrac")
    assert_no_session_left(fleet, ("bmc", "idrac"))


FMC_HOSTS = tuple(name for name in ("fmc", "cdfmc") if name in DEVICES)


def test_config_export_starts_exports_and_waits_for_every_running_export(fleet, ansible):
    others = [name for name in DEVICES if name not in ("lxca", "idrac") + FMC_HOSTS]
    made = {}
    for name in others:
        # still there when the role looks, however slowly ansible-playbook starts: its clock waits for its first read
        made[name] = fleet.create_tasks(name, 1, kind="config_export", duration=3, hold=True)[0]
    proc = run(ansible, fleet, "config_export.yml", {"rollout_wait_interval": 0.5, "rollout_wait_timeout": 60})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    lines = summary_lines(out)
    by_host = {}
    for line in lines:
        by_host.setdefault(line[0], []).append(line)
    assert sorted(by_host) == sorted(DEVICES), out
    for name, host_lines in by_host.items():
        assert all(line[3] == "succeeded" for line in host_lines), host_lines
        assert {line[2] for line in host_lines} <= {"config_export", "repository_export"}, host_lines
    assert by_host["lxca"][0][1].startswith("export:") and by_host["lxca"][0][2] == "repository_export"
    assert "changed: [lxca -> localhost]" in out  # the export it started (the uri call goes from the controller)
    # The iDRAC export it started (Server Configuration Profile): the role waited for the job in Location.
    assert "changed: [idrac -> localhost]" in out
    assert [line[1].rsplit("/", 1)[-1].startswith("JID_") for line in by_host["idrac"]] == [True]
    started = [t for t in sim_tasks(fleet, "idrac") if t.get("kind") == "config_export"]
    assert len(started) == 1, started
    # FMC and cdFMC: the device export it started (ftd-1 and ftd-2), waited for by its DEVICE_EXPORT task id,
    # and where to fetch the package; the playbook's own FMC token is revoked.
    for name in FMC_HOSTS:
        assert "changed: [%s -> localhost]" % name in out
        started = [t for t in sim_tasks(fleet, name) if t.get("kind") == "config_export"]
        assert len(started) == 1, started
        assert [line[1].split(" ")[0] for line in by_host[name]] == [started[0]["id"]], by_host[name]
        assert by_host[name][0][2] == "config_export"
        assert re.search(r'"msg": "%s \| %s \| download_url /importExport/device/download\.cgi\?\S+ \| checksum [0-9a-f]{64}"'
                         % (name, started[0]["id"]), out), out
    if "fmc" in FMC_HOSTS:
        counters = fmc_counters(fleet)
        assert counters["tokens_generated"] == 2 and counters["tokens_revoked"] == 2, counters  # playbook and module
    assert_no_session_left(fleet, DEVICES)


@pytest.mark.skipif(not FMC_HOSTS, reason="no FMC adapter registered")
def test_config_export_fmc_refusals_are_clear_and_keep_tokens_out_of_the_log(fleet, ansible):
    proc = run(ansible, fleet, "config_export.yml", {"config_export_hosts": ":".join(FMC_HOSTS),
                                                     "config_export_fmc_devices": ["ftd-1", "ftd-9"]}, verbosity=3)
    out = proc.stdout
    assert proc.returncode != 0, out
    for name in FMC_HOSTS:
        assert ("config_export_fmc_devices names devices that %s %s does not manage: ftd-9 (it manages: ftd-1, ftd-2, ftd-3)"
                % (name, fleet.host(name))) in out, out
        assert not [t for t in sim_tasks(fleet, name) if t.get("kind") == "config_export"]
    if "fmc" in FMC_HOSTS:
        counters = fmc_counters(fleet)
        assert counters["tokens_generated"] == counters["tokens_revoked"] == 1, counters
        assert "X-auth-access-token" not in out  # neither the playbook's token nor the answer's headers
    assert_no_session_left(fleet, FMC_HOSTS)


@pytest.mark.skipif("fmc" not in FMC_HOSTS, reason="no FMC adapter registered")
def test_config_export_fmc_wrong_password_is_named(fleet, ansible):
    proc = run(ansible, fleet, "config_export.yml", {"config_export_hosts": "fmc", "rollout_wait_password": "Wrong-1"})
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "fmc %s: no token from generatetoken (HTTP 401): the username or password was refused" % fleet.host("fmc") in out
    assert "Wrong-1" not in out + proc.stderr
    assert fmc_counters(fleet)["tokens_generated"] == 0


def test_task_report_tables(fleet, ansible):
    fleet.create_tasks("bmc", 1, kind="firmware_update", duration=60)
    fleet.create_tasks("idrac", 1, kind="config_export", scenario="fail", duration=0)
    proc = run(ansible, fleet, "task_report.yml", {"task_report_hosts": "bmc:idrac:vcenter:lxca"})
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    table = out[out.index("TASK [Show one table for all hosts]"):]
    rows = re.findall(r'^ {8}"(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)  (.*)",?$', table, re.M)
    assert rows[0][:4] == ("HOST", "TASK", "KIND", "STATE")
    body = {(r[0], r[2], r[3]) for r in rows[1:]}
    assert ("bmc", "firmware_update", "pending") in body or ("bmc", "firmware_update", "running") in body, rows
    assert ("idrac", "config_export", "failed") in body, rows
    assert not [r for r in rows if r[1] == "ERROR"], rows
    assert_no_session_left(fleet, ("bmc", "idrac", "vcenter", "lxca"))


def test_readme_demo_with_the_role(fleet, ansible):
    fleet.control("idrac", "config", {"scenario": "critical"})  # iDRAC: Completed with TaskStatus Critical
    proc = run(ansible, fleet, "demo.yml", env={"TASKSTATUS_SIM_STATE_DIR": fleet.state_dir})
    out = proc.stdout
    assert proc.returncode != 0, out
    lines = {line[0]: line for line in summary_lines(out)}
    assert sorted(lines) == sorted(BMCS + ("localhost",)), out
    assert lines["bmc"][3] == "succeeded" and lines["cimc"][3] == "succeeded"
    assert lines["idrac"][3] == "failed", lines
    assert re.search(r'fatal: \[idrac\]: FAILED! => \{"changed": false, "msg": "idrac: 1 of 1 tasks failed', out), out
    assert lines["localhost"][2:4] == ("repository_export", "succeeded"), lines  # the XClarity export
    assert_no_session_left(fleet, BMCS + ("lxca",))
