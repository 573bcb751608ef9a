"""The independent vSphere peer: govmomi's vcsim (Debian golang-github-vmware-govmomi-dev 0.24).

tests/tools/peers/vcsim.sh installs golang-go and the govmomi source with
apt-get when missing and builds tests/peers/vcsim/main.go outside the
repository. The sessions are govmomi's: ``/rest/com/vmware/cis/session``,
401 for an unknown or idle-expired session, DELETE to log out. govmomi 0.24
has no ``/api``, so the adapter must fall back to ``/rest``; the few cis
tasks come from our main.go, behind govmomi's own session check.

Skipped, with the reason, only when vcsim.sh could not install the Debian
packages (it then writes ~/.cache/taskstatus/peers/vcsim.skipped).
"""

import os
import subprocess
import time
import warnings

import pytest
import requests

from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient
from ansible_collections.taskstatus.infra.plugins.module_utils._vsphere import VsphereAdapter
from testlib import REPO

BUILD = os.path.join(REPO, "tests", "tools", "peers", "vcsim.sh")
USER = "administrator@vsphere.local"
PASSWORD = "Peer-Passw0rd!"
SOFTWARE = "com.vmware.esx.settings.clusters.software"
TASKS = ["52f0c2d4-0001:" + SOFTWARE, "52f0c2d4-0002:" + SOFTWARE, "52f0c2d4-0003:" + SOFTWARE]


def skip_reason():
    marker = os.path.join(os.environ.get("TASKSTATUS_PEERS", os.path.expanduser("~/.cache/taskstatus/peers")),
                          "vcsim.skipped")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            return handle.read().strip()
    return None


@pytest.fixture(scope="module")
def vcsim(tmp_path_factory):
    proc = subprocess.run([BUILD], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, "vcsim.sh failed:\n" + proc.stderr[-3000:]
    binary = proc.stdout.strip()
    if not binary:
        reason = skip_reason() or "vcsim.sh printed no binary"
        warnings.warn(UserWarning("SKIP vcsim peer: " + reason))  # shown in pytest's summary without -rs
        pytest.skip("vcsim peer not built: " + reason)
    work = tmp_path_factory.mktemp("vcsim")
    url_file = work / "url"
    log = open(work / "vcsim.log", "w")
    peer = subprocess.Popen([binary, "-listen", "127.0.0.1:0", "-url-file", str(url_file), "-idle", "1s",
                             "-task-seconds", "4s", "-username", USER, "-password", PASSWORD,
                             "-tasks", ",".join(TASKS)], stdout=log, stderr=log)
    try:
        for _attempt in range(300):
            if url_file.exists():
                break
            assert peer.poll() is None, (work / "vcsim.log").read_text()
            time.sleep(0.1)
        base = url_file.read_text().strip()
        assert base.startswith("http://127.0.0.1:")
        yield base
    finally:
        peer.terminate()
        peer.wait(timeout=10)
        log.close()


def stats(base):
    return requests.get(base + "/_peer/stats", timeout=5).json()


def conn(base, **extra):
    args = {"platform": "vsphere", "host": base, "username": USER, "password": PASSWORD}
    args.update(extra)
    return args


def test_wait_survives_idle_expiry_and_logs_out(vcsim, ansible):
    before = stats(vcsim)
    result = ansible.module("task_wait", conn(vcsim, task_ids=TASKS[:2], interval=2.5, timeout=60))[0]
    assert not result.get("failed"), result
    assert [t["state"] for t in result["tasks"]] == ["succeeded", "succeeded"]
    assert result["tasks"][0]["url"] == vcsim + "/rest/cis/tasks/52f0c2d4-0001%3A" + SOFTWARE
    assert result["polls"] >= 2
    after = stats(vcsim)
    # The peer forgot the idle session at least once: the module logged in again and carried on.
    assert after["sessions_created"] - before["sessions_created"] >= 2
    assert after["sessions_deleted"] - before["sessions_deleted"] == 1  # the last one, at exit
    assert after["sessions_open"] == 0


def test_bad_password_is_a_clear_error(vcsim, ansible):
    before = stats(vcsim)
    results = ansible.cases("task_info", [
        conn(vcsim, password="not-the-password", task_ids=TASKS[2:]),
        conn(vcsim, task_ids=["52f0c2d4-9999:" + SOFTWARE], missing_ok=True),
    ])[0]
    assert results[0]["failed"]
    assert results[0]["msg"] == ("vsphere /rest/com/vmware/cis/session HTTP 401: credentials for user "
                                 "'administrator@vsphere.local' were refused (unauthenticated: Authentication "
                                 "required.)")
    assert "not-the-password" not in results[0]["msg"]
    assert not results[1].get("failed") and results[1]["tasks"][0]["found"] is False
    after = stats(vcsim)
    assert after["logins_failed"] - before["logins_failed"] == 1
    assert after["sessions_open"] == 0


def test_session_is_gone_after_the_adapter_closes(vcsim):
    adapter = VsphereAdapter(HttpClient(vcsim, "vsphere"), conn(vcsim, token=None))
    with adapter:
        assert adapter.flavour == "rest"  # no /api on govmomi 0.24: fell back to /rest
        token = adapter.token
        assert adapter.fetch([TASKS[2]])[0].found
        alive = requests.post(vcsim + "/rest/com/vmware/cis/session?~action=get", timeout=5,
                              headers={"vmware-api-session-id": token})
        assert alive.status_code == 200 and alive.json()["value"]["user"] == USER
    gone = requests.post(vcsim + "/rest/com/vmware/cis/session?~action=get", timeout=5,
                         headers={"vmware-api-session-id": token})
    assert gone.status_code == 401
