#!/usr/bin/env bash
# One entry point for a fresh machine with only Python 3.11:
#   ./dev.sh demo          set up .venv, decide the bundled Athena / VPC-endpoint case, answer its
#                          searches and paths, prove its invariants
#   ./dev.sh test          what CI runs (.ci/run): lint, types, then build the wheel, install it into a
#                          fresh virtual environment outside the checkout, run the demo from another
#                          folder with that install and the whole test suite against it
#   ./dev.sh quick [ARGS]  the test suite against the checkout (.venv, editable), for development
#   ./dev.sh test-lowest   the test suite on the lowest versions pyproject.toml allows
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # Re-install only when the project's own requirements changed.
  stamp=.venv/.installed-$(cat pyproject.toml constraints/ci.txt | sha256sum | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints/ci.txt -e '.[test,lint,collect,dask]'
    rm -f .venv/.installed-*
    touch "$stamp"
  fi
}

demo() {  # $1: the reasoner executable
  "$1" decide --case "$ROOT/cases/athena-vpce"
  "$1" can --case "$ROOT/cases/athena-vpce"
  "$1" reach --case "$ROOT/cases/athena-vpce"
  "$1" prove "$ROOT/cases/athena-vpce/invariants.yaml" "$ROOT/cases/athena-vpce"
}

# A fresh environment holding only the built wheel (and the test extras), outside the checkout.
installed_env() {  # $1: constraints file
  work=$(mktemp -d "${TMPDIR:-/tmp}/iam-reasoner-test.XXXXXX")
  rm -rf build
  .venv/bin/python -m pip wheel --quiet --no-deps -w "$work/dist" .
  rm -rf build
  "$PY" -m venv "$work/venv"
  wheel=$(ls "$work"/dist/iam_reasoner-*.whl)
  "$work/venv/bin/python" -m pip install --quiet -c "$1" "$wheel[test,dask]"
  echo "wheel: $(basename "$wheel") ($(python3 -m zipfile -l "$wheel" | tail -n +2 | wc -l) files), env: $work/venv"
}

# The HTML report is tested in a real headless browser: Debian's chromium, installed when missing.
browser() {
  if ! command -v chromium > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
    else
      echo "chromium is missing: install Debian's chromium package (the HTML report tests need it)" >&2
      exit 1
    fi
  fi
}

run_suite() {  # $1: the environment's python; the rest: pytest arguments
  local python=$1
  shift
  # From a folder outside the checkout: nothing on sys.path can be the source tree.
  (cd "$work" && REASONER_TEST_INSTALLED=1 REASONER_REQUIRE_BROWSER=1 "$python" -m pytest "$ROOT/tests" -p no:cacheprovider "$@")
}

case "${1:-}" in
  demo)
    setup
    demo .venv/bin/reasoner
    ;;
  test)
    shift
    setup
    browser
    .venv/bin/ruff check reasoner tests bench cases
    .venv/bin/ruff format --check --quiet reasoner tests bench cases
    .venv/bin/mypy
    installed_env constraints/ci.txt
    (cd "$work" && demo "$work/venv/bin/reasoner" > "$work/demo.out")
    echo "demo from $work with the installed wheel: $(grep -c . "$work/demo.out") lines of answers"
    run_suite "$work/venv/bin/python" "$@"
    rm -rf "$work"
    ;;
  quick)
    shift
    setup
    .venv/bin/python -m pytest -p no:cacheprovider "$@"
    ;;
  test-lowest)
    shift
    setup
    installed_env constraints/lowest.txt
    run_suite "$work/venv/bin/python" "$@"
    rm -rf "$work"
    ;;
  *)
    echo "usage: ./dev.sh demo | test | quick [pytest args] | test-lowest" >&2
    exit 2
    ;;
esac
