"""The Redfish simulator keeps the protocol DMTF's DSP0266 describes, on every flavour.

DMTF's own validators check the same in ``make test`` (tests/tools/validators.sh); these tests
pin each rule the validators (or their known gaps) found the simulator breaking, and hold every
message the simulator sends to the DMTF message registries in shared/specs/redfish/registries.
"""

import glob
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from simulator import redfish

SHARED = os.environ.get(
    "TASKSTATUS_SHARED",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared"),
)
REGISTRIES = os.path.join(SHARED, "specs", "redfish", "registries")
CSDL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "redfish", "csdl")
FLAVOURS = ["gen", "dell", "cisco", "jobs", "obmc"]
ROOT = "/redfish/v1"
SESSIONS = ROOT + "/SessionService/Sessions"
SIMPLE_UPDATE = ROOT + "/UpdateService/Actions/UpdateService.SimpleUpdate"


def registry(prefix):
    """The newest registry file of ``Name.Major.Minor`` in shared/specs, as a dict."""
    name, major, minor = prefix.split(".")
    files = glob.glob(os.path.join(REGISTRIES, "%s.%s.%s.*.json" % (name, major, minor)))
    assert files, "no registry file for %s in %s" % (prefix, REGISTRIES)
    newest = max(files, key=lambda f: int(f.rsplit(".", 2)[-2]))
    with open(newest) as handle:
        return json.load(handle)


def check_message(info):
    """A Message of a DMTF registry: its id names a registry version that has it, its text fills the
    registry's template with its MessageArgs, its MessageSeverity is the registry's."""
    prefix, name = info["MessageId"].rsplit(".", 1)
    entry = registry(prefix)["Messages"].get(name)
    assert entry is not None, "%s is not in registry %s" % (name, prefix)
    assert len(info["MessageArgs"]) == entry["NumberOfArgs"], info
    text = re.sub(r"%(\d+)", lambda m: info["MessageArgs"][int(m.group(1)) - 1], entry["Message"])
    assert info["Message"] == text, info
    assert info["MessageSeverity"] == entry["MessageSeverity"], info


def test_the_message_table_is_the_registries():
    for prefix, messages in redfish.MESSAGES.items():
        for name, (text, severity) in messages.items():
            entry = registry(prefix)["Messages"][name]
            assert (text, severity) == (entry["Message"], entry["MessageSeverity"]), (prefix, name)
            assert len(set(re.findall(r"%(\d+)", text))) == entry["NumberOfArgs"], (prefix, name)


