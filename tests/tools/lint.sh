#!/usr/bin/env bash
# ansible-lint, production profile, offline (.ansible-lint), on the working
# tree. Offline, ansible-lint finds taskstatus.infra only through
# ANSIBLE_COLLECTIONS_PATH, which with-collection-root.sh points at a
# temporary root linking to this tree. Extra arguments go to ansible-lint.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv
exec "$REPO/tests/tools/with-collection-root.sh" ansible-lint --offline --profile production "$@"
