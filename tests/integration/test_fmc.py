"""task_info and task_wait against the simulated FMC and cdFMC over HTTPS.

A simulator of its own (tests/simulator/run.py, devices ``fmc`` and ``cdfmc``)
runs for this module. The modules run under ansible-playbook; the pacing and
token checks that need many requests drive the adapter and the waiter in
process, over the same HTTPS, with the FMC's one-minute window scaled down on
both sides.
"""

import json
import os
import subprocess
import sys

import pytest
import requests

from harness import Sim, reset_devices, running_simulator
from testlib import COLLECTION_ROOT, REPO

from ansible_collections.taskstatus.infra.plugins.module_utils import _fmc, _http, _pacing
from ansible_collections.taskstatus.infra.plugins.module_utils._waiter import Deadline, Waiter

PASSWORD = "fmc-S3cret-pw"
GLOBAL = "e276abec-e0f2-11e3-8169-6d9ed49b625f"
EXAMPLE = os.path.join(REPO, "playbooks", "examples", "fmc_deploy_wait.yml")
FAIL_TEXT = "Deployment failed: unable to apply the configuration (interface Ethernet1/3 is in use)"


class FmcSim(Sim):
    def fmc(self, path, body=None, method="POST", name="fmc"):
        resp = requests.request(method, self.url(name, "/_fmcsim/" + path), json=body, verify=self.ca, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def counters(self, name="fmc"):
        return self.fmc("stats", method="GET", name=name)

    def connection(self, name, **extra):
        if name == "cdfmc":
            args = {"platform": "cdfmc", "host": "https://%s/firewall" % self.host(name), "token": PASSWORD,
                    "ca_path": self.ca}
        else:
            args = {"platform": "fmc", "host": self.host(name), "username": "admin", "password": PASSWORD,
                    "ca_path": self.ca}
        args.update(extra)
        return args

    def no_session_left(self, name="fmc"):
        stats = self.stats(name)
        assert stats["sessions_open"] == 0, stats
        return stats


@pytest.fixture(scope="module")
def fsim_session(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, "fmc=fmc,cdfmc=cdfmc", FmcSim, PASSWORD, ["--duration", "2"])


@pytest.fixture
def fsim(fsim_session):
    # Each test starts with a fresh request budget: the budget of a manager and user outlives a run on purpose
    # (it is shared by every run on the controller), and one test's 200-task wait would pace the next one.
    for name in fsim_session.devices:
        args = fsim_session.connection(name)
        url = "https://" + fsim_session.host(name)
        path = os.path.join(_pacing.budget_dir(), _pacing.budget_key(url, args.get("username") or args.get("token")))
        if os.path.exists(path):
            os.unlink(path)
    return reset_devices(fsim_session)


def clean(result):
    text = json.dumps({k: v for k, v in result.items() if k != "item"})  # a loop's item holds the arguments
    assert "Traceback" not in text and "module_stderr" not in result, result
    assert PASSWORD not in text
    return result


def adapter(fsim, name="fmc", cls=None, timeout=60, **params):
    args = fsim.connection(name, **params)
    args.setdefault("domain", None)
    deadline = Deadline(timeout)
    http = _http.HttpClient(args["host"], args["platform"], ca_path=fsim.ca, deadline=deadline.left)
    cls = cls or (_fmc.CdfmcAdapter if name == "cdfmc" else _fmc.FmcAdapter)
    return cls(http, args), deadline


def test_info_cases_domains_and_bad_input(fsim, ansible):
    export = fsim.create_tasks("fmc", 1, kind="config_export", duration=0.1)[0]["id"]
    lab = GLOBAL.replace("e", "f")
    cases = [
        fsim.connection("fmc", task_ids=[export]),
        fsim.connection("fmc", task_ids=[export, "4294999999"], missing_ok=True, domain="Global"),
        fsim.connection("fmc", filters={"kind": ["config_export"], "native": {"filter": "type:DEVICE_EXPORT"}}),
        fsim.connection("fmc", filters={}, domain="Lab"),
        fsim.connection("fmc", task_ids=[export], domain="Prod"),
        fsim.connection("fmc", task_ids=[export], domain=lab),
        fsim.connection("fmc", task_ids=[export], password="wrong-password"),
        fsim.connection("fmc", task_ids=["4294999999"]),
    ]
    results, _proc = ansible.cases("task_info", cases)
    results = [clean(r) for r in results]
    found = results[0]["tasks"][0]
    assert (found["state"], found["kind"], found["vendor_state"], found["found"]) == (
        "succeeded", "config_export", "COMPLETED", True)
    assert found["download_url"] == "/importExport/device/download.cgi?type=export&id=%s" % export
    assert len(found["checksum"]) == 64 and found["subtasks"][0]["target_name"] == "ftd-1"
    missing = results[1]["tasks"][1]
    assert (missing["found"], missing["state"]) == (False, "unknown")
    assert "was not found" in missing["message"]
    assert [t["id"] for t in results[2]["tasks"]] == [export]
    assert results[3]["tasks"] == []
    assert results[4]["failed"] and results[4]["msg"] == (
        "fmc: domain 'Prod' does not exist; known domains: Global (%s), Global/Lab "
        "(5a8c3b1e-62b1-4c7e-9a4f-1d2e3f405162)" % GLOBAL)
    assert results[5]["failed"] and "does not exist" in results[5]["msg"]
    assert results[6]["failed"] and results[6]["msg"] == (
        "fmc /api/fmc_platform/v1/auth/generatetoken HTTP 401: credentials for user 'admin' were refused (Unauthorized)")
    assert results[7]["failed"] and "no such task: 4294999999" in results[7]["msg"]
    stats = fsim.no_session_left()
    assert stats["logins_failed"] == 1 and stats["sessions_created"] == 7


def test_a_long_wait_survives_token_expiries_and_a_429_storm(fsim, ansible):
    """A 3-hour wait is six 30-minute tokens: here a token lives 0.25 s and the wait polls for ~5 s,
    after ~3 s of 429s (the login gets three in a row: two waited out in the client, one by the waiter)."""
    fsim.fmc("config", {"token_lifetime": 0.25})
    task_id = fsim.create_tasks("fmc", 1, kind="firmware_update", duration=10.0, hold=True)[0]["id"]
    fsim.control("fmc", "config", {"burst": {"status": 429, "count": 3, "retry_after": 1}})
    args = fsim.connection("fmc", task_ids=[task_id], interval=0.2, timeout=60, max_interval=1)
    result, _proc = ansible.module("task_wait", args)
    clean(result)
    assert not result.get("failed"), result
    task = result["tasks"][0]
    assert (task["state"], task["kind"], task["vendor_state"]) == ("succeeded", "deployment", "SUCCEEDED")
    assert [s["status"] for s in task["subtasks"]] == ["SUCCESS"] * 3
    counters = fsim.counters()
    renewals = counters["tokens_refreshed"] + counters["tokens_generated"] - 1
    assert renewals >= 5, (counters, result)  # each is a token that expired during the wait
    print("token renewals during the wait: %d (%d refreshes, %d new tokens), %d polls, %.1f s" % (
        renewals, counters["tokens_refreshed"], counters["tokens_generated"], result["polls"], result["elapsed"]))
    assert counters["tokens_generated"] >= 2 and counters["refreshes_refused"] == 0  # 3 refreshes, then new
    assert counters["tokens_revoked"] == 1
    stats = fsim.stats("fmc")
    assert stats["sessions_open"] == 0, stats  # the renewed sessions were revoked or ran out, none leaked
    assert stats["requests"]["POST /api/fmc_platform/v1/auth/generatetoken"] >= 3 + counters["tokens_generated"]


def test_forks_waiting_on_one_fmc_share_one_request_budget(fsim, tmp_path):
    """Four forks wait on the same FMC as the same user, each polling every second: together they want about
    twice what the FMC allows a minute (here 12, the budget 10), so the shared budget has to pace them; the FMC
    answers no 429 at all. (Each fork pacing alone would send its own 10 a minute: 40.)"""
    fsim.fmc("config", {"rate_limit": 12, "rate_window": 60})
    made = fsim.create_tasks("fmc", 4, kind="other", duration=2.0)
    conn = fsim.connection("fmc")
    hosts = dict(("fork%d" % n, {"task_id": m["id"]}) for n, m in enumerate(made))
    (tmp_path / "inventory.yml").write_text(json.dumps({"all": {"hosts": hosts, "vars": {
        "ansible_python_interpreter": sys.executable}}}))
    (tmp_path / "play.yml").write_text(json.dumps([{"name": "Four forks, one FMC", "hosts": "all", "gather_facts": False,
                                                    "tasks": [{"name": "Wait", "taskstatus.infra.task_wait": dict(
                                                        conn, task_ids=["{{ task_id }}"], interval=1, timeout=240,
                                                        max_requests_per_minute=10, progress_interval=0)}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_FORKS="4", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "inventory.yml",
                           "play.yml"], env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=400,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counters = fsim.counters()
    stats = fsim.no_session_left()
    sent = sum(n for k, n in stats["requests"].items() if "/api/" in k)
    assert counters["rate_limited"] == 0, counters
    assert counters["max_in_window"] <= 10 < sent, (counters, sent)  # paced: more than one window's worth
    print("4 forks, one FMC: %d requests, at most %d in a 60 s window, %d answered 429"
          % (sent, counters["max_in_window"], counters["rate_limited"]))


def test_example_playbook_names_the_failed_device_and_explains_a_busy_fmc(fsim, ansible):
    fsim.control("fmc", "config", {"scenario": "fail", "duration": 1.5})
    extra = {"fmc_host": fsim.host("fmc"), "fmc_user": "admin", "fmc_password": PASSWORD, "fmc_ca": fsim.ca,
             "deploy_interval": 0.25, "deploy_timeout": 60}
    proc = ansible.playbook(EXAMPLE, extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Failed devices:" in out and "ftd-3 (" in out and FAIL_TEXT in out, out
    assert "ftd-1 (" not in out.split("Failed devices:")[1].split("\n")[0]
    assert "Traceback" not in out and PASSWORD not in out
    fsim.no_session_left()
    body = {"error": {"category": "FRAMEWORK", "severity": "ERROR", "messages": [
        {"description": "Another deployment is in progress for ftd-1; a device takes one deployment at a time."}]}}
    path = "/api/fmc_config/v1/domain/%s/deployment/deploymentrequests" % GLOBAL
    fsim.control("fmc", "config", {"respond": {"path": path, "method": "POST", "status": 500, "body": body}})
    proc = ansible.playbook(EXAMPLE, extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "The FMC refused the deployment: Another deployment is in progress" in out, out
    assert "wait for its task, then run this again" in out
    fsim.no_session_left()


def test_cdfmc_wait_names_the_failed_device_and_a_bad_token_fails_at_once(fsim, ansible):
    task_id = fsim.create_tasks("cdfmc", 1, kind="firmware_update", scenario="critical", duration=1.0)[0]["id"]
    cases = [
        fsim.connection("cdfmc", task_ids=[task_id], interval=0.25, timeout=30),
        fsim.connection("cdfmc", task_ids=[task_id], token="not-the-token", timeout=30),
        fsim.connection("cdfmc", task_ids=[task_id], token="not-the-token", domain=GLOBAL, timeout=30),
    ]
    results, _proc = ansible.cases("task_wait", cases)
    results = [clean(r) for r in results]
    first = results[0]
    assert first["failed"] and not first["timed_out"]
    assert first["tasks"][0]["vendor_state"] == "SUCCEEDED" and first["tasks"][0]["state"] == "failed"
    assert "ftd-3" in first["msg"] and FAIL_TEXT in first["msg"]
    assert results[1]["failed"] and "HTTP 401: the API token was refused (Access token invalid.)" in results[1]["msg"]
    assert results[2]["failed"] and "the API token was refused" in results[2]["msg"]
    assert results[1]["msg"].count("not-the-token") == 0


def test_two_hundred_tasks_stay_under_the_rate_limit(fsim):
    """The FMC's 120/min with the minute scaled to 3 s on both sides (sim and client)."""
    window = 3.0
    fsim.fmc("config", {"rate_limit": 120, "rate_window": window})
    ids = [m["id"] for m in fsim.create_tasks("fmc", 200, kind="other", duration=1.0)]

    class Scaled(_fmc.FmcAdapter):
        RATE_WINDOW = window

    fmc, deadline = adapter(fsim, cls=Scaled, timeout=120)
    with fmc:
        outcome = Waiter(fmc, deadline, interval=0.5).wait(ids)
    assert not outcome.failed, outcome.msg
    assert [t.state for t in outcome.tasks] == ["succeeded"] * 200
    counters = fsim.counters()
    stats = fsim.no_session_left()
    api_requests = sum(n for k, n in stats["requests"].items() if "/api/" in k)
    print("200-task wait: %d polls, %d API requests, at most %d in one %.0f s window (limit 120), %d answered 429, "
          "%.1f s paced" % (outcome.polls, api_requests, counters["max_in_window"], window,
                            counters["rate_limited"], fmc.http.limiter.waited))
    assert counters["rate_limited"] == 0 and fmc.stats["rate_limited"] == 0
    assert counters["max_in_window"] <= 120  # the client sends at most 110 a window
    assert api_requests >= 200 * outcome.polls and fmc.http.limiter.waited > 0


def test_spent_refresh_budget_falls_back_to_a_new_token(fsim):
    fsim.fmc("config", {"token_lifetime": 0.3, "max_refreshes": 1})
    task_id = fsim.create_tasks("fmc", 1, kind="other", duration=2.0)[0]["id"]
    fmc, deadline = adapter(fsim)
    with fmc:
        outcome = Waiter(fmc, deadline, interval=0.2).wait([task_id])
    assert not outcome.failed and outcome.tasks[0].state == "succeeded", outcome.msg
    counters = fsim.counters()
    # A token may be refreshed once here, not three times: the client finds out and logs in again.
    assert counters["tokens_generated"] >= 2 and counters["tokens_refreshed"] <= counters["tokens_generated"], counters
    assert fmc.stats["refresh_refused"] >= 1 and fmc.stats["generated"] == counters["tokens_generated"]
    fsim.no_session_left()


def test_grace_for_a_new_task_and_a_task_that_goes_away(fsim):
    fsim.fmc("config", {"visible_after": 1.0})
    fmc, deadline = adapter(fsim)
    with fmc:
        deploy = fmc.transmit("POST", "/api/fmc_config/v1/domain/%s/deployment/deploymentrequests" % GLOBAL,
                              headers=fmc.credentials()[0])
        assert deploy.status == 400 and "Invalid deviceList" in fmc.why(deploy)
        made = fsim.fmc("config")  # the device ids
        resp = requests.post(fsim.url("fmc", "/api/fmc_config/v1/domain/%s/deployment/deploymentrequests" % GLOBAL),
                             json={"type": "DeploymentRequest", "version": "1", "deviceList": [made["ftds"][0]["id"]]},
                             headers=fmc.credentials()[0], verify=fsim.ca, timeout=10)
        task_id = resp.json()["metadata"]["task"]["id"]
        first = fmc.poll([task_id])[0]
        assert first.found and first.state == "pending" and "not found yet" in first.message
        outcome = Waiter(fmc, deadline, interval=0.2).wait([task_id])
        assert outcome.tasks[0].state == "succeeded" and outcome.tasks[0].target == "ftd-1", outcome.msg
        # Held: its clock starts at the wait's first read, which must see it before it goes.
        gone = fsim.create_tasks("fmc", 1, kind="other", scenario="delete", duration=0.6, hold=True)[0]["id"]
        outcome = Waiter(fmc, deadline, interval=0.2).wait([gone])
        assert outcome.failed and outcome.tasks[0].gone and "gone" in outcome.msg
    fsim.no_session_left()


def test_tokens_are_renewed_before_they_expire(fsim):
    """The client's own clock: refresh before the end of the token's life, 3 times, then a new token."""
    fsim.fmc("config", {"token_lifetime": 0.6})
    task_id = fsim.create_tasks("fmc", 1, kind="other", duration=3.5)[0]["id"]

    class Short(_fmc.FmcAdapter):
        TOKEN_LIFETIME = 0.6
        TOKEN_MARGIN = 0.25

    fmc, deadline = adapter(fsim, cls=Short)
    with fmc:
        outcome = Waiter(fmc, deadline, interval=0.1).wait([task_id])
    assert not outcome.failed, outcome.msg
    counters = fsim.counters()
    assert fmc.stats["token_refused"] == 0, (fmc.stats, counters)  # never waited for a 401
    assert counters["tokens_generated"] >= 2 and counters["tokens_refreshed"] >= 3
    assert counters["tokens_revoked"] == counters["tokens_generated"]  # a spent token is revoked, not dropped
    stats = fsim.no_session_left()
    assert stats["sessions_expired"] == 0


def test_check_mode_looks_once_and_tolerates_ids_not_created_yet(fsim, ansible):
    running = fsim.create_tasks("fmc", 1, kind="firmware_update", duration=30, started_ago=5)[0]["id"]
    cases = [fsim.connection("fmc", task_ids=[running, "4294999998"], timeout=30)]
    results, _proc = ansible.cases("task_wait", cases, check=True)
    result = clean(results[0])
    assert not result.get("failed") and result["polls"] == 1, result
    assert result["msg"].startswith("check mode: looked once and did not wait.")
    assert [t["state"] for t in result["tasks"]] == ["running", "pending"]
    assert "not found yet" in result["tasks"][1]["message"]
    fsim.no_session_left()
