#!/usr/bin/env bash
# Install the independent Redfish peer, sushy-tools (OpenStack's Redfish
# emulator), into a venv of its own (its Flask stack has nothing to do with
# the collection's) and print the path of its sushy-emulator. Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
root=$(peer_venv sushy-2.2.0 "sushy_tools, bcrypt" "sushy-tools==2.2.0" "bcrypt==4.3.0")
echo "$root/bin/sushy-emulator"
