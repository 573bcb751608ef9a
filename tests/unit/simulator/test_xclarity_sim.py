"""The XClarity simulator: sessions + CSRF, exports 0 -> 50 -> 100, 409, jobs and tasks.

Every JSON answer checked here is validated against
tests/simulator/data/xclarity_schemas.json (written from the seed and from
Lenovo's own clients; shared/specs has no XClarity document).
"""

import time

import jsonschema
import pytest
import requests

from simulator import Simulator
from simulator.xclarity import schemas

DEVICES = [
    {"name": "lxca", "platform": "xclarity", "vendor": "lxca"},
    {"name": "lxco", "platform": "xclarity", "vendor": "lxco"},
    {"name": "lower", "platform": "xclarity", "vendor": "tasktype-only"},
    {"name": "camel", "platform": "xclarity", "vendor": "taskType-only"},
]
SCHEMAS = schemas()


def valid(data, name):
    jsonschema.validate(data, {"$ref": "#/definitions/" + name, "definitions": SCHEMAS["definitions"]})
    return data


@pytest.fixture(scope="module")
def xsim(tmp_path_factory):
    sim = Simulator(tmp_path_factory.mktemp("xsim"), devices=DEVICES, duration=1.0, reboot_seconds=0.5)
    sim.start()
    yield sim
    sim.stop()


class Lxca:
    def __init__(self, sim, name):
        self.sim, self.name = sim, name
        self.base = sim.url(name)
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = sim.ca_cert

    def login(self, password="password", echo=True):
        resp = self.http.post(self.base + "/sessions", json={"UserId": "admin", "password": password}, timeout=5)
        if resp.status_code == 200 and echo:
            self.http.headers["X-Csrf-Token"] = self.http.cookies["csrf"]
        return resp

    def call(self, method, path, **kwargs):
        return self.http.request(method, self.base + path, timeout=5, **kwargs)

    def export(self, fixids=("lnvgy_fw_xcc_1.0",)):
        return self.call("PUT", "/updateRepositories/firmware?action=export", json={"fixids": list(fixids)})

    def status(self, taskid, spelling="tasktype"):
        return self.call("GET", "/updateRepositories/firmware/status",
                         params={spelling: "EXPORTREPOSITORY", "taskid": taskid})

    def stats(self):
        return self.http.get(self.base + "/_sim/stats", timeout=5).json()


@pytest.fixture
def lxca(xsim):
    xsim.reset()
    made = []

    def make(name="lxca"):
        made.append(Lxca(xsim, name))
        return made[-1]

    yield make
    for client in made:
        client.http.close()


def test_session_cookies_csrf_and_logout(lxca):
    c = lxca()
    resp = c.login()
    assert resp.status_code == 200
    assert set(c.http.cookies.keys()) >= {"JSESSIONID", "csrf", "inactivityTimeout", "user"}
    assert resp.json()["csrf"] == c.http.cookies["csrf"]
    assert c.call("GET", "/aicc").status_code == 200
    assert c.stats()["sessions_open"] == 1
    assert c.call("DELETE", "/sessions").status_code == 200
    assert c.stats()["sessions_open"] == 0
    assert c.call("GET", "/jobs").status_code == 401  # the cookie is dead now


def test_missing_or_wrong_csrf_is_403(lxca):
    c = lxca()
    assert c.login(echo=False).status_code == 200
    resp = c.call("GET", "/jobs")
    assert resp.status_code == 403 and "X-Csrf-Token" in resp.json()["messages"][0]["text"]
    assert c.call("GET", "/jobs", headers={"X-Csrf-Token": "not-it"}).status_code == 403


def test_wrong_password_and_basic(lxca):
    c = lxca()
    resp = c.login(password="wrong")
    assert resp.status_code == 401 and resp.json()["result"] == "failure"
    assert c.stats()["logins_failed"] == 1
    assert c.call("GET", "/jobs", auth=("admin", "password")).status_code == 200
    assert c.call("GET", "/jobs", auth=("admin", "nope")).status_code == 401
    assert c.stats()["sessions_created"] == 0


