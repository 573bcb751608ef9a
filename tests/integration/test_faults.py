"""Fault injection: the modules against slow, hostile and odd answers, over HTTPS, all cases in one play.

Every case runs its own module call against its own simulated device (one inventory host per case, all at
once, ``-vvv``), and every case asserts: success, or a clear error that names the platform and what went
wrong; no traceback; done within timeout + request_timeout + a few seconds; no session left open on the
device; and no password, token or CSRF token anywhere in the ``-vvv`` output of the whole play.
"""

import email.utils
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from harness import PASSWORD, TARGETS, clean, running_simulator, signalled_wait

TASKS = "/redfish/v1/TaskService/Tasks/"
SESSIONS = "/redfish/v1/SessionService/Sessions"
FMC_TASKS = "/api/fmc_config/v1/domain/e276abec-e0f2-11e3-8169-6d9ed49b625f/job/taskstatuses/"
SLACK = 6.0  # seconds a case may take beyond timeout + request_timeout (a loaded 2-core machine)


class Case:
    """One fault: the device it runs against, how to set it up, the module call, what must come out."""

    def __init__(self, name, device, setup, module="task_wait", ok=False, words=(), check=None):
        self.name, self.device, self.setup, self.module = name, device, setup, module
        self.ok, self.words, self.check = ok, tuple(words), check
        self.args = None


def wait(sim, dev, **args):
    """The module arguments of a short wait on ``dev``."""
    call = dict(sim.connection(dev), interval=0.5, timeout=6, request_timeout=2, unreachable_timeout=30)
    call.update(args)
    return call


def respond(sim, dev, *rules):
    sim.control(dev, "config", {"respond": list(rules)})


def task(sim, dev, **spec):
    return sim.create_tasks(dev, 1, **spec)[0]


def redfish_task(task_id, state="Running", **extra):
    body = {"@odata.id": TASKS + task_id, "@odata.type": "#Task.v1_7_4.Task", "Id": task_id, "Name": "Task " + task_id,
            "TaskState": state, "TaskStatus": "OK"}
    body.update(extra)
    return body


# --- setups ------------------------------------------------------------------------------------------

def slow_logout(sim, dev):
    # Every answer 0.3 s late: the last poll ends past the deadline; the logout must still be sent.
    sim.control(dev, "config", {"latency": 0.3})
    made = task(sim, dev, scenario="stuck", duration=30)
    return wait(sim, dev, task_ids=[made["id"] if sim.devices[dev]["platform"] != "xclarity" else "task:" + made["id"]],
                timeout=2.5)


def refused_sessions(sim, dev):
    # The first read works, then every read is answered 401: a new login each time, capped, each deleted.
    made = task(sim, dev, scenario="stuck", duration=30)
    respond(sim, dev, {"path": made["task_uri"], "status": 401, "count": -1, "after": 1,
                       "body": {"error": {"code": "Base.1.8.NoValidSession", "message": "No valid session."}}})
    return wait(sim, dev, task_ids=[made["id"]], timeout=20)


def expired_mid_wait(sim, dev):
    sim.control(dev, "config", {"session_timeout": 0.8})
    made = task(sim, dev, scenario="success", duration=3.5)
    return wait(sim, dev, task_ids=[made["id"]], interval=1.2, timeout=15)


def redirect_login_elsewhere(sim, dev):
    other = sim.host("f_other")
    respond(sim, dev, {"path": SESSIONS, "method": "POST", "status": 307, "count": -1,
                       "headers": {"Location": "https://%s%s" % (other, SESSIONS)}})
    return wait(sim, dev, task_ids=["1"], auth_method="session")


def redirect_task_elsewhere(sim, dev):
    done = task(sim, "f_other", scenario="success", duration=0)
    respond(sim, dev, {"path": TASKS + "away", "status": 302, "count": -1,
                       "headers": {"Location": "https://%s%s" % (sim.host("f_other"), done["task_uri"])}})
    return wait(sim, dev, task_ids=["away"])


def redirect_same_host(sim, dev):
    made = task(sim, dev, scenario="success", duration=1)
    respond(sim, dev, {"path": TASKS + "alias", "status": 301, "count": -1, "headers": {"Location": made["task_uri"]}})
    return wait(sim, dev, task_ids=["alias"], timeout=15)


