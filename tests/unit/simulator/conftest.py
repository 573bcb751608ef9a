"""Fixtures for the simulator's own tests: one in-process simulator for the
session (a Redfish device of each flavour), reset before every test,
and small HTTPS clients that trust its CA."""

import os
import sys
import time

import pytest
import requests

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from simulator import Simulator  # noqa: E402

DEVICES = [
    {"name": "gen", "platform": "redfish", "vendor": "generic"},
    {"name": "dell", "platform": "redfish", "vendor": "dell"},
    {"name": "cisco", "platform": "redfish", "vendor": "cisco"},
    {"name": "jobs", "platform": "redfish", "vendor": "jobservice"},
    {"name": "obmc", "platform": "redfish", "vendor": "openbmc"},
]


class Client:
    """requests against one device; ``auth`` by default, ``sim_*`` for /_sim/."""

    def __init__(self, sim, name):
        self.sim = sim
        self.name = name
        self.device = sim.device(name)
        self.base = sim.url(name)
        self.http = requests.Session()
        # per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE /
        # CURL_CA_BUNDLE from the environment override a Session's verify.
        self.verify = sim.ca_cert if sim.tls else False
        self.auth = ("admin", "password")

    def request(self, method, path, auth=True, **kwargs):
        kwargs.setdefault("timeout", 5)
        kwargs.setdefault("verify", self.verify)
        if auth is True:
            kwargs["auth"] = self.auth
        elif auth:
            kwargs["auth"] = auth
        return self.http.request(method, self.base + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def sim_post(self, path, body=None):
        resp = self.raw("POST", "/_sim/" + path, json=body or {})
        assert resp.status_code in (200, 201), resp.text
        return resp.json()

    def stats(self):
        return self.raw("GET", "/_sim/stats").json()

    def raw(self, method, path, **kwargs):
        """No auth (the control API needs none)."""
        return self.request(method, path, auth=False, **kwargs)

    def config(self, **changes):
        return self.sim_post("config", changes)

    def new_task(self, **spec):
        return self.sim_post("tasks", spec)

    def login(self):
        resp = self.post(
            "/redfish/v1/SessionService/Sessions", auth=False, json={"UserName": "admin", "Password": "password"}
        )
        assert resp.status_code == 201, resp.text
        return resp.headers["X-Auth-Token"], resp.headers["Location"]

    def simple_update(self, image="http://192.0.2.1/fw.bin"):
        return self.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", json={"ImageURI": image})


def wait_until(predicate, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in %.1f s" % timeout)
        time.sleep(interval)


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    simulator = Simulator(
        tmp_path_factory.mktemp("sim"), devices=DEVICES, duration=1.0, reboot_seconds=1.0, retry_after=1
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _fresh(request):
    if "sim" in request.fixturenames:
        request.getfixturevalue("sim").reset()


@pytest.fixture
def client(sim):
    """client(name) -> Client for that device."""
    clients = []

    def make(name="gen"):
        c = Client(sim, name)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.http.close()


@pytest.fixture
def wait():
    return wait_until
