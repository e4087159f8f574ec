"""Shared helpers: paths, and running the CLI the way a user does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