def walk_messages(obj):
    if isinstance(obj, dict):
        if "MessageId" in obj and "Message" in obj:
            yield obj
        for value in obj.values():
            yield from walk_messages(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from walk_messages(value)


@pytest.mark.parametrize("vendor", FLAVOURS)
def test_every_message_sent_is_in_its_registry(client, vendor):
    c = client(vendor)
    kind = "config_export" if vendor == "obmc" else "firmware_update"  # no reboot here
    for scenario in ("success", "fail", "cancel", "critical", "stuck"):
        if vendor == "cisco" and scenario != "stuck":
            c.new_task(scenario=scenario, duration=0, kind="config_export")
        else:
            c.new_task(scenario=scenario, duration=0 if scenario != "stuck" else 60, kind=kind)
    answers = [c.get(ROOT + "/TaskService/Tasks", params={"$expand": "."}).json()]
    monitors = [m.get("TaskMonitor") for m in answers[0]["Members"] if m.get("TaskMonitor")]
    answers += [c.get(m).json() for m in monitors if c.get(m).content]
    if vendor == "jobs":
        answers.append(c.get(ROOT + "/JobService/Jobs", params={"$expand": "."}).json())
    answers += [c.get(ROOT + "/nope").json(), c.get(ROOT + "/TaskService", auth=False).json(),
                c.post(SIMPLE_UPDATE, json={"Bogus": 1}).json(), c.request("DELETE", ROOT + "/TaskService").json(),
                c.get(ROOT + "/TaskService/Tasks", params={"$expand": "bad"}).json()]
    seen = 0
    for info in (m for answer in answers for m in walk_messages(answer)):
        if vendor == "dell" and info["MessageId"].startswith("IDRAC."):
            assert info["Severity"] == info["MessageSeverity"]  # iDRAC's own registry: not here to check
            continue
        if vendor == "dell" and "." not in info["MessageId"]:
            continue  # Oem.Dell job data: MessageId/Message are DellJob properties, not a Message
        check_message(info)
        seen += 1
    assert seen >= 5


# ---- the OData documents -------------------------------------------------------------


@pytest.mark.parametrize("vendor", FLAVOURS)
def test_odata_service_document_is_public(client, vendor):
    c = client(vendor)
    resp = c.get(ROOT + "/odata", auth=False)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    doc = resp.json()
    assert doc["@odata.context"] == ROOT + "/$metadata"
    urls = {v["url"] for v in doc["value"]}
    root = c.get(ROOT, auth=False).json()
    links = {v["@odata.id"] for k, v in root.items() if isinstance(v, dict) and set(v) == {"@odata.id"}}
    assert urls == links | {ROOT + "/"}
    assert all(v["kind"] == "Singleton" and v["name"] for v in doc["value"])


@pytest.mark.parametrize("vendor", FLAVOURS)
def test_metadata_document_names_a_csdl_file_for_every_type_served(client, vendor):
    c = client(vendor)
    resp = c.get(ROOT + "/$metadata", auth=False, headers={"Accept": "application/xml"})
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/xml"
    ns = {"edmx": "http://docs.oasis-open.org/odata/ns/edmx", "edm": "http://docs.oasis-open.org/odata/ns/edm"}
    doc = ET.fromstring(resp.content)
    assert doc.find("edmx:DataServices/edm:Schema/edm:EntityContainer", ns) is not None
    included = set()
    for ref in doc.findall("edmx:Reference", ns):
        filename = ref.get("Uri").rsplit("/", 1)[-1]
        assert os.path.isfile(os.path.join(CSDL, filename)), filename  # the Service Validator reads it there
        included.update(i.get("Namespace") for i in ref.findall("edmx:Include", ns))
    served = {t.lstrip("#").rsplit(".", 1)[0] for t in crawl_types(c)}
    dmtf = {s for s in served if not s.startswith("Dell")}  # Dell's OEM schemas are not DMTF's to publish
    assert dmtf <= included, dmtf - included


def crawl(c, limit=200):
    """Every resource reachable from the service root by @odata.id links (bounded): {uri: answer}."""
    seen, todo = {}, [ROOT]
    while todo and len(seen) < limit:
        uri = todo.pop()
        if uri in seen:
            continue
        resp = c.get(uri)
        seen[uri] = resp
        if resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith("application/json"):
            for link in re.findall(r'"@odata\.id": "([^"#]+)"', resp.text):
                if link not in seen:
                    todo.append(link)
    return seen


def crawl_types(c):
    return {r.json()["@odata.type"] for r in crawl(c).values() if r.status_code == 200 and "@odata.type" in r.json()}


@pytest.mark.parametrize("vendor", FLAVOURS)
def test_every_link_answers(client, vendor):
    """No dangling @odata.id (the Dell Managers collection once listed a manager that answered 404)."""
    c = client(vendor)
    c.new_task(scenario="stuck", duration=60, kind="config_export" if vendor != "cisco" else "firmware_update")
    answers = crawl(c)
    assert len(answers) >= 12
    assert {u: r.status_code for u, r in answers.items() if r.status_code != 200} == {}


# ---- headers and status codes --------------------------------------------------------


@pytest.mark.parametrize("path", [ROOT + "/", SESSIONS, ROOT + "/TaskService", ROOT + "/AccountService/Accounts/1"])
def test_get_and_head_carry_allow_cache_control_etag_and_link(client, path):
    c = client("gen")
    resp = c.get(path)
    assert resp.status_code == 200
    assert resp.headers["OData-Version"] == "4.0" and resp.headers["Cache-Control"]
    allow = [m.strip() for m in resp.headers["Allow"].split(",")]
    assert "GET" in allow and "HEAD" in allow
    odata_type = resp.json()["@odata.type"]
    link = resp.links["describedby"]["url"]
    assert link == "https://redfish.dmtf.org/schemas/v1/%s.json" % odata_type.lstrip("#").rsplit(".", 1)[0]
    head = c.request("HEAD", path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Allow"] == resp.headers["Allow"] and head.headers["Link"] == resp.headers["Link"]
    etag = resp.headers["ETag"]
    assert etag.startswith('W/"')
    again = c.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert SESSIONS != path or "POST" in allow


def test_allow_names_the_methods_of_each_uri(client):
    c = client("gen")
    resp = c.request("DELETE", ROOT + "/TaskService")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD"
    assert resp.json()["error"]["code"] == "Base.1.22.OperationNotAllowed"
    assert c.get(SIMPLE_UPDATE).headers["Allow"] == "POST"
    assert c.request("PATCH", ROOT + "/").status_code == 405


def test_odata_version_other_than_4_0_is_412(client):
    c = client("gen")
    assert c.get(ROOT + "/", headers={"OData-Version": "4.1"}).status_code == 412
    assert c.get(ROOT + "/", headers={"OData-Version": "4.0"}).status_code == 200


def test_unknown_dollar_query_parameters_are_501_others_ignored(client):
    c = client("gen")
    for name in ("$rpvunknown", "$filter", "$select", "$top"):
        resp = c.get(ROOT + "/TaskService/Tasks", params={name: "x"})
        assert resp.status_code == 501, name
        assert resp.json()["error"]["code"] == "Base.1.22.QueryParameterUnsupported"
    assert c.get(ROOT + "/TaskService/Tasks", params={"only": ""}).status_code == 200
    assert c.get(ROOT + "/TaskService/Tasks", params={"$expand": "."}).status_code == 200


def test_accept_must_allow_json(client):
    c = client("gen")
    for accept in ("application/json", "application/json;charset=utf-8", "application/*", "*/*",
                   "text/html, application/json;q=0.9"):
        assert c.get(ROOT + "/", headers={"Accept": accept}).status_code == 200, accept
    resp = c.get(ROOT + "/", headers={"Accept": "application/xml"})
    assert resp.status_code == 406 and resp.json()["error"]["code"] == "Base.1.22.HeaderInvalid"
    assert c.get(ROOT + "/$metadata", headers={"Accept": "application/xml"}).status_code == 200
    assert c.get(ROOT + "/$metadata", headers={"Accept": "application/json"}).status_code == 406


def test_request_bodies_must_be_json(client):
    c = client("gen")
    body = json.dumps({"UserName": "admin", "Password": "password"})
    resp = c.post(SESSIONS, auth=False, data=body, headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and "X-Auth-Token" not in resp.headers
    resp = c.post(SIMPLE_UPDATE, data=json.dumps({"ImageURI": "http://192.0.2.1/x"}),
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 415
    resp = c.post(SESSIONS, auth=False, data=body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert resp.status_code == 201
    assert c.stats()["sessions_created"] == 1


def test_post_to_sessions_members_logs_in(client):
    c = client("gen")
    resp = c.post(SESSIONS + "/Members", auth=False, json={"UserName": "admin", "Password": "password"})
    assert resp.status_code == 201 and resp.headers["X-Auth-Token"]
    assert resp.headers["Location"].startswith(SESSIONS + "/")
    assert c.get(SESSIONS + "/Members").status_code == 405


def test_a_stale_token_is_no_login_even_with_basic_credentials(client):
    c = client("gen")
    assert c.get(ROOT + "/TaskService", headers={"X-Auth-Token": "stale"}).status_code == 401  # Basic sent too
    assert c.get(ROOT + "/TaskService").status_code == 200


def test_a_method_nobody_implements_is_a_json_501(client):
    c = client("gen")
    resp = c.request("FAKEMETHODFORTEST", ROOT + "/")
    assert resp.status_code == 501 and resp.headers["Content-Type"].startswith("application/json")
    assert resp.json()["error"]["@Message.ExtendedInfo"][0]["MessageId"].startswith("Base.1.22.")


def test_simple_update_takes_only_its_parameters(client):
    c = client("gen")
    cases = [
        ({"ImageURI": "http://192.0.2.1/x", "Bogus": 1}, "ActionParameterUnknown"),
        ({"ImageURI": "http://192.0.2.1/x", "Stage": True}, "ActionParameterNotSupported"),
        ({"ImageURI": 5}, "ActionParameterValueTypeError"),
        ({"TransferProtocol": "HTTP"}, "ActionParameterMissing"),
    ]
    for body, message in cases:
        resp = c.post(SIMPLE_UPDATE, json=body)
        assert resp.status_code == 400, body
        assert resp.json()["error"]["code"] == "Base.1.22." + message
    assert c.get(ROOT + "/TaskService/Tasks").json()["Members"] == []
    resp = c.post(SIMPLE_UPDATE, json={"ImageURI": "http://192.0.2.1/x", "Username": "u", "Password": "image-secret",
                                       "TransferProtocol": "HTTP", "Targets": [], "ForceUpdate": False})
    assert resp.status_code == 202
    assert "image-secret" not in json.dumps(resp.json())  # the Task's Payload does not echo a password


def test_accounts_and_standard_roles_read_only(client):
    c = client("gen")
    service = c.get(ROOT + "/AccountService").json()
    roles = c.get(service["Roles"]["@odata.id"]).json()
    ids = [m["@odata.id"].rsplit("/", 1)[-1] for m in roles["Members"]]
    assert ids == ["Administrator", "Operator", "ReadOnly"]
    assert all(c.get(m["@odata.id"]).json()["IsPredefined"] for m in roles["Members"])
    account = c.get(ROOT + "/AccountService/Accounts/1").json()
    assert account["UserName"] == "admin" and account["RoleId"] == "Administrator" and account["Password"] is None
    resp = c.post(ROOT + "/AccountService/Accounts", json={"UserName": "x", "Password": "y", "RoleId": "ReadOnly"})
    assert resp.status_code == 405


def test_session_resource_has_created_time_in_a_version_that_defines_it(client):
    c = client("gen")
    location = c.login()[1]
    session = c.get(location).json()
    assert session["@odata.type"] == "#Session.v1_4_0.Session" and session["CreatedTime"]
