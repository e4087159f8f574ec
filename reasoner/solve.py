"""Run clingo on the encodings plus compiled facts; read the shown atoms back."""

from __future__ import annotations

from pathlib import Path

import clingo

ENCODINGS = Path(__file__).resolve().parent.parent / "encodings"


def encoding(name: str) -> Path:
    path = ENCODINGS / name
    if not path.exists():
        raise FileNotFoundError(f"encoding {path} is missing (is the package installed from a checkout?)")
    return path


def solve_once(program_files: list[str], facts: str) -> list[clingo.Symbol]:
    """Ground the encodings with the facts and return the shown atoms of the unique model.

    The decision encodings are stratified, so there is exactly one answer set.
    """
    ctl = clingo.Control(["--warn=none", "1"])
    for name in program_files:
        ctl.load(str(encoding(name)))
    ctl.add("base", [], facts)
    ctl.ground([("base", [])])
    symbols: list[clingo.Symbol] = []

    def on_model(model: clingo.Model) -> None:
        symbols.extend(model.symbols(shown=True))

    result = ctl.solve(on_model=on_model)
    if not result.satisfiable:
        raise RuntimeError("the decision program has no answer set: encodings are inconsistent")
    return symbols
