"""Listing tasks on a Redfish service that does not advertise $expand: the collection, then each member.

The answers are the DMTF mockup's own files (public-pmem-configuration), served by a recorded-answer stand-in
for the HTTP layer.
"""

import json
import os

from ansible_collections.taskstatus.infra.plugins.module_utils._http import Response
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish import RedfishAdapter
from testlib import SHARED

MOCKUP = os.path.join(SHARED, "specs", "redfish", "mockups", "public-pmem-configuration", "TaskService")


def load(*parts):
    with open(os.path.join(MOCKUP, *parts, "index.json"), encoding="utf-8") as handle:
        return handle.read().encode("utf-8")


class Recorded:
    """Answers GETs from a dict path -> (status, body); records what was asked."""

    prefix = ""

    def __init__(self, answers):
        self.answers = answers
        self.asked = []

    def url(self, path):
        return "https://bmc" + path

    def path_of(self, url):
        return url.replace("https://bmc", "")

    def request(self, method, path, headers=None, auth=None, params=None, **kwargs):
        self.asked.append((method, path, dict(params or {})))
        status, body = self.answers.get(path, (404, b'{"error": {"message": "not found"}}'))
        return Response(status, {"Content-Type": "application/json"}, body, path, "redfish")

    def close(self):
        pass


def test_list_without_expand_reads_each_member():
    root = {"@odata.id": "/redfish/v1", "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}}
    http = Recorded({
        "/redfish/v1": (200, json.dumps(root).encode()),
        "/redfish/v1/TaskService/Tasks": (200, load("Tasks")),
        "/redfish/v1/TaskService/Tasks/1": (200, load("Tasks", "1")),
    })
    adapter = RedfishAdapter(http, {"token": "t0ken"})
    tasks = adapter.list_tasks({"native": {}})
    assert [(t.id, t.state, t.target) for t in tasks] == [
        ("2", "pending", "/redfish/v1/Systems/InitialBoot/MemoryDomains/PMEM-2/MemoryChunks/")]
    gets = [(path, params) for method, path, params in http.asked if method == "GET"]
    assert gets == [("/redfish/v1", {}), ("/redfish/v1/TaskService/Tasks", {}), ("/redfish/v1/TaskService/Tasks/1", {})]


def test_list_with_expand_is_one_request_and_passes_native_parameters():
    root = {"ProtocolFeaturesSupported": {"ExpandQuery": {"ExpandAll": True, "Levels": True, "MaxLevels": 2}}}
    collection = json.loads(load("Tasks"))
    collection["Members"] = [json.loads(load("Tasks", "1"))]
    http = Recorded({"/redfish/v1": (200, json.dumps(root).encode()),
                     "/redfish/v1/TaskService/Tasks": (200, json.dumps(collection).encode())})
    adapter = RedfishAdapter(http, {"token": "t0ken"})
    tasks = adapter.list_tasks({"native": {"$filter": "TaskState eq 'Pending'"}})
    assert [t.state for t in tasks] == ["pending"]
    assert http.asked[-1] == ("GET", "/redfish/v1/TaskService/Tasks",
                              {"$filter": "TaskState eq 'Pending'", "$expand": ".($levels=1)"})
