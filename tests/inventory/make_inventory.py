"""Write a YAML inventory that points each host at its own simulated device.

    python tests/inventory/make_inventory.py STATE_JSON OUT.yml [--no-credentials NAME ...] [--python PATH]

The simulator picks its ports when it starts, so the inventory is made at
test time from its state.json. Each device becomes one host with the same
name, in a group per platform (bmcs, vcenters, xclarity, fmcs, cdfmcs), with
the taskstatus.infra.rollout_wait variables the playbooks in playbooks/ read:
rollout_wait_platform, rollout_wait_host, rollout_wait_ca_path,
rollout_wait_username and rollout_wait_password (left out for the hosts named
with --no-credentials, to test that case), rollout_wait_native_filters
for vCenters, which list tasks only by service, and the config_export_*
variables that make playbooks/config_export.yml start an export on the
XClarity, the iDRAC, the FMC and the cdFMC. Every host runs its modules on the
controller (ansible_connection: local).
"""

import argparse
import json
import sys

GROUPS = {"redfish": "bmcs", "vsphere": "vcenters", "xclarity": "xclarity", "fmc": "fmcs", "cdfmc": "cdfmcs"}
# Fix ids of the XClarity repository export that playbooks/config_export.yml starts.
# The iDRAC action that playbooks/config_export.yml starts a configuration export with.
IDRAC_EXPORT = "/redfish/v1/Managers/iDRAC.Embedded.1/Actions/Oem/EID_674_Manager.ExportSystemConfiguration"
# The FTDs (of the simulated FMC and cdFMC) whose configuration playbooks/config_export.yml exports.
FMC_EXPORT_DEVICES = ["ftd-1", "ftd-2"]
VSPHERE_SERVICES = ["com.vmware.esx.settings.clusters.software"]
XCLARITY_FIXIDS = ["lnvgy_fw_xcc_tgbt52n-3.10_anyos_noarch", "lnvgy_fw_uefi_tge142j-3.22_anyos_32-64"]


def inventory(state, no_credentials=(), python=None):
    groups = {}
    for device in state["devices"]:
        hostvars = {
            "rollout_wait_platform": device["platform"],
            "rollout_wait_host": device["host"],
            "rollout_wait_ca_path": state["ca_cert"],
            "taskstatus_vendor": device.get("vendor"),
        }
        if device["name"] not in no_credentials:
            if device["platform"] == "cdfmc":  # the simulated cdFMC takes the password as its API token
                hostvars["rollout_wait_token"] = state["password"]
            else:
                hostvars["rollout_wait_username"] = state["username"]
                hostvars["rollout_wait_password"] = state["password"]
        if device["platform"] == "vsphere":  # vCenter lists cis tasks only by service
            hostvars["rollout_wait_native_filters"] = {"services": list(VSPHERE_SERVICES)}
        if device["platform"] == "xclarity":
            hostvars["config_export_fixids"] = list(XCLARITY_FIXIDS)
        if device["platform"] == "redfish" and device.get("vendor") == "dell":
            hostvars["config_export_redfish_action"] = IDRAC_EXPORT
        if device["platform"] in ("fmc", "cdfmc"):
            hostvars["config_export_fmc_devices"] = list(FMC_EXPORT_DEVICES)
        group = GROUPS.get(device["platform"], device["platform"])
        groups.setdefault(group, {"hosts": {}})["hosts"][device["name"]] = hostvars
    return {"all": {"vars": {"ansible_connection": "local",
                             "ansible_python_interpreter": python or sys.executable},
                    "children": groups}}


def write_inventory(state, path, no_credentials=(), python=None):
    with open(path, "w", encoding="utf-8") as handle:
        # JSON is YAML: no PyYAML needed here
        json.dump(inventory(state, no_credentials, python), handle, indent=2, sort_keys=True)
        handle.write("\n")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state_json")
    parser.add_argument("out")
    parser.add_argument("--no-credentials", action="append", default=[], metavar="NAME")
    parser.add_argument("--python", help="ansible_python_interpreter (default: this Python)")
    args = parser.parse_args(argv)
    with open(args.state_json, encoding="utf-8") as handle:
        state = json.load(handle)
    write_inventory(state, args.out, args.no_credentials, args.python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
