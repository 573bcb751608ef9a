"""The FMC/cdFMC simulator: token life cycle, rate limit, domains, deployments, and every
kind of answer validated against Cisco's cdFMC OpenAPI documents in shared/specs/fmc
(openapi-core). On-prem paths ``/api/X`` are checked as the cdFMC's ``/v1/cdfmc/api/X``:
the same API under another prefix."""

import os
import time
import urllib.parse

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from simulator import Simulator
from testlib import SHARED

SPECS = os.environ.get("TASKSTATUS_FMC_SPECS", os.path.join(SHARED, "specs", "fmc"))
SERVER = "https://api.us.security.cisco.com/firewall"
GLOBAL = "e276abec-e0f2-11e3-8169-6d9ed49b625f"
PASSWORD = "pw-fmc"


@pytest.fixture(scope="module")
def specs():
    loaded = {}
    for name in ("cdfmc-status-api.yml", "cdfmc-system-information-api.yml"):
        with open(os.path.join(SPECS, name), encoding="utf-8") as handle:
            loaded[name] = OpenAPI.from_dict(fix_list_items(yaml.safe_load(handle)))
    return loaded


def fix_list_items(doc):
    """The extracts declare each ``*ListContainer.items`` as ``{$ref: X, type: array}``: under
    OpenAPI 3.1+ a ``$ref`` with siblings means both, an object *and* an array, which nothing
    satisfies. Cisco's answers (and fmcapi) have ``items`` as an array of X: read it so."""
    for name, schema in doc["components"]["schemas"].items():
        items = schema.get("properties", {}).get("items")
        if name.endswith("ListContainer") and items and "$ref" in items and items.get("type") == "array":
            schema["properties"]["items"] = {"type": "array", "items": {"$ref": items["$ref"]}}
    return doc


@pytest.fixture(scope="module")
def fsim(tmp_path_factory):
    sim = Simulator(tmp_path_factory.mktemp("fmcsim"), devices=[
        {"name": "fmc", "platform": "fmc"}, {"name": "cd", "platform": "cdfmc"}], password=PASSWORD, duration=0.6)
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _fresh(fsim):
    fsim.reset()


class Fmc:
    def __init__(self, sim, name):
        self.sim = sim
        self.base = sim.url(name)
        self.api = "/api" if name == "fmc" else "/firewall/v1/cdfmc/api"
        self.http = requests.Session()
        self.http.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
        self.http.verify = sim.ca_cert
        self.headers = {"Authorization": "Bearer " + PASSWORD} if name == "cd" else {}

    def login(self, password=PASSWORD):
        resp = self.http.post(self.base + "/api/fmc_platform/v1/auth/generatetoken", auth=("admin", password), timeout=5)
        if resp.status_code == 204:
            self.headers = {"X-auth-access-token": resp.headers["X-auth-access-token"]}
        return resp

    def get(self, rest, **params):
        return self.http.get(self.base + self.api + rest, headers=self.headers, params=params, timeout=5)

    def post(self, rest, body=None, headers=None):
        return self.http.post(self.base + self.api + rest, headers=headers or self.headers, json=body, timeout=5)

    def config(self, **changes):
        resp = self.http.post(self.base + "/_fmcsim/config", json=changes, timeout=5)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def counters(self):
        return self.http.get(self.base + "/_fmcsim/stats", timeout=5).json()

    def stats(self):
        return self.http.get(self.base + "/_sim/stats", timeout=5).json()

    def task(self, **spec):
        resp = self.http.post(self.base + "/_sim/tasks", json=spec, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]


@pytest.fixture
def fmc(fsim):
    client = Fmc(fsim, "fmc")
    assert client.login().status_code == 204
    return client


@pytest.fixture
def cd(fsim):
    return Fmc(fsim, "cd")


