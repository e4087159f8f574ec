"""Decide concrete requests: compile, solve once for the whole batch, read answers back."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Literal, cast

from reasoner.engine.answers import Decision, DecisionValue, Mismatch, StatementRef
from reasoner.engine.facts import FactProgram, RequestFacts
from reasoner.engine.solve import solve_once
from reasoner.errors import InputError
from reasoner.policy.request import DecideInput

_LAYER_ORDER = ["scp", "rcp", "vpce", "boundary", "session", "identity", "resource"]


def _layer_text(sym) -> str:
    if sym.type.name == "Function" and sym.arguments:
        return f"{sym.name}[{sym.arguments[0].number}]"
    return sym.name


def decide_many(
    inputs: Iterable[DecideInput | InputError],
    *,
    explain: bool = False,
    source: str | None = None,
    sources: Sequence[str | None] | None = None,
    raise_errors: bool = False,
) -> list[Decision]:
    """Decide every input in one grounding. An InputError in the list becomes an error line.

    `sources` names each input's origin for its error messages (a batch's FILE:LINE), else
    `source` names them all. An input the request or layer checks reject leaves no trace in the
    answers of the others: its request's facts are dropped, but what the program compiled and
    cached for the policies it named stays with their facts (dropping those facts while the
    cache kept the compiled policy gave a later request with the same document no statements).
    """
    program = FactProgram()
    slots: list[RequestFacts | Decision] = []
    r = 0
    for n, item in enumerate(inputs):
        if isinstance(item, InputError):
            slots.append(Decision(id=None, decision=None, error=item.one_line()))
            continue
        r += 1
        mark = len(program.lines)
        where = sources[n] if sources is not None else source
        try:
            slots.append(program.request(r, item, source=where, scope_statements=not explain))
        except InputError as exc:
            if raise_errors:
                raise
            # Drop only request r's own facts (req/req_* atoms with r first); request numbers
            # are never reused, so a fact missed here can only describe r, whose answer is unread.
            own = re.compile(rf"^req(_\w+)?\({r}[,)]")
            program.lines[mark:] = [line for line in program.lines[mark:] if not own.match(line)]
            slots.append(Decision(id=item.id, decision=None, error=exc.one_line()))
    files = ["decide.lp"] + (["mismatch.lp"] if explain else [])
    symbols = solve_once(files, program.text()) if r else []

    decision: dict[int, str] = {}
    stmts: dict[int, list[tuple[str, int]]] = defaultdict(list)
    missing: dict[int, list[str]] = defaultdict(list)
    mism: dict[int, list[tuple[int, object]]] = defaultdict(list)
    for sym in symbols:
        args = sym.arguments
        rid = args[0].number
        if sym.name == "decision":
            decision[rid] = args[1].name
        elif sym.name == "determining_stmt":
            stmts[rid].append((_layer_text(args[1]), args[2].number))
        elif sym.name == "missing_allow":
            missing[rid].append(_layer_text(args[1]))
        elif sym.name == "stmt_mismatch":
            mism[rid].append((args[1].number, args[2]))

    out: list[Decision] = []
    for slot in slots:
        if isinstance(slot, Decision):
            out.append(slot)
            continue
        out.append(_answer(program, slot, decision.get(slot.r), stmts[slot.r], missing[slot.r], mism[slot.r]))
    return out


def decide(inp: DecideInput, *, explain: bool = True) -> Decision:
    """Decide one request (with per-statement mismatch reasons)."""
    return decide_many([inp], explain=explain, raise_errors=True)[0]


def _ref(program: FactProgram, rf: RequestFacts, layer: str, s: int) -> StatementRef:
    info = program.statements[s]
    atom = layer.replace("[", "(").replace("]", ")")
    name = rf.policy_names.get((atom, info.policy), layer)
    effect: Literal["allow", "deny"] = "allow" if info.effect == "allow" else "deny"
    return StatementRef(layer=layer, policy=name, index=info.index, sid=info.sid, effect=effect)


def _answer(program: FactProgram, rf: RequestFacts, value: str | None, stmts, missing, mism) -> Decision:
    if value not in ("allow", "explicit_deny", "implicit_deny"):
        raise RuntimeError(f"no decision derived for request {rf.r}")
    refs = sorted(
        {_ref(program, rf, layer, s) for layer, s in stmts}, key=lambda x: (_layer_rank(x.layer), x.policy, x.index)
    )
    missing_sorted = sorted(set(missing), key=_layer_rank)
    if value == "explicit_deny":
        decided_by = refs[0].layer if refs else None
    elif value == "allow":
        layers = {x.layer for x in refs}
        decided_by = (
            "identity+resource"
            if {"identity", "resource"} <= layers
            else ("resource" if "resource" in layers else "identity")
        )
    else:
        decided_by = missing_sorted[0] if missing_sorted else None
    mismatches = []
    for s, element in mism:
        info = program.statements[s]
        layer = _layer_of(rf, info.policy)
        ref = _ref(program, rf, layer, s)
        if element.type.name == "Function" and element.name == "condition":
            cid = element.arguments[0].number
            detail = _cond_text(info, cid)
            mismatches.append(Mismatch(statement=ref, element="condition", detail=detail))
        else:
            mismatches.append(Mismatch(statement=ref, element=element.name))
    mismatches.sort(key=lambda m: (_layer_rank(m.statement.layer), m.statement.policy, m.statement.index))
    return Decision(
        id=rf.input.id,
        decision=cast(DecisionValue, value),
        decided_by=decided_by,
        determining_statements=refs,
        missing_allow=missing_sorted,
        mismatches=mismatches,
    )


def _layer_of(rf: RequestFacts, pid: int) -> str:
    for (atom, p), _ in rf.policy_names.items():
        if p == pid:
            return atom.replace("(", "[").replace(")", "]")
    return "?"


def _cond_text(info, cid: int) -> str:
    for c in info.conds:
        if c.cid == cid:
            return c.label
    for c, label in info.null_conds:
        if c == cid:
            return label
    return f"condition #{cid}"


def _layer_rank(layer: str) -> tuple:
    base = layer.split("[")[0]
    return (_LAYER_ORDER.index(base) if base in _LAYER_ORDER else 99, layer)
