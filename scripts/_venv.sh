# Sourced by the other scripts: make .venv and install graph-agents with the given extras.
# torch==2.13.0 goes first: this machine has its CPU wheel on disk, and a bare `torch`
# (pulled by sentence-transformers) would download a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
_pip() {
  # This machine's pip configuration names local indexes that may be absent; their
  # "Location ... is ignored" warnings are noise, every other line is kept.
  .venv/bin/python -m pip install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
ga_install() {
  local extras=$1
  if [[ "$extras" == *local* || "$extras" == *all* ]]; then
    _pip "torch==2.13.0"
  fi
  # compat mode puts the repository on sys.path with a plain .pth file, which type
  # checkers (mypy, pyright) follow; setuptools' default import-hook mode hides the
  # package from them outside the repository.
  _pip -e ".[${extras}]" --config-settings editable_mode=compat
}
