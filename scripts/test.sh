#!/usr/bin/env bash
# Install everything into .venv, then run lint, format check, type check and the full
# test suite. Postgres tests read GRAPH_AGENTS_TEST_POSTGRES_DSN and skip when it is unset.
source "$(dirname "$0")/_venv.sh"
ga_install "all,dev"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== ruff check"; .venv/bin/ruff check graph_agents tests examples benchmarks
echo "== ruff format --check"; .venv/bin/ruff format --check graph_agents tests examples benchmarks
echo "== mypy --strict"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests; that is a failure for this project" >&2
  exit 1
fi
exit "$status"
