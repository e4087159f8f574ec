"""Decide concrete requests: compile, solve once for the whole batch, read answers back."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, cast

from reasoner.engine.answers import Decision, DecisionValue, Mismatch, StatementRef
from reasoner.engine.facts import (
    CompiledPolicy,
    FactProgram,
    RequestFacts,
    aws_rule,
    aws_rule_may_decide,
    needs_resource_policy,
    request_context,
    single_values,
)
from reasoner.engine.solve import solve_once
from reasoner.errors import InputError
from reasoner.policy.request import DecideInput, NamedPolicy

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
    in_scope_only: bool = True,
) -> list[Decision]:
    """Decide every input in one grounding. An InputError in the list becomes an error line.

    `sources` names each input's origin for its error messages (a batch's FILE:LINE), else
    `source` names them all. An input the request or layer checks reject leaves no trace in the
    answers of the others: its request's facts are dropped, but what the program compiled and
    cached for the policies it named stays with their facts (dropping those facts while the
    cache kept the compiled policy gave a later request with the same document no statements).

    `in_scope_only` (without `explain`) writes only the statements and context values that can
    matter to some request (FactProgram); False writes every fact (the property tests compare).
    """
    program = FactProgram(in_scope_only=in_scope_only and not explain)
    return decide_in(program, inputs, explain=explain, source=source, sources=sources, raise_errors=raise_errors)


def decide_in(
    program: FactProgram,
    inputs: Iterable[DecideInput | InputError],
    *,
    explain: bool = False,
    source: str | None = None,
    sources: Sequence[str | None] | None = None,
    raise_errors: bool = False,
) -> list[Decision]:
    """decide_many on a program that may already hold compiled policies (decide_grid)."""
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


# -- grids: many requests of one principal, decided once per class of identical facts -----------


@dataclass(frozen=True)
class ResourceSide:
    """What a request's resource brings to it: the resource, its account, its policy (or a role's
    trust policy) and the RCPs over it."""

    resource: str
    resource_account: str | None
    resource_policy: NamedPolicy | None
    rcps: list[list[NamedPolicy]] | None


@dataclass
class GridRow:
    """One principal's requests: `base` carries its principal, context and identity-side layers
    (its action, resource and resource-side layers are replaced per cell); sides[a][i] is
    resource i's side for action a."""

    base: DecideInput
    sides: list[list[ResourceSide]]


# Per action: the class of each resource, and one Decision per class.
GridAnswers = list[tuple[list[int], list[Decision]]]


def cell_input(base: DecideInput, action: str, side: ResourceSide) -> DecideInput:
    """The request of one cell: the base principal and context, the cell's action and resource
    side (no re-validation: every part was validated where it came from)."""
    request = base.request.model_copy(
        update={"action": action, "resource": side.resource, "resource_account": side.resource_account}
    )
    return replace(base, request=request, resource_policy=side.resource_policy, rcps=side.rcps)


def decide_grid(rows: Sequence[GridRow], actions: Sequence[str]) -> list[GridAnswers]:
    """Decide every cell of the rows (principal x action x resource) in one grounding, one
    request per class of cells whose facts can differ in nothing but the request number.

    A cell's facts (FactProgram.request) depend on the resource only through: its side (resource
    account, RCPs, the resource policy's statements in scope for the action, named for the
    answer; a policy with none in scope only by its presence), whether the resource policy must
    allow (needs_resource_policy), a built-in AWS rule, and which resource patterns of the
    statements in scope match it. Cells equal in all of these get the same facts, so the same
    answer; tests/account/test_matrix.py compares every cell with a single decision."""
    program = FactProgram(in_scope_only=True)
    reps: list[DecideInput] = []
    plan: list[list[tuple[list[int], list[int]]]] = []
    side_keys: dict[tuple[int, str], tuple] = {}
    for row in rows:
        plan.append(_row_classes(program, row, actions, reps, side_keys))
    decided = decide_in(program, reps)
    return [[(class_of, [decided[i] for i in rep_ids]) for class_of, rep_ids in row_plan] for row_plan in plan]


