"""Property-based tests of every platform's parser (hypothesis).

Start from real vendor payloads (the seeds and the DMTF mockups in shared/), replace any field at any
depth by any JSON value, or add fields, or take any JSON at all: each parser returns a normalized task or
raises the collection's own error, never another exception; the task is JSON-serializable with the
documented types; and it is never ``succeeded`` unless the payload carries the platform's own success word.
"""

import copy
import json
import math
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.taskstatus.infra.plugins.module_utils import _fmc, _redfish_parse as _redfish, _vsphere, _xclarity
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TaskStatusError
from ansible_collections.taskstatus.infra.plugins.module_utils._http import Response
from ansible_collections.taskstatus.infra.plugins.module_utils._models import STATES, SUCCEEDED
from simredfish import flavour_payloads
from testlib import SHARED

SEEDS = os.path.join(SHARED, "seeds")
MOCKUPS = os.path.join(SHARED, "specs", "redfish", "mockups")

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10 ** 300, max_value=10 ** 400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["Completed", "completed", "SUCCEEDED", "Success (100%)", "Complete", "complete", "Running",
                     "Exception", "", "0", "100", "N/A", "None, OK", "Critical"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


def redfish_payloads():
    text = open(os.path.join(SEEDS, "000_e1b7cd86100c7cc2.txt"), encoding="utf-8").read()
    blocks = re.findall(r"^## (/redfish/v1/TaskService/Tasks/\w+)\s*```(.*?)```", text, re.S | re.M)
    payloads = [json.loads(body) for _path, body in blocks]
    for mockup in ("public-rackmount1/TaskService/Tasks/545", "public-pmem-configuration/TaskService/Tasks/1"):
        with open(os.path.join(MOCKUPS, mockup, "index.json"), encoding="utf-8") as handle:
            payloads.append(json.load(handle))
    payloads.append({"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_1", "Id": "JID_1",
                     "JobState": "Completed", "JobType": "FirmwareUpdate", "PercentComplete": 100,
                     "Message": "Job completed successfully.", "MessageId": "PR19"})
    # The simulator's vendor flavours: iDRAC Tasks and job-queue entries, DMTF Jobs and the Tasks that hand
    # over to them, bmcweb Tasks; one running and one finished (failed but "Completed") of each.
    payloads.extend(body for _f, scenario, _done, _path, body in flavour_payloads()
                    if scenario == "critical" and ("TaskState" in body or "JobState" in body))
    return payloads


def fmc_payloads():
    with open(os.path.join(SEEDS, "001_31a22d9bbe50c03e.txt"), encoding="utf-8") as handle:
        seed = json.load(handle)
    examples = seed["spec"]["responses"]["200"]["content"]["application/json"]["examples"]
    payloads = [examples[k]["value"] for k in sorted(examples)]
    payloads.append({"id": "1", "type": "TaskStatus", "taskType": "DEVICE_DEPLOYMENT", "status": "SUCCEEDED",
                     "subTasks": [{"target": {"name": "ftd-1", "id": "d1"}, "status": "SUCCEEDED"},
                                  {"target": {"name": "ftd-2", "id": "d2"}, "status": "FAILED", "message": "x"}]})
    return payloads


def xclarity_export_payloads():
    text = open(os.path.join(SEEDS, "002_3b6af4e0c88d56c0.txt"), encoding="utf-8").read()
    match = re.search(r"The following example is returned if the request is successful\.\s*(\{.*\})\s*$", text, re.S)
    return [json.loads(match.group(1))]


XCLARITY_JOB = {"id": "12", "name": "Firmware update", "status": {"state": "Complete", "percentage": 100},
                "category": "Firmware", "startTime": 1700000000000, "messageDisplay": "done"}
XCLARITY_TASK = {"jobUID": "12", "name": "Update", "status": "Complete", "percentage": 100,
                 "children": [{"jobUID": "13", "status": "Complete", "children": [{"jobUID": "14", "status": "Failed"}]}]}
VSPHERE_INFO = {"status": "SUCCEEDED", "service": "com.vmware.esx.settings.clusters.software", "operation": "apply",
                "progress": {"total": 100, "completed": 100, "message": {"id": "a", "default_message": "Done"}},
                "start_time": "2026-05-04T10:00:01.102Z", "end_time": "2026-05-04T10:42:17.530Z",
                "target": {"type": "ClusterComputeResource", "id": "domain-c8"}, "cancelable": False,
                "description": {"id": "d", "default_message": "Remediate cluster"}}

# parser, base payloads, the payload's own success words (lower case) and where they may stand
PARSERS = {
    "redfish": (_redfish.parse_task, redfish_payloads()),
    "fmc": (_fmc.parse_task, fmc_payloads()),
    "xclarity_export": (_xclarity.parse_export, xclarity_export_payloads()),
    "xclarity_job": (_xclarity.parse_job, [XCLARITY_JOB]),
    "xclarity_task": (_xclarity.parse_task, [XCLARITY_TASK]),
    "vsphere": (_vsphere.parse_info, [VSPHERE_INFO]),
}


def success_words(name, payload):
    """The platform's own words for success that the payload really carries, where the parser reads them."""
    if not isinstance(payload, dict):
        return set()
    words = set()

    def word(value):
        return value.strip().lower() if isinstance(value, str) else None

    if name == "redfish":
        for key in ("TaskState", "JobState"):
            if _redfish.JOB_STATES.get(word(payload.get(key)) or "") == SUCCEEDED:
                words.add(word(payload[key]))
        cisco = payload.get("Oem", {}).get("Cisco") if isinstance(payload.get("Oem"), dict) else None
        status = _redfish.cisco_status(cisco) if isinstance(cisco, dict) else None
        if status and status[0] == SUCCEEDED:
            words.add(status[2].lower())
    elif name == "fmc":
        if _fmc.state_of(payload.get("status")) == SUCCEEDED:
            words.add(word(payload["status"]))
    elif name == "xclarity_export":
        if word(payload.get("state")) in ("complete",):
            words.add("complete")
    elif name == "xclarity_job":
        status = payload.get("status")
        if isinstance(status, dict) and _xclarity.job_state(status.get("state")) == SUCCEEDED:
            words.add(word(status["state"]))
    elif name == "xclarity_task":
        if _xclarity.job_state(payload.get("status")) == SUCCEEDED:
            words.add(word(payload["status"]))
    elif name == "vsphere":
        if word(payload.get("status")) == "succeeded":
            words.add("succeeded")
    return words


def paths(value, prefix=()):
    """Every path into a JSON value (keys and indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


def replaced(payload, path, new):
    if not path:
        return new
    data = copy.deepcopy(payload)
    node = data
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return data


@st.composite
def mutated(draw, name):
    _parser, bases = PARSERS[name]
    base = draw(st.sampled_from(bases))
    how = draw(st.sampled_from(["replace", "replace", "replace", "add", "any"]))
    if how == "any":
        return draw(JSON)
    if how == "add":
        data = copy.deepcopy(base)
        data.update(draw(st.dictionaries(st.text(max_size=12), JSON, min_size=1, max_size=3)))
        return data
    path = draw(st.sampled_from(list(paths(base))))
    return replaced(base, path, draw(JSON))


def check(name, payload):
    parser, _bases = PARSERS[name]
    try:
        task = parser(payload, "id-1", "https://manager/tasks/1")
    except TaskStatusError as exc:
        assert str(exc)
        return
    result = task.to_dict(include_raw=False)
    json.dumps(result, allow_nan=True)  # serializable
    assert result["state"] in STATES
    assert result["terminal"] == (result["state"] in ("succeeded", "failed", "cancelled"))
    assert result["percent"] is None or (isinstance(result["percent"], int) and 0 <= result["percent"] <= 100)
    for key in ("name", "target", "started", "ended", "message"):
        assert result[key] is None or isinstance(result[key], str), (key, result[key])
    assert result["vendor_state"] is None or isinstance(result["vendor_state"], str)
    for entry in result["messages"]:
        assert isinstance(entry["text"], str) and entry["severity"] in ("ok", "info", "warning", "critical")
        assert entry["id"] is None or isinstance(entry["id"], str)
    if result["state"] == SUCCEEDED:
        assert success_words(name, payload), payload


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_real_payloads_pass_the_property(name):
    parser, bases = PARSERS[name]
    for base in bases:
        check(name, base)


WRONG = [7, -1, 1.5, float("nan"), 10 ** 400, True, False, None, "", "x", "Completed", [], [1], [{"a": 1}], {},
         {"a": [1]}]


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_field_of_every_real_payload_with_every_wrong_type(name):
    """Exhaustive: each field at any depth of each real payload, replaced by each of a set of wrong types."""
    _parser, bases = PARSERS[name]
    checked = 0
    for base in bases:
        for path in paths(base):
            for value in WRONG:
                check(name, replaced(base, path, value))
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_at_any_field(name, data):
    check(name, data.draw(mutated(name)))


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200), status=st.integers(min_value=100, max_value=599),
       ctype=st.sampled_from(["application/json", "text/html", "", "application/octet-stream"]))
def test_any_body_is_json_or_the_collections_own_error(body, status, ctype):
    resp = Response(status, {"Content-Type": ctype}, body, "/x", "redfish")
    for expect in (None, dict, list, (dict, list)):
        try:
            value = resp.json(expect)
        except TaskStatusError as exc:
            assert "redfish /x HTTP %d" % status in str(exc)
        else:
            assert expect is None or isinstance(value, expect)
    assert resp.json_or_none() is None or isinstance(resp.json_or_none(), (dict, list, str, int, float, bool))


REDFISH_QUIRKS = (
    (_redfish.handoff_link, lambda v: v is None or isinstance(v, str)),
    (_redfish.task_identity, lambda v: len(v) == 3 and all(p is None or isinstance(p, str) for p in v)),
    (_redfish.manager_firmware, lambda v: len(v) == 2 and all(p is None or isinstance(p, str) for p in v)),
    (_redfish.member_links, lambda v: all(isinstance(p, str) for p in v)),
    (_redfish.idrac_job_id, lambda v: v is None),
    (_redfish.error_text, lambda v: v is None or isinstance(v, str)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_redfish_quirk_readers_take_any_json(data):
    """The functions that read vendor quirks (hand-off links, task identities, firmware) take any JSON."""
    value = data.draw(st.one_of(JSON, mutated("redfish")))
    for reader, valid in REDFISH_QUIRKS:
        assert valid(reader(value)), (reader.__name__, value)
    identity = _redfish.task_identity(value)
    assert _redfish.same_task(identity, identity)
    text, fields = _redfish.firmware_verdict({"/m": _redfish.manager_firmware(value) + (None,)},
                                             {"/m": _redfish.manager_firmware(value) + (None,)})
    assert isinstance(text, str) and fields["firmware_changed"] in (None, False)


def test_the_property_sees_a_known_trap():
    # A finished parent with a failed child is not a success on any platform.
    assert _xclarity.parse_task(XCLARITY_TASK, "12", "u").state == "failed"
    assert _fmc.parse_task(fmc_payloads()[-1], "1", "u").state == "failed"
    assert not math.isnan(0.0)
