"""The Redfish adapter against the simulator's vendor flavours, in process: no socket, no thread, no clock.

``Bmc(flavour)`` is one simulated device (tests/simulator, not started) whose answers the adapter gets
through ``SimTransport``, an HttpClient that hands each request to the device's own handler. The payloads
are the flavours' real answers; time moves only when a test says so (``advance``), and a restart is a
window in which the transport refuses connections while the device forgets what the flavour forgets.
"""

import base64
import json
import os
import sys
import tempfile
from urllib.parse import urlencode

from requests.structures import CaseInsensitiveDict

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import TransientError
from ansible_collections.taskstatus.infra.plugins.module_utils._http import HttpClient, Response
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish import RedfishAdapter

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from simulator import PLATFORMS, Simulator  # noqa: E402  pylint: disable=wrong-import-position
from simulator.core import Device, Request  # noqa: E402  pylint: disable=wrong-import-position

HOST = "bmc1.example.com"
UPDATE = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"


class SimTransport(HttpClient):
    """An HttpClient whose requests are answered by a simulated device in this process."""

    def __init__(self, device):
        super().__init__(HOST, "redfish")
        self.device = device
        self.down = False

    def request(self, method, path, headers=None, json_body=None, params=None, auth=None, retry=None, data=None,
                final=False):
        url = self.url(path)
        path = self.path_of(url)
        if self.down:
            raise TransientError("cannot connect to %s (connection refused)" % self.netloc, platform="redfish",
                                 path=path)
        sent = CaseInsensitiveDict(headers or {})
        if auth:
            sent["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        raw = path + ("?" + urlencode(params) if params else "")
        answer = self.device.handle(Request(method.upper(), raw, sent, body))
        return Response(answer.status, CaseInsensitiveDict(answer.headers), answer.body or b"", path, "redfish")


class Bmc:
    """One simulated Redfish device of ``flavour`` and the adapter that reads it."""

    def __init__(self, flavour, **settings):
        spec = dict({"name": "bmc", "platform": "redfish", "vendor": flavour}, **settings)
        self.state_dir = tempfile.mkdtemp(prefix="simredfish-")
        self.device = Device(Simulator(self.state_dir, devices=[spec]), spec, PLATFORMS)
        self.flavour = self.device.platform.flavour
        self.http = SimTransport(self.device)
        self.adapter = RedfishAdapter(self.http, {"username": "admin", "password": "password"})

    def close(self):
        self.device._cancel_timers()  # pylint: disable=protected-access
        self.http.close()
        os.rmdir(self.state_dir)

    def new_task(self, **spec):
        """A task as /_sim/tasks makes it: ``{"id", "task_uri", "monitor_uri", ...}``."""
        spec.setdefault("scenario", "success")
        spec.setdefault("duration", 10)
        spec.setdefault("kind", "firmware_update")
        return self.device.platform.create_task(spec.pop("scenario"), spec.pop("duration"), spec.pop("kind"),
                                                **spec)

    def simple_update(self, image="http://192.0.2.1/fw.bin"):
        """POST SimpleUpdate as a client would: ``(status, headers, body)``."""
        answer = self.http.request("POST", UPDATE, json_body={"ImageURI": image}, auth=("admin", "password"))
        return answer.status, answer.headers, answer.json_or_none()

    def advance(self, seconds):
        """Every task is ``seconds`` further on (its start time stays what it was)."""
        for task in self.device.tasks.values():
            task.created -= seconds

    def restart(self, activate=True):
        """The device restarts: what a reboot forgets is forgotten (an OpenBMC activates the image it wrote
        when ``activate``); connections are refused until ``back``."""
        with self.device.lock:
            if activate:
                for task in self.device.tasks.values():
                    if task.extra.get("version"):
                        task.extra["activate"] = True
            self.device.stats.reboots += 1
            self.device.sessions.clear()
            self.device.platform.rebooting()
        self.http.down = True

    def back(self):
        self.http.down = False

    def poll(self, task_ids):
        return self.adapter.poll(task_ids)

    def asked(self):
        """``{"GET /path": n}`` of every request the device answered."""
        return dict(self.device.stats.requests)


SCENARIOS = ("success", "fail", "cancel", "critical", "stuck")


def flavour_payloads():
    """Every Task, Job and monitor body the vendor flavours answer for each scenario, running and finished:
    ``[(flavour, scenario, finished, path, payload)]`` (the iDRAC's job-queue entries and JobService Jobs
    included; monitors that answer without a body are left out)."""
    found = []
    for flavour in ("generic", "dell", "cisco", "jobservice", "openbmc"):
        bmc = Bmc(flavour)
        try:
            for scenario in SCENARIOS:
                kind = "config_export" if flavour == "cisco" else "firmware_update"
                for started_ago in (3, 30):
                    made = bmc.new_task(scenario=scenario, duration=10, started_ago=started_ago, kind=kind)
                    paths = [made["task_uri"], made["monitor_uri"], made.get("handoff_task_uri")]
                    if flavour == "dell":
                        paths.append("/redfish/v1/Managers/iDRAC.Embedded.1/Jobs/" + made["id"])
                    for path in filter(None, paths):
                        answer = bmc.http.request("GET", path, auth=("admin", "password"))
                        body = answer.json_or_none()
                        if isinstance(body, dict) and body:
                            found.append((flavour, scenario, started_ago > 10, path, body))
                    if flavour == "cisco":
                        bmc.device.platform.reset()
        finally:
            bmc.close()
    return found
