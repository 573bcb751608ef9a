#!/usr/bin/env bash
# Run pytest on one test directory with the working tree importable as
# ansible_collections.taskstatus.infra (with-collection-root.sh).
# A missing directory or a run that collects no tests is a failure, not a
# pass. Extra arguments (and PYTEST_ARGS) go to pytest.
#
# Usage: tests/tools/pytest.sh tests/unit [PYTEST_ARGS...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

dir=${1:?usage: $0 TEST_DIR [PYTEST_ARGS...]}; shift
[ -d "$REPO/$dir" ] || die "$dir does not exist: no tests to run"
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words on purpose
exec "$REPO/tests/tools/with-collection-root.sh" \
  python -m pytest -p no:cacheprovider ${PYTEST_ARGS:-} "$@" "$dir"
