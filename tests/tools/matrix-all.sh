#!/usr/bin/env bash
# make matrix: every cell of the support matrix (noxfile.py), in two nox runs at the same time: the two
# cells that run the whole integration suite (mostly waiting for simulated tasks) next to the eight that
# run sanity, units and the smoke run (mostly CPU). Each run writes its own log, printed when both are
# done; the exit status is the first failure's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

logs=$REPO/.nox/logs
mkdir -p "$logs"
"$REPO/tests/tools/matrix.sh" -t matrix-full "$@" >"$logs/matrix-full.log" 2>&1 &
full=$!
"$REPO/tests/tools/matrix.sh" -t matrix-smoke "$@" >"$logs/matrix-smoke.log" 2>&1 &
smoke=$!
rc=0
wait "$smoke" || rc=$?
wait "$full" || { r=$?; [ "$rc" -ne 0 ] || rc=$r; }
for name in matrix-smoke matrix-full; do
  printf '\n==================== nox -t %s (%s) ====================\n' "$name" "$logs/$name.log"
  cat "$logs/$name.log"
done
exit "$rc"
