"""The resource dimension: the account a query's resource is in, and for a resource pattern the
regions of ARNs the Resource / NotResource elements in scope tell apart."""

from __future__ import annotations

from reasoner.engine.facts import AWS_RULE_RESOURCE_PATTERNS, StmtInfo
from reasoner.policy.patterns import fill, plain
from reasoner.policy.principals import Principal, account_of_arn
from reasoner.policy.values import compare
from reasoner.search.compilation import Compilation
from reasoner.search.domains import AbstractionError, Region, build_domain
from reasoner.search.query import Query, is_pattern

KMS_KEY_PATTERN = "arn:*:kms:*:*:key/*"


def resource_account_of(query: Query, principal: Principal) -> str | None:
    """The resource's account: given, or in its ARN, or (an ARN without one) the principal's.
    A pattern that leaves the account open cannot be searched (AbstractionError)."""
    resource_account = query.resource_account
    if resource_account is None:
        acct_field = query.resource.split(":", 5)[4] if len(query.resource.split(":", 5)) == 6 else ""
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


def resource_facts(
    c: Compilation, statements: list[StmtInfo], resource_account: str | None, extra_resources: tuple[str, ...]
) -> None:
    q, program = c.query, c.program
    resource_ids = sorted({x for st in statements for x in st.resources})
    if not is_pattern(q.resource):
        for x in resource_ids:
            p = fill(program.resource_by_id[x], c.singles)
            if p is not None and compare("arn_like", p, q.resource):
                c.facts.append(f"resource_match(1,{x}).")
        return
    # One OR-group per Resource / NotResource element: only "some entry matches" matters.
    groups = []
    for st in statements:
        g = [
            ("arn_like", p)
            for x in st.resources
            if (p := c.filled(program.resource_by_id[x], "a Resource element")) is not None
        ]
        if g:
            groups.append(g)
    # The resources AWS decides apart whatever the policies say (protected.lp) and KMS keys, whose
    # key policy must allow (facts.needs_resource_policy; aliases are decided by IAM policies).
    groups.extend([("arn_like", plain(p))] for p in (*AWS_RULE_RESOURCE_PATTERNS, KMS_KEY_PATTERN))
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
    regions = [rg for rg in dom.regions if compare("arn_like", plain(q.resource), rg.witness)]
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
