# Shared by the peer installers: where peers live, and a venv per Python peer.
# Peers are installed on first use outside the repository, under
# $TASKSTATUS_PEERS (default ~/.cache/taskstatus/peers), one folder each.
# shellcheck shell=bash
PEERS=${TASKSTATUS_PEERS:-$HOME/.cache/taskstatus/peers}

# peer_venv NAME IMPORT PIP_ARGS...
#   Create $PEERS/NAME as a venv with PIP_ARGS installed, unless it is there
#   already and `import IMPORT` works in it; print its path. Installer output
#   goes to stderr, so the caller's stdout carries only the path. Under a lock
#   per peer: tests in parallel (pytest-xdist) may ask for the same peer at once.
peer_venv() {
  local name=$1 module=$2 root=$PEERS/$1 python=${PYTHON:-python3.11} lock
  shift 2
  command -v "$python" >/dev/null 2>&1 || python=python3
  mkdir -p "$PEERS"
  exec {lock}>"$root.lock"
  flock "$lock"
  if [ ! -f "$root/.installed" ] || ! "$root/bin/python" -c "import $module" 2>/dev/null; then
    # Each step checked here: errexit does not reach into the $(...) that callers run this in.
    rm -rf "$root"
    if ! { "$python" -m venv "$root" >&2 &&
           "$root/bin/pip" install -q --disable-pip-version-check "$@" >&2 &&
           "$root/bin/python" -c "import $module" >&2; }; then
      exec {lock}>&-
      echo "ERROR: could not install the peer $name ($*)" >&2
      return 1
    fi
    touch "$root/.installed"
  fi
  exec {lock}>&-
  echo "$root"
}
