"""vSphere cis task payloads (/api and /rest) -> normalized tasks; ids; filter_spec.

The payloads are vCenter answers in the shape of the vSphere Automation API
8.0.2 documents in ../shared/specs/vsphere; those that the document's schema
covers are validated against it here, so they cannot drift from the API.
"""

import json
import os

import jsonschema
import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _vsphere
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse, OptionError
from ansible_collections.taskstatus.infra.plugins.module_utils._http import quote_segment
from testlib import SHARED

with open(os.path.join(SHARED, "specs", "vsphere", "cis-8.0.2.json"), encoding="utf-8") as _handle:
    CIS = json.load(_handle)

SOFTWARE = "com.vmware.esx.settings.clusters.software"
TASK = "52f0c2d4-9d1e-4b1a-8d43-3f2a5b6c7d8e:" + SOFTWARE


def lmsg(msg_id, text):
    return {"id": msg_id, "default_message": text, "args": []}


def api_info(status, **extra):
    info = {"description": lmsg(SOFTWARE + ".apply", "Remediate cluster"), "service": SOFTWARE,
            "operation": "apply", "status": status, "cancelable": status in ("PENDING", "RUNNING", "BLOCKED"),
            "target": {"type": "ClusterComputeResource", "id": "domain-c8"}, "user": "VSPHERE.LOCAL\\admin"}
    info.update(extra)
    return info


RUNNING = api_info("RUNNING", start_time="2026-05-04T10:00:01.102Z", progress={
    "total": 10, "completed": 3, "message": lmsg("com.vmware.vcIntegrity.lifecycle.Remediate",
                                                 "Remediating host 192.0.2.21 (1 of 3)")})
BLOCKED = api_info("BLOCKED", start_time="2026-05-04T10:00:01.102Z", progress={
    "total": 100, "completed": 40, "message": lmsg("x.y", "Waiting for host 192.0.2.22 to enter maintenance mode")})
SUCCEEDED = api_info("SUCCEEDED", start_time="2026-05-04T10:00:01.102Z", end_time="2026-05-04T10:42:17.530Z",
                     progress={"total": 100, "completed": 100, "message": lmsg("x.done", "Remediation completed")})
FAILED_STRING = api_info("FAILED", start_time="2026-05-04T10:00:01Z", end_time="2026-05-04T10:05:00Z",
                         progress={"total": 0, "completed": 0, "message": lmsg("x.f", "Remediating")},
                         error="Host 192.0.2.22 failed to enter maintenance mode.")
PENDING = api_info("PENDING")
# vCenter 7.0 U3 /api returns the error as a vAPI error structure (the 8.0.2 document says string).
FAILED_OBJECT = dict(FAILED_STRING, error={"error_type": "ERROR", "messages": [
    lmsg("com.vmware.vcIntegrity.lifecycle.EsxImage.ComponentMissing", "Component VMware-VM-Tools is missing"),
    lmsg("com.vmware.vcIntegrity.lifecycle.Remediate.Failed", "Remediation of cluster domain-c8 failed")]})
# /rest answers wrap the Info as {"value": Info}; its maps are key/value arrays.
REST_FAILED = {"value": dict(FAILED_STRING, description=dict(lmsg("a.b", "Remediate cluster"), params=[]),
                             error={"type": "com.vmware.vapi.std.errors.error",
                                    "value": {"messages": [lmsg("c.d", "Image apply failed")]}})}

# name: (payload, state, percent, message, vendor_state, started, ended, terminal)
CASES = {
    "running": (RUNNING, "running", 30, "Remediating host 192.0.2.21 (1 of 3)", "RUNNING",
                "2026-05-04T10:00:01.102Z", None),
    "blocked": (BLOCKED, "running", 40, "Waiting for host 192.0.2.22 to enter maintenance mode", "BLOCKED",
                "2026-05-04T10:00:01.102Z", None),
    "succeeded": (SUCCEEDED, "succeeded", 100, "Remediation completed", "SUCCEEDED", "2026-05-04T10:00:01.102Z",
                  "2026-05-04T10:42:17.530Z"),
    "failed_string": (FAILED_STRING, "failed", None, "Host 192.0.2.22 failed to enter maintenance mode.", "FAILED",
                      "2026-05-04T10:00:01Z", "2026-05-04T10:05:00Z"),
    "failed_object": (FAILED_OBJECT, "failed", None, "Remediation of cluster domain-c8 failed", "FAILED",
                      "2026-05-04T10:00:01Z", "2026-05-04T10:05:00Z"),
    "pending": (PENDING, "pending", None, None, "PENDING", None, None),
    "rest_failed": (REST_FAILED["value"], "failed", None, "Image apply failed", "FAILED",
                    "2026-05-04T10:00:01Z", "2026-05-04T10:05:00Z"),
}
SPEC_VALID = ("running", "blocked", "succeeded", "failed_string", "pending")


