"""Every Task payload the simulator emits validates against DMTF's Task.v1_7_4.json.

The schema lives in shared/specs/redfish. Its external ``$ref``s point at
http://redfish.dmtf.org/schemas/v1/{Resource,Message,odata-v4,TaskCollection}.json,
which are not available offline (no network in tests, and those files are
not in shared/specs). They are resolved here through a ``referencing``
registry of local stand-ins:

- permissive (``{}``) for what the Task schema only points at and what is
  not about tasks (Oem, Links' idRef/count, SubTasks' TaskCollection,
  odata context/etag);
- small faithful stand-ins where a wrong value would matter to a client:
  Message.json's Message (MessageId required, strings, no other keys than
  DMTF's), Resource.json's Health (OK/Warning/Critical, the TaskStatus),
  Id/Name/Description and odata id/type (strings).
"""

import datetime
import itertools
import json
import os
import time

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SHARED = os.environ.get(
    "TASKSTATUS_SHARED",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "shared"),
)
SPEC = os.path.normpath(os.path.join(SHARED, "specs", "redfish", "Task.v1_7_4.json"))
DMTF = "http://redfish.dmtf.org/schemas/v1/"

STRING = {"type": "string"}
ODATA = {"definitions": {"id": STRING, "type": STRING, "context": {}, "etag": {}, "idRef": {}, "count": {}}}
RESOURCE = {
    "definitions": {
        "Id": STRING,
        "Name": STRING,
        "Description": STRING,
        "Oem": {"type": "object"},
        "Health": {"enum": ["OK", "Warning", "Critical"], "type": "string"},
    }
}
MESSAGE = {
    "definitions": {
        "Message": {
            "type": "object",
            "required": ["MessageId"],
            "additionalProperties": False,
            "patternProperties": {r"^([a-zA-Z_][a-zA-Z0-9_]*)?@(odata|Redfish|Message)\.[a-zA-Z_][a-zA-Z0-9_]*$": {}},
            "properties": {
                "MessageId": STRING,
                "Message": STRING,
                "Severity": STRING,
                "MessageSeverity": {"enum": ["OK", "Warning", "Critical"]},
                "MessageArgs": {"type": "array", "items": STRING},
                "RelatedProperties": {"type": "array", "items": STRING},
                "Resolution": STRING,
                "ResolutionSteps": {"type": "array"},
                "Oem": {"type": "object"},
                "LogEntry": {"type": "object"},
                "UserAuthenticationSource": STRING,
            },
        }
    }
}
TASK_COLLECTION = {"definitions": {"TaskCollection": {}}}


def _validator():
    with open(SPEC) as handle:
        schema = json.load(handle)
    registry = Registry().with_resources(
        (DMTF + name, DRAFT7.create_resource(contents))
        for name, contents in (
            ("odata-v4.json", ODATA),
            ("Resource.json", RESOURCE),
            ("Message.json", MESSAGE),
            ("TaskCollection.json", TASK_COLLECTION),
        )
    )
    registry = registry.with_resource(schema["$id"], Resource(contents=schema, specification=DRAFT7))
    # The schema's $schema is DMTF's own meta-schema (a draft-07 superset); validate as draft 7.
    return Draft7Validator(schema, registry=registry)


VALIDATOR = _validator()


def check(payload):
    errors = sorted(VALIDATOR.iter_errors(payload), key=lambda e: list(e.path))
    assert not errors, "%s\n%s" % (json.dumps(payload, indent=1), "\n".join(e.message for e in errors))
    # jsonschema checks "format" only with extra packages; date-times by hand
    for key in ("StartTime", "EndTime"):
        if key in payload:
            parsed = datetime.datetime.fromisoformat(payload[key])
            assert parsed.tzinfo is not None