def redirect_body(sim, dev):
    respond(sim, dev, {"path": SESSIONS, "method": "POST", "status": 308, "count": -1,
                       "headers": {"Location": SESSIONS + "/again"}})
    return wait(sim, dev, task_ids=["1"], auth_method="session")


def jobservice_running(sim, dev):
    job = {"@odata.id": "/redfish/v1/JobService/Jobs/7", "@odata.type": "#Job.v1_2_4.Job", "Id": "7",
           "Name": "Firmware job", "JobState": "Running", "PercentComplete": 40}
    respond(sim, dev, {"path": "/redfish/v1/JobService/Jobs/7", "status": 200, "count": -1, "body": job})
    return wait(sim, dev, task_ids=["/redfish/v1/JobService/Jobs/7"], timeout=2)


def system_is_no_task(sim, dev):
    system = {"@odata.id": "/redfish/v1/Systems/1", "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
              "Id": "1", "PowerState": "On"}
    respond(sim, dev, {"path": "/redfish/v1/Systems/1", "status": 200, "count": -1, "body": system})
    return wait(sim, dev, task_ids=["/redfish/v1/Systems/1"])


def monitor_names_itself(sim, dev):
    loop = "/redfish/v1/TaskMonitors/loop"
    respond(sim, dev, {"path": loop, "status": 202, "count": -1, "headers": {"Retry-After": "1"},
                       "body": {"@odata.id": loop, "TaskState": "Running", "PercentComplete": 5}})
    return wait(sim, dev, task_ids=[loop], timeout=3)


def monitor_link_with_ip(sim, dev):
    # Reached as localhost; the Task names its monitor with the BMC's IP address.
    monitor = "/redfish/v1/TaskService/TaskMonitors/99"
    respond(sim, dev, {"path": monitor, "status": 204, "count": -1},
            {"path": TASKS + "99", "status": 200, "count": -1, "body": redfish_task(
                "99", "Completed", PercentComplete=100, TaskMonitor="https://%s%s" % (sim.host(dev), monitor))})
    return wait(sim, dev, host=sim.host(dev).replace("127.0.0.1", "localhost"), task_ids=[monitor])


def session_location_elsewhere(sim, dev):
    sim.control(dev, "config", {"session_location": "https://127.0.0.1:443"})
    made = task(sim, dev, scenario="success", duration=1)
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def wrong_type_redfish(sim, dev):
    made = task(sim, dev, scenario="success", duration=2)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": 1, "body": redfish_task(
        made["id"], Messages=7, PercentComplete="half", Name={"x": 1}, Payload=[1], Oem="dell")})
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def wrong_type_fmc(sim, dev):
    made = task(sim, dev, scenario="success", duration=2)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": 1, "body": {
        "id": made["id"], "type": "TaskStatus", "taskType": "DEVICE_EXPORT", "status": "Running", "subTasks": 5,
        "metadata": "x", "message": ["a"]}})
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def wrong_type_xclarity(sim, dev):
    made = task(sim, dev, scenario="success", duration=2)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": 1, "body": [{
        "jobUID": made["id"], "status": "Running", "children": 3, "percentage": [50], "name": 7}]})
    return wait(sim, dev, task_ids=["task:" + made["id"]], timeout=15)


def wrong_type_vsphere(sim, dev):
    made = task(sim, dev, scenario="success", duration=2)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": 1, "body": {
        "status": "FAILED", "error": {"messages": 3}, "progress": {"total": 10 ** 400, "completed": 1},
        "target": [1], "description": 5}})
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def garbage_mid_wait(sim, dev):
    made = task(sim, dev, scenario="stuck", duration=30)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": -1, "after": 1,
                       "content_type": "text/html", "body": "<html><body>Maintenance</body></html>"})
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def empty_selection(until):
    def setup(sim, dev):
        return wait(sim, dev, filters={"kind": ["config_export"], "state": ["pending", "running"]}, until=until)
    return setup


def empty_allowed(sim, dev):
    return wait(sim, dev, filters={"kind": ["config_export"], "state": ["pending", "running"]}, allow_empty=True)


