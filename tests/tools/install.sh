#!/usr/bin/env bash
# Build the collection tarball into build/ and install it into
# .venv/collections (offline: the collection has no dependencies), replacing
# any copy installed before. Playbooks then find taskstatus.infra with
#   ANSIBLE_COLLECTIONS_PATH=.venv/collections
# Prints the installed collection path.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

build=$REPO/build
dest=$VENV/collections

mkdir -p "$build"
rm -f "$build/$NAMESPACE-$COLLECTION-"*.tar.gz
ansible-galaxy collection build "$REPO" --output-path "$build" --force >&2
tarball=$(ls "$build/$NAMESPACE-$COLLECTION-"*.tar.gz)

# Install exactly what was built: remove the old copy first, so a file
# deleted from the source does not linger in the installed collection.
rm -rf "$dest/ansible_collections/$NAMESPACE/$COLLECTION" \
       "$dest/ansible_collections/$NAMESPACE.$COLLECTION-"*.info
ANSIBLE_COLLECTIONS_PATH=$dest ansible-galaxy collection install "$tarball" \
  -p "$dest" --offline --force >&2
printf '%s\n' "$dest/ansible_collections/$NAMESPACE/$COLLECTION"
