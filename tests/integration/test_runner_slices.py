"""A fleet larger than one controller, split the way AWX/AAP job slicing splits it (docs/guide.md, "Beyond one
controller"): a sliced job template runs one job per slice, on any execution node, each over a subset of the
inventory (host i in slice i mod n). Here two slices of one inventory of six BMCs run
playbooks/firmware_rollout.yml at the same time, two ansible-runner processes with `--limit` each, against
the same simulator; each slice's job events must hold the complete result of its own hosts, and of no other.
"""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from harness import CONNECTION_VARIABLES, REPO, running_simulator
from testlib import COLLECTION_ROOT

sys.path.insert(0, os.path.join(REPO, "tests", "inventory"))
import make_inventory  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Slice-Passw0rd"
RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
BMCS = {"bmc1": "redfish:generic", "bmc2": "redfish:dell", "bmc3": "redfish:generic", "bmc4": "redfish:dell",
        "bmc5": "redfish:generic", "bmc6": "redfish:dell"}
SLICES = 2


def awx_slices(hosts, count):
    """AWX's split: the hosts in inventory order, host i into slice i mod count."""
    return [hosts[index::count] for index in range(count)]


@pytest.fixture(scope="module")
def sliced(tmp_path_factory):
    for sim in running_simulator(tmp_path_factory, BMCS, password=PASSWORD, options=["--duration", "3"]):
        inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
        make_inventory.write_inventory(sim.state, str(inventory), python=sys.executable)
        slices = awx_slices(sorted(BMCS), SLICES)
        procs = []
        for number, hosts in enumerate(slices, 1):
            pdd = tmp_path_factory.mktemp("slice%d" % number)
            for sub in ("project", "inventory", "env"):
                (pdd / sub).mkdir()
            shutil.copy(os.path.join(REPO, "playbooks", "firmware_rollout.yml"), str(pdd / "project"))
            shutil.copy(str(inventory), str(pdd / "inventory" / "hosts.yml"))
            # each slice rolls out its hosts in one batch, as the job template's survey would say
            (pdd / "env" / "extravars").write_text(json.dumps({
                "firmware_rollout_image": "http://192.0.2.10/firmware/bmc-2.14.bin",
                "firmware_rollout_batch": len(hosts), "rollout_wait_interval": 0.5, "rollout_wait_timeout": 120}))
            (pdd / "env" / "envvars").write_text(json.dumps({
                "ANSIBLE_COLLECTIONS_PATH": COLLECTION_ROOT, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORKS": "5"}))
            env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARIABLES}
            procs.append((hosts, pdd, subprocess.Popen(
                [RUNNER, "run", str(pdd), "-p", "firmware_rollout.yml", "--ident", "slice", "--limit", ",".join(hosts)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)))
        jobs = []
        for hosts, pdd, proc in procs:
            output = proc.communicate(timeout=300)[0]
            events = []
            for path in glob.glob(str(pdd / "artifacts" / "slice" / "job_events" / "*.json")):
                with open(path, encoding="utf-8") as handle:
                    events.append(json.load(handle))
            events.sort(key=lambda e: e["counter"])
            jobs.append({"hosts": hosts, "rc": proc.returncode, "output": output, "events": events,
                         "status": (pdd / "artifacts" / "slice" / "status").read_text().strip()})
        yield {"sim": sim, "jobs": jobs}


def test_the_slices_split_the_inventory_as_awx_does():
    assert awx_slices(sorted(BMCS), SLICES) == [["bmc1", "bmc3", "bmc5"], ["bmc2", "bmc4", "bmc6"]]


def test_both_slices_ran_at_the_same_time(sliced):
    first, second = sliced["jobs"]

    def span(job):
        stamps = [e["created"] for e in job["events"] if e["event"] in ("playbook_on_start", "playbook_on_stats")]
        return stamps[0], stamps[-1]

    (start1, end1), (start2, end2) = span(first), span(second)
    assert start1 < end2 and start2 < end1, (span(first), span(second))


@pytest.mark.parametrize("number", range(SLICES))
def test_each_slice_has_the_complete_result_of_its_own_hosts(sliced, number):
    job = sliced["jobs"][number]
    assert job["rc"] == 0 and job["status"] == "successful", job["output"]
    stats = [e for e in job["events"] if e["event"] == "playbook_on_stats"][-1]["event_data"]
    assert sorted(stats["ok"]) == job["hosts"] and not stats["failures"] and not stats["dark"], stats
    facts = {e["event_data"]["host"]: e["event_data"]["res"]["ansible_facts"]["rollout_wait_result"]
             for e in job["events"] if e["event"] == "runner_on_ok"
             and e["event_data"].get("task") == "Record the result of this host"}
    assert sorted(facts) == job["hosts"], facts
    for host, result in facts.items():
        assert not result["failed"] and [t["state"] for t in result["tasks"]] == ["succeeded"], (host, result)
    assert PASSWORD not in job["output"]


def test_every_bmc_was_updated_once_and_left_no_session(sliced):
    sim = sliced["sim"]
    for name in BMCS:
        updates = [t for t in sim.control(name, "tasks", method="GET") if t["kind"] == "firmware_update"]
        assert len(updates) == 1, (name, updates)
        assert sim.stats(name)["sessions_open"] == 0, name