def server_error_then_fine(path_of, body):
    def setup(sim, dev):
        made = task(sim, dev, scenario="success", duration=1)
        respond(sim, dev, {"path": path_of(made), "status": 500, "count": 4, "body": body})
        task_id = made["id"] if sim.devices[dev]["platform"] != "xclarity" else "task:" + made["id"]
        return wait(sim, dev, task_ids=[task_id], timeout=20)
    return setup


def cut_short(sim, dev):
    made = task(sim, dev, scenario="stuck", duration=30)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": -1, "truncate": 12,
                       "body": redfish_task(made["id"])})
    return wait(sim, dev, task_ids=[made["id"]], timeout=4)


def storm(status, retry_after):
    def setup(sim, dev):
        made = task(sim, dev, scenario="success", duration=0.5)
        value = retry_after() if callable(retry_after) else retry_after
        respond(sim, dev, {"path": made["task_uri"], "status": status, "count": 3,
                           "headers": {"Retry-After": value},
                           "body": {"error": {"code": "Base.1.8.ServiceTemporarilyUnavailable", "message": "busy"}}})
        return wait(sim, dev, task_ids=[made["id"]], timeout=12)
    return setup


def canned_body(**rule):
    def setup(sim, dev):
        made = task(sim, dev, scenario="stuck", duration=30)
        respond(sim, dev, dict(rule, path=made["task_uri"], count=-1))
        return wait(sim, dev, task_ids=[made["id"]], timeout=5, request_timeout=1.5)
    return setup


def session_table_full(sim, dev):
    sim.control(dev, "config", {"session_limit": 0})
    made = task(sim, dev, scenario="success", duration=0.5)
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def rac0218(sim, dev):
    body = {"error": {"code": "Base.1.12.GeneralError", "message": "A general error has occurred.",
                      "@Message.ExtendedInfo": [{"MessageId": "IDRAC.2.8.RAC0218", "Severity": "Critical",
                                                 "Message": "The maximum number of user sessions is reached."}]}}
    respond(sim, dev, {"path": SESSIONS, "method": "POST", "status": 400, "count": -1, "body": body})
    made = task(sim, dev, scenario="success", duration=0.5)
    return wait(sim, dev, task_ids=[made["id"]], timeout=15)


def wrong_password(sim, dev):
    return wait(sim, dev, task_ids=["1"], password="not-the-password")


def typo_in_states(sim, dev):
    return wait(sim, dev, task_ids=["1"], states=["sucess"])


def untrusted(sim, dev):
    return wait(sim, dev, task_ids=["1"], ca_path=None)


def name_mismatch(sim, dev):
    return dict(wait(sim, dev, task_ids=["1"]), host=sim.mismatch_host, ca_path=sim.mismatch_ca)


def xclarity_complete_with_failed_child(sim, dev):
    made = task(sim, dev, scenario="stuck", duration=30)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": -1, "body": [{
        "jobUID": made["id"], "name": "Firmware update", "status": "Complete", "percentage": 100,
        "children": [{"jobUID": "81", "name": "Flash node 1", "status": "Complete"},
                     {"jobUID": "82", "name": "Flash node 2", "status": "Stopped_With_Error"}]}]})
    return wait(sim, dev, task_ids=["task:" + made["id"]])


def fmc_succeeded_with_failed_device(sim, dev):
    made = task(sim, dev, scenario="stuck", duration=30)
    respond(sim, dev, {"path": made["task_uri"], "status": 200, "count": -1, "body": {
        "id": made["id"], "type": "TaskStatus", "taskType": "DEVICE_DEPLOYMENT", "status": "SUCCEEDED",
        "subTasks": [{"target": {"name": "ftd-1", "id": "d1"}, "status": "SUCCEEDED"},
                     {"target": {"name": "ftd-2", "id": "d2"}, "status": "FAILED", "message": "no route"}]}})
    return wait(sim, dev, task_ids=[made["id"]])


# --- checks --------------------------------------------------------------------------------------------

def sessions_created_at_most(count):
    def check(result, stats, sim):
        assert stats["sessions_created"] <= count, stats
    return check