def _row_classes(
    program: FactProgram,
    row: GridRow,
    actions: Sequence[str],
    reps: list[DecideInput],
    side_keys: dict[tuple[int, str], tuple],
) -> list[tuple[list[int], list[int]]]:
    """Per action: the class of each resource, and the index in `reps` of each class's request."""
    base = row.base
    try:
        principal, context = request_context(base.request)
    except InputError:
        principal = None  # every cell fails the same way: one request per action and resource side
        singles: dict[str, str] = {}
    else:
        singles = single_values(context)
    own = [p for p in _identity_side(base)]
    out = []
    for a, action in enumerate(actions):
        action_l = action.lower()
        own_templates = _scoped_templates(program, own, action_l)
        rule_matters = principal is not None and aws_rule_may_decide(action)
        classes: dict[tuple, int] = {}
        class_of: list[int] = []
        rep_ids: list[int] = []
        for side in row.sides[a]:
            r = side.resource
            side_key = side_keys.get((id(side), action_l))
            if side_key is None:
                side_key, shared = _side_key(program, side, action_l, singles)
                if shared:  # no policy variable in its patterns: the same for every principal
                    side_keys[(id(side), action_l)] = side_key
            key = (
                side_key,
                aws_rule(principal, action, r) if rule_matters and principal is not None else None,
                tuple(x for x in own_templates if program.resource_matches(x, r, singles)),
            )
            c = classes.get(key)
            if c is None:
                c = classes[key] = len(rep_ids)
                rep_ids.append(len(reps))
                reps.append(cell_input(base, action, side))
            class_of.append(c)
        out.append((class_of, rep_ids))
    return out


def _identity_side(base: DecideInput) -> list[NamedPolicy]:
    """Every policy the principal's side may bring (a superset of the layers that apply)."""
    out = list(base.identity_policies)
    out += [p for p in (base.permission_boundary, base.session_policy, base.vpc_endpoint_policy) if p is not None]
    out += [p for level in base.scps or [] for p in level]
    return out


def _scoped_templates(program: FactProgram, policies: list[NamedPolicy], action_l: str) -> tuple[int, ...]:
    """The resource patterns of the statements in scope for the action."""
    out: dict[int, None] = {}
    for named in policies:
        _, scoped = program.action_scope(program.policy(named.policy, named.name), action_l)
        for st in scoped:
            out.update(dict.fromkeys(st.resources))
    return tuple(out)


def _side_key(program: FactProgram, side: ResourceSide, action_l: str, singles: dict[str, str]) -> tuple[tuple, bool]:
    """What the resource side puts into a cell's facts for this action, and whether that is the
    same for every principal (no pattern in scope has a policy variable)."""
    templates: list[int] = []
    rcps = side.rcps or []
    rcp_key = None if side.rcps is None else tuple(tuple(id(p.policy) for p in level) for level in rcps)
    rcp_templates = _scoped_templates(program, [p for level in rcps for p in level], action_l)
    rcp_names = tuple(p.name for level in rcps for p in level)
    rp = side.resource_policy
    if rp is None:
        rp_key: tuple | None = None
    else:
        cp = program.policy(rp.policy, rp.name)
        _, scoped = program.action_scope(cp, action_l)
        if scoped or not _valid_layer(program, cp, rp):
            templates += dict.fromkeys(x for st in scoped for x in st.resources)
            matched = tuple(x for x in templates if program.resource_matches(x, side.resource, singles))
            rp_key = (id(rp.policy), rp.name, matched)
        else:
            rp_key = ("present, nothing in scope",)
    matched_rcp = tuple(x for x in rcp_templates if program.resource_matches(x, side.resource, singles))
    shared = not any(program.resource_by_id[x].has_vars for x in [*templates, *rcp_templates])
    needs_rp = needs_resource_policy(action_l, side.resource)
    return (side.resource_account, rcp_key, rcp_names, matched_rcp, rp_key, needs_rp), shared


def _valid_layer(program: FactProgram, cp: CompiledPolicy, rp: NamedPolicy) -> bool:
    try:
        program.check_layer(cp, rp, "resource", None, ())
    except InputError:
        return False
    return True
