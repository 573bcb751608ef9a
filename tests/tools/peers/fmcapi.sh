#!/usr/bin/env bash
# Install the independent FMC client fmcapi (PyPI) into a venv of its own (it
# pins old helpers that have nothing to do with the collection) and print the
# path of that venv's python; the tests run a small script with it that logs
# in to our FMC simulator and reads a task status. Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
root=$(peer_venv fmcapi-20260616.0 fmcapi "fmcapi==20260616.0")
echo "$root/bin/python"
