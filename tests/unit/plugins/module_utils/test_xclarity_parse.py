"""XClarity payloads -> normalized tasks, table-driven.

The export-status cases start from the example payload of Lenovo's page in
shared/seeds/002 (read from the file, not copied) and change one documented
attribute at a time; job and task states are the eight pylxca accepts plus
the design table's CompleteWithErrors.
"""

import copy
import json
import os
import re

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _xclarity as xc
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse, OptionError
from testlib import SHARED

SEED = os.path.join(SHARED, "seeds", "002_3b6af4e0c88d56c0.txt")
URL = "https://lxca/updateRepositories/firmware/status?taskid=12"


def seed_payload():
    text = open(SEED, encoding="utf-8").read()
    match = re.search(r"The following example is returned if the request is successful\.\s*(\{.*\})\s*$", text, re.S)
    return json.loads(match.group(1))


def test_seed_example_payload():
    task = xc.parse_export(seed_payload(), "export:12", URL).to_dict(include_raw=True)
    assert task["state"] == "succeeded" and task["terminal"] is True
    assert task["percent"] == 100
    assert task["kind"] == "repository_export"
    assert task["name"] == task["target"] == "repository20181112011742.zip"
    assert task["vendor_state"] == "complete"
    assert task["message"] == "Repository operation completed successfully."
    assert task["messages"] == [{"severity": "info", "text": "Repository operation completed successfully.",
                                 "id": "FQXHMUP2500I"}]
    assert task["raw"]["errorMsg"]["result"] == "informational"


def variant(**changes):
    data = copy.deepcopy(seed_payload())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


FAILURE = {"result": "failure", "messages": [{"id": "FQXHMUP2501E", "text": "Export failed."}]}

# name: (payload changes, state, percent, vendor_state, message)
EXPORT_CASES = {
    "created": (dict(progress=0, state=None, errorMsg=None, downloadedsize=0), "pending", 0, "progress 0", None),
    "running, bytes say more": (dict(progress=50, state=None, errorMsg=None, downloadedsize=2000, totalsize=8000),
                                "running", 25, "progress 50", None),
    "running, only counts": (dict(progress=50, state=None, errorMsg=None, totalsize=0, downloadednum=3, total=4),
                             "running", 75, "progress 50", None),
    "running, nothing finer": (dict(progress=50, state=None, errorMsg=None, totalsize=0, total=0),
                               "running", 50, "progress 50", None),
    "running, never 100 early": (dict(progress=50, state=None, errorMsg=None), "running", 99, "progress 50", None),
    "error": (dict(state="error", errorMsg=FAILURE, downloadedsize=4149), "failed", 50, "error", "Export failed."),
    "canceled": (dict(state="canceled", errorMsg=None, downloadedsize=0), "cancelled", 0, "canceled", None),
    "complete but result failure": (dict(errorMsg=FAILURE), "failed", 100, "complete", "Export failed."),
    "failure result before any state": (dict(state=None, progress=50, errorMsg=FAILURE), "failed", 100,
                                        "progress 50", "Export failed."),
    "unknown word": (dict(state="paused", errorMsg=None), "unknown", 100, "paused", None),
    "100 without a state is not success": (dict(state=None, errorMsg=None), "unknown", 100, "progress 100", None),
}


@pytest.mark.parametrize("name", sorted(EXPORT_CASES))
def test_export_cases(name):
    changes, state, percent, vendor_state, msg = EXPORT_CASES[name]
    task = xc.parse_export(variant(**changes), "export:12", URL).to_dict()
    assert (task["state"], task["percent"], task["vendor_state"], task["message"]) == (
        state, percent, vendor_state, msg)


def test_export_failure_message_is_critical():
    task = xc.parse_export(variant(state="error", errorMsg=FAILURE), "export:12", URL)
    assert task.messages == [{"severity": "critical", "text": "Export failed.", "id": "FQXHMUP2501E"}]


@pytest.mark.parametrize("payload", [[], "complete", {"current": "x.zip"}])
def test_export_wrong_shape(payload):
    with pytest.raises(BadResponse) as err:
        xc.parse_export(payload, "export:12", URL)
    assert "xclarity" in str(err.value) and URL in str(err.value)


