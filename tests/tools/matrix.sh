#!/usr/bin/env bash
# The support matrix and Galaxy's import check: nox sessions from noxfile.py (with antsibull-nox), run
# with the dev venv's nox. Each session makes its own venv under .nox/ with the Python it names.
#
# nox finds interpreters on PATH, where pyenv's shims answer only for the pyenv version that is selected.
# So the real interpreters (python3.X on PATH that work, else the newest pyenv 3.X.*) are linked into
# .nox/pythons, which goes first on PATH; a Python the matrix needs and this machine lacks is an error
# (--error-on-missing-interpreters), never a silent skip.
#
# Usage: tests/tools/matrix.sh [NOX_ARGS...]   e.g.  -s matrix-2.17-py3.10   or  -l  (list sessions)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
require_venv

links=$REPO/.nox/pythons
mkdir -p "$links"
root=${PYENV_ROOT:-$HOME/.pyenv}
for version in 3.10 3.11 3.12 3.13 3.14; do
  found=
  for cand in $(type -ap "python$version"); do
    if [ "$cand" != "$VENV/bin/python$version" ] && "$cand" -c '' >/dev/null 2>&1; then found=$cand; break; fi
  done
  if [ -z "$found" ]; then
    for cand in $(printf '%s\n' "$root/versions/$version".* | sort -V -r); do
      if [ -x "$cand/bin/python$version" ]; then found=$cand/bin/python$version; break; fi
    done
  fi
  if [ -n "$found" ]; then
    # replaced by a rename, so that two runs at once (make matrix) never see a missing link
    tmp=$(mktemp -u "$links/.python$version.XXXXXX")
    ln -s "$found" "$tmp"
    mv -T "$tmp" "$links/python$version"
  fi
done
export PATH="$links:$PATH"

cd "$REPO"
exec nox --error-on-missing-interpreters --reuse-venv=yes "$@"