def other_device_untouched(result, stats, sim):
    assert sim.stats("f_other")["requests_total"] == 0, sim.stats("f_other")


def no_request(result, stats, sim):
    assert stats["requests_total"] == 0, stats


def kept_partial(result, stats, sim):
    assert result["polls"] >= 2 and result["elapsed"] > 0, result
    assert result["tasks"][0]["state"] in ("pending", "running"), result  # what the last good poll saw


def state_is(state):
    def check(result, stats, sim):
        assert [t["state"] for t in result["tasks"]] == [state], result
    return check


def used_basic(result, stats, sim):
    assert stats["sessions_created"] == 0, stats
    assert any("used HTTP Basic authentication instead" in w for w in result.get("warnings", [])), result


def logins_failed_once(result, stats, sim):
    assert stats["logins_failed"] == 1 and stats["requests_total"] <= 2, stats


def http_date(seconds):
    return lambda: email.utils.formatdate(time.time() + seconds, usegmt=True)


CASES = [
    # 1: a timed-out wait closes its session whatever the platform, however slow the last answer
    Case("slow_logout_redfish", "redfish", slow_logout, words=["timed out after"]),
    Case("slow_logout_vsphere", "vsphere", slow_logout, words=["timed out after"]),
    Case("slow_logout_fmc", "fmc", slow_logout, words=["timed out after"]),
    Case("slow_logout_xclarity", "xclarity", slow_logout, words=["timed out after"]),
    # 2: a 401 ends the old session before a new login, and refused re-logins are capped
    Case("refused_sessions", "redfish", refused_sessions,
         words=["refused the session 3 times in a row", "account is not locked out"],
         check=sessions_created_at_most(4)),
    Case("expired_mid_wait", "redfish", expired_mid_wait, ok=True),
    # 3: redirects: never to another origin, never a body again, same-origin reads are followed
    Case("redirect_login_elsewhere", "redfish", redirect_login_elsewhere,
         words=["HTTP 307", "redirected from https://127.0.0.1:", "no redirect to another scheme, host or port"],
         check=other_device_untouched),
    Case("redirect_task_elsewhere", "redfish", redirect_task_elsewhere,
         words=["/redfish/v1/TaskService/Tasks/away HTTP 302", "no redirect to another"], check=other_device_untouched),
    Case("redirect_same_host", "redfish", redirect_same_host, ok=True, check=state_is("succeeded")),
    Case("redirect_body", "redfish", redirect_body, words=["HTTP 308", "a request with a body is not sent again"]),
    # 4: a 200 is no success by itself
    Case("jobservice_running", "redfish", jobservice_running, words=["timed out after"], check=state_is("running")),
    Case("system_is_no_task", "redfish", system_is_no_task, words=["is a ComputerSystem resource, not a task"]),
    # 5: server links are followed at most once; a link with the BMC's IP is compared by path
    Case("monitor_names_itself", "redfish", monitor_names_itself, words=["timed out after"]),
    Case("monitor_link_with_ip", "redfish", monitor_link_with_ip, ok=True, check=state_is("succeeded")),
    # 6: a session Location with another authority is deleted by its path
    Case("session_location_elsewhere", "redfish", session_location_elsewhere, ok=True),
    # 7: fields of the wrong type; an error mid-wait keeps what the wait knew
    Case("wrong_type_redfish", "redfish", wrong_type_redfish, ok=True),
    Case("wrong_type_fmc", "fmc", wrong_type_fmc, ok=True),
    Case("wrong_type_xclarity", "xclarity", wrong_type_xclarity, ok=True),
    Case("wrong_type_vsphere", "vsphere", wrong_type_vsphere, words=["1 of 1 tasks failed"]),
    Case("garbage_mid_wait", "redfish", garbage_mid_wait, words=["HTTP 200", "is HTML"], check=kept_partial),
    # 8: nothing to wait for is no success unless allowed
    Case("empty_all", "redfish", empty_selection("all"), words=["nothing to wait for", "allow_empty=true"]),
    Case("empty_any", "redfish", empty_selection("any"), words=["nothing to wait for", "allow_empty=true"]),
    Case("empty_allowed", "redfish", empty_allowed, ok=True),
    # 10: one classification: a 5xx with an error body is transient on every platform
    Case("error_500_redfish", "redfish", server_error_then_fine(lambda m: m["task_uri"], {"error": {
        "code": "Base.1.8.InternalError", "message": "The request failed due to an internal service error."}}),
        ok=True),
    Case("error_500_vsphere", "vsphere", server_error_then_fine(lambda m: m["task_uri"], {
        "error_type": "RESOURCE_INACCESSIBLE", "messages": [{"id": "x", "default_message": "busy"}]}), ok=True),
    Case("error_500_fmc", "fmc", server_error_then_fine(lambda m: m["task_uri"], {"error": {
        "category": "FRAMEWORK", "messages": [{"description": "Internal server error"}], "severity": "ERROR"}}),
        ok=True),
    Case("error_500_xclarity", "xclarity", server_error_then_fine(lambda m: m["task_uri"], {
        "result": "failed", "messages": [{"id": "FQXHMSE0001J", "text": "internal error"}]}), ok=True),
    # 11: an answer cut short is said, not "never answered"
    Case("cut_short", "redfish", cut_short, words=["timed out after", "no poll succeeded", "cut off after 12 bytes (shorter than its Content-Length)"]),
    # 12: TLS: the real reason
    Case("untrusted_ca", "redfish", untrusted, words=["TLS verification of", "not trusted"]),
    Case("name_mismatch", "redfish", name_mismatch, words=["TLS verification of", "host-name mismatch"]),
    # storms, every form of Retry-After
    Case("storm_503_seconds", "redfish", storm(503, "1"), ok=True),
    Case("storm_503_http_date", "redfish", storm(503, http_date(2)), ok=True),
    Case("storm_503_negative", "redfish", storm(503, "-5"), ok=True),
    # Retry-After is honoured up to 120 s: a wait of 12 s ends in a timeout that names the last answer
    Case("storm_503_huge", "redfish", storm(503, "100000"), words=["timed out after", "HTTP 503", "busy"]),
    Case("storm_503_garbage", "redfish", storm(503, "soon, maybe"), ok=True),
    Case("storm_429", "redfish", storm(429, "1"), ok=True),
    # bodies: HTML, a list, 40 MB, a server that never answers, one that trickles
    Case("html_body", "redfish", canned_body(status=200, content_type="text/html", body="<html>Login</html>"),
         words=["HTTP 200", "is HTML"]),
    Case("list_body", "redfish", canned_body(status=200, body=[{"TaskState": "Completed"}]),
         words=["HTTP 200", "a JSON array where the API documents an object"]),
    Case("huge_body", "redfish", canned_body(status=200, size=40 * 1024 * 1024), words=["larger than 32 MiB"]),
    Case("never_answers", "redfish", canned_body(status=200, delay=3600, body={}),
         words=["timed out after", "no poll succeeded", "no answer within", "(request_timeout)"]),
    Case("trickles", "redfish", canned_body(status=200, trickle=4.0, body=redfish_task("t", "Completed")),
         words=["timed out after", "no poll succeeded", "took longer than", "to arrive"]),
    # sessions: table full (503, and the iDRAC's 400 RAC0218), wrong password
    Case("session_table_full", "redfish", session_table_full, ok=True, check=used_basic),
    Case("session_table_full_rac0218", "redfish", rac0218, ok=True, check=used_basic),
    Case("wrong_password", "redfish", wrong_password, words=["HTTP 401", "credentials for user 'admin' were refused"],
         check=logins_failed_once),
    # 15 and 16
    Case("typo_in_states", "redfish", typo_in_states, words=["option states: 'sucess' (did you mean 'success'?)"],
         check=no_request),
    Case("xclarity_failed_child", "xclarity", xclarity_complete_with_failed_child,
         words=["1 of 1 tasks failed", "Flash node 2", "did not succeed"]),
    Case("fmc_failed_device", "fmc", fmc_succeeded_with_failed_device,
         words=["1 of 1 tasks failed", "ftd-2 (d2): FAILED - no route"]),
]


