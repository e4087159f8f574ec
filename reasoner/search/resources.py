"""The resource dimension: the account a query's resource is in (searched over AccountDimension
when its pattern leaves it open), and for a resource pattern the regions of ARNs the Resource /
NotResource elements in scope tell apart.

Over-approximates: encodings/match/resource.lp (resource_match/2: a region's ARNs match the same
Resource patterns), layers.lp req_cross_account and req_needs_resource_policy (the account; KMS
keys split apart, facts.needs_resource_policy) and protected.lp (the resources of
facts.AWS_RULE_RESOURCE_PATTERNS split apart). tests/search/test_account_open.py and
tests/search/test_search.py compare the search with the decider.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from reasoner.engine.facts import AWS_RULE_RESOURCE_PATTERNS, StmtInfo
from reasoner.policy.patterns import fill, glob_match, globs_meet, plain
from reasoner.policy.principals import Principal, account_of_arn
from reasoner.policy.request import NamedPolicy
from reasoner.policy.values import compare
from reasoner.search.compilation import Compilation
from reasoner.search.domains import AbstractionError, Region, build_domain
from reasoner.search.query import Query, is_pattern

KMS_KEY_PATTERN = "arn:*:kms:*:*:key/*"


def resource_account_of(query: Query, principal: Principal) -> str | None:
    """The resource's account: given, or in its ARN, or (an ARN without one) the principal's.
    A pattern that leaves the account open is searched over `account_dimension` instead (can.py
    asks one question per account with the account written into the ARN)."""
    resource_account = query.resource_account
    if resource_account is None:
        acct_field = _account_field(query.resource)
        if acct_field and not is_pattern(acct_field):
            resource_account = acct_field
        elif not acct_field:
            resource_account = principal.account
        else:
            raise AbstractionError(
                "the resource pattern leaves its account open; "
                "give --resource-account so same- and cross-account rules can be applied"
            )
    if not is_pattern(query.resource):
        resource_account = query.resource_account or account_of_arn(query.resource) or principal.account
    return resource_account


# -- the resource account as a searched dimension ------------------------------------------------------
_ACCOUNT_LITERAL = re.compile(r"(?<!\d)\d{12}(?!\d)")
# IAM's own resources (AWS managed policies, arn:aws:iam::aws:policy/...) name "aws" as their account.
_AWS_OWNED = "arn:*:iam::aws:policy/*"


@dataclass(frozen=True)
class AccountDimension:
    """The accounts a resource pattern that leaves its account open (arn:aws:iam::*:role/X) is
    searched over: (the ARN's account field, the request's resource account) pairs.

    Every rule that reads the resource account sees it through one of: the ARN's account field
    (Resource / NotResource patterns), the cross-account test (layers.lp req_cross_account: the
    principal's account is not the resource's; then "both the identity policy and the resource
    policy must allow", IAM User Guide, "Cross-account policy evaluation logic"), whether RCPs
    apply (not for the management account's resources), and aws:ResourceAccount (context.py:
    when present it is the resource account). Two accounts that none of these tells apart are
    decided alike, so the finite abstraction is: the principal's account, every account written
    in the policies in scope, the management account and the query's fixed values (all found as
    12-digit literals), `aws` for IAM's own resources when the pattern covers them, and one fresh
    account that is none of them. A partial account glob (1111*) in a policy could tell apart
    two unnamed accounts: then the dimension is not complete ("impossible" becomes "unknown")."""

    field: str  # the account field of the query's pattern ("*" when a wildcard spans it)
    accounts: tuple[tuple[str | None, str | None], ...]
    complete: bool
    note: str = ""


def account_dimension(query: Query, principal: Principal) -> AccountDimension | None:
    """The accounts to search when the query's resource pattern leaves its account open ("*",
    arn:aws:dynamodb:*, arn:aws:iam::*:role/X), else None (the account is given, or in the ARN, or
    the ARN has none: S3 names no account, its resource account is --resource-account or the
    principal's). An account of `accounts` is None when the pattern has no account field to write
    it into: resource_facts then keeps the ARNs of that account (or of none)."""
    field = _open_account_field(query.resource)
    if field is None:
        return None
    short = len(query.resource.split(":", 5)) < 6
    glob = plain(field)
    if query.resource_account is not None:
        # The account is given: the ARN names it too, so a policy's account field sees it.
        if short or not glob_match(glob, query.resource_account):
            return None
        return AccountDimension(field, ((query.resource_account, query.resource_account),), True)
    texts = [json.dumps(named.policy.model_dump(mode="json", exclude_none=True)) for named in _policies(query)]
    texts += [v for vs in query.where.values() for v in vs]
    named_accounts = {a for t in texts for a in _ACCOUNT_LITERAL.findall(t)}
    named_accounts |= {a for a in (principal.account, query.management_account) if a}
    first = [principal.account] if principal.account else []
    ordered = first + sorted(named_accounts - set(first))
    accounts: list[tuple[str | None, str | None]] = [(None if short else a, a) for a in ordered if glob_match(glob, a)]
    if not short and glob_match(glob, "aws") and _arns_meet(with_account(query.resource, "aws"), _AWS_OWNED):
        accounts.append(("aws", principal.account))  # decide's account for an ARN without a 12-digit one
    fresh = _fresh_account(field, named_accounts)
    if fresh is not None:
        accounts.append((None if short else fresh, fresh))
    given = {k.lower(): v for k, v in query.where.items()}.get("aws:resourceaccount")
    if given:  # --where aws:ResourceAccount names the resource's account
        return AccountDimension(field, tuple(a for a in accounts if a[1] in given), True)
    partial = sorted(_partial_account_globs(query))
    if partial:
        return AccountDimension(
            field,
            tuple(accounts),
            False,
            f"the account pattern {partial[0]!r} in a policy tells apart accounts no policy names: "
            "the resource accounts searched are not proved complete",
        )
    if fresh is None:
        return AccountDimension(field, tuple(accounts), False, f"no account outside the policies matches {field!r}")
    return AccountDimension(field, tuple(accounts), True)


def with_account(resource: str, account: str) -> str:
    """The ARN pattern with its account field set."""
    parts = resource.split(":", 5)
    parts[4] = account
    return ":".join(parts)


def _arns_meet(a: str, b: str) -> bool:
    """Some ARN matches both ARN patterns (component by component, as the Resource element)."""
    pa, pb = a.split(":", 5), b.split(":", 5)
    return len(pa) == len(pb) == 6 and all(globs_meet(plain(x), plain(y)) for x, y in zip(pa, pb))


def _open_account_field(resource: str) -> str | None:
    """The account field of a pattern that leaves it open: a wildcard account field, or "*" for a
    pattern with fewer than six fields whose `*` reaches the account ("*", arn:aws:dynamodb:*)."""
    parts = resource.split(":", 5)
    if len(parts) == 6:
        return parts[4] if is_pattern(parts[4]) else None
    return "*" if "*" in resource else None


def _account_field(resource: str) -> str:
    parts = resource.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def _policies(query: Query) -> list[NamedPolicy]:
    out = list(query.identity_policies)
    out += [p for p in (query.resource_policy, query.permission_boundary, query.session_policy) if p]
    out += [p for p in (query.vpc_endpoint_policy,) if p]
    out += [p for levels in (query.scps, query.rcps) for level in levels or [] for p in level]
    return out


def _fresh_account(field: str, named: set[str]) -> str | None:
    """A 12-digit account the query's account field matches and no policy names: the field with
    each `?` and its first `*` filled with one digit (other `*` empty), trying digits 9 down to 0."""
    for digit in "9876543210":
        width = 12 - sum(1 for c in field if c != "*")
        if width < 0 or ("*" not in field and width != 0):
            return None
        out, star = [], False
        for c in field:
            if c == "?":
                out.append(digit)
            elif c == "*":
                out.append("" if star else digit * width)
                star = True
            else:
                out.append(c)
        candidate = "".join(out)
        if len(candidate) == 12 and candidate.isdigit() and candidate not in named:
            return candidate
    return None


def _partial_account_globs(query: Query) -> set[str]:
    """Account globs other than "*" in the policies' Resource / NotResource account fields and in
    aws:ResourceAccount condition values (a pattern such as 1111* matches some unnamed accounts and
    not others)."""
    out = set()
    for named in _policies(query):
        for st in named.policy.Statement:
            for r in (st.Resource or []) + (st.NotResource or []):
                f = _account_field(r)
                if is_pattern(f) and f != "*":
                    out.add(f)
            for _, key, values in st.operators():
                if key.lower() == "aws:resourceaccount":
                    out |= {v for v in values if is_pattern(v) and v != "*"}
    return out


def resource_facts(
    c: Compilation, statements: list[StmtInfo], resource_account: str | None, extra_resources: tuple[str, ...]
) -> None:
    q, program = c.query, c.program
    resource_ids = sorted({x for st in statements for x in st.resources})
    if not is_pattern(q.resource):
        for x in resource_ids:
            # A variable whose key is searched: no silent non-match (Compilation.filled raises).
            p = c.filled(program.resource_by_id[x], "a Resource element")
            if p is not None and compare("arn_like", p, q.resource):
                c.facts.append(f"resource_match(1,{x}).")
        return
    # One OR-group per Resource / NotResource element: only "some entry matches" matters. A
    # pattern that no ARN of the query's pattern matches is false on every region kept below, so
    # it splits none of them: only the others are searched (resource_hit still reads them all).
    groups = []
    for st in statements:
        g = [
            ("arn_like", p)
            for x in st.resources
            if (p := c.filled(program.resource_by_id[x], "a Resource element")) is not None and _may_meet(p, q.resource)
        ]
        if g:
            groups.append(g)
    # The resources AWS decides apart whatever the policies say (protected.lp) and KMS keys, whose
    # key policy must allow (facts.needs_resource_policy; aliases are decided by IAM policies).
    groups.extend([("arn_like", plain(p))] for p in (*AWS_RULE_RESOURCE_PATTERNS, KMS_KEY_PATTERN))
    # The ARN's account field is the request's resource account (or the ARN names none, as S3's):
    # every rule that reads the account sees one value (cross-account evaluation, Resource).
    in_account = _account_comparisons(resource_account, c.principal)
    groups.extend([cmp] for cmp in in_account)
    comps = [cmp for g in groups for cmp in g]
    query_comp = ("arn_like", plain(q.resource))
    groups.append([query_comp])
    service = (
        q.resource.split(":")[2] if q.resource.count(":") >= 2 and q.resource.split(":")[2] not in ("", "*") else "s3"
    )
    generic = [
        f"arn:aws:{service}:us-east-1:{resource_account or '111122223333'}:example",
        f"arn:aws:{service}:::example",
        q.resource.replace("*", "x").replace("?", "x"),
    ] + list(extra_resources)
    dom = build_domain(f"resource ({q.resource})", comps + [query_comp], extra_candidates=generic, groups=groups)
    regions = [
        rg
        for rg in dom.regions
        if compare("arn_like", plain(q.resource), rg.witness)
        and (rg.witness == "*" or not in_account or any(compare(f, p, rg.witness) for f, p in in_account))
    ]
    # A request names an ARN: a region whose witness is not one may still hold ARNs.
    dom.regions = [rg for rg in regions if rg.witness == "*" or len(rg.witness.split(":", 5)) == 6]
    if len(dom.regions) < len(regions):
        dom.complete = False
        dom.note = "some resource regions have no ARN witness"
    star = compare("arn_like", plain(q.resource), "*") and all(rg.witness != "*" for rg in dom.regions)
    if star and q.resource_policy is None:
        # "*" itself: the resource of a request for an action without a resource type
        # (sts:GetCallerIdentity); program.py keeps every other action off it. A request that
        # meets a resource policy is on the resource that has it, an ARN.
        dom.regions.append(Region("*", dom.signature("*")))
        c.added_star_region = program.intern("r:*")
    c.domains.append(dom)
    for rg in dom.regions:
        rid = program.intern("r:" + rg.witness)
        c.resource_names[rid] = rg.witness
        c.facts.append(f"resource_region({rid}).")
        for x in resource_ids:
            p = fill(program.resource_by_id[x], c.singles)
            if p is not None and compare("arn_like", p, rg.witness):
                c.facts.append(f"resource_hit({rid},{x}).")
    if not dom.regions:
        raise AbstractionError(f"no ARN matches the resource pattern {q.resource!r}")


@lru_cache(maxsize=1 << 16)
def _may_meet(pattern: tuple, resource: str) -> bool:
    """Some ARN may match both: plain globs, case folded (ArnLike's wildcards stay inside the
    first five fields and it may compare case-sensitively, so this is a superset)."""
    return globs_meet(tuple((ch.lower(), w) for ch, w in pattern), plain(resource.lower()))


def _account_comparisons(resource_account: str | None, principal: Principal | None) -> list[tuple[str, tuple]]:
    """The ARNs of the resource account: its account field is the account, or empty (an S3 ARN
    names none), or `aws` (IAM's own policies, which decide counts in the principal's account)."""
    if resource_account is None:
        return []
    patterns = [f"arn:*:*:*:{resource_account}:*", "arn:*:*:*::*"]
    if principal is not None and resource_account == principal.account:
        patterns.append("arn:*:iam::aws:policy/*")
    return [("arn_like", plain(p)) for p in patterns]
