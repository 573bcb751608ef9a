"""FMC/cdFMC payloads -> normalized tasks, errors, domains and pacing, table-driven.

Payloads are the examples of Cisco's cdFMC OpenAPI (shared/specs/fmc) and of the
task-status seed (shared/seeds), plus variations of their fields.
"""

import copy
import json
import os
import re

import pytest
import yaml

from ansible_collections.taskstatus.infra.plugins.module_utils import _fmc, _pacing
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    BadResponse,
    OptionError,
    TransientError,
)
from testlib import SHARED

SPEC = os.path.join(SHARED, "specs", "fmc", "cdfmc-status-api.yml")
SEED = os.path.join(SHARED, "seeds", "001_31a22d9bbe50c03e.txt")
URL = "https://fmc/api/fmc_config/v1/domain/d/job/taskstatuses/taskID"


def spec_examples():
    with open(SPEC, encoding="utf-8") as handle:
        doc = yaml.safe_load(handle)
    op = doc["paths"]["/v1/cdfmc/api/fmc_config/v1/domain/{domainUUID}/job/taskstatuses/{objectId}"]["get"]
    examples = op["responses"]["200"]["content"]["application/json"]["examples"]
    return [examples[k]["value"] for k in sorted(examples)]


def seed_examples():
    with open(SEED, encoding="utf-8") as handle:
        seed = json.load(handle)
    examples = seed["spec"]["responses"]["200"]["content"]["application/json"]["examples"]
    return [examples[k]["value"] for k in sorted(examples)]


def test_the_spec_and_the_seed_carry_the_same_two_examples():
    assert spec_examples() == seed_examples() and len(spec_examples()) == 2


def test_spec_example_1_placeholder_status_is_unknown_never_success():
    data = spec_examples()[0]
    task = _fmc.parse_task(data, "taskID", URL)
    result = task.to_dict(include_raw=True)
    assert (result["state"], result["kind"], result["vendor_state"], result["terminal"]) == (
        "unknown", "other", "status_of_queried_task", False)
    assert result["name"] == "description_about_task" and result["message"] == "message_about_task"
    assert result["subtasks"] == [] and result["task_type"] == "valid_enum" and result["raw"] is data
    assert "download_url" not in result


def test_spec_example_2_export_keeps_download_url_checksum_and_subtasks():
    data = spec_examples()[1]
    result = _fmc.parse_task(data, "taskID", URL).to_dict()
    assert result["state"] == "unknown"  # "COMPLETED/RUNNING/FAILED" is a placeholder, not a status
    assert result["download_url"] == "/importExport/device/download.cgi?type=import/export&id=task-id"
    assert result["checksum"] == "d1dbda73ea77be90ae511fc7a3b633e9144eb084b97644d1a4384bb1bcf3b06e"
    assert result["subtasks"] == [{"status": "SUCCESS/FAILED/PENDING", "state": "unknown", "target_name": None,
                                   "target_id": "DeviceUUID1", "message": "message_about_subtask"}]
    assert result["target"] == "DeviceUUID1"
    assert "DeviceUUID1: SUCCESS/FAILED/PENDING - message_about_subtask" in [m["text"] for m in result["messages"]]


STATUSES = [
    ("PENDING", "pending"), ("Pending", "pending"), ("QUEUED", "pending"),
    ("RUNNING", "running"), ("IN_PROGRESS", "running"), ("Deploying", "running"), ("DEPLOYING", "running"),
    ("SUCCESS", "succeeded"), ("Succeeded", "succeeded"), ("COMPLETED", "succeeded"), ("Deployed", "succeeded"),
    ("FAILED", "failed"), ("Failed", "failed"), ("CANCELLED", "cancelled"), ("Canceled", "cancelled"),
    ("PARTIALLY_SUCCEEDED", "unknown"), ("", "unknown"), (None, "unknown"), ("status_of_queried_task", "unknown"),
]


@pytest.mark.parametrize("status,state", STATUSES)
def test_status_mapping_case_insensitive_unknown_is_unknown(status, state):
    data = dict(spec_examples()[0], status=status)
    task = _fmc.parse_task(data, "taskID", URL)
    assert task.state == state and task.vendor_state == status
    assert task.percent == (100 if state == "succeeded" else None)


KINDS = [
    ("DEVICE_DEPLOYMENT", "deployment"), ("DEVICE_EXPORT", "config_export"), ("POLICY_EXPORT", "config_export"),
    ("DeviceExport", "config_export"), ("DEVICE_IMPORT", "config_import"), ("DEVICE_BACKUP", "backup"),
    ("DEVICE_ROLLBACK", "other"), ("FA_TELEMETRY_DATA_GENERATION", "other"),  # in the seed, not in the spec's enum
    ("SOMETHING_FROM_8_0", "other"), (None, "other"),
]


@pytest.mark.parametrize("task_type,kind", KINDS)
def test_task_type_to_kind_open_enum(task_type, kind):
    data = dict(spec_examples()[0], status="RUNNING", taskType=task_type)
    assert _fmc.parse_task(data, "t", URL).kind == kind


def deployment(status, subs):
    data = copy.deepcopy(spec_examples()[1])
    data.update(status=status, taskType="DEVICE_DEPLOYMENT", message="Deployment to 3 devices")
    data.pop("metadata")
    data["subTasks"] = [{"status": st, "message": msg, "target": {"id": "id-%s" % name, "name": name, "type": "Device"}}
                        for name, st, msg in subs]
    return data


