#!/usr/bin/env bash
# Mutation testing of the core (about half an hour on 2 cores; not part of CI).
# Extra arguments go to scripts/mutation.py (--sample N, --seed S).
source "$(dirname "$0")/_venv.sh"
ga_install "all,dev"
_pip "cosmic-ray>=8.4"
exec .venv/bin/python scripts/mutation.py "$@"
