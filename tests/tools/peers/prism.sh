#!/usr/bin/env bash
# Install the independent cdFMC peer, Stoplight Prism (an OpenAPI mock server
# from npm), into a cache folder outside the repository, and print the path
# of its prism binary. Idempotent; a second run only prints the path.
# The FMC tests start `prism mock` on ../shared/specs/fmc/cdfmc-status-api.yml:
# it answers with the spec's own examples, so task_info meets Cisco's
# documented payload (its status is a placeholder) without our simulator.
set -euo pipefail
version=5.16.0
root=${TASKSTATUS_PEERS:-$HOME/.cache/taskstatus/peers}/prism-$version
bin=$root/node_modules/.bin/prism
command -v npm >/dev/null 2>&1 || { echo "prism.sh: npm is required (Debian: apt-get install npm)" >&2; exit 1; }
# one install at a time: tests in parallel (pytest-xdist) may ask for it at once
mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9
if [ ! -x "$bin" ] || ! "$bin" --version >/dev/null 2>&1; then
  rm -rf "$root"
  mkdir -p "$root"
  npm install --prefix "$root" --no-audit --no-fund --loglevel=error "@stoplight/prism-cli@$version" >&2
fi
echo "$bin"
