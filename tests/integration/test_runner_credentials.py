"""The AWX/AAP credential types of the collection (extensions/awx/credential_types), injected the way AWX
injects a custom credential into a job, and the job run with ansible-runner.

AWX renders a credential type's injectors with a sandboxed Jinja2 environment over the credential's inputs:
fields left empty are undefined (so they render as empty strings), boolean fields left unset are false, each
file template is written to a file under the job's private data dir and `tower.filename` names it, and every
env injector becomes an environment variable of the job (awx-plugins, `inject_credential`). `inject` below
does the same. The job's playbook (targets/awx_credential.yml) holds no connection and no secret; the
secrets must appear in none of the job's events and artifacts.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import types

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from harness import CONNECTION_VARIABLES, REPO, TARGETS, running_simulator
from testlib import COLLECTION_ROOT

RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
TYPES = os.path.join(REPO, "extensions", "awx", "credential_types")
PASSWORD = "Cred-Type-Passw0rd"
DEVICES = {"bmc": "redfish:dell", "vcenter": "vsphere:vcenter", "fmc": "fmc", "cdfmc": "cdfmc",
           "lxca": "xclarity:lxca"}
# device -> (credential type file, the credential's inputs as an AWX user fills them in)
CREDENTIALS = {
    "bmc": ("redfish_bmc.yml", {"username": "admin", "password": PASSWORD}),
    "vcenter": ("vsphere_vcenter.yml", {"username": "admin", "password": PASSWORD}),
    "fmc": ("fmc.yml", {"platform": "fmc", "username": "admin", "password": PASSWORD}),
    "cdfmc": ("fmc.yml", {"platform": "cdfmc", "token": PASSWORD}),  # the simulated cdFMC takes it as its token
    "lxca": ("xclarity.yml", {"username": "admin", "password": PASSWORD}),
}


def inject(credential_type, inputs, private_data_dir):
    """The environment AWX gives a job that has a credential of ``credential_type`` with ``inputs``."""
    fields = credential_type["inputs"]["fields"]
    namespace = {k: v for k, v in inputs.items() if isinstance(v, bool) or v}
    for field in fields:
        if field["type"] == "boolean":
            namespace.setdefault(field["id"], False)
    sandbox = ImmutableSandboxedEnvironment()
    tower = types.SimpleNamespace(filename=None)
    files = {}
    for label, template in credential_type["injectors"].get("file", {}).items():
        path = os.path.join(private_data_dir, "env", "tmp-%s" % label.replace(".", "-"))
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(sandbox.from_string(template).render(tower=tower, **namespace))
        os.chmod(path, 0o600)
        if "." in label:
            files[label.split(".", 1)[1]] = path
        else:
            tower.filename = path
    if files:
        tower.filename = types.SimpleNamespace(**files)
    return {name: sandbox.from_string(template).render(tower=tower, **namespace)
            for name, template in credential_type["injectors"].get("env", {}).items()}


def load_types():
    found = {}
    for path in sorted(glob.glob(os.path.join(TYPES, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            found[os.path.basename(path)] = yaml.safe_load(handle)
    return found


def test_one_credential_type_per_platform_family_in_the_awx_form():
    found = load_types()
    assert sorted(found) == ["fmc.yml", "redfish_bmc.yml", "vsphere_vcenter.yml", "xclarity.yml"]
    for name, credential_type in found.items():
        assert set(credential_type) == {"name", "description", "kind", "inputs", "injectors"}, name
        assert credential_type["kind"] == "cloud" and credential_type["name"].endswith("(taskstatus.infra)")
        fields = {f["id"]: f for f in credential_type["inputs"]["fields"]}
        assert all(f["type"] in ("string", "boolean") and f["label"] for f in fields.values()), name
        assert set(credential_type["inputs"].get("required", [])) <= set(fields), name
        for secret in ("password", "token"):
            if secret in fields:
                assert fields[secret].get("secret") is True, (name, secret)
        env = credential_type["injectors"]["env"]
        assert set(env) <= {"TASKSTATUS_PLATFORM", "TASKSTATUS_HOST", "TASKSTATUS_USERNAME", "TASKSTATUS_PASSWORD",
                            "TASKSTATUS_TOKEN", "TASKSTATUS_CA_PATH", "TASKSTATUS_VALIDATE_CERTS"}, name
        assert not credential_type["injectors"].get("extra_vars"), name  # secrets never become extra vars


def test_certificates_are_verified_unless_the_box_is_checked(tmp_path):
    (tmp_path / "env").mkdir()
    bmc = load_types()["redfish_bmc.yml"]
    env = inject(bmc, {"username": "u", "password": "p"}, str(tmp_path))
    assert env["TASKSTATUS_VALIDATE_CERTS"] == "" and env["TASKSTATUS_CA_PATH"] == "" and env["TASKSTATUS_HOST"] == ""
    env = inject(bmc, {"username": "u", "password": "p", "skip_tls_verify": True, "ca_cert": "PEM"}, str(tmp_path))
    assert env["TASKSTATUS_VALIDATE_CERTS"] == "false"
    with open(env["TASKSTATUS_CA_PATH"], encoding="utf-8") as handle:
        assert handle.read() == "PEM"


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """One ansible-runner job per device, each with the credential AWX would inject; run at the same time."""
    for sim in running_simulator(tmp_path_factory, DEVICES, password=PASSWORD):
        with open(sim.ca, encoding="utf-8") as handle:
            ca_pem = handle.read()
        found = load_types()
        runs = {}
        for name, (type_file, inputs) in CREDENTIALS.items():
            task = sim.create_tasks(name, 1, scenario="success", duration=1)[0]
            pdd = tmp_path_factory.mktemp("job-%s" % name)
            for sub in ("project", "inventory", "env"):
                (pdd / sub).mkdir()
            shutil.copy(os.path.join(TARGETS, "awx_credential.yml"), str(pdd / "project"))
            injected = inject(found[type_file], dict(inputs, host=sim.host(name), ca_cert=ca_pem), str(pdd))
            (pdd / "env" / "envvars").write_text(json.dumps(dict(injected, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT,
                                                                 ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
                                                                 ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                                                                 ANSIBLE_PYTHON_INTERPRETER=sys.executable)))
            (pdd / "env" / "extravars").write_text(json.dumps({"wait_ids": [task["id"]]}))
            env = {k: v for k, v in os.environ.items() if k not in CONNECTION_VARIABLES}
            proc = subprocess.Popen([RUNNER, "run", str(pdd), "-p", "awx_credential.yml", "--ident", "job"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            runs[name] = (proc, pdd, task, injected)
        results = {}
        for name, (proc, pdd, task, injected) in runs.items():
            output = proc.communicate(timeout=300)[0]
            artifacts = pdd / "artifacts" / "job"
            events = []
            for path in glob.glob(str(artifacts / "job_events" / "*.json")):
                with open(path, encoding="utf-8") as handle:
                    events.append(json.load(handle))
            events.sort(key=lambda e: e["counter"])
            results[name] = {"rc": proc.returncode, "output": output, "events": events, "artifacts": artifacts,
                             "task": task, "injected": injected}
        results["sim"] = sim
        yield results


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_a_job_with_the_credential_waits_with_no_connection_in_the_playbook(jobs, name):
    job = jobs[name]
    assert job["rc"] == 0, job["output"]
    assert (job["artifacts"] / "status").read_text().strip() == "successful"
    info = [e for e in job["events"] if e["event"] == "runner_on_ok"
            and e["event_data"].get("task") == "Read the task"][0]["event_data"]["res"]
    assert [(t["id"], t["platform"]) for t in info["tasks"]] == [(job["task"]["id"], jobs["sim"].devices[name]["platform"])]
    facts = [e["event_data"]["res"]["ansible_facts"]["rollout_wait_result"] for e in job["events"]
             if e["event"] == "runner_on_ok" and e["event_data"].get("task") == "Record the result of this host"][0]
    assert not facts["failed"] and [t["state"] for t in facts["tasks"]] == ["succeeded"], facts
    assert jobs["sim"].stats(name)["sessions_open"] == 0


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_no_secret_in_the_job_events_or_output(jobs, name):
    job = jobs[name]
    assert PASSWORD in job["injected"].values()  # the secret did go in, through the environment
    assert PASSWORD not in job["output"]
    assert not [e["counter"] for e in job["events"] if PASSWORD in json.dumps(e)]
    # every artifact but `command`, ansible-runner's record of the environment it was given (the credential's
    # own injection, like env/envvars: AWX keeps the private data dir only while the job runs)
    for path in glob.glob(str(job["artifacts"] / "**"), recursive=True):
        if os.path.isfile(path) and os.path.basename(path) != "command":
            with open(path, encoding="utf-8", errors="replace") as handle:
                assert PASSWORD not in handle.read(), path
