#!/usr/bin/env bash
# Install pylxca (Lenovo's own XClarity client, PyPI) into a venv of its own
# (it pulls requests-toolbelt and unittest2 and needs pkg_resources) and print
# the path of that venv's python; tests/integration/test_xclarity.py runs it in
# a subprocess (TASKSTATUS_PYLXCA_PYTHON overrides the path). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# setuptools < 81 still ships pkg_resources, which pylxca imports to read its version.
root=$(peer_venv pylxca-4.2.0 pylxca.pylxca_api.lxca_connection "pylxca==4.2.0" "setuptools<81")
echo "$root/bin/python"
