"""Stateful HTTPS simulator of infrastructure managers for taskstatus.infra tests.

Usage in-process (pytest)::

    from simulator import Simulator
    with Simulator(tmp_path, devices=[{"name": "bmc1", "platform": "redfish", "vendor": "dell"}]) as sim:
        url, ca = sim.url("bmc1"), sim.ca_cert

or as a background process: ``python tests/simulator/run.py start --state-dir DIR``.

A fleet (one process, each device at its own 127.0.x.y, one shared port)::

    with Simulator(tmp_path, devices=fleet_specs(1000, vendor="generic")) as sim:
        sim.fleet_tasks({"duration": 60}); sim.fleet_stats()["totals"]["sessions_open"]

or ``run.py start --state-dir DIR --fleet 1000``; ``/_sim/fleet/*`` on any device
acts on all of them.

A platform is one module here with one ``core.Platform`` subclass, listed in
PLATFORMS below (the explicit registry).
"""

from .core import KINDS, SCENARIOS, Simulator, fleet_address, fleet_specs, parse_devices_spec, progress  # noqa: F401
from .fmc import CdfmcPlatform, FmcPlatform
from .redfish import RedfishPlatform
from .vsphere import VsphereSimPlatform
from .xclarity import XclarityPlatform

PLATFORMS = {
    "cdfmc": CdfmcPlatform,
    "fmc": FmcPlatform,
    "redfish": RedfishPlatform,
    "vsphere": VsphereSimPlatform,
    "xclarity": XclarityPlatform,
}
