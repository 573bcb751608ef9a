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
    ("task:1", "/redfish/v1/TaskService/Tasks/task%3A1", False),
    ("a b", "/redfish/v1/TaskService/Tasks/a%20b", False),
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
    # bare ids that a front end decoding %2F before routing would turn into another resource
    ("../../AccountService/Accounts/1", "a bare id must not contain '/', '..'"),
    ("..", "a bare id must not contain '..'"),
    ("a?b#c", "a bare id must not contain '?', '#'"),
    ("x\r\nX-Evil: 1", "a bare id must not contain control characters"),
    ("a\\b", "must not contain '\\\\'"),
    ("/redfish/v1/TaskService/Tasks/..%2F..%2FAccountService", "encoded '/'"),
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

    def get(self, path, params=None, accept=()):
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
    # Only a Task that names the monitor proves that a 204 at the first read is a monitor's final answer;
    # without that proof the outcome stays unknown, never a success.
    if adopted:
        assert (task.id, task.state, task.percent, task.name) == (MONITOR, "succeeded", 100, "Task 1")
    else:
        assert (task.id, task.state, task.percent, task.name) == (MONITOR, "unknown", None, None)
        assert "outcome is unknown" in task.message
    assert adapter.asked[:2] == [MONITOR, "/redfish/v1/TaskService/Tasks/1"]


def test_a_monitor_that_answered_202_is_done_when_it_answers_204():
    adapter = Answers({MONITOR: (202, {})})
    try:
        assert adapter.fetch([MONITOR])[0].state == "running"
        adapter.answers[MONITOR] = (204, {})
        task = adapter.fetch([MONITOR])[0]
    finally:
        adapter.http.close()
    assert (task.state, task.percent, task.vendor_state) == ("succeeded", 100, "204 No Content")


@pytest.mark.parametrize("uri,body,words", [
    ("/redfish/v1/Systems/1", {"@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem", "Id": "1"},
     "is a ComputerSystem resource, not a task"),
    ("/redfish/v1/AccountService/Accounts/1", {"@odata.type": "#ManagerAccount.v1_12_0.ManagerAccount"},
     "is a ManagerAccount resource"),
])
def test_a_resource_that_is_no_task_is_refused_not_succeeded(uri, body, words):
    adapter = Answers({uri: (200, body)})
    try:
        with pytest.raises(OptionError) as err:
            adapter.fetch([uri])
    finally:
        adapter.http.close()
    assert words in str(err.value)


def test_jobservice_jobs_are_tasks_not_monitors():
    job = {"@odata.type": "#Job.v1_2_4.Job", "Id": "7", "Name": "Firmware job", "JobState": "Running",
           "PercentComplete": 40}
    adapter = Answers({"/redfish/v1/JobService/Jobs/7": (200, job)})
    try:
        path, is_monitor = adapter.resolve("/redfish/v1/JobService/Jobs/7")
        task = adapter.fetch(["/redfish/v1/JobService/Jobs/7"])[0]
    finally:
        adapter.http.close()
    assert not is_monitor and (task.state, task.percent) == ("running", 40)


def test_a_monitor_naming_itself_is_read_once_not_followed():
    # A 202 body whose @odata.id names the monitor itself (a loop) or another monitor is no task link.
    body = {"@odata.id": MONITOR, "TaskState": "Running", "PercentComplete": 10}
    adapter = Answers({MONITOR: (202, body)})
    try:
        task = adapter.fetch([MONITOR])[0]
        adapter.answers[MONITOR] = (404, {})
        gone = adapter.fetch([MONITOR])[0]
    finally:
        adapter.http.close()
    assert task.state == "running" and not gone.found
    assert adapter.asked == [MONITOR, MONITOR]


def test_an_absolute_task_monitor_link_with_the_bmc_ip_is_compared_by_path():
    task_body = dict(DMTF_TASK, TaskMonitor="https://10.0.0.5" + MONITOR)
    adapter = Answers({MONITOR: (204, {}), "/redfish/v1/TaskService/Tasks/1": (200, task_body)})
    try:
        task = adapter.fetch([MONITOR])[0]
    finally:
        adapter.http.close()
    assert (task.state, task.name) == ("succeeded", "Task 1")


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