def test_the_validator_is_not_toothless():
    bad = {"@odata.id": "/x", "@odata.type": "#Task.v1_7_4.Task", "Id": "1", "Name": "t"}
    for mutation in (
        {"TaskState": "Done"},
        {"TaskStatus": "Fine"},
        {"PercentComplete": 101},
        {"Messages": [{"Message": "no id"}]},
        {"Messages": [{"MessageId": "X", "Text": "nope"}]},
        {"Payload": {"HttpHeaders": "x"}},
        {"Surprise": 1},
    ):
        assert list(VALIDATOR.iter_errors(dict(bad, **mutation))), mutation
    check(bad)


def test_dmtf_mockup_tasks_validate():
    base = os.path.join(os.path.dirname(SPEC), "mockups")
    for path in ("public-rackmount1/TaskService/Tasks/545", "public-pmem-configuration/TaskService/Tasks/1"):
        with open(os.path.join(base, path, "index.json")) as handle:
            assert not list(VALIDATOR.iter_errors(json.load(handle)))


SCENARIOS = ("success", "fail", "cancel", "critical", "delete", "reboot", "stuck")
KINDS = ("firmware_update", "config_export", "support_export", "other")


# Every flavour whose TaskService holds the tasks themselves (the JobService flavour's jobs are Jobs:
# its hand-off Tasks are checked below, the Jobs by DMTF's Service Validator against Job_v1.xml).
TASK_FLAVOURS = ["gen", "dell", "cisco", "obmc"]


@pytest.mark.parametrize("vendor", TASK_FLAVOURS)
def test_every_state_of_every_scenario_validates(sim, vendor):
    """Render each task at many points of its life (new, running, done)."""
    device = sim.device(vendor)
    flavour = device.platform.flavour
    # device-level reboot scheduling is not wanted here: build the tasks aside
    rendered = 0
    for scenario, kind in itertools.product(SCENARIOS, KINDS):
        task = flavour.start_task(scenario if scenario != "reboot" else "success", 10.0, kind)
        task.scenario = scenario
        for elapsed in (0, 0.5, 1.0, 2.5, 5.0, 9.99, 10.0, 50.0):
            payload = flavour.task_payload(task, task.created + elapsed)
            check(payload)
            rendered += 1
        with device.lock:
            flavour.reset()
    for task in list(device.tasks.values()):  # Cisco's untouched seed slots
        check(flavour.task_payload(task, time.monotonic()))
    assert rendered == len(SCENARIOS) * len(KINDS) * 8


def test_jobservice_hand_off_tasks_validate(client):
    c = client("jobs")
    resp = c.simple_update()
    check(resp.json())
    for kind in KINDS:
        c.new_task(kind=kind, duration=0)
    tasks = c.get("/redfish/v1/TaskService/Tasks", params={"$expand": "."}).json()["Members"]
    assert len(tasks) == 1 + len(KINDS)
    for payload in tasks:
        check(payload)


@pytest.mark.parametrize("vendor", TASK_FLAVOURS + ["jobs"])
def test_payloads_over_http_validate(client, wait, vendor):
    c = client(vendor)
    # an OpenBMC reboots at the end of a successful firmware update: not in this test
    c.config(duration=0.5, scenario="fail" if vendor == "obmc" else "success")
    payloads = []
    resp = c.simple_update()
    if resp.content:  # the Task in the 202 (Dell: no body, the Task URI in Location)
        payloads.append(resp.json())
    location = c.get(resp.headers["Location"]).json() if resp.headers.get("Location") else {}
    if "TaskState" in location:  # the task monitor's 202 (or the Task itself: Dell, Cisco)
        payloads.append(location)
    uri = payloads[-1]["@odata.id"]
    kind = "config_export" if vendor == "obmc" else "firmware_update"
    for scenario in SCENARIOS:
        if vendor != "cisco":
            c.new_task(scenario=scenario if scenario != "reboot" else "success", duration=0.5, kind=kind)
    deadline = time.monotonic() + 0.8
    while time.monotonic() < deadline:
        payloads.append(c.get(uri).json())
        payloads.extend(c.get("/redfish/v1/TaskService/Tasks", params={"$expand": "."}).json()["Members"])
        time.sleep(0.1)
    assert len(payloads) > 10
    for payload in payloads:
        check(payload)
