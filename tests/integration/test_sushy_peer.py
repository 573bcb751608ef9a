"""The independent Redfish peer: OpenStack's sushy-tools emulator (`sushy-emulator --fake`).

It serves a real, if small, TaskService (one Completed task, 42) behind HTTP
Basic authentication and has no SessionService: the adapter must find that
out from the service root and use Basic authentication, read the task, and
turn a wrong password into a clear 401 error.
"""

import os
import socket
import subprocess
import time

import pytest
import requests
import trustme

from harness import PASSWORD
from testlib import REPO

INSTALL = os.path.join(REPO, "tests", "tools", "peers", "sushy.sh")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def sushy(tmp_path_factory):
    emulator = subprocess.run([INSTALL], check=True, capture_output=True, text=True, timeout=600).stdout.strip()
    work = tmp_path_factory.mktemp("sushy")
    peer_python = os.path.join(os.path.dirname(emulator), "python")
    subprocess.run([peer_python, "-c", "import bcrypt, sys; open(sys.argv[1], 'w').write('admin:' + "
                    "bcrypt.hashpw(sys.argv[2].encode(), bcrypt.gensalt(rounds=4)).decode() + '\\n')",
                    str(work / "htpasswd"), PASSWORD], check=True)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(work / "ca.pem"))
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(work / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(work / "cert.pem"))
    port = free_port()
    (work / "sushy.conf").write_text(
        "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\nSUSHY_EMULATOR_LISTEN_PORT = %d\n"
        "SUSHY_EMULATOR_SSL_CERT = %r\nSUSHY_EMULATOR_SSL_KEY = %r\nSUSHY_EMULATOR_AUTH_FILE = %r\n"
        % (port, str(work / "cert.pem"), str(work / "key.pem"), str(work / "htpasswd")))
    log = open(work / "sushy.log", "w")
    proc = subprocess.Popen([emulator, "--fake", "--config", str(work / "sushy.conf")], stdout=log, stderr=log)
    base = "https://127.0.0.1:%d" % port
    try:
        for _attempt in range(100):
            try:
                requests.get(base + "/redfish/v1", verify=str(work / "ca.pem"), timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None, (work / "sushy.log").read_text()
                time.sleep(0.2)
        yield {"host": "127.0.0.1:%d" % port, "ca": str(work / "ca.pem")}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_task_info_reads_sushy_task_with_basic_auth(sushy, ansible):
    conn = {"platform": "redfish", "host": sushy["host"], "username": "admin", "ca_path": sushy["ca"]}
    results, _proc = ansible.cases("task_info", [
        dict(conn, password=PASSWORD, task_ids=["42", "/redfish/v1/TaskService/Tasks/42"]),
        dict(conn, password="wrong-password", task_ids=["42"]),
        dict(conn, password=PASSWORD, task_ids=["42"], validate_certs=True, ca_path=None),
    ])
    good, wrong, untrusted = results
    assert not good.get("failed"), good
    for task in good["tasks"]:
        assert (task["state"], task["percent"], task["vendor_state"], task["name"]) == (
            "succeeded", 100, "Completed", "Task 42")
    assert wrong["failed"] and "Traceback" not in str(wrong)
    assert wrong["msg"] == ("redfish /redfish/v1/TaskService HTTP 401: credentials were refused "
                            "(Incorrect username or password)")
    assert untrusted["failed"] and "TLS verification of" in untrusted["msg"] and "not trusted" in untrusted["msg"] and "ca_path" in untrusted["msg"]
