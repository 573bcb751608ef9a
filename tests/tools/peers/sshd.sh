#!/usr/bin/env bash
# OpenSSH's server for the test of a delegated task (delegate_to a jump host): the module then runs over SSH
# on "another" host, here 127.0.0.1 on a port of its own. Installs Debian's openssh-server with apt-get when
# sshd is missing, and prints sshd's path. The test starts it itself, on loopback, with throwaway keys.
#
# When it cannot (no root, no Debian, no mirror) it says why and fails: the test of the delegated path is
# not skipped.
set -euo pipefail

skip() {
  echo "ERROR: sshd is missing and cannot be installed: $*" >&2
  exit 1
}

find_sshd() {
  for cand in /usr/sbin/sshd /usr/local/sbin/sshd "$(command -v sshd 2>/dev/null || true)"; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then echo "$cand"; return 0; fi
  done
  return 1
}

if ! find_sshd >/dev/null; then
  command -v apt-get >/dev/null 2>&1 || skip "apt-get is not available (not a Debian system); install openssh-server"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
      skip "not root and no password-less sudo: cannot apt-get install openssh-server"
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The package's postinst may try to start a system sshd: policy-rc.d keeps it from doing so.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy" && added_policy=1
  fi
  { $sudo apt-get install -y -q --no-install-recommends openssh-server >&2 ||
    { $sudo apt-get update -q >&2 && $sudo apt-get install -y -q --no-install-recommends openssh-server >&2; }; } ||
    skip "apt-get install openssh-server failed"
  if [ "${added_policy:-0}" = 1 ]; then $sudo rm -f "$policy"; fi
fi
find_sshd
