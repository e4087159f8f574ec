"""Concrete requests tried before a search: the plain request (only the keys the hop fixes), contexts
that satisfy an Allow statement's conditions literally, and ARNs inside a resource pattern that an
Allow statement names. An allow there is a witness; a deny proves nothing unless nothing is free."""

from __future__ import annotations

from reasoner.account.origin import concrete_defaults
from reasoner.account.prefilters import keys_read, query_policies
from reasoner.policy import catalogue
from reasoner.policy.coverage import covers_action
from reasoner.policy.patterns import arn_match, plain
from reasoner.policy.request import DecideInput, Request
from reasoner.policy.values import compare
from reasoner.search.can import Query, is_pattern
from reasoner.search.context import RESOURCE_ACCOUNT


def is_concrete(q: Query) -> bool:
    return not is_pattern(q.action) and not is_pattern(q.resource) and catalogue.lookup(q.action) is not None


def is_representable(q: Query) -> bool:
    """A concrete action on a resource pattern whose stand-in ARN is well formed (or "*", the
    resource of actions without resource types), in a known account: given, or, for an ARN with
    no account field (arn:aws:ec2:*::image/*), the principal's, which the decider takes as the
    search does (search.resources.resource_account_of)."""
    parts = q.resource.split(":", 5)
    return (
        not is_pattern(q.action)
        and catalogue.lookup(q.action) is not None
        and (q.resource == "*" or len(parts) == 6)
        and (q.resource_account is not None or (len(parts) == 6 and parts[4] == ""))
    )


def stand_in(resource: str) -> str:
    """One ARN a pattern names: every wildcard becomes 'x' (the region is arn:aws:ec2:x:...)."""
    return resource if resource == "*" else resource.replace("*", "x").replace("?", "x")


def candidate_resources(q: Query, limit: int = 3) -> list[str]:
    """ARNs inside the queried pattern that an Allow statement's Resource names, built component
    by component (fixed parts of either side, wildcards as 'x'): concrete tries before a search."""
    if not is_pattern(q.resource) or q.resource == "*":
        return []
    qparts = q.resource.split(":", 5)
    if len(qparts) != 6:
        return []
    action = q.action.lower()
    out: list[str] = []
    for pol in [p.policy for p in q.identity_policies] + ([q.resource_policy.policy] if q.resource_policy else []):
        for st in pol.Statement:
            if st.Effect != "Allow" or not covers_action(st, action):
                continue
            for r in st.Resource or []:
                rparts = r.split(":", 5)
                if r == "*" or "${" in r or len(rparts) != 6:
                    continue
                for filler in ("x", "x/x"):  # a wildcard of the resource part may span a "/"
                    cand = ":".join(
                        qa
                        if not is_pattern(qa)
                        else ra
                        if not is_pattern(ra)
                        else ra.replace("*", filler if n == 5 else "x").replace("?", "x")
                        for n, (qa, ra) in enumerate(zip(qparts, rparts))
                    )
                    if cand not in out and arn_match(plain(q.resource), cand) and arn_match(plain(r), cand):
                        out.append(cand)
                        if len(out) >= limit:
                            return out
                        break
    return out


def candidate_contexts(q: Query, free: set[str], limit: int = 4) -> list[dict[str, list[str]]]:
    """Contexts that satisfy the positive conditions of Allow statements literally (StringEquals,
    StringLike without wildcards, Bool, ArnEquals...), to try concretely before a search: an
    allow there is a witness; a deny proves nothing."""
    action = q.action.lower()
    out = []
    for pol in query_policies(q):
        for st in pol.Statement:
            if st.Effect != "Allow" or not st.Condition or not covers_action(st, action):
                continue
            ctx: dict[str, list[str]] = {}
            for op, key, values in st.operators():
                k = key.lower()
                # aws:ResourceAccount is the resource's account, never a value of the statement's
                # choosing (search/context.py): only the search sets it.
                if k not in free or k == RESOURCE_ACCOUNT or op.negated or not values:
                    continue
                v = values[0].replace(
                    "${aws:PrincipalAccount}", q.principal.split(":")[4] if q.principal.count(":") >= 5 else ""
                )
                if "${" in v:
                    continue
                if op.family in ("string_equals", "string_equals_ic", "arn_equals", "bool", "numeric_equals") or (
                    op.family in ("string_like", "arn_like") and "$" not in v
                ):
                    ctx[key] = [v.replace("*", "x").replace("?", "x")]
                elif op.family == "ip_address":
                    ctx[key] = [v.split("/", 1)[0]]
            if ctx and ctx not in out and respects_constraints(q, ctx):
                out.append(ctx)
            if len(out) >= limit:
                return out
    return out


def respects_constraints(q: Query, ctx: dict[str, list[str]]) -> bool:
    """Can the request space hold this context: no excluded value (a private aws:SourceIp from
    outside), no --not-from-vpce endpoint, no --without-via service?"""
    banned = {k.lower(): v for k, v in q.exclude.items()}
    banned.setdefault("aws:sourcevpce", []).extend(("string_equals", v) for v in q.not_from_vpce)
    banned.setdefault("aws:calledvia", []).extend(("string_equals", v) for v in q.without_via)
    for key, values in ctx.items():
        for family, pattern in banned.get(key.lower(), []):
            if any(compare(family, plain(pattern), v) for v in values):
                return False
    return True


def plain_input(q: Query, extra: dict | None = None) -> DecideInput:
    """The concrete request: what the query fixes, `extra`, and the keys AWS always sends or the
    origin requires (origin.concrete_defaults) that a statement reads, unless absent."""
    extra = dict(extra or {})
    resource = extra.pop("__resource__", None) or stand_in(q.resource)
    absent = {k.lower() for k in q.absent}
    read = keys_read(q)
    defaults = {} if "" in q.absent_prefixes else concrete_defaults(q.principal, q.absent)
    fixed = {
        **{k: [v] for k, v in defaults.items() if k.lower() not in absent and k.lower() in read},
        **extra,
        **q.where,
    }
    ctx = {k: (v if k.lower() == "aws:calledvia" or len(v) != 1 else v[0]) for k, v in fixed.items()}
    return q.decide_input(
        Request(
            principal=q.principal, action=q.action, resource=resource, resource_account=q.resource_account, context=ctx
        )
    )
