"""The context-key dimensions: fixed keys become concrete facts (as in decide); every other key a
statement in scope reads is searched over the regions its conditions tell apart (a set of values
for multivalued keys; aws:CalledVia with its first and last service)."""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.engine.facts import CondEntry, StmtInfo
from reasoner.policy import catalogue
from reasoner.policy.patterns import plain
from reasoner.policy.values import compare
from reasoner.search import instants
from reasoner.search.compilation import Compilation
from reasoner.search.domains import build_domain
from reasoner.search.principals import CompiledLayer

# Keys AWS includes in every authenticated request (IAM User Guide, global condition keys:
# "This key is always included in the request context").
ALWAYS_PRESENT = frozenset(
    {
        "aws:currenttime",
        "aws:epochtime",
        "aws:securetransport",
        "aws:viaawsservice",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
    }
)
CALLED_VIA = ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast")
# "aws:ResourceAccount: the account ID of the resource owner" (IAM User Guide, global condition
# keys): when the request carries it, it is the request's resource account and nothing else.
RESOURCE_ACCOUNT = "aws:resourceaccount"


@dataclass
class ContextSpelling:
    """How searched keys are written back into a witness request."""

    multivalued: set[str]  # keys that take a set of values
    spelling: dict[str, str]  # lower-case key -> the key as a policy writes it


@dataclass
class _KeysInScope:
    by_key: dict[str, list[CondEntry]]  # conditions per key
    keys: set[str]  # every key a statement in scope or a constraint reads
    exclude: dict[str, list[tuple[str, str]]]  # key -> (family, value) no value may match
    present: set[str]  # keys that must be present


def context_facts(
    c: Compilation,
    statements: list[StmtInfo],
    fixed_ctx: dict[str, list[str]],
    compiled: list[CompiledLayer],
    anonymous_keys: bool,
) -> ContextSpelling:
    conds = [cond for st in statements for cond in st.conds]
    scope = _keys_in_scope(c, statements, conds)
    _fixed_key_facts(c, fixed_ctx, scope.by_key, compiled)
    if anonymous_keys:
        c.absent = c.absent | {
            k
            for k in scope.keys
            if k.startswith(("aws:principal", "aws:userid", "aws:username")) and k not in fixed_ctx
        }
    searched = _searched_keys(scope.keys, fixed_ctx, c.absent)
    multivalued = {k for k in searched if catalogue.is_multivalued(k)} | {
        cond.key_text for cond in conds if cond.key_text in searched and _qualified(cond)
    }
    timed = instants.joint_keys(searched, fixed_ctx, c.absent, c.principal) if c.principal else set()
    for key in searched:
        if key not in timed:
            _searched_key_facts(c, key, scope, key in multivalued)
    if timed and c.principal:
        instants.time_facts(c, timed, scope.by_key, scope.exclude, c.principal, c.now)
    c.key_names = {c.key_id(k): k for k in searched if k not in timed}
    if timed:  # the time dimension is picked on aws:CurrentTime's key
        c.key_names[c.key_id(instants.CURRENT)] = instants.CURRENT
    spelling: dict[str, str] = dict(instants.SPELLING)
    for cond in conds:
        spelling.setdefault(cond.key_text, cond.label.split(" ", 1)[1])
    spelling["aws:calledvia"] = "aws:CalledVia"
    return ContextSpelling(multivalued, spelling)


def _keys_in_scope(c: Compilation, statements: list[StmtInfo], conds: list[CondEntry]) -> _KeysInScope:
    q = c.query
    null_keys = {label.split(" ", 1)[1].lower() for st in statements for _, label in st.null_conds}
    by_key: dict[str, list[CondEntry]] = {}
    for cond in conds:
        by_key.setdefault(cond.key_text, []).append(cond)
    keys = set(by_key) | null_keys
    if q.vpc_endpoint_policy:
        keys.add("aws:sourcevpce")
    if q.without_via:
        keys.add("aws:calledvia")
    if q.not_from_vpce:
        keys.add("aws:sourcevpce")
    exclude = {k.lower(): v for k, v in q.exclude.items()}
    exclude.setdefault("aws:calledvia", []).extend(("string_equals", s) for s in q.without_via)
    exclude.setdefault("aws:sourcevpce", []).extend(("string_equals", s) for s in q.not_from_vpce)
    keys |= {k for k, v in exclude.items() if v} | {k.lower() for k in q.present}
    return _KeysInScope(by_key, keys, exclude, {k.lower() for k in q.present})


