#!/usr/bin/env bash
# Run one stage of `make test` between a header and a footer with its wall
# time. With STAGE_TIMINGS=<file>, also appends "<name> <status> <seconds>".
#
# Usage: tests/tools/stage.sh NAME COMMAND [ARGS...]
set -uo pipefail

name=$1; shift
start=$(date +%s)
printf '\n==================== %s ====================\n' "$name"
printf '$ %s\n' "$*"
"$@"
rc=$?
secs=$(( $(date +%s) - start ))
if [ $rc -eq 0 ]; then status=passed; else status="FAILED (exit $rc)"; fi
printf -- '-------------------- %s: %s in %ss --------------------\n' "$name" "$status" "$secs"
if [ -n "${STAGE_TIMINGS:-}" ]; then
  printf '%-24s %-20s %6ss\n' "$name" "$status" "$secs" >>"$STAGE_TIMINGS"
fi
exit $rc
