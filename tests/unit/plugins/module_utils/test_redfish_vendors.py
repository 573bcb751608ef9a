"""What real Redfish services do that the adapter must survive, on the simulator's vendor flavours (in process).

- iDRAC: a finished task leaves TaskService while its job stays in the job queue (dell/iDRAC-Redfish-Scripting
  #160, #275): a ``Tasks/JID_...`` that answers 404 is read from ``Managers/<id>/Jobs/JID_...``.
- JobService: the update's task completes at once with ``Update.1.1.OperationTransitionedToJob``; the update
  is the Job it names, followed once, on this host, only to a ``JobService/Jobs`` path.
- OpenBMC (bmcweb): tasks live in memory, the restart at the end of a BMC update forgets them and ids count
  from 0 again; a lost update is judged by the firmware version, never called a success.
"""

import json

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient, Response
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish import RedfishAdapter
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish_parse import parse_task
from simredfish import Bmc, flavour_payloads

JOBS = "/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/"


@pytest.fixture
def bmc():
    made = []

    def make(flavour, **settings):
        made.append(Bmc(flavour, **settings))
        return made[-1]

    yield make
    for one in made:
        one.close()


def no_success(tasks):
    assert all(t.state != "succeeded" for t in tasks), [t.to_dict() for t in tasks]


# ---- Dell iDRAC ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario,state,text", [
    ("success", "succeeded", "Job completed successfully."),
    ("fail", "failed", "Unable to complete the operation because the image is not valid for this system."),
    ("critical", "failed", "Unable to complete the operation because the image is not valid for this system."),
    # The iDRAC has no cancelled job state: a cancelled job ends Failed, with the iDRAC's message.
    ("cancel", "failed", "Job was cancelled by the user."),
])
@pytest.mark.parametrize("form", ["id", "task_uri"])
def test_idrac_task_gone_from_taskservice_is_read_from_the_job_queue(bmc, scenario, state, text, form):
    idrac = bmc("dell", task_retention=0.2)
    made = idrac.new_task(scenario=scenario, duration=1, started_ago=5)  # ended 4 s ago: left TaskService
    task_id = made[form]
    task = idrac.poll([task_id])[0]
    job = JOBS + made["id"]
    assert (task.id, task.found, task.state, task.message, task.kind) == (task_id, True, state, text, "firmware_update")
    assert task.url == "https://bmc1.example.com" + job and task.vendor_state in ("Completed", "Failed")
    assert "TaskService no longer lists %s" % made["id"] in task.messages[0]["text"]
    again = idrac.poll([task_id])[0]  # the job stands for the task now: one request per poll
    assert again.state == state
    asked = idrac.asked()
    assert asked["GET " + made["task_uri"]] == 1 and asked["GET " + job] == 2


def test_idrac_task_seen_running_then_removed_is_not_gone(bmc):
    idrac = bmc("dell", task_retention=0.2)
    status, headers, body = idrac.simple_update()
    assert (status, body) == (202, None)  # iDRAC: Location is Tasks/JID_..., no body
    location = headers["Location"]
    idrac.advance(3)
    running = idrac.poll([location])[0]
    assert (running.state, running.vendor_state) == ("running", "Running")
    idrac.advance(30)  # done, and gone from TaskService
    done = idrac.poll([location])[0]
    assert (done.found, done.gone, done.state, done.percent) == (True, False, "succeeded", 100)


def test_an_id_that_is_no_idrac_job_is_not_looked_for_in_a_job_queue(bmc):
    gone = bmc("generic")
    task = gone.poll(["545"])
    assert not task[0].found
    assert not any("Jobs" in key for key in gone.asked())


def test_an_unknown_idrac_job_is_looked_for_once_per_manager_and_stays_unknown(bmc):
    idrac = bmc("dell")
    task = idrac.poll(["JID_000000000001"])[0]
    assert not task.found and task.message == "no such task"
    asked = idrac.asked()
    assert asked["GET " + JOBS + "JID_000000000001"] == 1 and asked["GET /redfish/v1/Managers"] == 1


class Canned(RedfishAdapter):
    """The adapter with canned answers: {path: (status, body)}; 404 for anything else."""

    def __init__(self, answers, root=None):
        self.http = HttpClient("bmc1.example.com", "redfish")
        super().__init__(self.http, {})
        self.answers = answers
        self.asked = []
        self._root = root or {}

    def get(self, path, params=None, accept=()):
        path = self.http.path_of(self.http.url(path))
        self.asked.append(path)
        status, body = self.answers.get(path, (404, {}))
        return Response(status, {}, json.dumps(body).encode(), path, "redfish")


