#!/usr/bin/env bash
# Install everything into .venv, then run lint, format check, type check and the full
# test suite. Postgres tests read GRAPH_AGENTS_TEST_POSTGRES_DSN and skip when it is unset.
source "$(dirname "$0")/_venv.sh"
ga_install "all,dev"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Debian packages some tests drive: chromium (the web view's browser test; Playwright
# never downloads a browser) and graphviz (graph export to PNG/SVG through dot).
apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  echo "== installing Debian's $1"
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "$1" > /dev/null \
    || { $sudo_cmd apt-get update -q > /dev/null \
      && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "$1" > /dev/null; }
}
if [ ! -x /usr/bin/chromium ]; then apt_install chromium; fi
if ! command -v dot > /dev/null; then apt_install graphviz; fi
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
