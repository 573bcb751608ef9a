#!/usr/bin/env bash
# Install DMTF's Redfish client library (PyPI `redfish`, python-redfish-library)
# into a venv of its own and print the path of that venv's python;
# tests/integration/test_redfish_library.py runs a small script with it that
# logs in to each simulated Redfish flavour, starts a SimpleUpdate and follows
# it with the library's own task-monitor helper. Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
root=$(peer_venv redfish-3.4.2 redfish "redfish==3.4.2")
echo "$root/bin/python"