def test_idrac_job_queue_of_another_manager_is_found_from_the_managers_collection():
    job = {"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.2/Jobs/JID_1", "Id": "JID_1", "JobState": "Running",
           "JobType": "FirmwareUpdate", "PercentComplete": 40, "Message": "Job in progress.", "MessageId": "PR20"}
    adapter = Canned({"/redfish/v1/Managers": (200, {"Members": [
        {"@odata.id": "/redfish/v1/Managers/iDRAC.Embedded.2"},
        {"@odata.id": "https://evil.example.com/../../AccountService"}]}),
        "/redfish/v1/Managers/iDRAC.Embedded.2/Jobs/JID_1": (200, job)},
        root={"Managers": {"@odata.id": "/redfish/v1/Managers"}})
    try:
        first = adapter.fetch(["JID_1"])[0]
        second = adapter.fetch(["JID_1"])[0]
    finally:
        adapter.http.close()
    assert (first.state, first.percent, second.state) == ("running", 40, "running")
    # (the Manager itself is read once: the firmware version before an update, see the OpenBMC tests)
    assert adapter.asked == ["/redfish/v1/TaskService/Tasks/JID_1", JOBS + "JID_1", "/redfish/v1/Managers",
                             "/redfish/v1/Managers/iDRAC.Embedded.2/Jobs/JID_1", "/redfish/v1/Managers/iDRAC.Embedded.2",
                             "/redfish/v1/Managers/iDRAC.Embedded.2/Jobs/JID_1"]


# ---- a DMTF JobService ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["monitor", "id"])
def test_jobservice_update_is_followed_to_its_job(bmc, form):
    jobs = bmc("jobservice")
    status, headers, body = jobs.simple_update()
    assert status == 202 and body["TaskState"] == "Completed"  # the hand-off is done, the update is not
    task_id = headers["Location"] if form == "monitor" else body["Id"]
    jobs.advance(2)
    first = jobs.poll([task_id])[0]
    assert (first.id, first.state, first.kind) == (task_id, "running", "firmware_update")
    assert first.url.endswith("/redfish/v1/JobService/Jobs/1")
    assert "handed over to the job at /redfish/v1/JobService/Jobs/1" in first.messages[0]["text"]
    jobs.advance(30)
    done = jobs.poll([task_id])[0]
    assert (done.state, done.percent, done.vendor_state) == ("succeeded", 100, "Completed")
    assert done.message.startswith("Device 'BMC' successfully updated")
    asked = jobs.asked()
    assert asked["GET /redfish/v1/JobService/Jobs/1"] == 2  # the hand-off was read once, then only the job
    assert sum(n for k, n in asked.items() if k.startswith("GET /redfish/v1/TaskService/")) <= 2


@pytest.mark.parametrize("scenario,state", [("critical", "failed"), ("fail", "failed"), ("cancel", "cancelled"),
                                            ("stuck", "running")])
def test_jobservice_job_states(bmc, scenario, state):
    jobs = bmc("jobservice")
    made = jobs.new_task(scenario=scenario, duration=1, started_ago=5)
    task = jobs.poll([made["monitor_uri"]])[0]
    assert task.state == state and task.url.endswith(made["task_uri"])


def test_jobservice_listing_shows_the_jobs_not_the_finished_hand_offs(bmc):
    jobs = bmc("jobservice")
    jobs.new_task(scenario="stuck", duration=1, started_ago=5)
    jobs.new_task(scenario="success", duration=1, started_ago=5)
    jobs.adapter.open()
    tasks = jobs.adapter.list_tasks({})
    assert [(t.id, t.state) for t in tasks] == [("1", "running"), ("2", "succeeded")]


HANDOFF = {"@odata.id": "/redfish/v1/TaskService/Tasks/1", "Id": "1", "TaskState": "Completed", "TaskStatus": "OK",
           "Messages": [{"MessageId": "Update.1.1.OperationTransitionedToJob", "MessageArgs": ["%s"]}]}


@pytest.mark.parametrize("link", [
    "https://evil.example.com/redfish/v1/JobService/Jobs/1",  # another host
    "https://bmc1.example.com:8443/redfish/v1/JobService/Jobs/1",  # another port
    "/redfish/v1/Systems/1",  # not a job
    "/redfish/v1/TaskService/TaskMonitors/1",  # another monitor: a chain
    "/redfish/v1/JobService/Jobs/../../AccountService/Accounts/1",
    "/redfish/v1/JobService/Jobs/1%2F..%2F2",
    "Jobs/1",  # not a URI
    "",
])
def test_a_hand_off_to_anything_but_a_job_on_this_host_is_refused(link):
    task = json.loads(json.dumps(HANDOFF).replace("%s", link))
    adapter = Canned({"/redfish/v1/TaskService/Tasks/1": (200, task)})
    try:
        with pytest.raises(BadResponse) as err:
            adapter.fetch(["1"])
    finally:
        adapter.http.close()
    assert "handed over to the job" in str(err.value) and "not followed" in str(err.value)
    assert adapter.asked == ["/redfish/v1/TaskService/Tasks/1"]


