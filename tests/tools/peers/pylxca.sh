#!/usr/bin/env bash
# Install pylxca (Lenovo's own XClarity client, PyPI) into a small venv of its
# own, apart from .venv: pylxca pulls requests-toolbelt, unittest2 and needs
# pkg_resources, none of which the collection's toolchain should carry.
# Idempotent: does nothing when the venv already has the pinned version.
#
#   tests/tools/peers/pylxca.sh          -> prints the venv's python path
#
# tests/integration/test_xclarity_pylxca.py runs that python in a subprocess
# (TASKSTATUS_PYLXCA_PYTHON overrides the path).
set -euo pipefail

PYLXCA_VERSION=4.2.0
VENV=${TASKSTATUS_PYLXCA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/taskstatus/peers-venv-pylxca}
PY=${PYTHON:-}
if [[ -z "$PY" ]]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then PY=$(command -v "$candidate"); break; fi
    done
fi
[[ -n "$PY" ]] || { echo "pylxca.sh: no python3 found" >&2; exit 1; }

stamp="$VENV/.pylxca-$PYLXCA_VERSION"
if [[ ! -f "$stamp" ]]; then
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PY" -m venv "$VENV"
    # setuptools < 81 still ships pkg_resources, which pylxca imports to read its version.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "pylxca==$PYLXCA_VERSION" "setuptools<81" >&2
    "$VENV/bin/python" -c "import pylxca.pylxca_api.lxca_connection" >&2
    touch "$stamp"
fi
echo "$VENV/bin/python"