def test_export_progress_409_and_tasks(lxca, wait):
    c = lxca()
    c.login()
    started = c.export()
    assert started.status_code == 200
    ids = started.json()
    conflict = c.export()
    assert conflict.status_code == 409
    assert valid(conflict.json(), "statusError")["errorMsg"]["messages"][0]["id"] == "FQXHMUP2502W"
    first = valid(c.status(ids["taskid"]).json(), "exportStatus")
    assert first["progress"] in (0, 50) and "state" not in first
    running = valid(c.status(0).json(), "exportStatusList")
    assert [r["taskIds"] for r in running] == [ids["taskid"]]
    seen = {first["progress"]}

    def done():
        body = valid(c.status(ids["taskid"]).json(), "exportStatus")
        seen.add(body["progress"])
        return body if body.get("state") else None

    final = wait(done, timeout=5)
    assert seen >= {50, 100} and final["state"] == "complete"
    assert final["downloadedsize"] == final["totalsize"] and final["errorMsg"]["messages"][0]["id"] == "FQXHMUP2500I"
    assert c.status(0).json() == []
    job = valid(c.call("GET", "/jobs/" + ids["jobid"]).json(), "job")
    assert job["status"] == {"state": "Complete", "percentage": 100}
    tasks = valid(c.call("GET", "/tasks/" + ids["jobid"]).json(), "taskList")
    assert tasks[0]["children"][0]["jobUID"] == ids["taskid"]
    assert c.export().status_code == 200  # the last one ended: a new export may start


def test_failed_export_has_error_result(lxca, wait, xsim):
    c = lxca()
    c.login()
    c.http.post(c.base + "/_sim/config", json={"scenario": "fail"}, timeout=5)
    taskid = c.export().json()["taskid"]
    body = wait(lambda: c.status(taskid).json().get("state") and c.status(taskid).json(), timeout=5)
    valid(body, "exportStatus")
    assert body["state"] == "error" and body["errorMsg"]["result"] == "failure"


@pytest.mark.parametrize("name, works, refused", [
    ("lxca", ("tasktype", "taskType"), ()), ("lxco", ("tasktype", "taskType"), ()),
    ("lower", ("tasktype",), ("taskType",)), ("camel", ("taskType",), ("tasktype",)),
])
def test_both_spellings(lxca, name, works, refused):
    c = lxca(name)
    c.login()
    taskid = c.export().json()["taskid"]
    for spelling in works:
        assert c.status(taskid, spelling).status_code == 200
    for spelling in refused:
        resp = c.status(taskid, spelling)
        assert resp.status_code == 400 and valid(resp.json(), "statusError")


@pytest.mark.parametrize("taskid", ["abc", "", "-1", "999"])
def test_bad_taskids_are_400_with_error_msg(lxca, taskid):
    c = lxca()
    c.login()
    resp = c.status(taskid)
    assert resp.status_code == 400
    assert valid(resp.json(), "statusError")["errorMsg"]["result"] == "failure"


SCENARIO_END = {"success": "Complete", "fail": "Stopped_With_Error", "cancel": "Cancelled",
                "critical": "Cancelled_With_Errors"}


@pytest.mark.parametrize("scenario", sorted(SCENARIO_END))
def test_job_states_and_multi_id_tasks(lxca, wait, scenario):
    c = lxca()
    c.login()
    new = c.http.post(c.base + "/_sim/tasks", json={"scenario": scenario, "duration": 0.8}, timeout=5).json()
    other = c.http.post(c.base + "/_sim/tasks", json={"duration": 0.8}, timeout=5).json()
    job = valid(c.call("GET", "/jobs/" + new["id"]).json(), "job")
    assert job["status"]["state"] in ("Pending", "Running", "Running_With_Errors")

    def ended():
        body = c.call("GET", "/jobs/" + new["id"]).json()
        return body if body["status"]["state"] == SCENARIO_END[scenario] else None

    end = wait(ended, timeout=5)
    valid(end, "job")
    both = valid(c.call("GET", "/tasks/%s,%s,404" % (new["id"], other["id"])).json(), "taskList")
    assert [t["jobUID"] for t in both] == [new["id"], other["id"]]  # unknown ids are left out
    assert len(both[0]["children"]) == 2
    assert c.call("GET", "/jobs/404").status_code == 404
    valid(c.call("GET", "/jobs").json(), "jobList")


def test_reboot_interrupts_the_job(lxca, wait):
    c = lxca()
    new = c.http.post(c.base + "/_sim/tasks", json={"scenario": "reboot", "duration": 0.6}, timeout=5).json()
    time.sleep(0.1)

    def state():
        try:
            return c.call("GET", "/jobs/" + new["id"], auth=("admin", "password")).json()["status"]["state"]
        except requests.ConnectionError:
            return None

    assert wait(lambda: state() == "Interrupted", timeout=6)

    # The job reads Interrupted from 50 % on; the reboot itself is a timer that may fire a moment later and
    # cut the kept-alive connection that read it: ask again on a new one until the reboot is counted.
    def rebooted():
        try:
            return c.stats()["reboots"] == 1
        except requests.ConnectionError:
            return False

    assert wait(rebooted, timeout=6)
