#!/usr/bin/env bash
# One entry point for a fresh machine with only Python 3.11:
#   ./dev.sh demo   set up .venv, decide the bundled Athena / VPC-endpoint case, answer its searches and paths, prove its invariants
#   ./dev.sh test   set up .venv and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # Re-install only when the project's own requirements changed.
  stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e '.[test]'
    rm -f .venv/.installed-*; touch "$stamp"
  fi
}

case "${1:-}" in
  demo)
    setup
    .venv/bin/reasoner decide --case cases/athena-vpce
    .venv/bin/reasoner can --case cases/athena-vpce
    .venv/bin/reasoner reach --case cases/athena-vpce
    .venv/bin/reasoner prove cases/athena-vpce/invariants.yaml cases/athena-vpce
    ;;
  test)
    setup
    shift
    .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh demo | ./dev.sh test [pytest args]" >&2
    exit 2
    ;;
esac
