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
ga_install() {
  local extras=$1
  if [[ "$extras" == *local* || "$extras" == *all* ]]; then
    .venv/bin/python -m pip install -q "torch==2.13.0"
  fi
  .venv/bin/python -m pip install -q -e ".[${extras}]"
}
