#!/usr/bin/env bash
# Install the independent Redfish peer, sushy-tools (OpenStack's Redfish
# emulator), into its own venv outside the repository, and print the path of
# its sushy-emulator. Idempotent; a second run only prints the path.
# It has its own venv because its dependencies (Flask, openstacksdk pieces)
# have nothing to do with the collection's.
set -euo pipefail
version=2.2.0
root=${TASKSTATUS_PEERS:-$HOME/.cache/taskstatus/peers}/sushy-$version
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x "$root/bin/sushy-emulator" ] || ! "$root/bin/python" -c "import bcrypt" 2>/dev/null; then
  rm -rf "$root"
  "$python" -m venv "$root" >&2
  "$root/bin/pip" install -q --disable-pip-version-check "sushy-tools==$version" "bcrypt==4.3.0" >&2
fi
echo "$root/bin/sushy-emulator"