def test_deployment_failed_device_is_named_in_the_message():
    data = deployment("FAILED", [("ftd-1", "SUCCESS", "ok"), ("ftd-2", "FAILED", "interface in use"),
                                 ("ftd-3", "SUCCESS", "ok")])
    task = _fmc.parse_task(data, "1", URL)
    assert task.state == "failed" and task.kind == "deployment"
    assert task.message == "ftd-2 (id-ftd-2): FAILED - interface in use"
    assert [s["state"] for s in task.extra["subtasks"]] == ["succeeded", "failed", "succeeded"]
    assert task.describe() == "1 (description_about_task): failed - ftd-2 (id-ftd-2): FAILED - interface in use"


def test_a_success_with_a_failed_device_is_a_failure():
    data = deployment("SUCCEEDED", [("ftd-1", "SUCCESS", "ok"), ("ftd-2", "FAILED", "no route")])
    task = _fmc.parse_task(data, "1", URL)
    assert task.state == "failed" and task.vendor_state == "SUCCEEDED"
    assert task.message == "ftd-2 (id-ftd-2): FAILED - no route"
    assert [m["text"] for m in task.messages][-2] == "finished, but 1 of 2 devices did not succeed: ftd-2 (failed)"


def test_a_running_deployment_stays_running_while_a_device_failed():
    data = deployment("DEPLOYING", [("ftd-1", "FAILED", "x"), ("ftd-2", "RUNNING", "")])
    assert _fmc.parse_task(data, "1", URL).state == "running"


@pytest.mark.parametrize("data", [[], "x", {"id": "1"}, {"links": {}}])
def test_not_a_task_status_is_a_bad_response(data):
    with pytest.raises(BadResponse, match="fmc"):
        _fmc.parse_task(data, "1", URL)


ERRORS = [
    ({"error": {"category": "FRAMEWORK", "messages": [{"description": "Access token invalid."}], "severity": "ERROR"}},
     "Access token invalid."),
    ({"category": "VALIDATION", "messages": [{"description": "a"}, {"description": "b"}, {"description": "a"}],
      "severity": "ERROR"}, "a; b"),
    ({"messages": [{"code": "E42"}]}, "E42"),
    ({"error": "string"}, None), ({"messages": "x"}, None), ([], None), (None, None),
]


@pytest.mark.parametrize("body,text", ERRORS)
def test_error_text_wrapped_and_unwrapped(body, text):
    assert _fmc.error_text(body) == text


def test_another_deployment_in_progress_is_explained():
    text = _fmc.explain("Another deployment is in progress for ftd-1; a device takes one deployment at a time.")
    assert "wait for its task" in text and text.startswith("Another deployment")
    assert _fmc.explain("Unauthorized") == "Unauthorized"


class FakeHttp:
    def __init__(self):
        self.deadline = lambda: None
        self.prefix = ""

    def close(self):
        pass


DOMAINS = [{"name": "Global", "uuid": "e276abec-e0f2-11e3-8169-6d9ed49b625f"},
           {"name": "Global/Lab", "uuid": "5a8c3b1e-62b1-4c7e-9a4f-1d2e3f405162"}]


@pytest.mark.parametrize("wanted,uuid", [
    (None, "default"), ("Global", DOMAINS[0]["uuid"]), ("global/lab", DOMAINS[1]["uuid"]), ("Lab", DOMAINS[1]["uuid"]),
    (DOMAINS[1]["uuid"].upper(), DOMAINS[1]["uuid"]),
])
def test_domain_by_uuid_or_name(wanted, uuid):
    adapter = _fmc.FmcAdapter(FakeHttp(), {"domain": wanted})
    adapter.domains = DOMAINS
    assert adapter.pick_domain("default") == uuid


def test_unknown_domain_lists_the_known_ones():
    adapter = _fmc.FmcAdapter(FakeHttp(), {"domain": "Prod"})
    adapter.domains = DOMAINS
    with pytest.raises(OptionError) as exc:
        adapter.pick_domain("default")
    assert "domain 'Prod' does not exist; known domains: Global (e276abec" in str(exc.value)
    assert "Global/Lab (5a8c3b1e" in str(exc.value)


@pytest.mark.parametrize("task_id", ["", " ", "x" * 300, "a\nb"])
def test_bad_task_ids_are_refused_before_any_request(task_id):
    with pytest.raises(OptionError):
        _fmc.FmcAdapter(FakeHttp(), {}).check_id(task_id)


class Clock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_never_puts_more_than_the_limit_in_any_window():
    clock = Clock()
    limiter = _pacing.RateLimiter(110, 60.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _request in range(400):
        limiter.acquire()
        sent.append(clock.now)
        clock.now += 0.01  # a request takes 10 ms
    worst = max(sum(1 for t in sent if start <= t < start + 60.0) for start in sent)
    assert worst == 110
    assert sent[109] - sent[0] < 2 and sent[110] - sent[0] >= 60.0  # a burst, then one window later
    assert round(limiter.waited) > 0


def test_rate_limiter_gives_up_when_the_wait_outlasts_the_deadline():
    clock = Clock()
    limiter = _pacing.RateLimiter(2, 60.0, clock=clock, sleep=clock.sleep)
    limiter.acquire(left=5)
    limiter.acquire(left=5)
    with pytest.raises(TransientError, match="rate limit of 2 requests per 60 s"):
        limiter.acquire(left=5, platform="fmc")
    assert clock.slept == []


def test_adapter_constants_stay_under_the_documented_limit():
    assert _fmc.FmcAdapter.RATE_LIMIT < 120 and _fmc.FmcAdapter.RATE_WINDOW == 60.0
    assert _fmc.FmcAdapter.MAX_REFRESHES == 3 and _fmc.FmcAdapter.TOKEN_LIFETIME == 1800.0
    assert re.match(r"^/v1/cdfmc/api$", _fmc.CdfmcAdapter.API)
