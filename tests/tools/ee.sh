#!/usr/bin/env bash
# An execution environment for AWX/AAP with this collection: build the collection tarball, write an
# execution-environment definition (version 3) that installs it, and run `ansible-builder create`, which
# writes the build context (Containerfile and _build/). `ansible-builder build` would build the image
# from it but needs podman or docker, which this machine lacks.
# The collection's own dependencies come from meta/execution-environment.yml (requirements.txt,
# bindep.txt), which ansible-builder reads from the installed collection when the image is built.
#
# Usage: tests/tools/ee.sh [OUTDIR]     (default: build/ee) -> OUTDIR/definition, OUTDIR/context
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

out=${1:-$REPO/build/ee}
rm -rf "$out"
mkdir -p "$out/definition"

ansible-galaxy collection build "$REPO" --output-path "$out/definition" --force >&2
tarball=$(basename "$(ls "$out/definition/$NAMESPACE-$COLLECTION-"*.tar.gz)")

cat > "$out/definition/requirements.yml" <<YAML
---
collections:
  - name: collections/$tarball
    type: file
YAML

cat > "$out/definition/execution-environment.yml" <<YAML
---
version: 3
images:
  base_image:
    # AAP: registry.redhat.io/ansible-automation-platform-25/ee-minimal-rhel9:latest
    name: quay.io/fedora/python-311:latest
dependencies:
  python_interpreter:
    python_path: /usr/bin/python3.11
  ansible_core:
    package_pip: ansible-core==2.19.14
  ansible_runner:
    package_pip: ansible-runner==2.4.3
  galaxy: requirements.yml
additional_build_files:
  - src: $tarball
    dest: collections
options:
  package_manager_path: /usr/bin/dnf
  tags:
    - taskstatus-infra-ee:latest
YAML

ansible-builder create --file "$out/definition/execution-environment.yml" --context "$out/context" \
  --output-filename Containerfile >&2
printf '%s\n' "$out/context"
