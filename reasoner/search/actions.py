"""The action dimension: the catalogue actions a query names, and one representative action per
signature over the Action / NotAction patterns of the statements in scope.

Over-approximates: encodings/match/action.lp (stmt_action_match, through policy/coverage.py: the
statements whose Action / NotAction covers no searched action are left out of the grounding; an
action no Allow statement covers is not searched when there are many), layers.lp
req_needs_resource_policy (facts.needs_resource_policy, per action: may_need_resource_policy) and
protected.lp (facts.aws_rule, per action: aws_rule_class). Two actions with the same signature get
the same facts from all of these, so one represents them; every prefilter leaves out only actions
no statement can allow (tests/engine/test_coverage.py, tests/search/test_resource_policy_rule.py).
"""

from __future__ import annotations

from functools import lru_cache

from reasoner.engine.facts import StmtInfo, aws_rule, needs_resource_policy, rcp_services
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.coverage import action_matches, covers_action, service_may_match, statement_covers
from reasoner.policy.principals import parse_principal
from reasoner.search.compilation import Compilation
from reasoner.search.domains import Domain, Region
from reasoner.search.principals import Layer
from reasoner.search.query import Query, is_pattern

# (the action patterns it matches, its service supports RCPs, it is decided with trust/key policy
# rules, the built-in rules that may decide it): actions with the same signature are decided alike,
# so one represents them.
ActionSignature = tuple[frozenset[int], bool, bool, tuple[int | None, ...]]

ALWAYS_ALLOWED_RULE = -1  # facts.aws_rule: sts:GetCallerIdentity
# One resource per pattern of facts.AWS_RULE_RESOURCE_PATTERNS, and one outside them.
_RULE_PROBES = (
    "arn:aws:iam::aws:policy/probe",
    "arn:aws:iam::111122223333:role/aws-service-role/probe",
    "arn:aws:iam::111122223333:role/aws-reserved/probe",
    "*",
)


# A KMS key: the one kind of resource facts.needs_resource_policy tells apart.
_KEY_PROBE = "arn:aws:kms:us-east-1:111122223333:key/probe"


def may_need_resource_policy(action: str) -> bool:
    """Does a key or trust policy have to allow the action on some resource
    (facts.needs_resource_policy, the one home of that rule)? The rule reads the resource only to
    tell a KMS key from other resources, so a key answers for every resource."""
    return needs_resource_policy(action, _KEY_PROBE)


@lru_cache(maxsize=4096)
def aws_rule_class(action: str) -> tuple[int | None, ...]:
    """Which built-in rule (facts.aws_rule: sts:GetCallerIdentity, protected policies and roles)
    decides the action on each kind of resource they tell apart, for a caller they apply to. Two
    actions of one class are decided alike by protected.lp on every resource and for every caller."""
    caller = parse_principal("arn:aws:iam::111122223333:user/probe")
    return tuple(aws_rule(caller, action, probe) for probe in _RULE_PROBES)


def query_actions(query: Query) -> list[str]:
    """The catalogue actions the query's action (a name or a pattern) names."""
    if is_pattern(query.action):
        actions = catalogue.expand(query.action)
        if not actions:
            raise InputError(f"no catalogue action matches {query.action!r}", path=("action",))
        return actions
    info = catalogue.lookup(query.action)
    if info is None:
        raise InputError(catalogue.unknown_action_message(query.action), path=("action",))
    return [info.full_name]


def allowable_actions(actions: list[str], layers: list[Layer]) -> list[str]:
    """Scale: an action no Allow statement's Action / NotAction covers (policy/coverage.py) is
    implicitly denied, so it cannot be a witness; only the covered ones are searched (when there
    are many). A sound prefilter: it leaves out only actions no statement can allow."""
    if len(actions) <= 200:
        return actions
    allows = [st for _, _, named in layers for st in named.policy.Statement if st.Effect == "Allow"]
    return [a for a in actions if any(covers_action(st, a.lower()) for st in allows)] or actions[:1]


def action_facts(c: Compilation, statements: list[StmtInfo], actions: list[str]) -> list[StmtInfo]:
    """Facts for the action regions; returns the statements in scope (those whose Action /
    NotAction covers some searched action)."""
    signatures = _signatures(c, statements, actions)
    # Only statements whose Action / NotAction covers some searched action can apply: the
    # other statements are left out of the grounding and of every domain (scale rule).
    hit_sets = [sig[0] for sig in signatures]
    statements = [
        st
        for st in statements
        if any(statement_covers(bool(hits & set(st.actions)), st.not_action) for hits in hit_sets)
    ]
    out = c.facts
    out.append("req_stmt_scope(1).")
    out.extend(f"req_stmt_in_scope(1,{st.sid_global})." for st in statements)
    action_ids = sorted({x for st in statements for x in st.actions})
    for sig, a in signatures.items():
        aid = c.program.intern("a:" + a)
        c.action_names[aid] = a
        out.append(f"action_region({aid}).")
        for x in action_ids:
            if x in sig[0]:
                out.append(f"action_hit({aid},{x}).")
        if sig[1]:
            out.append(f"rcp_action({aid}).")
    if len(actions) > 1:
        c.domains.append(Domain(f"action ({c.query.action})", [], [Region(a, ()) for a in signatures.values()]))
    return statements


def _patterns_by_service(c: Compilation, statements: list[StmtInfo], services: set[str]) -> dict[str, list[int]]:
    """Action pattern ids per searched service: those that may match some action of the service
    (coverage.service_may_match; a literal service part matches itself only)."""
    all_ids = sorted({x for st in statements for x in st.actions})
    by_service: dict[str, list[int]] = {svc: [] for svc in services}
    for x in all_ids:
        text = c.program.action_plain[x]
        part = text.split(":", 1)[0]
        if ":" in text and "*" not in part and "?" not in part:
            matched = [part] if part in services else []
        else:
            matched = [svc for svc in services if service_may_match(text, svc)]
        for svc in matched:
            by_service[svc].append(x)
    return by_service


def _signatures(c: Compilation, statements: list[StmtInfo], actions: list[str]) -> dict[ActionSignature, str]:
    """One representative action (the first) per signature."""
    services = {a.split(":")[0].lower() for a in actions}
    by_service = _patterns_by_service(c, statements, services)
    cache = c.program.action_cache
    signatures: dict[ActionSignature, str] = {}
    for a in actions:
        al = a.lower()
        service = al.split(":")[0]
        hits = []
        for x in by_service[service]:
            hit = cache.get((x, al))
            if hit is None:
                hit = cache[(x, al)] = action_matches(c.program.action_plain[x], al)
            if hit:
                hits.append(x)
        sig = (
            frozenset(hits),
            service in rcp_services(),
            may_need_resource_policy(al),
            aws_rule_class(al),
        )
        signatures.setdefault(sig, a)
    return signatures
