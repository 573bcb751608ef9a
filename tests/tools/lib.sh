# shellcheck shell=bash
# Common settings for the scripts in tests/tools (sourced, not run).

set -euo pipefail

# shellcheck disable=SC2034  # used by the scripts that source this file
{
  REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
  VENV=${VENV:-$REPO/.venv}
  VENV_PY=$VENV/bin/python
  NAMESPACE=taskstatus
  COLLECTION=infra
}

export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=${PYTHONDONTWRITEBYTECODE:-1}
export PATH="$VENV/bin:$PATH"

log() { printf '%s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

require_venv() {
  [ -x "$VENV/bin/ansible-test" ] || die "no dev virtualenv at $VENV: run 'make venv' first"
}
