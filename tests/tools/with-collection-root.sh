#!/usr/bin/env bash
# Run a command with the working tree visible as the collection
# taskstatus.infra: a temporary collection root holds
# ansible_collections/taskstatus/infra -> <repo>, and both
#   ANSIBLE_COLLECTIONS_PATH    (ansible-playbook, ansible-lint, ansible-doc) and
#   TASKSTATUS_COLLECTION_ROOT  (tests/testlib.py: puts it on sys.path and
#                               reuses it instead of making one of its own)
# name that root. The command runs in the repository root; the root is
# removed afterwards.
#
# Usage: tests/tools/with-collection-root.sh COMMAND [ARGS...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die "usage: $0 COMMAND [ARGS...]"

root=$(mktemp -d "${TMPDIR:-/tmp}/taskstatus-infra-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/ansible_collections/$NAMESPACE"
ln -s "$REPO" "$root/ansible_collections/$NAMESPACE/$COLLECTION"

export ANSIBLE_COLLECTIONS_PATH=$root
export TASKSTATUS_COLLECTION_ROOT=$root

cd "$REPO"
# Not exec: the EXIT trap must still remove the temporary root.
"$@"
