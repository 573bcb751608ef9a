#!/usr/bin/env bash
# DMTF's Redfish Service Validator and Redfish Protocol Validator (PyPI)
# against every Redfish flavour of the simulator; fails on any FAIL.
#
# The validators live in a venv of their own under $TASKSTATUS_PEERS (default
# ~/.cache/taskstatus/peers), installed on first use. The Protocol Validator
# always sends one SSDP M-SEARCH multicast packet that no option turns off, so
# the simulator and both validators run in a network namespace of their own
# that holds only a loopback interface (unshare --net as root, else
# unshare -rn); nothing leaves this machine. The Service Validator reads the
# CSDL schemas of tests/data/redfish/csdl (it cannot download them here).
#
# Before the run every device gets tasks in each end state and one that runs,
# so Task (and Job) resources are validated too. Before the Protocol Validator
# each device gets a task that moves one percent every 1.8 s, so its
# Server-Sent Event streams carry events, and streams outlive the deletion of
# their session as DSP0266 requires (knob sse_logout_closes false; the
# simulator's default closes them). The Protocol Validator 1.3.2 ships with its
# SSE discovery commented out ("Temporarily turn off SSE tests"): it runs here
# through a launcher that restores that one line in memory, so its SSE
# assertions run unchanged. Reports go to
# tests/output/validators/<device>-{service,protocol}/; a summary table, one
# line per device and validator, is printed and kept in summary.txt.
#
# Usage: tests/tools/validators.sh [DEVICE...]   (default: all flavours)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

SERVICE_VERSION=3.1.8
PROTOCOL_VERSION=1.3.2
OUT=${TASKSTATUS_VALIDATORS_OUT:-$REPO/tests/output/validators}
CSDL=${TASKSTATUS_CSDL:-$REPO/tests/data/redfish/csdl}
DEVICES_ALL="generic=redfish:generic dell=redfish:dell cisco=redfish:cisco jobservice=redfish:jobservice openbmc=redfish:openbmc"

if [ "${TASKSTATUS_IN_NETNS:-}" != 1 ]; then
  # Outside the namespace: install (needs PyPI), then run this script again inside one.
  . "$(dirname "$0")/peers/lib.sh"
  root=$(peer_venv "dmtf-validators-$SERVICE_VERSION-$PROTOCOL_VERSION" \
    "redfish_service_validator, redfish_protocol_validator" \
    "redfish-service-validator==$SERVICE_VERSION" "redfish-protocol-validator==$PROTOCOL_VERSION")
  command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is required"
  command -v ip >/dev/null 2>&1 || die "ip (iproute2) is required to bring up the namespace's loopback"
  if unshare --net true 2>/dev/null; then
    netns=(unshare --net)
  elif unshare -rn true 2>/dev/null; then
    netns=(unshare -rn)
  else
    die "cannot make a network namespace (unshare --net / unshare -rn refused): the Protocol Validator's SSDP \
multicast must not reach a real network, so the validators do not run"
  fi
  rm -rf "$OUT"
  mkdir -p "$OUT"
  export TASKSTATUS_IN_NETNS=1 TASKSTATUS_VALIDATORS_VENV=$root
  exec "${netns[@]}" -- "$0" "$@"
fi

# ---- inside the namespace ----------------------------------------------------
ip link set lo up
[ "$(ip -o link show | grep -cv ': lo:')" = 0 ] || die "the namespace has more than a loopback interface"
bin=$TASKSTATUS_VALIDATORS_VENV/bin
# The machine's CA bundle variables would override --ca-bundle inside requests.
unset REQUESTS_CA_BUNDLE CURL_CA_BUNDLE

spec=""
for item in $DEVICES_ALL; do
  name=${item%%=*}
  if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qx "$name"; then spec="$spec${spec:+,}$item"; fi
done
[ -n "$spec" ] || die "no such device: $*; known: generic dell cisco jobservice openbmc"

state=$OUT/sim
password=$("$VENV_PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
"$VENV_PY" "$REPO/tests/simulator/run.py" start --state-dir "$state" --devices "$spec" \
  --password "$password" >/dev/null
trap '"$VENV_PY" "$REPO/tests/simulator/run.py" stop --state-dir "$state" >/dev/null' EXIT

# Tasks in every end state, and one that runs, on every device (an OpenBMC's successful
# firmware update reboots it, so its success is a configuration export).
"$VENV_PY" - "$state/state.json" <<'PY'
import json, ssl, sys, urllib.request
state = json.load(open(sys.argv[1]))
context = ssl.create_default_context(cafile=state["ca_cert"])
seeds = [("fail", "firmware_update", 0), ("stuck", "firmware_update", 3600), ("success", "config_export", 0),
         ("cancel", "support_export", 0), ("critical", "other", 0)]
for device in state["devices"]:
    for scenario, kind, duration in seeds:
        body = json.dumps({"scenario": scenario, "kind": kind, "duration": duration}).encode()
        request = urllib.request.Request(device["url"] + "/_sim/tasks", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            assert answer.status == 201, answer.status
PY

# sim_post URL PATH JSON: a control request to the simulator (/_sim/...).
sim_post() {
  "$VENV_PY" - "$state/ca.pem" "$1$2" "$3" <<'PY'
import ssl, sys, urllib.request
request = urllib.request.Request(sys.argv[2], sys.argv[3].encode(), {"Content-Type": "application/json"})
with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=sys.argv[1]), timeout=10) as answer:
    assert answer.status in (200, 201), answer.status
PY
}

