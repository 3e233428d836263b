#!/usr/bin/env bash
# Install everything into .venv, then run lint, format check, type check and the full
# test suite. Postgres tests read GRAPH_AGENTS_TEST_POSTGRES_DSN and skip when it is unset.
source "$(dirname "$0")/_venv.sh"
ga_install "all,dev"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The web view's browser test drives Debian's chromium (Playwright never downloads one).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser test"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y -q chromium > /dev/null \
    || { $sudo_cmd apt-get update -q > /dev/null && $sudo_cmd apt-get install -y -q chromium > /dev/null; }
fi
# Graph export writes PNG/SVG through Graphviz's dot; its tests need it.
if ! command -v dot > /dev/null; then
  echo "== installing Debian's graphviz for the graph export tests"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get install -y -q graphviz > /dev/null \
    || { $sudo_cmd apt-get update -q > /dev/null && $sudo_cmd apt-get install -y -q graphviz > /dev/null; }
fi
echo "== ruff check"; .venv/bin/ruff check graph_agents tests examples benchmarks
echo "== ruff format --check"; .venv/bin/ruff format --check graph_agents tests examples benchmarks
echo "== mypy --strict"; .venv/bin/mypy
echo "== typing as a user sees it: mypy --strict and pyright on tests/typing, outside the repo"
typing_dir=$(mktemp -d)
cp tests/typing/*.py tests/typing/pyrightconfig.json "$typing_dir"
venv_bin="$PWD/.venv/bin"
(cd "$typing_dir" && PATH="$venv_bin:$PATH" mypy --strict --no-incremental user_script.py misuse.py)
(cd "$typing_dir" && PATH="$venv_bin:$PATH" pyright)
echo "== pyright --verifytypes graph_agents --ignoreexternal (must be 100%)"
PATH="$venv_bin:$PATH" pyright --verifytypes graph_agents --ignoreexternal > "$typing_dir/verify.txt" || {
  cat "$typing_dir/verify.txt"; exit 1; }
grep "Type completeness score" "$typing_dir/verify.txt"
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
