"""Shared helpers: paths, and running the CLI the way a user does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import reasoner

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("REASONER_TEST_INSTALLED") == "1" and Path(reasoner.__file__).resolve().is_relative_to(ROOT):
    # ./dev.sh test runs the suite against the built wheel; the source tree must not leak in.
    raise RuntimeError(f"the tests import {reasoner.__file__} from the checkout, not the installed wheel")
CORPUS = ROOT / "tests" / "corpus"
GOLDEN = ROOT / "tests" / "golden"


# The installed console script, next to the interpreter running the tests: the tests exercise
# whatever package that environment holds (the built wheel in CI), never the source tree by accident.
REASONER = str(Path(sys.executable).with_name("reasoner"))


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run `reasoner ARGS` in a subprocess (exit codes and stderr exactly as a user sees them)."""
    return subprocess.run(
        [REASONER, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def cli():
    return run_cli


def json_result(stdout: str) -> Any:
    """The result of a command's `--json` output, after checking its envelope."""
    from reasoner.envelope import kind_of, unwrap, validate

    doc = json.loads(stdout)
    validate(doc)
    return unwrap(doc, kind_of(doc), doc["version"])