JOB_STATES = {
    "Pending": "pending", "Running": "running", "Running_With_Errors": "running", "Complete": "succeeded",
    "Stopped_With_Error": "failed", "CompleteWithErrors": "failed", "Interrupted": "failed",
    "Cancelled": "cancelled", "Cancelled_With_Errors": "cancelled", "Exploded": "unknown", "": "unknown",
}


def job(state, percentage=40, **extra):
    data = {"id": "7", "status": {"state": state, "percentage": percentage}, "messageDisplay": "Job text",
            "messageID": "FQXHMJM0001I", "category": "Updates", "startTime": "2026-11-22T10:00:00+00:00",
            "endTime": ""}
    data.update(extra)
    return data


@pytest.mark.parametrize("vendor", sorted(JOB_STATES))
def test_job_states(vendor):
    task = xc.parse_job(job(vendor), "job:7", "https://lxca/jobs/7")
    assert task.state == JOB_STATES[vendor]
    assert task.vendor_state == vendor
    assert task.percent == (100 if task.state == "succeeded" else 40)


def test_job_fields():
    task = xc.parse_job(job("Stopped_With_Error", endTime=1763800000000), "job:7", "https://lxca/jobs/7")
    result = task.to_dict()
    assert result["messages"] == [{"severity": "critical", "text": "Job text", "id": "FQXHMJM0001I"}]
    assert result["started"] == "2026-11-22T10:00:00+00:00"
    assert result["ended"] == "2025-11-22T08:26:40+00:00"  # epoch milliseconds
    assert result["kind"] == "firmware_update"
    assert result["name"] == "job 7"
    warn = xc.parse_job(job("Running_With_Errors"), "job:7", "u").messages[0]["severity"]
    assert warn == "warning"


@pytest.mark.parametrize("payload", [{"id": "7"}, {"status": "Complete"}, [job("Complete")], None])
def test_job_wrong_shape(payload):
    with pytest.raises(BadResponse):
        xc.parse_job(payload, "job:7", "https://lxca/jobs/7")


def test_task_with_children():
    data = {"jobUID": "9", "name": "Firmware update", "status": "Running_With_Errors", "percentage": 60,
            "startTime": 1763800000, "children": [
                {"jobUID": "9.1", "name": "node-1", "status": "Complete", "percentage": 100, "children": []},
                {"jobUID": "9.2", "name": "node-2", "status": "Stopped_With_Error", "percentage": 60,
                 "children": [{"jobUID": "9.2.1", "name": "flash", "status": "Cancelled", "children": []}]}]}
    task = xc.parse_task(data, "9", "https://lxca/tasks/9")
    assert (task.state, task.percent, task.kind, task.started) == (
        "running", 60, "firmware_update", "2025-11-22T08:26:40+00:00")
    assert [m["text"] for m in task.messages] == ["subtask node-2 (9.2): Stopped_With_Error",
                                                  "subtask flash (9.2.1): Cancelled"]
    assert [m["severity"] for m in task.messages] == ["critical", "warning"]


@pytest.mark.parametrize("text, expected", [
    ("export:12", ("export", "12")), (" EXPORT:12 ", ("export", "12")), ("job:7", ("job", "7")),
    ("task:7", ("task", "7")), ("7", ("task", "7")), ("task:abc-1.2", ("task", "abc-1.2")),
])
def test_ids(text, expected):
    assert xc.split_id(text) == expected


@pytest.mark.parametrize("text, words", [
    ("export:abc", "is a number"), ("export:", "is a number"), ("export:-1", "is a number"),
    ("export:0", "every running export"), ("jobs:7", "prefix must be one of"),
    ("7,8", "not an XClarity job or task id"), ("task:../x", "not an XClarity"), ("", "not an XClarity"),
])
def test_bad_ids(text, words):
    with pytest.raises(OptionError) as err:
        xc.split_id(text)
    assert words in str(err.value)


@pytest.mark.parametrize("body, expected", [
    ({"errorMsg": FAILURE}, ("Export failed. (FQXHMUP2501E)", ["FQXHMUP2501E"])),
    ({"result": "failure", "messages": [{"id": "FQXHMSE0001E", "text": "No session."}]},
     ("No session. (FQXHMSE0001E)", ["FQXHMSE0001E"])),
    ({"errorMsg": {"result": "failure", "messages": []}}, None),
    ("text", None),
])
def test_error_text(body, expected):
    assert xc.error_text(body) == expected
