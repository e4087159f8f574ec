"""Sound statement-level prefilters: an allow needs an Allow statement whose Action
(reasoner/policy/coverage.py) and Resource can match, and a condition can matter only when a
statement that can apply reads its key. They decide which hops are searched at all; none of them
ever makes an answer "possible"."""

from __future__ import annotations

import re
from functools import lru_cache

from reasoner.account.model import Entity
from reasoner.policy.coverage import covers_action
from reasoner.policy.document import Policy
from reasoner.policy.patterns import arn_match, globs_meet, plain
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, is_pattern


def may_cover_resource(st, resource: str) -> bool:
    """Can the statement's Resource / NotResource match `resource` (a pattern: any ARN in it)?"""
    if st.NotResource is not None:
        return True
    for r in st.Resource or []:
        if "${" in r or r == "*":
            return True
        if is_pattern(resource) and _patterns_meet(r, resource):
            return True
        if not is_pattern(resource) and arn_match(plain(r), resource):
            return True
    return False


@lru_cache(maxsize=1 << 16)
def _patterns_meet(pattern: str, resource: str) -> bool:
    """Some ARN matches both patterns. Case folded and with `*` crossing ':' (Resource matching
    is case-sensitive and its wildcards stay in an ARN's first five fields): a superset, so sound.
    Patterns too long to intersect cheaply (the search bounds its own work) may meet."""
    if len(pattern) * len(resource) > MAX_MEET_PRODUCT:
        return True
    return globs_meet(plain(pattern.lower()), plain(resource.lower()))


# Positions of the two patterns' product automaton the prefilter explores at most (an ARN is a few
# hundred characters; a 100,000-character Resource entry is input the search bounds itself).
MAX_MEET_PRODUCT = 200_000


_MAY_ALLOW: dict[tuple[int, str, str], tuple[Policy, bool]] = {}


def _policy_may_allow(policy: Policy, action: str, resource: str) -> bool:
    # Keyed by the policy object: managed policies are shared by many principals of a snapshot.
    # The entry holds the policy, so its id cannot be reused while the entry lives.
    key = (id(policy), action, resource)
    hit = _MAY_ALLOW.get(key)
    if hit is None:
        if len(_MAY_ALLOW) > 500_000:
            _MAY_ALLOW.clear()
        hit = _MAY_ALLOW[key] = (
            policy,
            any(
                st.Effect == "Allow" and covers_action(st, action) and may_cover_resource(st, resource)
                for st in policy.Statement
            ),
        )
    return hit[1]


def may_allow_identity(e: Entity, action: str, resource: str) -> bool:
    action = action.lower()
    return any(_policy_may_allow(p.policy, action, resource) for p in e.identity_policies)


# (entity id, action) -> (the entity, its Allow Resource patterns or None); the entry holds the
# entity, so its id is not reused while the entry lives.
_ALLOW_PATTERNS: dict[tuple[int, str], tuple[Entity, tuple | None]] = {}


def identity_allow_patterns(e: Entity, action: str) -> tuple | None:
    """`may_allow_identity` for many concrete ARNs at once: the Resource entries of the entity's
    Allow statements that cover the action (literals, prefixes before one trailing '*', other
    globs), or None when one of them may match any resource (NotResource, '*', a policy
    variable). For a concrete ARN r, may_allow_identity(e, action, r) == allowed_by_patterns(...)."""
    action = action.lower()
    key = (id(e), action)
    hit = _ALLOW_PATTERNS.get(key)
    if hit is None:
        if len(_ALLOW_PATTERNS) > 200_000:
            _ALLOW_PATTERNS.clear()
        hit = _ALLOW_PATTERNS[key] = (e, _allow_patterns(e, action))
    return hit[1]


def _allow_patterns(e: Entity, action: str) -> tuple | None:
    literals: list[str] = []
    prefixes: list[str] = []
    globs: list[tuple] = []
    for p in e.identity_policies:
        for st in p.policy.Statement:
            if st.Effect != "Allow" or not covers_action(st, action):
                continue
            if st.NotResource is not None:
                return None
            for r in st.Resource or []:
                if "${" in r or r == "*":
                    return None
                star = r.find("*")
                if "?" not in r and star < 0:
                    literals.append(r)  # arn_match of a literal is equality
                elif "?" not in r and star == len(r) - 1:
                    prefixes.append(r[:-1])  # one trailing '*': within the last ARN field, a prefix
                else:
                    globs.append(plain(r))
    return frozenset(literals), tuple(dict.fromkeys(prefixes)), tuple(dict.fromkeys(globs))


def allowed_by_patterns(patterns: tuple | None, arn: str) -> bool:
    """May an Allow statement with one of `patterns` (identity_allow_patterns) match the ARN?"""
    if patterns is None:
        return True
    literals, prefixes, globs = patterns
    return arn in literals or arn.startswith(prefixes) or any(arn_match(g, arn) for g in globs)


