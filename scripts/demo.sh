#!/usr/bin/env bash
# Install graph-agents into .venv and run the demo network (offline unless
# OPENAI_API_KEY / OPENAI_BASE_URL are set). Extra arguments go to `graph-agents demo`.
source "$(dirname "$0")/_venv.sh"
ga_install "sqlite"
exec .venv/bin/graph-agents demo "$@"
