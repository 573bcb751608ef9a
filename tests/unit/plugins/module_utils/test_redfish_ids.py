"""Task ids are data: how the Redfish adapter turns each id form into a URL on the configured host."""

import json
import os

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import OptionError, TransientError
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient, Response
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish import RedfishAdapter
from testlib import SHARED


@pytest.fixture
def adapter():
    http = HttpClient("bmc1.example.com:8443", "redfish")
    yield RedfishAdapter(http, {})
    http.close()


@pytest.mark.parametrize("task_id,path,monitor", [
    ("545", "/redfish/v1/TaskService/Tasks/545", False),
    ("JID_609230557311", "/redfish/v1/TaskService/Tasks/JID_609230557311", False),
    ("../../SessionService/Sessions", "/redfish/v1/TaskService/Tasks/..%2F..%2FSessionService%2FSessions", False),
    ("..", "/redfish/v1/TaskService/Tasks/%2E%2E", False),
    ("a?b#c", "/redfish/v1/TaskService/Tasks/a%3Fb%23c", False),
    ("x\r\nX-Evil: 1", "/redfish/v1/TaskService/Tasks/x%0D%0AX-Evil%3A%201", False),
])
def test_bare_ids_are_quoted_below_taskservice(adapter, task_id, path, monitor):
    url, is_monitor = adapter.resolve(task_id)
    assert url == path and is_monitor is monitor


@pytest.mark.parametrize("task_id,monitor", [
    ("/redfish/v1/TaskService/Tasks/545", False),
    ("/redfish/v1/TaskService/Tasks/545/", False),
    ("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/JID_609230557311", False),
    ("/redfish/v1/TaskService/TaskMonitors/1/", True),
    ("/redfish/v1/TaskMonitors/0bb3f9a7", True),
    ("https://bmc1.example.com:8443/redfish/v1/TaskService/TaskMonitors/7", True),
])
def test_uris(adapter, task_id, monitor):
    url, is_monitor = adapter.resolve(task_id)
    assert url.startswith("https://bmc1.example.com:8443/redfish/v1/") and is_monitor is monitor


@pytest.mark.parametrize("task_id,words", [
    ("https://evil.example.com/redfish/v1/TaskService/Tasks/1", "points at another host"),
    ("https://bmc1.example.com/redfish/v1/TaskService/Tasks/1", "points at another host"),  # other port
    ("/redfish/v1/TaskService/Tasks/../../SessionService/Sessions", "plain path below /redfish/v1/"),
    ("/redfish/v1/../../etc/passwd", "plain path below /redfish/v1/"),
    ("/redfish/v1/TaskService/Tasks/1#frag", "plain path below /redfish/v1/"),
    ("/redfish/v1/TaskService/Tasks/1\n", "plain path below /redfish/v1/"),
    ("/api/session", "plain path below /redfish/v1/"),
    ("x" * 4096, "4096 characters long"),
    ("", "empty id"),
])
def test_refused_ids(adapter, task_id, words):
    with pytest.raises(OptionError) as err:
        adapter.resolve(task_id)
    assert words in str(err.value) and str(err.value).startswith("redfish: ")
    assert len(str(err.value)) < 400


MONITOR = "/redfish/v1/TaskService/TaskMonitors/1"
MOCKUPS = os.path.join(SHARED, "specs", "redfish", "mockups", "public-pmem-configuration", "TaskService")
DMTF_TASK = {"@odata.id": "/redfish/v1/TaskService/Tasks/1", "Id": "1", "Name": "Task 1", "TaskState": "Completed",
             "TaskStatus": "OK", "PercentComplete": 100, "TaskMonitor": MONITOR}


class Answers(RedfishAdapter):
    """The adapter with canned answers in place of HTTP: {path: (status, JSON body or exception)}."""

    def __init__(self, answers):
        self.http = HttpClient("bmc1.example.com:8443", "redfish")
        super().__init__(self.http, {})
        self.answers = answers
        self.asked = []

    def get(self, path, params=None):
        path = self.http.path_of(self.http.url(path))
        self.asked.append(path)
        status, body = self.answers.get(path, (404, {}))
        if isinstance(body, Exception):
            raise body
        return Response(status, {}, json.dumps(body).encode(), path, "redfish")


@pytest.mark.parametrize("task_answer,adopted", [
    ((200, DMTF_TASK), True),  # the Task names this monitor: its name comes along
    ((200, dict(DMTF_TASK, TaskMonitor="/redfish/v1/TaskService/TaskMonitors/2")), False),  # another monitor's
    ((200, {k: v for k, v in DMTF_TASK.items() if k != "TaskMonitor"}), False),  # no link: not proven
    ((404, {}), False),
    ((503, TransientError("connection refused", platform="redfish")), False),  # never fails the read
])
def test_task_behind_a_finished_monitor(task_answer, adopted):
    adapter = Answers({MONITOR: (204, {}), "/redfish/v1/TaskService/Tasks/1": task_answer})
    try:
        task = adapter.fetch([MONITOR])[0]
    finally:
        adapter.http.close()
    assert (task.id, task.state, task.percent) == (MONITOR, "succeeded", 100)
    assert task.name == ("Task 1" if adopted else None)
    assert adapter.asked[:2] == [MONITOR, "/redfish/v1/TaskService/Tasks/1"]


def test_task_behind_the_dmtf_mockup_monitor():
    # DMTF public-pmem-configuration: TaskMonitors/1/ belongs to Tasks/1, which still says Pending there;
    # the monitor's final answer (here 200) decides the state, the Task gives the name and the payload's kind.
    with open(os.path.join(MOCKUPS, "Tasks", "1", "index.json"), encoding="utf-8") as handle:
        mockup_task = json.load(handle)
    monitor = mockup_task["TaskMonitor"]
    adapter = Answers({monitor: (200, {}), "/redfish/v1/TaskService/Tasks/1": (200, mockup_task)})
    try:
        task = adapter.fetch([monitor])[0]
    finally:
        adapter.http.close()
    assert (task.id, task.state, task.percent, task.name, task.started) == (
        monitor, "succeeded", 100, "Task", "2018-07-26T15:01:22Z")
    assert adapter.asked == ["/redfish/v1/TaskService/TaskMonitors/1/", "/redfish/v1/TaskService/Tasks/1"]
