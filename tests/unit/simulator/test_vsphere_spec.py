"""The vSphere simulator's answers, checked against VMware's own OpenAPI (Swagger 2.0)
documents in ../shared/specs/vsphere (cis-8.0.2.json, session-8.0.2.json).

Every answer of a documented operation is validated with jsonschema against
the response schema the document gives for that path, method and status.
Two answers have no schema in these documents and are checked by shape only:
``POST /rest/com/vmware/cis/session`` (200, ``{"value": id}``) and the vLCM
``POST /api/esx/settings/clusters/{cluster}/software?action=apply&vmw-task=true``
(202 + task id).
"""

import json
import os
import sys
import time
import urllib.parse

import jsonschema
import pytest
import requests

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from testlib import SHARED  # noqa: E402
from simulator import Simulator  # noqa: E402

SPECS = os.path.join(SHARED, "specs", "vsphere")
SOFTWARE = "com.vmware.esx.settings.clusters.software"


def load(name):
    with open(os.path.join(SPECS, name), encoding="utf-8") as handle:
        return json.load(handle)


CIS = load("cis-8.0.2.json")
SESSION = load("session-8.0.2.json")


def validate(doc, path, method, resp):
    """Validate ``resp`` against the schema ``doc`` gives for ``path``/``method``/status."""
    operation = doc["paths"][path][method.lower()]
    answer = operation["responses"].get(str(resp.status_code))
    assert answer is not None, "%s %s: status %s is not documented" % (method, path, resp.status_code)
    schema = answer.get("schema")
    if schema is None:
        assert not resp.content, "%s %s %s: documented without a body" % (method, path, resp.status_code)
        return None
    body = resp.json()
    jsonschema.Draft4Validator(dict(schema, definitions=doc["definitions"])).validate(body)
    return body


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    devices = [{"name": "vc", "platform": "vsphere"}, {"name": "old", "platform": "vsphere", "vendor": "rest"},
               {"name": "new", "platform": "vsphere", "vendor": "api"}]
    with Simulator(tmp_path_factory.mktemp("vsim"), devices=devices, duration=0.6) as simulator:
        yield simulator


class VC:
    def __init__(self, sim, name):
        sim.reset(name)
        self.base, self.ca = sim.url(name), sim.ca_cert
        self.token = None

    def req(self, method, path, **kw):
        kw.setdefault("timeout", 5)
        headers = kw.pop("headers", {})
        if self.token:
            headers.setdefault("vmware-api-session-id", self.token)
        return requests.request(method, self.base + path, verify=self.ca, headers=headers, **kw)

    def task(self, **spec):
        resp = requests.post(self.base + "/_sim/tasks", json=spec, verify=self.ca, timeout=5)
        assert resp.status_code == 201, resp.text
        return resp.json()["id"]

    def config(self, **changes):
        requests.post(self.base + "/_sim/config", json=changes, verify=self.ca, timeout=5).raise_for_status()


def q(task_id):
    return urllib.parse.quote(task_id, safe="")


def test_api_session_life_cycle(sim):
    vc = VC(sim, "vc")
    refused = validate(SESSION, "/api/session", "POST", vc.req("POST", "/api/session", auth=("admin", "bad")))
    assert refused["error_type"] == "UNAUTHENTICATED" and refused["messages"]
    resp = vc.req("POST", "/api/session", auth=("admin", "password"))
    vc.token = validate(SESSION, "/api/session", "POST", resp)
    assert resp.status_code == 201 and isinstance(vc.token, str)
    assert validate(SESSION, "/api/session", "GET", vc.req("GET", "/api/session"))["user"] == "admin"
    assert vc.req("DELETE", "/api/session").status_code == 204
    assert validate(SESSION, "/api/session", "GET", vc.req("GET", "/api/session")).get("messages")


def test_rest_session_is_value_wrapped(sim):
    vc = VC(sim, "old")
    assert vc.req("POST", "/api/session", auth=("admin", "password")).status_code == 404  # no /api at all
    resp = vc.req("POST", "/rest/com/vmware/cis/session", auth=("admin", "password"))
    assert resp.status_code == 200 and isinstance(resp.json()["value"], str)
    vc.token = resp.json()["value"]
    info = vc.req("POST", "/rest/com/vmware/cis/session?~action=get").json()["value"]
    jsonschema.Draft4Validator(dict(SESSION["definitions"]["CisSessionInfo"],
                                    definitions=SESSION["definitions"])).validate(info)
    assert vc.req("DELETE", "/rest/com/vmware/cis/session").status_code == 200
    assert vc.req("POST", "/rest/com/vmware/cis/session?~action=get").status_code == 401


def test_session_limit_is_service_unavailable(sim):
    vc = VC(sim, "new")
    vc.config(session_limit=1)
    assert vc.req("POST", "/api/session", auth=("admin", "password")).status_code == 201
    resp = vc.req("POST", "/api/session", auth=("admin", "password"))
    assert validate(SESSION, "/api/session", "POST", resp)["error_type"] == "SERVICE_UNAVAILABLE"


