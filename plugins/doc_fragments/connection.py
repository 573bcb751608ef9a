# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How to reach and log in to the manager; shared by every module.
    DOCUMENTATION = r"""
options:
  platform:
    description:
      - The kind of manager that runs the tasks.
      - V(cdfmc) is Cisco Security Cloud Control's cloud-delivered Firewall Management Center; O(host) is the regional
        base URL such as V(https://api.us.security.cisco.com/firewall), O(token) is the API token.
      - V(fmc) is an on-prem Cisco Secure Firewall Management Center (O(username) and O(password)).
      - V(redfish) is any BMC speaking DMTF Redfish (Cisco CIMC, Dell iDRAC, HPE iLO, OpenBMC, ...).
      - V(vsphere) is VMware vCenter, whose cis tasks (for example vLCM remediations) are read over C(/api)
        (7.0 U2 and later) or C(/rest) (older).
      - V(xclarity) is Lenovo XClarity Administrator (LXCA) or Orchestrator (LXCO), for repository exports, jobs and tasks.
      - Required; with O(ansible_collections.taskstatus.infra.task_wait_module#module:targets) it may be given per
        target instead.
      - If not set, the environment variable E(TASKSTATUS_PLATFORM) is used.
    type: str
    choices: [cdfmc, fmc, redfish, vsphere, xclarity]
  host:
    description:
      - The manager's name or address, optionally with V(:port), for example V(bmc1.example.com) or V(10.0.0.5:8443).
      - May also be a base URL with a scheme and a path prefix, for example V(https://bmc1.example.com/),
        which is how you reach a manager behind a proxy. V(http://) is accepted for labs.
      - A value with a path but no scheme is refused, because it is ambiguous.
      - Required; with O(ansible_collections.taskstatus.infra.task_wait_module#module:targets) it may be given per
        target instead.
      - If not set, the environment variable E(TASKSTATUS_HOST) is used. The AWX/AAP credential types in the
        collection's C(extensions/awx/credential_types) set it, and the other E(TASKSTATUS_*) variables named here.
    type: str
  username:
    description:
      - The user to log in as.
      - If not set, the environment variable E(TASKSTATUS_USERNAME) is used.
    type: str
  password:
    description:
      - The password of O(username). It never appears in results, errors or logs.
      - If not set, the environment variable E(TASKSTATUS_PASSWORD) is used.
    type: str
  token:
    description:
      - A session token that is ready to use, instead of O(username) and O(password).
      - For O(platform=redfish) it is sent as C(X-Auth-Token). A session given this way is not logged out.
      - For O(platform=vsphere) it is a vCenter session id (the answer of C(POST /api/session)), sent as
        C(vmware-api-session-id); it is not logged out. If it expires during a wait, the module logs in again with
        O(username) and O(password) when they are given, and fails at once when they are not.
      - If not set, the environment variable E(TASKSTATUS_TOKEN) is used.
    type: str
  auth_method:
    description:
      - How to authenticate with O(username) and O(password).
      - V(session) creates a Redfish session (C(POST /redfish/v1/SessionService/Sessions)) and deletes it when
        the module ends, on success, failure and timeout alike.
      - V(basic) sends HTTP Basic authentication with every request and opens no session.
      - For O(platform=xclarity) this one option stands for a separate C(xclarity_auth) option; V(session) is
        C(POST /sessions) with the C(csrf) cookie echoed as C(X-Csrf-Token), logged out with C(DELETE /sessions).
      - V(auto) tries a session and falls back to Basic authentication when the service has no session service,
        or refuses a new session because its session table is full (HTTP 503).
      - O(platform=vsphere) ignores this option; vCenter always creates a session (C(POST /api/session), or
        C(POST /rest/com/vmware/cis/session) on vCenters without C(/api)) with HTTP Basic authentication, and
        deletes it when the module ends.
    type: str
    default: auto
    choices: [auto, session, basic]
  validate_certs:
    description:
      - Verify the manager's TLS certificate.
      - Set O(ca_path) instead of turning this off when the manager has a certificate of your own CA.
      - If not set, the environment variable E(TASKSTATUS_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the manager's certificate with.
      - If not set, the environment variable E(TASKSTATUS_CA_PATH) is used.
    type: path
  request_timeout:
    description:
      - Seconds to wait for the answer to one HTTP request.
      - A request never waits longer than what is left of O(ansible_collections.taskstatus.infra.task_wait_module#module:timeout).
    type: float
    default: 30
  max_requests_per_minute:
    description:
      - At most this many requests a minute to this manager as this user, for the whole controller; every fork,
        successive module runs and the targets of a fleet wait share one budget (a file under the controller's
        temporary directory, named by a hash of the manager and the user).
      - Defaults to 110 for O(platform=fmc) and O(platform=cdfmc), whose API allows 120 requests a minute per user, and
        to no limit for the other platforms; set it for BMCs whose web servers fall over under load.
    type: int
  domain:
    description:
      - For O(platform=fmc) and O(platform=cdfmc), the domain the tasks live in, as a domain UUID or a domain name
        (V(Global), V(Global/Lab) or just V(Lab)). An unknown domain fails with the list of the known ones.
      - When omitted, the FMC's own default domain (C(DOMAIN_UUID) at login) or the cdFMC's C(Global) domain is used.
      - Other platforms ignore it.
    type: str
"""