@pytest.mark.parametrize("name", SPEC_VALID)
def test_payloads_follow_the_api_document(name):
    schema = dict(CIS["definitions"]["CisTaskInfo"], definitions=CIS["definitions"])
    jsonschema.Draft4Validator(schema).validate(CASES[name][0])


def test_rest_payload_follows_the_rest_document_except_the_error_object():
    body = dict(REST_FAILED["value"], error="Image apply failed")
    schema = dict(CIS["definitions"]["cis.tasks_resp"], definitions=CIS["definitions"])
    jsonschema.Draft4Validator(schema).validate({"value": body})


@pytest.mark.parametrize("name", sorted(CASES))
def test_normalize(name):
    payload, state, percent, msg, vendor, started, ended = CASES[name]
    task = _vsphere.parse_info(payload, TASK, "https://vc/api/cis/tasks/x").to_dict(include_raw=True)
    assert (task["state"], task["percent"], task["message"], task["vendor_state"]) == (state, percent, msg, vendor)
    assert (task["started"], task["ended"]) == (started, ended)
    assert task["terminal"] == (state in ("succeeded", "failed"))
    assert task["kind"] == "firmware_update"
    assert task["target"] == "ClusterComputeResource:domain-c8"
    assert task["name"] == "Remediate cluster"
    assert task["raw"] is payload and task["found"] is True and task["platform"] == "vsphere"


def test_failure_messages_are_critical_and_all_kept():
    task = _vsphere.parse_info(FAILED_OBJECT, TASK, "u")
    assert [(m["severity"], m["text"]) for m in task.messages] == [
        ("info", "Remediating"), ("critical", "Component VMware-VM-Tools is missing"),
        ("critical", "Remediation of cluster domain-c8 failed")]
    assert task.messages[1]["id"] == "com.vmware.vcIntegrity.lifecycle.EsxImage.ComponentMissing"


def test_blocked_is_not_terminal_and_named_in_the_description():
    task = _vsphere.parse_info(BLOCKED, TASK, "u")
    assert not task.terminal
    text = task.describe()
    assert "[BLOCKED]" in text and "40%" in text and "maintenance mode" in text
    assert task.messages[0]["severity"] == "warning" and task.messages[0]["text"].startswith("BLOCKED")


def test_percent_needs_a_positive_total():
    for progress in ({"total": 0, "completed": 0}, {"total": -1, "completed": 5}, {"completed": 5},
                     {"total": True, "completed": 1}, {"total": 4, "completed": "2"}):
        assert _vsphere.parse_info(api_info("RUNNING", progress=progress), TASK, "u").percent is None
    assert _vsphere.parse_info(api_info("RUNNING", progress={"total": 3, "completed": 2, "message": lmsg("a", "b")}),
                               TASK, "u").percent == 67


@pytest.mark.parametrize("status", ["QUEUED", "succeeded-ish", "CANCELED", ""])
def test_unknown_status_is_unknown_never_success(status):
    task = _vsphere.parse_info(api_info(status), TASK, "u")
    assert task.state == "unknown" and task.vendor_state == status and not task.terminal


@pytest.mark.parametrize("payload", [None, [], "RUNNING", {"service": SOFTWARE}, {"status": 3}])
def test_not_an_info_is_a_bad_response(payload):
    with pytest.raises(BadResponse) as err:
        _vsphere.parse_info(payload, TASK, "https://vc/api/cis/tasks/x", path="/api/cis/tasks/x")
    assert str(err.value).startswith("vsphere /api/cis/tasks/x")


@pytest.mark.parametrize("service,operation,kind", [
    (SOFTWARE, "apply", "firmware_update"),
    ("com.vmware.esx.settings.hosts.software", "stage", "firmware_update"),
    (SOFTWARE, "export", "repository_export"),
    (SOFTWARE, "scan", "other"),
    (SOFTWARE, "check", "other"),
    ("com.vmware.esx.settings.clusters.configuration", "import_config", "config_import"),
    ("com.vmware.esx.settings.clusters.configuration", "apply", "other"),
    ("com.vmware.esx.settings.clusters.software.apply", "apply", "other"),
    ("com.vmware.vcenter.vm", "clone", "other"),
    (None, None, "other"),
])
def test_kind(service, operation, kind):
    assert _vsphere.infer_kind(service, operation) == kind