def test_a_job_that_hands_over_again_is_not_followed_twice():
    job = {"@odata.id": "/redfish/v1/JobService/Jobs/1", "Id": "1", "JobState": "Running", "JobStatus": "OK",
           "Messages": [{"MessageId": "Update.1.2.OperationTransitionedToJob",
                         "MessageArgs": ["/redfish/v1/JobService/Jobs/2"]}]}
    handoff = json.loads(json.dumps(HANDOFF).replace("%s", "https://bmc1.example.com/redfish/v1/JobService/Jobs/1"))
    adapter = Canned({"/redfish/v1/TaskService/Tasks/1": (200, handoff), "/redfish/v1/JobService/Jobs/1": (200, job)})
    try:
        tasks = [adapter.fetch(["1"])[0] for _poll in range(2)]
    finally:
        adapter.http.close()
    assert [t.state for t in tasks] == ["running", "running"]
    assert adapter.asked == ["/redfish/v1/TaskService/Tasks/1"] + ["/redfish/v1/JobService/Jobs/1"] * 2


# ---- OpenBMC (bmcweb) ----------------------------------------------------------------------------------------


def update_until_restart(obmc, activate=True, form="monitor"):
    """SimpleUpdate, a read while it runs, the restart (one poll refused), the BMC back: the tasks of each poll."""
    status, headers, body = obmc.simple_update()
    assert status == 202 and body["Id"] == "0"
    task_id = headers["Location"] if form == "monitor" else body["Id"]
    obmc.advance(3)
    seen = obmc.poll([task_id])
    assert seen[0].state == "running" and seen[0].kind == "firmware_update"
    obmc.restart(activate=activate)
    with pytest.raises(Exception) as err:
        obmc.poll([task_id])
    assert "connection refused" in str(err.value)
    obmc.back()
    return task_id, seen


@pytest.mark.parametrize("form", ["monitor", "id"])
def test_openbmc_update_lost_in_the_restart_onto_new_firmware(bmc, form):
    obmc = bmc("openbmc")
    before = obmc.flavour.active
    task_id, _seen = update_until_restart(obmc, form=form)
    task = obmc.poll([task_id])[0]
    after = obmc.flavour.active
    assert after != before
    assert (task.found, task.gone, task.state, task.terminal) == (False, True, "unknown", False)
    assert (task.name, task.kind) == ("Task 0", "firmware_update")  # what was known of it stays
    lost = task.to_dict()["lost"]
    assert lost == {"restarted": True, "manager": "/redfish/v1/Managers/bmc", "firmware_before": before,
                    "firmware_after": after, "firmware_changed": True, "image": lost["image"]}
    assert lost["image"].startswith("/redfish/v1/UpdateService/FirmwareInventory/")
    # the verdict is the task's latest word, after the base class's "seen, then gone"
    assert task.message.startswith("the task was lost when the BMC restarted")
    assert "now runs firmware %s (was %s)" % (after, before) in task.message
    assert "seen earlier in this run and is gone" in task.messages[-2]["text"]


def test_openbmc_restart_without_the_new_image_is_no_success(bmc):
    obmc = bmc("openbmc")
    version = obmc.flavour.active
    task_id, _seen = update_until_restart(obmc, activate=False)
    task = obmc.poll([task_id])[0]
    no_success([task])
    lost = task.to_dict()["lost"]
    assert (lost["firmware_changed"], lost["firmware_before"], lost["firmware_after"]) == (False, version, version)
    assert "still runs firmware %s: the update did not take effect" % version in task.message


def test_openbmc_new_task_0_after_the_restart_is_not_taken_for_the_lost_one(bmc):
    obmc = bmc("openbmc")
    task_id, _seen = update_until_restart(obmc, form="id")
    obmc.advance(1)
    newcomer = obmc.new_task(scenario="stuck", kind="config_export")  # ids count from 0 again
    assert newcomer["id"] == "0"
    task = obmc.poll([task_id])[0]
    no_success([task])
    assert not task.found and task.to_dict()["lost"]["firmware_changed"] is True
    assert "/redfish/v1/TaskService/Tasks/0 now names another task" in task.messages[0]["text"]