def check(specs, resp, validate_request=True):
    """Validate one real answer of the simulator against the spec that documents its path."""
    parts = urllib.parse.urlsplit(resp.request.url)
    path = parts.path
    path = "/v1/cdfmc/api" + path[len("/api"):] if path.startswith("/api/") else path[path.index("/v1/cdfmc/api"):]
    spec = specs["cdfmc-system-information-api.yml" if "/fmc_platform/" in path else "cdfmc-status-api.yml"]
    args = dict(urllib.parse.parse_qsl(parts.query))
    request = MockRequest("https://api.us.security.cisco.com", resp.request.method.lower(), "/firewall" + path,
                          args=args)
    if validate_request:
        spec.validate_request(request)
    spec.validate_response(request, MockResponse(resp.content, resp.status_code,
                                                 content_type=resp.headers["Content-Type"].split(";")[0]))
    return resp


def test_token_headers_domains_and_refresh_budget(fsim, fmc):
    revoke = fmc.post("/fmc_platform/v1/auth/revokeaccess")
    assert revoke.status_code == 204 and fmc.stats()["sessions_open"] == 0
    fmc.config(token_lifetime=0.4, max_refreshes=2)
    resp = fmc.http.post(fmc.base + "/api/fmc_platform/v1/auth/generatetoken", auth=("admin", PASSWORD), timeout=5)
    assert resp.status_code == 204 and not resp.content
    assert resp.headers["DOMAIN_UUID"] == GLOBAL
    import json
    assert [d["name"] for d in json.loads(resp.headers["DOMAINS"])] == ["Global", "Global/Lab"]
    access, refresh = resp.headers["X-auth-access-token"], resp.headers["X-auth-refresh-token"]
    fmc.headers = {"X-auth-access-token": access}
    assert fmc.get("/fmc_config/v1/domain/%s/devices/devicerecords" % GLOBAL).status_code == 200
    time.sleep(0.5)
    expired = fmc.http.get(fmc.base + "/api/fmc_platform/v1/info/domain", headers={"X-auth-access-token": access})
    assert expired.status_code == 401 and expired.json() == {"error": {
        "category": "FRAMEWORK", "messages": [{"description": "Access token invalid."}], "severity": "ERROR"}}
    for _refresh in range(2):  # an expired token can still be refreshed, max_refreshes times
        resp = fmc.http.post(fmc.base + "/api/fmc_platform/v1/auth/refreshtoken",
                             headers={"X-auth-access-token": access, "X-auth-refresh-token": refresh})
        assert resp.status_code == 204, resp.text
        access, refresh = resp.headers["X-auth-access-token"], resp.headers["X-auth-refresh-token"]
    assert fmc.http.get(fmc.base + "/api/fmc_platform/v1/info/domain",
                        headers={"X-auth-access-token": access}).status_code == 200
    spent = fmc.http.post(fmc.base + "/api/fmc_platform/v1/auth/refreshtoken",
                          headers={"X-auth-access-token": access, "X-auth-refresh-token": refresh})
    assert spent.status_code == 400 and "Generate a new token" in spent.text
    assert fmc.counters()["tokens_refreshed"] == 2 and fmc.counters()["refreshes_refused"] == 1
    time.sleep(0.5)  # expired with no refresh left: the session is gone (noticed at the next request)
    assert fmc.get("/fmc_platform/v1/info/domain").status_code == 401
    stats = fmc.stats()
    assert stats["sessions_open"] == 0 and stats["sessions_expired"] == 1 and stats["sessions_deleted"] == 1


def test_wrong_password_and_no_token(fsim):
    client = Fmc(fsim, "fmc")
    resp = client.login(password="wrong")
    assert resp.status_code == 401
    assert resp.json()["error"]["messages"][0]["description"] == "Unauthorized"
    assert client.get("/fmc_platform/v1/info/domain").status_code == 401
    assert client.stats()["logins_failed"] == 1