@pytest.fixture(scope="module")
def fault_sim(tmp_path_factory):
    devices = {"f_" + c.name: c.device for c in CASES}
    devices["f_other"] = "redfish"
    for sim in running_simulator(tmp_path_factory, devices):
        # a second simulator whose certificate is issued for another name: a host-name mismatch
        for other in running_simulator(tmp_path_factory, {"m": "redfish"}, options=["--cert-name", "bmc.example.test"]):
            sim.mismatch_host, sim.mismatch_ca = other.host("m"), other.ca
            yield sim


@pytest.fixture(scope="module")
def fault_run(fault_sim, tmp_path_factory):
    """Set every case up, run them all in one -vvv play, return (results, output, seconds)."""
    work = tmp_path_factory.mktemp("faults")
    hosts = {}
    for case in CASES:
        case.args = case.setup(fault_sim, "f_" + case.name)
        hosts[case.name] = {"case_module": case.module, "case_args": case.args}
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"cases": {"hosts": hosts, "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "result_dir": str(work)}}}))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORKS=str(len(CASES)), ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_DEPRECATION_WARNINGS="0", ANSIBLE_HOST_KEY_CHECKING="0")
    env.pop("TASKSTATUS_PASSWORD", None)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvv", "-i",
                           str(inventory), os.path.join(TARGETS, "fault_cases.yml")], env=env, capture_output=True,
                          text=True, timeout=600, check=False, cwd=str(work))
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = {}
    for case in CASES:
        with open(work / ("%s.json" % case.name), encoding="utf-8") as handle:
            results[case.name] = json.load(handle)
    return results, proc.stdout + proc.stderr, seconds


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case, fault_run, fault_sim):
    results, _output, _seconds = fault_run
    result = clean(results[case.name])
    dev = "f_" + case.name
    if case.ok:
        assert not result.get("failed"), result
    else:
        assert result.get("failed"), result
        for words in case.words:
            assert words in result["msg"], (words, result["msg"])
    if case.module == "task_wait" and "elapsed" in result:
        bound = case.args.get("timeout", 6) + case.args.get("request_timeout", 2) + SLACK
        assert result["elapsed"] <= bound, (result["elapsed"], bound)
        assert {"tasks", "polls", "timed_out", "msg"} <= set(result), result
    stats = fault_sim.stats(dev)
    assert stats["sessions_open"] == 0, stats
    if case.check:
        case.check(result, stats, fault_sim)