# rf_protocol_validator with its SSE discovery on: 1.3.2 reads ServerSentEventUri and then sets it to None
# ("Temporarily turn off SSE tests since they throw exceptions"); the launcher removes that one line.
protocol_validator() {
  "$bin/python" - "$@" <<'PY'
import inspect, sys
from redfish_protocol_validator import resources
source = inspect.getsource(resources)
off = "            #uri = data.get('ServerSentEventUri')\n            uri = None\n"
if source.count(off) != 1:
    sys.exit("redfish_protocol_validator.resources has changed: the SSE launcher of validators.sh needs a look")
exec(compile(source.replace(off, "            uri = data.get('ServerSentEventUri')\n"), resources.__file__, "exec"),
     resources.__dict__)
from redfish_protocol_validator import console_scripts
sys.argv[0] = "rf_protocol_validator"
sys.exit(console_scripts.main())
PY
}

# validate NAME URL: both validators on one device; its two summary lines go to $OUT/NAME.lines,
# the FAIL details to stderr; returns 1 on a FAIL or a missing report.
validate() {
  local name=$1 url=$2 dir counts pass warn fail nt tsv rc=0
  local reports=()
  # Service Validator: the summary table of its console output gives the counts.
  dir=$OUT/$name-service
  mkdir -p "$dir"
  "$bin/rf_service_validator" --rhost "$url" --user admin --password "$password" --authtype Session \
    --schema_directory "$CSDL" --skipschema --logdir "$dir" >"$dir/console.txt" 2>&1 || true
  counts=$(grep -A2 -E '^\| +PASS +\| +WARN' "$dir/console.txt" | tail -1 | tr -d '|' | xargs || true)
  [ -n "$counts" ] || { log "$name: no Service Validator summary; see $dir/console.txt"; counts="? ? ? ?"; rc=1; }
  read -r pass warn fail nt <<<"$counts"
  printf '%-11s %-9s %6s %6s %6s %11s\n' "$name" service "$pass" "$warn" "$fail" "$nt" >"$OUT/$name.lines"
  if [ "$fail" != 0 ]; then
    rc=1
    grep -h ' - ERROR - ' "$dir"/*/RedfishServiceValidatorDebug_*.log 2>/dev/null | sed "s/^/$name service: /" >&2 || true
  fi

  # Protocol Validator: count the Result column of its TSV report.
  dir=$OUT/$name-protocol
  mkdir -p "$dir"
  sim_post "$url" /_sim/tasks '{"scenario": "success", "kind": "other", "duration": 200, "started_ago": 20}'
  sim_post "$url" /_sim/config '{"sse_logout_closes": false}'
  protocol_validator --rhost "$url" --user admin --password "$password" --ca-bundle "$state/ca.pem" \
    --report-dir "$dir" --report-type tsv >"$dir/console.txt" 2>&1 || true
  reports=("$dir"/*.tsv)
  tsv=${reports[0]}
  if [ ! -f "$tsv" ]; then
    log "$name: no Protocol Validator report; see $dir/console.txt"
    pass="?" warn="?" fail="?" nt="?"
    rc=1
  else
    read -r pass warn fail nt < <(awk -F'\t' 'NR > 1 {n[$5]++} END {printf "%d %d %d %d\n", n["PASS"], n["WARN"], n["FAIL"], n["NOT_TESTED"]}' "$tsv")
    if [ "$fail" != 0 ]; then
      rc=1
      awk -F'\t' -v dev="$name" '$5 == "FAIL" {print dev " protocol: " $1 " " $2 " " $4 ": " $6}' "$tsv" >&2
    fi
  fi
  printf '%-11s %-9s %6s %6s %6s %11s\n' "$name" protocol "$pass" "$warn" "$fail" "$nt" >>"$OUT/$name.lines"
  return $rc
}

# One device per flavour, all at once (most of a run is waiting: the SSDP search, the service's answers).
names=() pids=()
for item in ${spec//,/ }; do
  name=${item%%=*}
  url=$("$VENV_PY" -c 'import json, sys; print({d["name"]: d["url"] for d in json.load(open(sys.argv[1]))["devices"]}[sys.argv[2]])' \
    "$state/state.json" "$name")
  validate "$name" "$url" &
  names+=("$name") pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
done

summary=$OUT/summary.txt
printf '%-11s %-9s %6s %6s %6s %11s\n' device validator PASS WARN FAIL "NOT TESTED" >"$summary"
for name in "${names[@]}"; do
  if [ -f "$OUT/$name.lines" ]; then cat "$OUT/$name.lines" >>"$summary"; else failed=1; fi
done

cat "$summary"
[ "$failed" = 0 ] || die "a DMTF validator reported FAIL (reports: $OUT)"
echo "DMTF validators: no FAIL ($(sed 1d "$summary" | awk '{print $1}' | sort -u | xargs))"
