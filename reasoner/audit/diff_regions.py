"""How a class of differences is described: ARN witnesses of the resource regions, a resource of
the action's own type, the Resource patterns a resource matches, and the brave consequences of a
class (every context and resource region some difference of it takes)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import clingo

from reasoner.audit.diff_answers import ContextConstraint
from reasoner.engine.facts import CondEntry, FactProgram, StmtInfo
from reasoner.errors import InternalError
from reasoner.policy import catalogue
from reasoner.policy.patterns import fill
from reasoner.policy.values import compare
from reasoner.search.context import ALWAYS_PRESENT


def arn_candidates(program: FactProgram, statements: list[StmtInfo], singles: dict[str, str]) -> tuple[str, ...]:
    """ARN-shaped fillings of every Resource pattern, tried first as region witnesses: a region
    whose shortest member is not an ARN ('arn:aws:ec2:' for 'arn:aws:ec2:*') still gets one."""
    out: list[str] = []
    for st in statements:
        for x in st.resources:
            p = fill(program.resource_by_id[x], singles)
            if p is None:
                continue
            for star in ("x", "x/x", ""):
                text = "".join((star if c == "*" else "x") if wild else c for c, wild in p)
                parts = text.split(":", 5)
                if parts[0] != "arn":
                    continue
                parts += ["x"] * (6 - len(parts))
                out.append(":".join(parts))
    return tuple(dict.fromkeys(out))


def class_summary(
    program: FactProgram,
    ctl: clingo.Control,
    assumptions: list[tuple[clingo.Symbol, bool]],
    names: dict[int, str],
    regions_of: dict[str, list[str]],
    conds_by_key: dict[str, list[CondEntry]],
    singles: dict[str, str],
) -> tuple[list[ContextConstraint], list[str]]:
    """Brave consequences of the class: every context region (or absence) and every resource
    region some difference in it takes (each one alone: not every combination is one)."""
    conf = ctl.configuration.solve
    assert isinstance(conf, clingo.Configuration)  # clingo types a sub-configuration as str | Configuration | None
    conf.enum_mode, conf.opt_mode = "brave", "ignore"
    brave: list[Sequence[clingo.Symbol]] = []
    ctl.solve(assumptions=assumptions, on_model=lambda m: brave.__setitem__(slice(None), [m.symbols(shown=True)]))
    conf.enum_mode, conf.opt_mode = "auto", "opt"
    if not brave:
        raise InternalError("a class of differences has no model under its own assumptions")
    values: dict[str, list[str]] = {}
    absent: set[str] = set()
    resources = []
    for s in brave[0]:
        if s.name == "pick_resource":
            resources.append(names[s.arguments[0].number][2:])
        elif s.name == "pick":
            values.setdefault(names[s.arguments[0].number][2:], []).append(names[s.arguments[1].number][2:])
        elif s.name == "unpicked":
            absent.add(names[s.arguments[0].number][2:])
    out = []
    for key in sorted(set(values) | absent):
        vals = sorted(values.get(key, []))
        every = set(regions_of.get(key, []))
        if set(vals) >= every and (key in absent or key not in regions_of or key in ALWAYS_PRESENT):
            continue  # unconstrained in this class
        notes = []
        for v in vals:
            hits = [
                f"{c.label.split(' ', 1)[0]} {', '.join(t.source for t in c.templates)}"
                for c in conds_by_key.get(key, [])
                if program.value_matches(c, v, singles)
            ]
            notes.append("matches " + "; ".join(dict.fromkeys(hits)) if hits else "matches no value the policies give")
        out.append(ContextConstraint(key=_spell(key, conds_by_key), absent=key in absent, values=vals, notes=notes))
    return out, resources


def typed_resource(
    program: FactProgram,
    owner: str,
    action: str,
    resource: str,
    statements: list[StmtInfo],
    singles: dict[str, str],
) -> str:
    """An ARN of one of the action's own resource types in the same region, when there is one
    (every Resource pattern in scope matches it exactly when it matches the region's witness)."""
    info = catalogue.lookup(action)
    templates = [
        t for st in statements for x in st.resources if (t := fill(program.resource_by_id[x], singles)) is not None
    ]

    def sig(value: str) -> tuple[bool, ...]:
        return tuple(compare("arn_like", t, value) for t in templates)

    target = sig(resource)
    names = {"Partition": "aws", "Region": "us-east-1", "Account": owner}
    formats = [fmt for _, fmt, _ in (info.resource_types if info else ())]
    # Actions without resource types are authorised against "*" (Service Authorization
    # Reference: "you must specify all resources ("*") in the Resource element").
    candidates = [re.sub(r"\$\{(\w+)\}", lambda m: names.get(m.group(1), "example"), f) for f in formats] or ["*"]
    for cand in candidates:
        if cand and sig(cand) == target:
            return cand
    return resource


def resource_text(
    program: FactProgram, resource: str, statements: list[StmtInfo], singles: dict[str, str]
) -> tuple[list[str], list[str]]:
    """The Resource patterns (as written) the resource matches, and those it does not."""
    seen: dict[str, bool] = {}
    for st in statements:
        for x in st.resources:
            t = program.resource_by_id[x]
            p = fill(t, singles)
            if p is None or t.source in seen:
                continue
            seen[t.source] = compare("arn_like", p, resource)
    return sorted(k for k, v in seen.items() if v), sorted(k for k, v in seen.items() if not v)


def _spell(key: str, conds_by_key: dict[str, list[CondEntry]]) -> str:
    for c in conds_by_key.get(key, []):
        return c.label.split(" ", 1)[1]
    return key
