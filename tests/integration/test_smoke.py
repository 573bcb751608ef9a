"""The smoke run that every cell of the support matrix makes (noxfile.py runs `pytest -m smoke`).

One real ansible-playbook run over HTTPS against one simulator with a manager per platform (a Redfish BMC, a
vCenter, an FMC, a cdFMC, an XClarity), per host: task_info on two tasks, task_wait in check mode on the one
that never ends, and the rollout_wait role (task_wait inside) on the one that ends. One playbook run, so it
stays cheap on every core.
"""

import json
import os
import sys

import pytest

from harness import PASSWORD, running_simulator
from testlib import REPO

sys.path.insert(0, os.path.join(REPO, "tests", "inventory"))
import make_inventory  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.smoke

DEVICES = {"bmc": "redfish:generic", "vcenter": "vsphere:vcenter", "fmc": "fmc", "cdfmc": "cdfmc",
           "lxca": "xclarity:lxca"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    for sim in running_simulator(tmp_path_factory, DEVICES):
        sim.inventory = make_inventory.write_inventory(sim.state, os.path.join(sim.state_dir, "hosts.yml"),
                                                       python=sys.executable)
        yield sim


def test_one_wait_per_platform_check_mode_and_the_role(fleet, ansible):
    ids = {name: {"done": fleet.create_tasks(name, 1, scenario="success", duration=1)[0]["id"],
                  "stuck": fleet.create_tasks(name, 1, scenario="stuck", duration=1)[0]["id"]}
           for name in fleet.devices}
    out = ansible.tmp_path / "results"
    out.mkdir()
    proc = ansible.playbook("smoke.yml", {"smoke_ids": ids, "result_dir": str(out)},
                            env={"ANSIBLE_INVENTORY": fleet.inventory, "ANSIBLE_FORKS": "5"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
    for name, device in fleet.devices.items():
        result = json.loads((out / ("%s.json" % name)).read_text())
        info, check, wait = result["info"], result["check"], result["wait"]
        assert [t["id"] for t in info["tasks"]] == [ids[name]["done"], ids[name]["stuck"]], (name, info)
        assert {t["platform"] for t in info["tasks"]} == {device["platform"]}, (name, info)
        assert check["polls"] == 1 and check["msg"].startswith("check mode"), (name, check)
        assert [t["state"] for t in check["tasks"]] in (["pending"], ["running"]), (name, check)
        assert not wait["failed"] and [t["id"] for t in wait["tasks"]] == [ids[name]["done"]], (name, wait)
        assert [t["state"] for t in wait["tasks"]] == ["succeeded"], (name, wait)
    fleet.no_session_left()