def test_no_secret_in_the_verbose_output(fault_run, fault_sim):
    _results, output, _seconds = fault_run
    secrets = {PASSWORD, "not-the-password"}
    for name in fault_sim.devices:
        secrets.update(fault_sim.stats(name)["secrets"])
    assert len(secrets) > 20  # sessions, FMC access and refresh tokens, XClarity CSRF tokens were handed out
    leaked = [s for s in secrets if s in output]
    assert not leaked, [output[max(0, output.index(s) - 200):output.index(s) + 50] for s in leaked[:3]]


def test_the_whole_play_stays_within_its_longest_case(fault_run):
    _results, _output, seconds = fault_run
    longest = max(c.args.get("timeout", 6) + c.args.get("request_timeout", 2) for c in CASES)
    # generous: the play starts ~50 module runs at once on two cores
    assert seconds <= longest + 120, seconds


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_the_wait_with_the_session_closed(signum, fault_sim, tmp_path):
    """An AWX cancel or an ansible-runner timeout (SIGTERM) and Ctrl-C (SIGINT), sent to the whole process
    group as a terminal or a container stop does: the wait ends and the session is deleted."""
    dev = "f_other"
    fault_sim.control(dev, "reset")
    made = task(fault_sim, dev, scenario="stuck", duration=600)
    args = wait(fault_sim, dev, task_ids=[made["id"]], timeout=300)

    def started():
        if fault_sim.stats(dev)["requests"].get("GET " + made["task_uri"], 0) < 2:
            return False
        assert fault_sim.stats(dev)["sessions_open"] == 1
        return True

    signalled_wait(tmp_path, args, started, signum)
    fault_sim.no_session_left_after_signal(dev)
    stats = fault_sim.stats(dev)
    assert stats["sessions_open"] == 0 and stats["sessions_deleted"] == 1, stats
