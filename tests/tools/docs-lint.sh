#!/usr/bin/env bash
# antsibull-docs: lint the collection's docs, including every plugin's
# DOCUMENTATION / EXAMPLES / RETURN (--plugin-docs). It runs `ansible` and
# `ansible-doc` from PATH, so the venv's bin must come first (lib.sh).
# Extra arguments go to antsibull-docs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv
cd "$REPO"
exec antsibull-docs lint-collection-docs --plugin-docs "$@" .