def test_rate_limit_per_user_with_retry_after(fsim, fmc, specs):
    fmc.config(rate_limit=6, rate_window=2)  # the login was the first request of the window
    answers = [fmc.get("/fmc_platform/v1/info/serverversion") for _request in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 2
    check(specs, answers[-1])
    counters = fmc.counters()
    assert counters["rate_limited"] == 1 and counters["max_in_window"] == 6


def test_deployment_progress_failed_device_and_busy_devices(fsim, fmc, specs):
    fmc.config(visible_after=0.3)
    fsim.device("fmc").configure({"scenario": "fail", "duration": 1.0})
    devices = fmc.get("/fmc_config/v1/domain/%s/devices/devicerecords" % GLOBAL).json()["items"]  # not in the specs
    ids = [d["id"] for d in devices]
    made = fmc.post("/fmc_config/v1/domain/%s/deployment/deploymentrequests" % GLOBAL,
                    {"type": "DeploymentRequest", "version": "1", "forceDeploy": True, "deviceList": ids})
    assert made.status_code == 202, made.text
    task_id = made.json()["metadata"]["task"]["id"]
    path = "/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (GLOBAL, task_id)
    early = check(specs, fmc.get(path))
    assert early.status_code == 404  # the record appears a moment after the id is returned
    busy = fmc.post("/fmc_config/v1/domain/%s/deployment/deploymentrequests" % GLOBAL,
                    {"type": "DeploymentRequest", "version": "2", "deviceList": ids[:1]})
    assert busy.status_code == 500 and "Another deployment is in progress for ftd-1" in busy.text
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        resp = fmc.get(path, showDetailedDeviceStatus="true")
        if resp.status_code == 200:
            body = check(specs, resp).json()
            seen.append((body["status"], tuple(s["status"] for s in body["subTasks"])))
            if body["status"] == "FAILED":
                break
        time.sleep(0.05)
    assert seen[-1] == ("FAILED", ("SUCCESS", "SUCCESS", "FAILED"))
    assert {status for status, _subs in seen} >= {"DEPLOYING", "FAILED"}
    assert any("RUNNING" in subs for _status, subs in seen)
    plain = check(specs, fmc.get(path)).json()
    assert "subTasks" not in plain and plain["taskType"] == "DEVICE_DEPLOYMENT"


# Cisco's FMC REST API reference (CiscoDevNet/secure-firewall, FMC/fmcansible_doc_latest_downloaded/components):
# the properties of the DeviceExport model that createDeviceExport answers with, and of its metadata.
DEVICE_EXPORT_PROPERTIES = {"metadata", "exportOptions", "deviceList", "name", "description", "links", "id", "type",
                            "version"}
DEVICE_IMPORT_EXPORT_METADATA = {"lastUser", "task", "domain", "downloadUrl", "readOnly", "timestamp"}


@pytest.mark.parametrize("name", ["fmc", "cd"])
def test_device_export_makes_a_device_export_task(fsim, fmc, cd, specs, name):
    client = fmc if name == "fmc" else cd
    fsim.device(name).configure({"scenario": "success", "duration": 0.4})
    ids = [d["id"] for d in client.get("/fmc_config/v1/domain/%s/devices/devicerecords" % GLOBAL).json()["items"]]
    exports = "/fmc_config/v1/domain/%s/devices/operational/exports" % GLOBAL
    refused = client.post(exports, {"deviceList": ["not-a-device"]})
    assert refused.status_code == 400 and "Invalid deviceList" in refused.text
    made = client.post(exports, {"deviceList": ids[:2]})
    assert made.status_code == 202, made.text
    answer = made.json()
    assert set(answer) <= DEVICE_EXPORT_PROPERTIES and answer["type"] == "DeviceExport"
    assert set(answer["metadata"]) <= DEVICE_IMPORT_EXPORT_METADATA and answer["deviceList"] == ids[:2]
    task_id = answer["metadata"]["task"]["id"]
    path = "/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (GLOBAL, task_id)
    assert answer["metadata"]["task"]["links"]["self"].endswith(path)
    deadline = time.monotonic() + 5
    body = {}
    while time.monotonic() < deadline and body.get("status") != "COMPLETED":
        resp = client.get(path)
        body = check(specs, resp).json() if resp.status_code == 200 else {}
        time.sleep(0.05)
    assert body["type"] == "DeviceImportExportTaskStatus" and body["taskType"] == "DEVICE_EXPORT"
    assert [s["target"]["id"] for s in body["subTasks"]] == ids[:2]
    assert body["metadata"]["downloadUrl"].startswith("/importExport/device/download.cgi") and body["metadata"]["checksum"]


def test_lists_pages_filters_and_domains(fsim, fmc, cd, specs):
    for kind in ("config_export", "other", "firmware_update"):
        fmc.task(kind=kind, duration=0.1)
    time.sleep(0.2)
    page = check(specs, fmc.get("/fmc_config/v1/domain/%s/job/taskstatuses" % GLOBAL,
                                filter="type:DEVICE_EXPORT;status:COMPLETED", expanded="true")).json()
    assert [i["taskType"] for i in page["items"]] == ["DEVICE_EXPORT"]
    assert page["items"][0]["metadata"]["downloadUrl"].startswith("/importExport/")
    first = check(specs, fmc.get("/fmc_config/v1/domain/%s/job/taskstatuses" % GLOBAL, filter="type:Deployment;"
                                 "status:Succeeded", limit=1), False).json()
    assert first["paging"]["count"] == 1 and set(first["items"][0]) == {"id", "type", "links"}
    everything = fmc.get("/fmc_config/v1/domain/%s/job/taskstatuses" % GLOBAL, filter="", limit=2, offset=0).json()
    assert everything["paging"]["count"] == 3 and everything["paging"]["pages"] == 2 and everything["paging"]["next"]
    other_domain = check(specs, fmc.get("/fmc_config/v1/domain/5a8c3b1e-62b1-4c7e-9a4f-1d2e3f405162/job/taskstatuses",
                                        filter="type:Deployment;status:Succeeded")).json()
    assert other_domain["items"] == []
    bad_domain = check(specs, fmc.get("/fmc_config/v1/domain/nope/job/taskstatuses", filter="type:x;status:y"))
    assert bad_domain.status_code == 404 and "error" in bad_domain.json()
    domains = check(specs, cd.get("/fmc_platform/v1/info/domain")).json()
    assert [d["name"] for d in domains["items"]] == ["Global", "Global/Lab"]
    check(specs, cd.get("/fmc_platform/v1/info/serverversion"))


def test_cdfmc_bearer_token_unwrapped_errors_and_task(fsim, cd, specs):
    task_id = cd.task(kind="firmware_update", scenario="critical", duration=0.2)
    time.sleep(0.3)
    body = check(specs, cd.get("/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (GLOBAL, task_id),
                               showDetailedDeviceStatus="true")).json()
    assert body["status"] == "SUCCEEDED" and [s["status"] for s in body["subTasks"]][-1] == "FAILED"
    cd.headers = {"Authorization": "Bearer wrong"}
    refused = check(specs, cd.get("/fmc_platform/v1/info/domain"))
    assert refused.status_code == 401 and refused.json()["messages"][0]["description"] == "Access token invalid."
    assert cd.http.post(cd.base + "/api/fmc_platform/v1/auth/generatetoken", auth=("admin", PASSWORD)).status_code == 404


@pytest.mark.parametrize("scenario,status", [("success", "COMPLETED"), ("fail", "FAILED"), ("cancel", "CANCELLED")])
def test_generic_task_outcomes(fsim, fmc, specs, scenario, status):
    task_id = fmc.task(kind="other", scenario=scenario, duration=0.1)
    time.sleep(0.15)
    body = check(specs, fmc.get("/fmc_config/v1/domain/%s/job/taskstatuses/%s" % (GLOBAL, task_id))).json()
    assert body["status"] == status and body["taskType"] == "HIT_COUNT_REFRESH"


def test_control_rejects_unknown_settings(fsim, fmc):
    resp = fmc.http.post(fmc.base + "/_fmcsim/config", json={"nope": 1}, timeout=5)
    assert resp.status_code == 400 and "unknown setting" in resp.text
