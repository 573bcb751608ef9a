#!/usr/bin/env bash
# Build the independent vSphere peer: govmomi's vCenter simulator (vcsim) from
# Debian's golang-go and golang-github-vmware-govmomi-dev (govmomi 0.24.2
# source under /usr/share/gocode) with our small tests/peers/vcsim/main.go.
# Installs the two packages with apt-get when they are missing. The binary goes
# outside the repository (~/.cache/taskstatus/peers/vcsim-<hash of main.go>/);
# a second run only prints its path. Offline build: GOPATH=/usr/share/gocode
# GO111MODULE=off GOPROXY=off.
#
#   tests/tools/peers/vcsim.sh   -> prints the binary's path on stdout
#
# Only when apt cannot install the packages (no root, no Debian, no mirror) it
# prints "SKIP: <reason>" on stderr, writes that reason to
# ~/.cache/taskstatus/peers/vcsim.skipped (the marker the test reads), prints
# nothing on stdout and exits 0. Any other failure (a build error) exits 1.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd -P)
src=$repo/tests/peers/vcsim
cache=${TASKSTATUS_PEERS:-$HOME/.cache/taskstatus/peers}
marker=$cache/vcsim.skipped
mkdir -p "$cache"
# one build at a time: tests in parallel (pytest-xdist) may ask for it at once
exec 9>"$cache/vcsim.lock"
flock 9
rm -f "$marker"

skip() {
  echo "SKIP: vcsim peer not built: $*" >&2
  echo "$*" > "$marker"
  exit 0
}

have_packages() {
  command -v go >/dev/null 2>&1 && [ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ]
}

if ! have_packages; then
  command -v apt-get >/dev/null 2>&1 || skip "apt-get is not available (not a Debian system); install golang-go and golang-github-vmware-govmomi-dev"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      skip "not root and no password-less sudo: cannot apt-get install golang-go golang-github-vmware-govmomi-dev"
    fi
  fi
  log=$cache/vcsim-apt.log
  if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q golang-go golang-github-vmware-govmomi-dev \
         || { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
              golang-go golang-github-vmware-govmomi-dev; }; } >"$log" 2>&1; then
    skip "apt-get could not install golang-go golang-github-vmware-govmomi-dev (see $log)"
  fi
  have_packages || skip "golang-go/golang-github-vmware-govmomi-dev installed but go or the govmomi source is missing"
fi

hash=$(cat "$src/main.go" | sha256sum | cut -c1-12)
out=$cache/vcsim-$hash/vcsim-taskstatus
if [ ! -x "$out" ]; then
  mkdir -p "$(dirname "$out")"
  (cd "$src" && GOPATH=/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS="" \
     GOCACHE=$cache/go-build go build -o "$out.tmp" .) >&2
  mv "$out.tmp" "$out"
fi
echo "$out"
