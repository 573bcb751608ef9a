"""The wait runs on the controller: the action plugins, their progress lines (also as ansible-runner job
events while the task runs), the fleet wait over many managers, and the delegated path over a real sshd."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
import yaml

from harness import PASSWORD, REPO, clean, running_simulator
from testlib import COLLECTION_ROOT

DEVICES = {"bmc1": "redfish:generic", "bmc2": "redfish:generic", "bmc3": "redfish:dell", "bmc4": "redfish:cisco"}
SSHD = os.path.join(REPO, "tests", "tools", "peers", "sshd.sh")


@pytest.fixture(scope="module")
def csim_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, DEVICES)


@pytest.fixture
def csim(csim_session):
    for name in csim_session.devices:
        csim_session.control(name, "reset")
    return csim_session


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def play(tmp_path, tasks, hosts=None, inventory_vars=None, verbosity=0, env=None, name="play.yml", timeout=300):
    """Write and run a playbook of ``tasks`` on ``hosts`` (an inventory written here); return the process."""
    hosts = hosts or {"bmc1": {}}
    all_vars = dict({"ansible_python_interpreter": sys.executable}, **(inventory_vars or {}))
    inventory = {"all": {"hosts": hosts, "vars": all_vars}}
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / name).write_text(yaml.safe_dump([{"name": "Controller test", "hosts": "all", "gather_facts": False,
                                                  "tasks": tasks}], sort_keys=False))
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"),
           str(tmp_path / name)]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
                    ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_HOST_KEY_CHECKING="0")
    full_env.pop("TASKSTATUS_PASSWORD", None)
    full_env.pop("TASKSTATUS_USERNAME", None)
    full_env.update(env or {})
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=str(tmp_path),
                          check=False)


def result_of(tmp_path, name="result.json"):
    return json.loads((tmp_path / name).read_text())


def write_result(var):
    copy = {"content": "{{ %s | to_nice_json }}" % var, "dest": "{{ playbook_dir }}/result.json", "mode": "0600"}
    return {"name": "Write the result", "ansible.builtin.copy": copy, "delegate_to": "localhost", "run_once": True}


def test_the_wait_runs_on_the_controller_whatever_the_hosts_connection(csim, tmp_path):
    """The inventory host is a BMC reached by SSH on a port where nothing listens: nothing is sent there."""
    made = csim.create_tasks("bmc1", 2, scenario="success", duration=1.5)
    conn = csim.connection("bmc1")
    args = dict(conn, task_ids=[m["id"] for m in made], interval=0.3, timeout=60)
    tasks = [{"name": "Wait", "taskstatus.infra.task_wait": args, "register": "waited"}, write_result("waited")]
    port = free_port()
    proc = play(tmp_path, tasks, hosts={"bmc1": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                                                 "ansible_port": port, "ansible_python_interpreter": "/nonexistent"}},
                verbosity=3)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wait_output = proc.stdout[proc.stdout.index("TASK [Wait]"):proc.stdout.index("TASK [Write the result]")]
    assert "ESTABLISH SSH" not in wait_output and "AnsiballZ" not in wait_output, wait_output
    result = clean(result_of(tmp_path))
    assert [t["state"] for t in result["tasks"]] == ["succeeded"] * 2
    assert PASSWORD not in proc.stdout + proc.stderr
    assert csim.no_session_left("bmc1")


def test_module_defaults_environment_fallbacks_and_no_log(csim, tmp_path):
    made = csim.create_tasks("bmc1", 1, scenario="success", duration=0.5)[0]
    conn = csim.connection("bmc1")
    tasks = [
        {"name": "From module_defaults and the controller's environment", "module_defaults": {
            "group/taskstatus.infra.tasks": {"platform": "redfish", "host": conn["host"], "ca_path": conn["ca_path"]}},
         "taskstatus.infra.task_wait": {"task_ids": [made["id"]], "interval": 0.3, "timeout": 30}, "register": "one"},
        {"name": "From the task's environment keyword", "environment": {"TASKSTATUS_PASSWORD": PASSWORD},
         "taskstatus.infra.task_info": {"platform": "redfish", "host": conn["host"], "ca_path": conn["ca_path"],
                                        "username": "admin", "task_ids": [made["id"]]}, "register": "two"},
        {"name": "Hidden", "no_log": True, "taskstatus.infra.task_info": dict(conn, task_ids=[made["id"]]),
         "register": "three"},
        {"name": "Collect", "ansible.builtin.set_fact": {"all_results": {"one": "{{ one }}", "two": "{{ two }}"}}},
        write_result("all_results"),
    ]
    proc = play(tmp_path, tasks, env={"TASKSTATUS_USERNAME": "admin", "TASKSTATUS_PASSWORD": PASSWORD}, verbosity=3)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = result_of(tmp_path)
    assert results["one"]["tasks"][0]["state"] == "succeeded" and results["two"]["tasks"][0]["found"]
    assert PASSWORD not in proc.stdout + proc.stderr
    assert "the output has been hidden due to the fact that 'no_log: true'" in proc.stdout
    assert csim.no_session_left("bmc1")


def test_progress_lines_while_the_wait_runs(csim, tmp_path):
    good = csim.create_tasks("bmc1", 1, scenario="success", duration=6, hold=True)[0]
    bad = csim.create_tasks("bmc1", 1, scenario="fail", duration=4, hold=True)[0]
    conn = csim.connection("bmc1")
    args = dict(conn, task_ids=[good["id"], bad["id"]], interval=0.3, timeout=60, progress_interval=1)
    tasks = [{"name": "Wait", "taskstatus.infra.task_wait": args, "ignore_errors": True}]
    proc = play(tmp_path, tasks, verbosity=1)
    out = proc.stdout + proc.stderr  # -v lines go where Ansible sends verbose output (stderr by default)
    assert proc.returncode == 0, out
    assert re.search(r"^\[bmc1\] task_wait: \d+ s: \d+ pending|^\[bmc1\] task_wait: \d+ s: \d+ running", out, re.M), out
    assert re.search(r"^\[bmc1\] bmc1: %s \(Firmware Update\): running \d+%% .*after \d+ s$" % good["id"], out, re.M), out
    assert re.search(r"^\[bmc1\] bmc1: %s \(Firmware Update\): failed \[Exception\] 60%% - .+ after \d+ s$"
                     % bad["id"], out, re.M), out
    # the lines came before the task's own result
    assert out.index("[bmc1] task_wait:") < out.index("fatal: [bmc1]")

    # default verbosity: heartbeats and failures, no changes
    good = csim.create_tasks("bmc1", 1, scenario="success", duration=6, hold=True)[0]
    bad = csim.create_tasks("bmc1", 1, scenario="fail", duration=4, hold=True)[0]
    tasks[0]["taskstatus.infra.task_wait"]["task_ids"] = [good["id"], bad["id"]]
    proc = play(tmp_path, tasks, verbosity=0)
    out = proc.stdout + proc.stderr
    assert "[bmc1] task_wait:" in out and not re.search(r"^\[bmc1\] bmc1: \S+ \(Firmware Update\): running", out, re.M)
    assert re.search(r"^\[bmc1\] bmc1: %s \(Firmware Update\): failed \[Exception\]" % bad["id"], out, re.M), out


def test_progress_lines_are_job_events_before_the_result_under_ansible_runner(csim, tmp_path):
    import ansible_runner  # noqa: PLC0415 - the dev venv has it (AWX/AAP run playbooks through it)

    # long enough to be still running when ansible-runner has started ansible-playbook on a loaded machine
    made = csim.create_tasks("bmc1", 1, scenario="success", duration=5, hold=True)[0]
    conn = csim.connection("bmc1")
    private = tmp_path / "runner"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "env").mkdir()
    (private / "project" / "wait.yml").write_text(yaml.safe_dump([{
        "name": "Runner", "hosts": "bmc1", "gather_facts": False,
        "tasks": [{"name": "Wait", "taskstatus.infra.task_wait": dict(
            conn, task_ids=[made["id"]], interval=0.3, timeout=60, progress_interval=1)}]}]))
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"bmc1": {
        "ansible_python_interpreter": sys.executable}}}}))
    (private / "env" / "envvars").write_text(yaml.safe_dump({"ANSIBLE_COLLECTIONS_PATH": COLLECTION_ROOT}))
    bin_dir = os.path.dirname(sys.executable)
    run = ansible_runner.run(private_data_dir=str(private), playbook="wait.yml", quiet=True,
                             envvars={"PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")})
    assert run.status == "successful", run.stdout.read()
    events = list(run.events)
    progress = [e for e in events if "[bmc1] task_wait:" in e.get("stdout", "")]
    result = [e for e in events if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Wait"]
    assert progress and len(result) == 1, [(e["event"], e.get("stdout")) for e in events]
    assert max(e["counter"] for e in progress) < result[0]["counter"]
    assert max(e["created"] for e in progress) < result[0]["created"]
    assert len(progress) >= 2  # a wait of seconds with a heartbeat every second
    assert csim.no_session_left("bmc1")


def test_fleet_wait_many_managers_one_task(csim, tmp_path):
    ok1 = csim.create_tasks("bmc1", 1, scenario="success", duration=2)[0]
    ok2 = csim.create_tasks("bmc2", 1, scenario="success", duration=3)[0]
    failing = csim.create_tasks("bmc3", 1, scenario="fail", duration=2)[0]
    stuck = csim.create_tasks("bmc4", 1, scenario="stuck", duration=2)[0]
    conn = csim.connection("bmc1")
    common = {k: conn[k] for k in ("platform", "username", "password", "ca_path")}
    targets = [
        {"name": "bmc1", "host": csim.host("bmc1"), "task_ids": [ok1["id"]]},
        {"name": "bmc2", "host": csim.host("bmc2"), "task_ids": [ok2["monitor_uri"]]},
        {"name": "bmc3", "host": csim.host("bmc3"), "task_ids": [failing["id"]]},
        {"name": "bmc4", "host": csim.host("bmc4"), "task_ids": [stuck["id"]]},
        {"name": "gone", "host": "127.0.0.1:%d" % free_port(), "task_ids": ["1"]},
        {"name": "bad-id", "host": csim.host("bmc1"), "task_ids": ["../x"]},
    ]
    tasks = [{"name": "Wait for the fleet", "taskstatus.infra.task_wait": dict(
        common, targets=targets, interval=0.3, timeout=8, unreachable_timeout=60, concurrency=3, progress_interval=2),
        "register": "fleet", "ignore_errors": True}, write_result("fleet")]
    proc = play(tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = clean(result_of(tmp_path))
    per = result["targets"]
    assert result["failed"] and sorted(per) == ["bad-id", "bmc1", "bmc2", "bmc3", "bmc4", "gone"]
    assert not per["bmc1"].get("failed") and not per["bmc2"].get("failed")
    assert per["bmc1"]["tasks"][0]["state"] == "succeeded" and per["bmc2"]["tasks"][0]["state"] == "succeeded"
    assert per["bmc3"]["failed"] and "1 of 1 tasks failed" in per["bmc3"]["msg"]
    assert per["bmc4"]["timed_out"] and per["bmc4"]["tasks"][0]["state"] == "running"
    assert per["gone"]["timed_out"] and "cannot connect" in per["gone"]["msg"]
    assert per["bad-id"]["failed"] and "is refused: a bare id must not contain '/', '..'" in per["bad-id"]["msg"]
    assert result["summary"] == {"targets": 6, "succeeded": 2, "failed": 2, "timed_out": 2, "cancelled": 0,
                                 "tasks": 4}, result["summary"]
    assert {t["manager"] for t in result["tasks"]} == {"bmc1", "bmc2", "bmc3", "bmc4"}
    assert result["msg"].startswith("6 managers: 2 succeeded, 2 failed, 2 timed out. ")
    assert "[bmc1] bmc3: %s" % failing["id"] in proc.stdout  # the failure line, while it ran
    assert csim.no_session_left()
    assert csim.stats("bmc1")["sessions_created"] == 1  # one session per manager (bad-id never logged in)


def test_fleet_fail_fast_and_sigterm_close_every_session(csim, tmp_path):
    stuck = {name: csim.create_tasks(name, 1, scenario="stuck", duration=1)[0] for name in ("bmc1", "bmc2", "bmc4")}
    failing = csim.create_tasks("bmc3", 1, scenario="fail", duration=1.5)[0]
    conn = csim.connection("bmc1")
    common = {k: conn[k] for k in ("platform", "username", "password", "ca_path")}
    targets = [{"name": n, "host": csim.host(n), "task_ids": [t["id"]]} for n, t in stuck.items()]
    targets.append({"name": "bmc3", "host": csim.host("bmc3"), "task_ids": [failing["id"]]})
    args = dict(common, targets=targets, interval=0.3, timeout=120, fail_fast=True)
    tasks = [{"name": "Wait", "taskstatus.infra.task_wait": args, "register": "fleet", "ignore_errors": True},
             write_result("fleet")]
    proc = play(tmp_path, tasks)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = result_of(tmp_path)
    assert result["targets"]["bmc3"]["failed"] and not result["targets"]["bmc3"].get("cancelled")
    assert all(result["targets"][n]["cancelled"] for n in stuck), result["targets"]
    assert result["elapsed"] < 60 and result["summary"]["cancelled"] == 3
    assert csim.no_session_left()

    # SIGTERM to the whole process group (an AWX cancel, a container stop) while four waits run
    for name in DEVICES:
        csim.control(name, "reset")
    stuck = {name: csim.create_tasks(name, 1, scenario="stuck", duration=1)[0] for name in DEVICES}
    targets = [{"name": n, "host": csim.host(n), "task_ids": [t["id"]]} for n, t in stuck.items()]
    (tmp_path / "sig").mkdir()
    wait = {"name": "Wait", "taskstatus.infra.task_wait": dict(common, targets=targets, interval=0.3, timeout=300)}
    (tmp_path / "sig" / "play.yml").write_text(yaml.safe_dump([{"name": "Signal", "hosts": "localhost",
                                                                "gather_facts": False, "tasks": [wait]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "play.yml"],
                            env=env, cwd=str(tmp_path / "sig"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while sum(csim.stats(n)["sessions_open"] for n in DEVICES) < len(DEVICES):
            assert proc.poll() is None and time.monotonic() < deadline, "the fleet wait did not start"
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGTERM)
        out = proc.communicate(timeout=90)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert csim.no_session_left_after_signal(), out[-3000:]
    assert all(csim.stats(n)["sessions_deleted"] == 1 for n in DEVICES)


@pytest.fixture(scope="module")
def jumphost(tmp_path_factory):
    """A real sshd on 127.0.0.1 with throwaway keys: the host a task is delegated to."""
    sshd = subprocess.run([SSHD], check=True, capture_output=True, text=True, timeout=900).stdout.strip()
    work = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / name)], check=True)
    shutil.copy(work / "client_key.pub", work / "authorized_keys")
    os.chmod(work / "authorized_keys", 0o600)
    port = free_port()
    (work / "sshd_config").write_text("\n".join([
        "ListenAddress 127.0.0.1", "Port %d" % port, "HostKey %s" % (work / "host_key"),
        "AuthorizedKeysFile %s" % (work / "authorized_keys"), "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes", "PermitRootLogin yes", "StrictModes no", "UsePAM no", "PidFile %s" % (work / "pid"),
        "Subsystem sftp internal-sftp", ""]))
    os.makedirs("/run/sshd", exist_ok=True)
    server = subprocess.Popen([sshd, "-D", "-e", "-f", str(work / "sshd_config")], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
            time.sleep(0.1)
    yield {"ansible_host": "127.0.0.1", "ansible_port": port, "ansible_user": os.environ.get("USER", "root"),
           "ansible_connection": "ssh", "ansible_ssh_private_key_file": str(work / "client_key"),
           "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
           "ansible_python_interpreter": sys.executable}
    server.terminate()
    server.wait(10)


def test_delegated_to_a_jump_host_runs_the_module_there(csim, tmp_path, jumphost):
    made = csim.create_tasks("bmc1", 1, scenario="success", duration=1)[0]
    tasks = [{"name": "Wait from the jump host", "taskstatus.infra.task_wait": dict(
        csim.connection("bmc1"), task_ids=[made["id"]], interval=0.3, timeout=60, progress_interval=1),
        "delegate_to": "jumphost", "register": "waited"}, write_result("waited")]
    proc = play(tmp_path, tasks, hosts={"bmc1": {"ansible_connection": "local"}, "jumphost": jumphost}, verbosity=3,
                name="delegated.yml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "ESTABLISH SSH CONNECTION" in out and "AnsiballZ_task_wait.py" in out  # the module ran over SSH
    assert "[bmc1] task_wait:" not in out  # no progress from a module on another host (documented)
    result = clean(result_of(tmp_path))
    assert result["tasks"][0]["state"] == "succeeded"
    assert PASSWORD not in out
    assert csim.no_session_left("bmc1")
