#!/usr/bin/env bash
# ansible-test sanity, offline, on the working tree. No ignore files: every
# finding is a failure.
#
# - ansible-test needs the collection at .../ansible_collections/taskstatus/infra.
#   A symlinked tree does not do: with --venv it delegates to a second
#   ansible-test run that resolves the path back to the repository. So the
#   files git would see (tracked and untracked, not ignored) are copied into a
#   temporary collection root (a second or less), and sanity runs there.
# - It bootstraps pip in each of its venvs with a script downloaded from
#   ci-files.testing.ansible.com, which is unreachable here. A stand-in that
#   uses ensurepip + PyPI is written to its cache first, under the file name
#   the installed ansible-test asks for.
# - --venv --python 3.11: no docker here, and without --python it would try
#   every Python on PATH (pyenv shims that fail).
#
# - SANITY_CONTENT=built (the support matrix, noxfile.py) tests what ships instead: the collection is built
#   with ansible-galaxy (build_ignore applies: no simulator, no tests of ours) and unpacked there, as
#   Galaxy and Automation Hub test an upload. pylint then reads the plugins, not the test suite, which
#   `make sanity` covers once.
# - SANITY_PYTHON selects the Python (default 3.11); VENV the ansible-core (default .venv).
# - SANITY_LOCAL=1 (the matrix) runs with --local --requirements: the sanity requirements go into VENV
#   itself, instead of ~10 venvs per core and Python under ~/.ansible/test (each bootstrapping pip).
#
# Extra arguments go to ansible-test (e.g. --test validate-modules).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

python_version=${SANITY_PYTHON:-3.11}

pip_version=$("$VENV_PY" - "$python_version" <<'PY'
import sys
from ansible_test._internal.python_requirements import get_venv_packages
class Python:  # the one attribute get_venv_packages reads
    version = sys.argv[1]
print(get_venv_packages(Python())['pip'])
PY
) || die "cannot read the pip version ansible-test bootstraps"

cache=$HOME/.ansible/test/cache
getpip=$cache/get_pip_${pip_version//./_}.py
if [ ! -s "$getpip" ]; then
  log "Writing offline pip bootstrap stand-in: $getpip"
  mkdir -p "$cache"
  tmp=$(mktemp "$getpip.XXXXXX")  # two sanity runs at once (make matrix) each write their own
  cat >"$tmp" <<'PY'
# Offline stand-in for https://ci-files.testing.ansible.com/ansible-test/get-pip-X.Y.py
# (written by taskstatus.infra tests/tools/sanity.sh): ensurepip, then pip from PyPI.
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'], stdout=subprocess.DEVNULL)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade', '-q'] + args))
PY
  mv "$tmp" "$getpip"
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/taskstatus-infra-sanity.XXXXXX")
trap 'rm -rf "$root"' EXIT
coll=$root/ansible_collections/$NAMESPACE/$COLLECTION
mkdir -p "$coll"
if [ "${SANITY_CONTENT:-tree}" = built ]; then
  ansible-galaxy collection build "$REPO" --output-path "$root" --force >/dev/null
  tar -x -C "$coll" -f "$root/$NAMESPACE-$COLLECTION-"*.tar.gz
  rm -f "$root/$NAMESPACE-$COLLECTION-"*.tar.gz
else
  git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    || die "$REPO is not a git work tree: sanity copies the files git lists"
  # Tracked files still present, plus untracked files that are not ignored.
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard \
    | python3 -c 'import os, sys; sys.stdout.buffer.write(b"".join(p + b"\0" for p in sys.stdin.buffer.read().split(b"\0") if p and os.path.lexists(p)))' \
    | tar -c --null -T - -f -) | tar -x -C "$coll" -f -
fi

cd "$coll"
if [ "${SANITY_LOCAL:-}" = 1 ]; then
  # the session's own venv (tox-ansible's way): the test requirements go into it, no venv per test
  ansible-test sanity --local --requirements --python "$python_version" "$@"
else
  ansible-test sanity --venv --python "$python_version" "$@"
fi
