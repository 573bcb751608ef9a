"""Fixtures of the tests of the Event-Driven Ansible source taskstatus.infra.task_events on a bare asyncio queue.

The source runs in this process against the real simulator over HTTPS (started as the integration tests start
it: tests/integration/harness.py ``running_simulator``); each test resets the devices first.
"""

import os
import sys

import pytest

INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "integration")
if INTEGRATION not in sys.path:
    sys.path.insert(0, INTEGRATION)

from harness import reset_devices, running_simulator  # noqa: E402  pylint: disable=wrong-import-position

DEVICES = {"bmc": "redfish:generic", "bmc2": "redfish:generic", "idrac": "redfish:dell", "vc": "vsphere"}


@pytest.fixture(scope="module")
def esim_module(tmp_path_factory):
    yield from running_simulator(tmp_path_factory, DEVICES)


@pytest.fixture
def esim(esim_module):
    return reset_devices(esim_module)
