"""Run clingo on the encodings plus compiled facts; read the shown atoms back."""

from __future__ import annotations

import clingo
from clingo import ast

from reasoner.resources import encoding_file as encoding

_PARSED: dict[tuple[str, ...], list] = {}


def load_encodings(ctl: clingo.Control, names: list[str] | tuple[str, ...]) -> None:
    """Add encoding files (with their #includes) to a Control. They are parsed once per process
    and added as syntax trees afterwards: a search or a batch builds a fresh Control each time,
    and parsing the text again cost more than grounding small questions."""
    key = tuple(names)
    stms = _PARSED.get(key)
    if stms is None:
        stms = []
        ast.parse_files([str(encoding(n)) for n in names], stms.append)
        _PARSED[key] = stms
    with ast.ProgramBuilder(ctl) as builder:
        for stm in stms:
            builder.add(stm)


def solve_once(program_files: list[str], facts: str) -> list[clingo.Symbol]:
    """Ground the encodings with the facts and return the shown atoms of the unique model.

    The decision encodings are stratified, so there is exactly one answer set.
    """
    ctl = clingo.Control(["--warn=none", "1"])
    load_encodings(ctl, program_files)
    ctl.add("base", [], facts)
    ctl.ground([("base", [])])
    symbols: list[clingo.Symbol] = []

    def on_model(model: clingo.Model) -> None:
        symbols.extend(model.symbols(shown=True))

    result = ctl.solve(on_model=on_model)
    if not result.satisfiable:
        raise RuntimeError("the decision program has no answer set: encodings are inconsistent")
    return symbols
