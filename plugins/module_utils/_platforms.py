# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The explicit registry of platforms: name -> adapter class.

A new platform is one adapter file, one line here and one ``choices`` entry
in the ``connection`` doc fragment and ``_module.connection_argument_spec``.
"""

from __future__ import annotations

from ansible_collections.taskstatus.infra.plugins.module_utils._fmc import CdfmcAdapter, FmcAdapter
from ansible_collections.taskstatus.infra.plugins.module_utils._redfish import RedfishAdapter
from ansible_collections.taskstatus.infra.plugins.module_utils._vsphere import VsphereAdapter
from ansible_collections.taskstatus.infra.plugins.module_utils._xclarity import XclarityAdapter

PLATFORMS = {
    "cdfmc": CdfmcAdapter,
    "fmc": FmcAdapter,
    "redfish": RedfishAdapter,
    "vsphere": VsphereAdapter,
    "xclarity": XclarityAdapter,
}


def adapter_class(name):
    return PLATFORMS[name]
