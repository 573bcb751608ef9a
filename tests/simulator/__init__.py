"""Stateful HTTPS simulator of infrastructure managers for taskstatus.infra tests.

Usage in-process (pytest)::

    from simulator import Simulator
    with Simulator(tmp_path, devices=[{"name": "bmc1", "platform": "redfish", "vendor": "dell"}]) as sim:
        url, ca = sim.url("bmc1"), sim.ca_cert

or as a background process: ``python tests/simulator/run.py start --state-dir DIR``.

A platform is one module here with one ``core.Platform`` subclass, listed in
PLATFORMS below (the explicit registry).
"""

from .core import KINDS, SCENARIOS, Simulator, parse_devices_spec, progress  # noqa: F401
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