def _fixed_key_facts(
    c: Compilation, fixed_ctx: dict[str, list[str]], by_key: dict[str, list[CondEntry]], compiled: list[CompiledLayer]
) -> None:
    """Fixed keys: concrete facts, as in decide."""
    program, out = c.program, c.facts
    for key, values in fixed_ctx.items():
        for v in dict.fromkeys(values):
            out.append(f"req_value(1,{c.key_id(key)},{program.intern('v:' + v)}).")
        if key in c.singles:
            out.append(f"req_single(1,{c.key_id(key)}).")
        for cond in by_key.get(key, []):
            for v in dict.fromkeys(values):
                if program.value_matches(cond, v, c.singles):
                    out.append(f"value_match(1,{cond.cid},{program.intern('v:' + v)}).")
    if c.query.vpc_endpoint_policy and "aws:sourcevpce" in fixed_ctx:
        out.append(f"vpce_key({c.key_id('aws:sourcevpce')}).")
        out.append(f"req_policy(1,vpce,{next(cp.pid for _, k, cp in compiled if k == 'vpce')}).")


def _searched_keys(keys: set[str], fixed_ctx: dict[str, list[str]], absent: set[str]) -> list[str]:
    """Keys neither fixed nor absent; aws:CalledVia stands for its first / last keys too."""
    searched = sorted(k for k in keys if k not in fixed_ctx and k not in absent and k not in CALLED_VIA[1:])
    group_cv = "aws:calledvia" in searched or any(
        k in keys and k not in fixed_ctx and k not in absent for k in CALLED_VIA[1:]
    )
    if (
        group_cv
        and "aws:calledvia" not in searched
        and "aws:calledvia" not in fixed_ctx
        and "aws:calledvia" not in absent
    ):
        searched.append("aws:calledvia")
    return searched


def _searched_key_facts(c: Compilation, key: str, scope: _KeysInScope, multivalued: bool) -> None:
    members = CALLED_VIA if key == "aws:calledvia" else (key,)
    comps, excluded, groups = _comparisons(c, key, members, scope)
    only = [("string_equals", plain(c.resource_account))] if key == RESOURCE_ACCOUNT and c.resource_account else []
    if only:
        groups.append(only)
    # A typed key ranges over values of its type only (catalogue.value_kind), in every search.
    dom = build_domain(key, comps + excluded + only, groups=groups, value_kind=catalogue.value_kind(key))
    c.domains.append(dom)
    k = c.key_id(key)
    out = c.facts
    out.append(f"dim({k}).")
    if multivalued or key == "aws:calledvia":
        out.append(f"dim_multivalued({k}).")
    if key in ALWAYS_PRESENT or key in scope.present:
        out.append(f"dim_always_present({k}).")
    if key == "aws:calledvia":
        out.append(f"calledvia_group({k},{c.key_id('aws:calledviafirst')},{c.key_id('aws:calledvialast')}).")
    if key == "aws:viaawsservice":
        out.append(f"via_key({k}).")
    if key == "aws:sourcevpce" and c.query.vpc_endpoint_policy:
        out.append(f"vpce_key({k}).")
    for rg in dom.regions:
        conds = [cond for m in members for cond in scope.by_key.get(m, [])]
        _region_facts(c, k, rg.witness, conds, excluded, only)


Comparison = tuple[str, tuple[tuple[str, bool], ...]]  # (operator family, filled pattern)


def _comparisons(
    c: Compilation, key: str, members: tuple[str, ...], scope: _KeysInScope
) -> tuple[list[Comparison], list[Comparison], list[list[Comparison]]]:
    """The key's comparisons, its excluded values, and its OR-groups: one per condition entry
    (its values), one for the excluded values."""
    groups = []
    for m in members:
        for cond in scope.by_key.get(m, []):
            g = [
                (cond.family, p)
                for t in cond.templates
                if (p := c.filled(t, f"a condition on {cond.key_text}")) is not None
            ]
            if g:
                groups.append(g)
    comps = [cmp for g in groups for cmp in g]
    excluded = [(f, plain(v)) for f, v in scope.exclude.get(key, [])]
    if excluded:
        groups.append(excluded)
    return comps, excluded, groups


def _region_facts(
    c: Compilation, k: int, witness: str, conds: list[CondEntry], excluded: list[Comparison], only: list[Comparison]
) -> None:
    """A region's facts; it is forbidden when its values match an excluded value, or (`only`) do
    not match one of the values the key is limited to."""
    v = c.program.intern("v:" + witness)
    c.value_names[v] = witness
    out = c.facts
    out.append(f"region({k},{v}).")
    if witness.lower() == "true":
        out.append(f"region_true({k},{v}).")
    if any(compare(f, pat, witness) for f, pat in excluded) or (
        only and not any(compare(f, pat, witness) for f, pat in only)
    ):
        out.append(f"forbidden({k},{v}).")
    for cond in conds:
        if c.program.value_matches(cond, witness, c.singles):
            out.append(f"value_match(1,{cond.cid},{v}).")


def _qualified(cond: CondEntry) -> bool:
    """Is the condition written with ForAnyValue / ForAllValues (so its key takes a set)?"""
    return cond.label.split(" ", 1)[0].lower().startswith(("foranyvalue:", "forallvalues:"))
