#!/usr/bin/env bash
# The README demo: start the simulator, run playbooks/demo.yml against it with
# the installed collection, stop the simulator whatever happens.
#
# Contract with the simulator and the playbook:
#   python tests/simulator/run.py start --state-dir DIR   returns once it serves
#   python tests/simulator/run.py stop  --state-dir DIR
#   TASKSTATUS_SIM_STATE_DIR=DIR is exported to the playbook, which reads the
#   simulator's DIR/state.json (devices, ports, CA file). Nothing is passed
#   with -e.
# Extra arguments go to ansible-playbook (e.g. -v).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

playbook=$REPO/playbooks/demo.yml
[ -f "$playbook" ] || die "playbooks/demo.yml does not exist"
[ -f "$REPO/tests/simulator/run.py" ] || die "tests/simulator/run.py does not exist"

collections=$("$REPO/tests/tools/install.sh")
collections=${collections%/ansible_collections/*}

state=$(mktemp -d "${TMPDIR:-/tmp}/taskstatus-infra-demo.XXXXXX")
stop_sim() {
  local rc=$?
  if ! python "$REPO/tests/simulator/run.py" stop --state-dir "$state"; then
    log "WARNING: stopping the simulator failed"
    rc=1
  fi
  if [ $rc -eq 0 ]; then rm -rf "$state"; else log "Simulator state kept: $state"; fi
  exit $rc
}
trap stop_sim EXIT
trap 'exit 130' INT TERM

log "Starting the simulator (state dir $state)"
python "$REPO/tests/simulator/run.py" start --state-dir "$state" \
  --devices "bmc1=redfish:generic,idrac1=redfish:dell,cimc1=redfish:cisco,lxca1=xclarity:lxca" >/dev/null

export TASKSTATUS_SIM_STATE_DIR=$state

# The installed copy only, so a stale collection in ~/.ansible cannot shadow
# it; implicit localhost runs modules with this venv's Python.
cd "$REPO"
ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
  ANSIBLE_COLLECTIONS_PATH=$collections ansible-playbook "$playbook" "$@"
