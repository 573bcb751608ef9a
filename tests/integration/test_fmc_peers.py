"""Independent checks of the FMC pieces, with software that is not ours.

- Prism (``@stoplight/prism-cli`` from npm, tests/tools/peers/prism.sh) mocks the
  cdFMC from Cisco's own OpenAPI (shared/specs/fmc/cdfmc-status-api.yml) and
  answers with the spec's example task: task_info must read it without a crash
  and call its placeholder status ``unknown``.
- fmcapi (PyPI, tests/tools/peers/fmcapi.sh, in a venv of its own because it
  pins old helpers) logs in to our FMC simulator and reads a task status: the
  simulator speaks the FMC's token protocol as a real client expects it.
"""

import json
import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from testlib import REPO, SHARED

from test_fmc import GLOBAL, PASSWORD, FmcSim, clean, fsim, fsim_session  # noqa: F401  pylint: disable=unused-import

PEERS = os.path.join(REPO, "tests", "tools", "peers")
SPEC = os.path.join(SHARED, "specs", "fmc", "cdfmc-status-api.yml")
FMCAPI_SCRIPT = r"""
import json, logging, sys
import fmcapi
host, user, password, task_id = sys.argv[1:5]
with fmcapi.FMC(host=host, username=user, password=password, autodeploy=False, logging_level="ERROR") as fmc:
    task = fmcapi.TaskStatuses(fmc=fmc, id=task_id).get()
    print(json.dumps({"domain": fmc.uuid, "version": fmc.serverVersion, "task": task}))
"""


def installed(script):
    proc = subprocess.run([os.path.join(PEERS, script)], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, "%s failed: %s" % (script, proc.stderr[-2000:])
    return proc.stdout.strip().splitlines()[-1]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prism(tmp_path_factory):
    binary = installed("prism.sh")
    port = free_port()
    log = open(tmp_path_factory.mktemp("prism") / "prism.log", "w")
    proc = subprocess.Popen([binary, "mock", "-h", "127.0.0.1", "-p", str(port), SPEC], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/v1/cdfmc/api/fmc_config/v1/domain/%s/job/taskstatuses/x" % GLOBAL, timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, "prism did not start; see %s" % log.name
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # prism and the node processes it started
        proc.wait(timeout=20)
        log.close()


def test_task_info_reads_the_spec_example_from_prism(prism, ansible):
    args = {"platform": "cdfmc", "host": prism, "token": "prism-api-token", "domain": GLOBAL,
            "task_ids": ["taskID"], "include_raw": True}
    result, _proc = ansible.module("task_info", args)
    clean(result)
    assert not result.get("failed"), result
    task = result["tasks"][0]
    assert (task["state"], task["vendor_state"], task["found"], task["terminal"]) == (
        "unknown", "status_of_queried_task", True, False)
    assert (task["name"], task["message"], task["kind"]) == ("description_about_task", "message_about_task", "other")
    assert task["raw"]["id"] == "taskID" and task["raw"]["taskType"] == "valid_enum"
    assert "prism-api-token" not in json.dumps(result)


def test_fmcapi_logs_in_to_the_simulator_and_reads_a_task(fsim):
    python = installed("fmcapi.sh")
    task_id = fsim.create_tasks("fmc", 1, kind="config_export", duration=0.1)[0]["id"]
    time.sleep(0.2)
    proc = subprocess.run([python, "-c", FMCAPI_SCRIPT, fsim.host("fmc"), "admin", PASSWORD, task_id],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["domain"] == GLOBAL and out["version"].startswith("7.4.1")
    task = out["task"]
    assert (task["id"], task["status"], task["taskType"]) == (task_id, "COMPLETED", "DEVICE_EXPORT")
    stats = fsim.stats("fmc")["requests"]
    assert stats["POST /api/fmc_platform/v1/auth/generatetoken"] == 1
    assert stats["GET /api/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (GLOBAL, task_id)] == 1
    assert fsim.counters()["tokens_generated"] == 1