def test_idle_session_expires(sim):
    vc = VC(sim, "new")
    vc.token = vc.req("POST", "/api/session", auth=("admin", "password")).json()
    assert vc.req("GET", "/api/session").status_code == 200
    vc.config(session_timeout=0.2)  # idle from the last use (set after it: a slow machine may pause in between)
    time.sleep(0.35)
    resp = vc.req("GET", "/api/cis/tasks/x")
    assert validate(CIS, "/api/cis/tasks/{task}", "GET", resp)["error_type"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("scenario,final,errored", [
    ("success", "SUCCEEDED", False), ("fail", "FAILED", True), ("cancel", "FAILED", True)])
def test_api_task_answers_over_time(sim, scenario, final, errored):
    vc = VC(sim, "vc")
    vc.token = vc.req("POST", "/api/session", auth=("admin", "password")).json()
    task_id = vc.task(scenario=scenario, duration=0.5)
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        info = validate(CIS, "/api/cis/tasks/{task}", "GET", vc.req("GET", "/api/cis/tasks/" + q(task_id)))
        seen.append(info["status"])
        if info["status"] in ("SUCCEEDED", "FAILED"):
            break
        time.sleep(0.05)
    assert seen[0] == "PENDING" and "RUNNING" in seen and seen[-1] == final
    assert ("error" in info) == errored
    assert info["progress"]["total"] == 100 and info["end_time"]


def test_api_list_and_its_errors(sim):
    vc = VC(sim, "vc")
    vc.token = vc.req("POST", "/api/session", auth=("admin", "password")).json()
    ids = [vc.task(duration=5) for _number in range(3)]
    path = "/api/cis/tasks?action=list"
    body = validate(CIS, path, "POST", vc.req("POST", path, json={"filter_spec": {"tasks": ids[:2]}}))
    assert sorted(body) == sorted(ids[:2])
    body = validate(CIS, path, "POST", vc.req("POST", path, json={"filter_spec": {"services": [SOFTWARE]}}))
    assert sorted(body) == sorted(ids)
    bad = validate(CIS, path, "POST", vc.req("POST", path, json={"filter_spec": {"status": ["RUNNING"]}}))
    assert bad["error_type"] == "INVALID_ARGUMENT"
    assert validate(CIS, "/api/cis/tasks/{task}", "GET", vc.req("GET", "/api/cis/tasks/nope"))["error_type"] == \
        "NOT_FOUND"


def test_rest_task_list_and_errors(sim):
    vc = VC(sim, "old")
    vc.token = vc.req("POST", "/rest/com/vmware/cis/session", auth=("admin", "password")).json()["value"]
    ids = [vc.task(duration=5, kind=kind) for kind in ("firmware_update", "config_export")]
    one = validate(CIS, "/rest/cis/tasks/{task}", "GET", vc.req("GET", "/rest/cis/tasks/" + q(ids[0])))
    assert one["value"]["service"] == SOFTWARE
    listed = validate(CIS, "/rest/cis/tasks", "GET",
                      vc.req("GET", "/rest/cis/tasks", params=[("filter_spec.tasks", i) for i in ids]))
    assert sorted(p["key"] for p in listed["value"]) == sorted(ids)
    bad = validate(CIS, "/rest/cis/tasks", "GET", vc.req("GET", "/rest/cis/tasks"))
    assert bad["type"] == "com.vmware.vapi.std.errors.invalid_argument"
    gone = validate(CIS, "/rest/cis/tasks/{task}", "GET", vc.req("GET", "/rest/cis/tasks/nope"))
    assert gone["type"] == "com.vmware.vapi.std.errors.not_found"


def test_more_than_1000_tasks_is_resource_inaccessible(sim):
    vc = VC(sim, "vc")
    for _number in range(1001):
        sim.device("vc").platform.create_task("success", 60, "firmware_update")
    vc.token = vc.req("POST", "/rest/com/vmware/cis/session", auth=("admin", "password")).json()["value"]
    resp = vc.req("GET", "/rest/cis/tasks", params={"filter_spec.services": SOFTWARE})
    rest = validate(CIS, "/rest/cis/tasks", "GET", resp)
    assert rest["type"] == "com.vmware.vapi.std.errors.resource_inaccessible"
    api = validate(CIS, "/api/cis/tasks?action=list", "POST", vc.req(
        "POST", "/api/cis/tasks?action=list", json={"filter_spec": {"services": [SOFTWARE]}}))
    assert api["error_type"] == "RESOURCE_INACCESSIBLE"


def test_burst_503_is_a_documented_service_unavailable(sim):
    vc = VC(sim, "new")
    vc.token = vc.req("POST", "/api/session", auth=("admin", "password")).json()
    vc.config(burst={"status": 503, "count": 1, "retry_after": 1})
    resp = vc.req("GET", "/api/cis/tasks/x")
    assert validate(CIS, "/api/cis/tasks/{task}", "GET", resp)["error_type"] == "SERVICE_UNAVAILABLE"
    assert resp.headers["Retry-After"] == "1"


def test_vlcm_apply_starts_a_task(sim):
    vc = VC(sim, "vc")
    vc.token = vc.req("POST", "/api/session", auth=("admin", "password")).json()
    resp = vc.req("POST", "/api/esx/settings/clusters/domain-c8/software?action=apply&vmw-task=true",
                  json={"commit": "1", "hosts": []})
    assert resp.status_code == 202
    task_id = resp.json()
    assert isinstance(task_id, str) and task_id.endswith(":" + SOFTWARE)
    info = validate(CIS, "/api/cis/tasks/{task}", "GET", vc.req("GET", "/api/cis/tasks/" + q(task_id)))
    assert (info["service"], info["operation"], info["target"]["id"]) == (SOFTWARE, "apply", "domain-c8")


def test_rest_only_and_api_only_vcenters(sim):
    old, new = VC(sim, "old"), VC(sim, "new")
    assert old.req("GET", "/api/cis/tasks/x").status_code == 404
    assert "json" not in old.req("GET", "/api/cis/tasks/x").headers.get("Content-Type", "")
    assert new.req("POST", "/rest/com/vmware/cis/session", auth=("admin", "password")).status_code == 404