def may_allow_resource(rp: NamedPolicy | None, e: Entity, action: str) -> bool:
    if rp is None:
        return False
    action = action.lower()
    for st in rp.policy.Statement:
        if st.Effect.lower() != "allow" or not covers_action(st, action):
            continue
        if st.NotPrincipal is not None:
            return True
        # Only a grant to "*" or to the principal itself can allow on its own (or with an identity
        # allow across accounts); a grant naming the account delegates to the identity policies,
        # which may_allow_identity checks (layers.lp: resource_grant How = account).
        entries = [v for _, v in st.Principal.entries()] if st.Principal is not None else []
        if any(v == "*" or v == e.arn for v in entries):
            return True
        if e.kind == "federated" and any(v == e.arn.removeprefix("federated:") for v in entries):
            return True
    return False


def may_allow_query(q: Query) -> bool:
    """Sound prefilter: some Allow statement (identity, or a resource policy naming anyone or
    this principal) whose Action and Resource can match."""
    action = q.action.lower()
    for p in q.identity_policies:
        if _policy_may_allow(p.policy, action, q.resource):
            return True
    if q.resource_policy is not None:
        for st in q.resource_policy.policy.Statement:
            if st.Effect == "Allow" and covers_action(st, action):
                return True
    return False


def query_policies(q: Query) -> list[Policy]:
    out = [p.policy for p in q.identity_policies]
    for p in (q.resource_policy, q.permission_boundary, q.session_policy, q.vpc_endpoint_policy):
        if p is not None:
            out.append(p.policy)
    for levels in (q.scps or [], q.rcps or []):
        out += [p.policy for level in levels for p in level]
    return out


_DERIVED = (
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:username",
    "aws:calledviafirst",
    "aws:calledvialast",
)


_VARIABLE = re.compile(r"\$\{([^}:]+:[^}]+?)(?:,\s*'[^']*')?\}")


def keys_read(q: Query) -> set[str]:
    """Context keys (lower case) that statements which can apply to the action read, in a
    condition or a policy variable."""
    action = q.action.lower()
    out: set[str] = set()
    for pol in query_policies(q):
        for st in pol.Statement:
            if not (st.Condition or has_variable(st)) or not covers_action(st, action):
                continue
            out |= {k.lower() for block in (st.Condition or {}).values() for k in block}
            for r in (
                list(st.Resource or [])
                + list(st.NotResource or [])
                + [v for block in (st.Condition or {}).values() for vs in block.values() for v in vs]
            ):
                out |= {m.lower() for m in _VARIABLE.findall(r)}
    return out


def free_keys(q: Query) -> set[str]:
    """Context keys that statements which can apply read and that the request space leaves free
    (not fixed by `where`, not absent, not derived from the principal or aws:CalledVia). With
    none, the context cannot change the decision: the plain request is the only request."""
    fixed = {k.lower() for k in q.where} | {k.lower() for k in q.absent} | set(_DERIVED)
    prefixes = tuple(p.lower() for p in q.absent_prefixes)
    return {k for k in keys_read(q) if k not in fixed and not (prefixes and k.startswith(prefixes))}


def only_read_origin_keys(q: Query) -> Query:
    """The query without the origin's presence and exclusion requirements on keys no statement
    that can apply reads and the query does not fix (they cannot change the decision; searching
    them only costs)."""
    read = keys_read(q) | {k.lower() for k in q.where}
    q.present = [k for k in q.present if k.lower() in read]
    q.exclude = {k: v for k, v in q.exclude.items() if k.lower() in read}
    return q


# A service hop differs from a direct call in these keys: CalledVia / ViaAWSService, and
# aws:SourceIp, which is open on a service hop (service_chains.json hop_rules) but public or
# absent on the caller's own request (origin.py).
_VIA_KEYS = ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:viaawsservice", "aws:sourceip")


def via_matters(q: Query) -> bool:
    """Does a statement that can apply to this action read a key a service hop sets differently
    from the caller's own request (aws:CalledVia*, aws:ViaAWSService, aws:SourceIp), in a
    condition or a policy variable?"""
    action = q.action.lower()
    for pol in query_policies(q):
        for st in pol.Statement:
            if not covers_action(st, action):
                continue
            keys = [k.lower() for block in (st.Condition or {}).values() for k in block]
            texts = [v for block in (st.Condition or {}).values() for vs in block.values() for v in vs]
            texts += list(st.Resource or []) + list(st.NotResource or [])
            if any(k.startswith(_VIA_KEYS) for k in keys) or any(
                any(f"${{{k}" in t.lower() for k in _VIA_KEYS) for t in texts
            ):
                return True
    return False


def has_variable(st) -> bool:
    for element in (st.Resource, st.NotResource):
        if element and any("${" in r for r in element):
            return True
    return False
