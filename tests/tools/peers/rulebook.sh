#!/usr/bin/env bash
# ansible-rulebook (PyPI) for tests/integration/test_eda.py, which runs a rulebook with the collection's event
# source taskstatus.infra.task_events. Installs it into a venv of its own with what it needs next to it:
# ansible-core (ansible-rulebook finds collections with ansible-galaxy and runs playbooks with ansible-playbook)
# and requests (the source's HTTP library). ansible-rulebook's rule engine (Drools, through jpy) needs a Java
# 17 or later: when `java` is missing or older, Debian's openjdk-17-jre-headless is installed with apt-get
# (bindep.txt). Prints the venv's bin directory (put it first on PATH). Idempotent.
#
# When something cannot be installed (no root, no Debian, no mirror) it says why and fails: the test of the
# EDA source is not skipped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fail() {
  echo "ERROR: ansible-rulebook cannot run here: $*" >&2
  exit 1
}

java_major() {
  # "openjdk version "17.0.15" 2025-04-15" -> 17 ; "1.8.0_392" -> 1 (too old either way)
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}

if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ] 2>/dev/null || [ -z "$(java_major)" ]; then
  command -v apt-get >/dev/null 2>&1 || fail "no Java 17 and apt-get is not available (not a Debian system); install a Java 17 runtime"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      fail "no Java 17, not root and no password-less sudo: cannot apt-get install openjdk-17-jre-headless"
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  { $sudo apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >&2 ||
    { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends openjdk-17-jre-headless >&2; }; } ||
    fail "apt-get install openjdk-17-jre-headless failed"
  [ "$(java_major)" -ge 17 ] 2>/dev/null || fail "openjdk-17-jre-headless is installed but \`java -version\` is not 17 or later"
fi

root=$(peer_venv rulebook-1.3.2-core-2.19.14 "ansible_rulebook, ansible, requests" \
  "ansible-rulebook==1.3.2" "ansible-core==2.19.14" "requests==2.34.2")
echo "$root/bin"
