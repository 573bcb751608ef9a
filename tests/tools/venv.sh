#!/usr/bin/env bash
# Create or update the development virtualenv (.venv) from
# requirements-dev.txt and requirements.txt. Called by `make venv` only when a
# requirements file is newer than the stamp, so an up-to-date venv costs
# nothing. Recreates the venv when it is missing, broken or not Python 3.11.
#
# PYTHON selects the interpreter (default: python3.11 on PATH, else the newest
# pyenv 3.11.x).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

want=3.11
stamp=$VENV/.requirements.stamp

find_python() {
  if [ -n "${PYTHON:-}" ]; then printf '%s\n' "$PYTHON"; return; fi
  if command -v "python$want" >/dev/null 2>&1 && "python$want" -c '' >/dev/null 2>&1; then
    command -v "python$want"; return
  fi
  local root cand
  root=${PYENV_ROOT:-$HOME/.pyenv}
  for cand in $(printf '%s\n' "$root/versions/$want".* | sort -V -r); do
    if [ -x "$cand/bin/python$want" ]; then printf '%s\n' "$cand/bin/python$want"; return; fi
  done
  die "Python $want not found: install it or pass PYTHON=/path/to/python$want"
}

if ! "$VENV_PY" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" >/dev/null 2>&1; then
  py=$(find_python)
  log "Creating $VENV with $py ($("$py" --version 2>&1))"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
fi

log "Installing requirements-dev.txt and requirements.txt into $VENV"
"$VENV_PY" -m pip install --quiet -r "$REPO/requirements-dev.txt" -r "$REPO/requirements.txt"
"$VENV_PY" -m pip check
touch "$stamp"
