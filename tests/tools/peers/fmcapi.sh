#!/usr/bin/env bash
# Install the independent FMC client fmcapi (PyPI) into its own venv outside
# the repository, and print the path of that venv's python. Idempotent; a
# second run only prints the path.
# Its own venv because fmcapi pins old helpers (datetime, ipaddress, ...)
# that have nothing to do with the collection; the tests run a small script
# with this python that logs in to our FMC simulator and reads a task status.
set -euo pipefail
version=20260616.0
root=${TASKSTATUS_PEERS:-$HOME/.cache/taskstatus/peers}/fmcapi-$version
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x "$root/bin/python" ] || ! "$root/bin/python" -c "import fmcapi" 2>/dev/null; then
  rm -rf "$root"
  "$python" -m venv "$root" >&2
  "$root/bin/pip" install -q --disable-pip-version-check "fmcapi==$version" >&2
fi
echo "$root/bin/python"