def test_openbmc_monitor_of_a_new_task_0_after_the_restart_is_not_taken_for_the_lost_one(bmc):
    obmc = bmc("openbmc")
    task_id, _seen = update_until_restart(obmc, activate=False)
    obmc.advance(1)
    obmc.new_task(scenario="stuck", kind="firmware_update")  # answers 202 at the same monitor URI
    task = obmc.poll([task_id])[0]
    assert task.state == "unknown" and not task.found and task.to_dict()["lost"]["firmware_changed"] is False


def test_openbmc_task_that_is_not_an_update_lost_in_a_restart(bmc):
    obmc = bmc("openbmc")
    made = obmc.new_task(scenario="stuck", kind="config_export", started_ago=2)
    assert obmc.poll([made["id"]])[0].state == "running"
    obmc.restart()
    obmc.back()
    task = obmc.poll([made["id"]])[0]  # the session was forgotten: a new login is a restart seen
    assert task.to_dict()["lost"] == {"restarted": True}
    assert task.message.endswith("its outcome is unknown")
    assert not any(k.endswith("/Managers/bmc") for k in obmc.asked())  # no firmware read for an export


def test_a_task_deleted_without_a_restart_is_only_gone(bmc):
    gen = bmc("generic")
    made = gen.new_task(scenario="delete", duration=10, started_ago=2)
    assert gen.poll([made["id"]])[0].state == "running"
    gen.advance(20)
    task = gen.poll([made["id"]])[0]
    assert task.gone and "lost" not in task.to_dict()
    assert task.message == "the task was seen earlier in this run and is gone now; its outcome is unknown"


def test_tasks_that_survive_a_restart_are_the_same_tasks(bmc):
    # Services that keep tasks across a restart: same StartTime (generic), or fixed CIMC slots without one.
    gen, cimc = bmc("generic"), bmc("cisco")
    made = gen.new_task(scenario="success", duration=10)
    cimc_update = cimc.simple_update()
    assert cimc_update[0] == 202
    for dev, task_id in ((gen, made["monitor_uri"]), (cimc, "CIMCFwUpdate")):
        dev.advance(3)
        assert dev.poll([task_id])[0].state == "running"
        dev.restart()
        dev.back()
        dev.advance(30)
        task = dev.poll([task_id])[0]
        assert (task.found, task.state, task.percent) == (True, "succeeded", 100), task.to_dict()


def test_firmware_is_noted_only_where_the_root_links_managers(bmc):
    gen = bmc("generic")
    gen.poll([gen.new_task()["id"]])
    assert not any("Managers" in k for k in gen.asked()) and gen.adapter.firmware_before == {}
    obmc = bmc("openbmc")
    obmc.poll([obmc.new_task()["id"]])
    assert set(obmc.adapter.firmware_before) == {"/redfish/v1/Managers/bmc"}


# ---- every payload of every flavour ---------------------------------------------------------------------------

FINISHED = {"success": "succeeded", "fail": "failed", "cancel": "cancelled", "critical": "failed", "stuck": "running"}


def expected_state(flavour, scenario, finished, path):
    """What the parser makes of a flavour's payload (the adapter's follow-ups, such as a hand-off's Job, aside)."""
    if "/TaskService/Tasks/" in path and flavour == "jobservice":
        return "succeeded"  # the hand-off Task: done at once; the adapter follows it to the Job
    if not finished:
        return "running"
    if flavour == "openbmc" and scenario == "success":
        return "running"  # written at 100 %, about to reboot: bmcweb never shows it Completed
    if "/Jobs/JID_" in path and scenario == "cancel":
        return "failed"  # an iDRAC job has no cancelled state
    return FINISHED[scenario]


PAYLOADS = flavour_payloads()


def test_the_flavours_give_payloads_of_every_kind():
    kinds = {(f, p.split("/")[3]) for f, _s, _d, p, _b in PAYLOADS}
    assert {("dell", "Managers"), ("jobservice", "JobService"), ("openbmc", "TaskService"),
            ("cisco", "TaskService"), ("generic", "TaskService")} <= kinds


@pytest.mark.parametrize("flavour,scenario,finished,path,payload", PAYLOADS,
                         ids=["%s-%s-%s-%s" % (f, s, "done" if d else "running", p.rsplit("/", 2)[-2])
                              for f, s, d, p, _b in PAYLOADS])
def test_every_flavour_payload(flavour, scenario, finished, path, payload):
    if "TaskState" not in payload and "JobState" not in payload:
        # a monitor's final answer is the operation's (its result, or its error), not a task
        assert "@Message.ExtendedInfo" in payload or "error" in payload
        return
    task = parse_task(payload, path, "https://bmc1.example.com" + path)
    assert task.state == expected_state(flavour, scenario, finished, path), payload
    assert task.kind in ("firmware_update", "config_export")
    assert task.name and (task.percent is not None or flavour == "cisco")
    if finished and task.terminal:
        assert task.message, payload
