"""Integration fixtures: the simulator over HTTPS and real ansible-playbook runs.

``sim`` starts tests/simulator/run.py once per session (a CA generated at
start, one port per device) and resets every device before each test.
``ansible`` runs a playbook with ``ansible-playbook`` and the collection from
this work tree, and returns what the module returned.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from testlib import COLLECTION_ROOT, REPO

RUN = os.path.join(REPO, "tests", "simulator", "run.py")
TARGETS = os.path.join(REPO, "tests", "integration", "targets")
PASSWORD = "s3cr3t-Passw0rd"
# What the modules read when their connection options are not set (plugins/module_utils/_module.py).
CONNECTION_VARIABLES = ("TASKSTATUS_PLATFORM", "TASKSTATUS_HOST", "TASKSTATUS_USERNAME", "TASKSTATUS_PASSWORD",
                        "TASKSTATUS_TOKEN", "TASKSTATUS_VALIDATE_CERTS", "TASKSTATUS_CA_PATH")
# name -> (platform, vendor); one port each.
DEVICES = {
    "bmc": "redfish:generic",
    "idrac": "redfish:dell",
    "cimc": "redfish:cisco",
}


class Sim:
    def __init__(self, state):
        self.state = state
        self.ca = state["ca_cert"]
        self.devices = {d["name"]: d for d in state["devices"]}

    def host(self, name):
        return self.devices[name]["host"]

    def url(self, name, path):
        return "https://%s%s" % (self.host(name), path)

    def control(self, name, path, body=None, method="POST"):
        resp = requests.request(method, self.url(name, "/_sim/" + path), json=body, verify=self.ca, timeout=10)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def stats(self, name):
        return self.control(name, "stats", method="GET")

    def create_tasks(self, name, count=1, **spec):
        return [self.control(name, "tasks", dict(spec)) for _index in range(count)]

    def connection(self, name, **extra):
        args = {"platform": self.devices[name]["platform"], "host": self.host(name), "username": "admin",
                "password": PASSWORD, "ca_path": self.ca}
        args.update(extra)
        return args

    def no_session_left(self, *names):
        """Assert that no device (or none of ``names``) has a session open."""
        for name in names or self.devices:
            stats = self.stats(name)
            assert stats["sessions_open"] == 0, (name, stats)
        return True

    def no_session_left_after_signal(self, *names, limit=10.0):
        """``no_session_left`` once the signalled worker is done: ansible-playbook's main process can die of the
        signal while its worker (a process group of its own) still closes the sessions, a few ms later."""
        end = time.monotonic() + limit
        while time.monotonic() < end and any(self.stats(n)["sessions_open"] for n in names or self.devices):
            time.sleep(0.05)
        return self.no_session_left(*names)


def clean(result, secret=PASSWORD):
    """A failure the module reported itself: a message, no traceback, no secret."""
    text = json.dumps({k: v for k, v in result.items() if k != "item"})  # a loop's item holds the test's input
    assert "Traceback" not in text and "module_stderr" not in result, result
    assert secret not in text
    return result


def running_simulator(tmp_path_factory, devices, sim_class=Sim, password=PASSWORD, options=()):
    """Start tests/simulator/run.py with ``devices`` (``name=platform[:vendor],...``, or a dict
    ``{name: "platform[:vendor]"}``); yield a ``sim_class`` whose ``state_dir`` is the simulator's.

    A generator for module- or session-scoped fixtures: the simulator is stopped when the fixture ends.
    """
    if isinstance(devices, dict):
        devices = ",".join("%s=%s" % item for item in devices.items())
    state_dir = str(tmp_path_factory.mktemp("sim"))
    subprocess.run([sys.executable, RUN, "start", "--state-dir", state_dir, "--devices", devices,
                    "--password", password] + list(options), check=True, timeout=60, stdout=subprocess.DEVNULL)
    try:
        with open(os.path.join(state_dir, "state.json"), encoding="utf-8") as handle:
            sim = sim_class(json.load(handle))
        sim.state_dir = state_dir
        yield sim
    finally:
        subprocess.run([sys.executable, RUN, "stop", "--state-dir", state_dir], check=False, timeout=60)


def reset_devices(simulator):
    """Put every device back to its start state; wait for one still in a reboot window."""
    for name in simulator.devices:
        for _attempt in range(60):
            try:
                simulator.control(name, "reset")
                break
            except requests.ConnectionError:
                time.sleep(0.25)
        else:
            raise AssertionError("simulated device %s did not come back" % name)
    return simulator


@pytest.fixture(scope="session")
def sim_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, ",".join("%s=%s" % item for item in DEVICES.items()))


@pytest.fixture
def sim(sim_session):
    return reset_devices(sim_session)


class Ansible:
    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                        ANSIBLE_PYTHON_INTERPRETER=sys.executable)
        for name in CONNECTION_VARIABLES:  # the modules' fallbacks apply only where a test sets them
            self.env.pop(name, None)
        self.calls = 0

    def playbook(self, playbook, extra_vars=None, check=False, verbosity=0, env=None, timeout=300):
        """Run ``playbook`` (a path, or a name under tests/integration/targets)."""
        self.calls += 1
        path = playbook if os.path.isabs(playbook) else os.path.join(TARGETS, playbook)
        vars_file = self.tmp_path / ("vars-%d.json" % self.calls)
        vars_file.write_text(json.dumps(extra_vars or {}))
        cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), path, "-e", "@%s" % vars_file]
        if check:
            cmd.append("--check")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        proc = subprocess.run(cmd, env=dict(self.env, **(env or {})), capture_output=True, text=True,
                              timeout=timeout, cwd=str(self.tmp_path), check=False)
        return proc

    def module(self, module_name, module_args, check=False, verbosity=0, env=None):
        """Run one module through module_call.yml; return (result, process)."""
        result_file = self.tmp_path / ("result-%d.json" % (self.calls + 1))
        proc = self.playbook("module_call.yml", {"module_name": module_name, "module_args": module_args,
                                                 "result_file": str(result_file)},
                             check=check, verbosity=verbosity, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(result_file.read_text()), proc

    def cases(self, module_name, cases, check=False):
        """Run one module once per argument dict in ``cases`` (one playbook run); return the results."""
        result_file = self.tmp_path / ("result-%d.json" % (self.calls + 1))
        proc = self.playbook("module_cases.yml", {"module_name": module_name, "cases": cases,
                                                  "result_file": str(result_file)}, check=check)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(result_file.read_text()), proc


@pytest.fixture
def ansible(tmp_path):
    return Ansible(tmp_path)


def signalled_wait(tmp_path, module_args, started, signum, what="the wait did not start"):
    """Run task_wait by ansible-playbook in a process group of its own, send ``signum`` to the whole group (as
    AWX's cancel, an ansible-runner timeout or a terminal's Ctrl-C do) once ``started()`` is true; return the
    play's output. The process group is killed if anything goes wrong."""
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps({"module_name": "task_wait", "module_args": module_args,
                                     "result_file": str(tmp_path / "result.json")}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                             os.path.join(TARGETS, "module_call.yml"), "-e", "@%s" % vars_file], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            cwd=str(tmp_path))
    try:
        deadline = time.monotonic() + 120
        while not started():
            assert proc.poll() is None and time.monotonic() < deadline, what
            time.sleep(0.1)
        os.killpg(proc.pid, signum)
        output = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert "Traceback" not in output or "KeyboardInterrupt" in output, output[-3000:]
    return output