def test_description_falls_back_to_service_and_operation():
    info = api_info("RUNNING")
    del info["description"]
    assert _vsphere.parse_info(info, TASK, "u").name == SOFTWARE + ".apply"


@pytest.mark.parametrize("task_id", [TASK, "session-1234", "52f0:" + SOFTWARE, "task-42"])
def test_vmw_task_ids_are_taken_as_they_are(task_id):
    assert _vsphere.check_task_id(task_id) == task_id
    assert "/" not in quote_segment(task_id) and ":" not in quote_segment(task_id)


@pytest.mark.parametrize("task_id,words", [
    ("../../api/session", "'/'"),
    ("52f0/other", "'/'"),
    ("52f0?action=cancel", "'?'"),
    ("..", "'..'"),
    ("a..b", "'..'"),
    ("52f0#frag", "'#'"),
    ("52f0 x", "white space"),
    ("52f0\x00", "control"),
    ("", "empty"),
    ("x" * 600, "at most 512"),
])
def test_bad_task_ids_are_refused(task_id, words):
    with pytest.raises(OptionError) as err:
        _vsphere.check_task_id(task_id)
    assert words in str(err.value) and str(err.value).startswith("vsphere")


def adapter():
    return _vsphere.VsphereAdapter(None, {})


@pytest.mark.parametrize("native,spec,result_spec", [
    ({"services": [SOFTWARE]}, {"services": [SOFTWARE]}, {}),
    ({"services": SOFTWARE, "status": ["running"]}, {"services": [SOFTWARE], "status": ["RUNNING"]}, {}),
    ({"filter_spec": {"tasks": [TASK]}, "result_spec": {"exclude_result": True}}, {"tasks": [TASK]},
     {"exclude_result": True}),
    ({"filter_spec.services": [SOFTWARE], "filter_spec.operations": ["apply"], "result_spec.return_all": False},
     {"services": [SOFTWARE], "operations": ["apply"]}, {"return_all": False}),
])
def test_native_filters_map_to_filter_spec(native, spec, result_spec):
    assert adapter().filter_spec({"native": native}) == (spec, result_spec)


def test_state_filter_narrows_the_list_on_the_server():
    spec = adapter().filter_spec({"native": {"services": [SOFTWARE]}, "state": ["running", "pending"]})[0]
    assert spec["status"] == ["RUNNING", "BLOCKED", "PENDING"]
    spec = adapter().filter_spec({"native": {"services": [SOFTWARE]}, "state": ["cancelled"]})[0]
    assert "status" not in spec


@pytest.mark.parametrize("native", [{}, {"status": ["RUNNING"]}, {"filter_spec": {"users": ["a"]}}, {"tasks": []}])
def test_a_list_needs_tasks_or_services(native):
    with pytest.raises(OptionError) as err:
        adapter().filter_spec({"native": native})
    assert "filters.native.services" in str(err.value) and "tasks or services" in str(err.value)


def test_unknown_native_keys_are_named():
    with pytest.raises(OptionError) as err:
        adapter().filter_spec({"native": {"services": [SOFTWARE], "$top": 5}})
    assert "'$top'" in str(err.value)


def test_rest_query_repeats_keys():
    params = adapter()._query({"tasks": ["a:b", "c:d"], "status": ["RUNNING"]}, {"exclude_result": True})
    assert params == [("filter_spec.tasks", "a:b"), ("filter_spec.tasks", "c:d"), ("filter_spec.status", "RUNNING"),
                      ("result_spec.exclude_result", "true")]


@pytest.mark.parametrize("body,expected", [
    ({"error_type": "NOT_FOUND", "messages": [lmsg("x", "Task x not found.")]}, ("NOT_FOUND", "Task x not found.")),
    ({"type": "com.vmware.vapi.std.errors.resource_inaccessible", "value": {"messages": []}},
     ("RESOURCE_INACCESSIBLE", "resource_inaccessible")),
    ({"type": "com.vmware.vapi.std.errors.unauthenticated", "value": {"messages": [lmsg("a", "Authentication required.")]}},
     ("UNAUTHENTICATED", "Authentication required.")),
    ({"value": "token"}, None),
    ("<html>", None),
])
def test_vapi_error(body, expected):
    assert _vsphere.vapi_error(body) == expected
