#!/usr/bin/env bash
# Molecule scenario of the role taskstatus.infra.rollout_wait (roles/rollout_wait/molecule/default)
# against the simulator, with the working tree as the collection (with-collection-root.sh).
# Extra arguments go to molecule after the command (default command: test).
#
# Usage: tests/tools/molecule.sh [test|converge|verify|destroy|...] [MOLECULE_ARGS...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

command=${1:-test}
[ $# -gt 0 ] && shift
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1 PY_COLORS=0
# Molecule keeps its state under ~/.cache/molecule/<role>/<scenario>; the simulator's state dir lives there too.
exec "$REPO/tests/tools/with-collection-root.sh" \
  bash -c 'cd roles/rollout_wait && exec molecule "$@"' molecule "$command" "$@"
