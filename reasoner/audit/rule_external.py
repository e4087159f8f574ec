"""Rule `external-access`: public and external access, as IAM Access Analyzer defines it.

For every resource policy and role trust policy of the snapshot, every principal region the
policy can tell apart (reasoner.search.cover: anonymous, a principal of an unrelated account, each
named principal and account, each region of its aws:PrincipalArn patterns, each service) is
searched for an allowed request, the outside principal taken to be allowed by its own account (as
Access Analyzer does). Principals inside the zone of trust (the resource's account, or every
account of the organization with --zone-of-trust organization) are left out. Identity providers a
trust policy names (SAML, OIDC) are searched along the role assumption edge. Service principals
are searched twice: with aws:SourceAccount / aws:SourceArn / aws:SourceOrgID absent (a confused
deputy: any account's use of the service reaches the resource), then with them free. Each finding's
category follows the cover's public / external split (reasoner.search.cover.access_of): anonymous
and any-account are public; an organization (aws:PrincipalOrgID), a named outside account, a
service or an identity provider (federated) is external access."""

from __future__ import annotations

from typing import Any

from reasoner.account.hops import Constraints
from reasoner.account.model import Entity
from reasoner.audit.findings import Finding
from reasoner.audit.rulebase import Context, action_ref, rule
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can
from reasoner.search.cover import OUTSIDE_ACCOUNT, UNNAMED_SERVICE, candidate_principals, search_principals
from reasoner.search.domains import AbstractionError

RULE = rule(
    "external-access",
    "Public and external access",
    "A resource policy or role trust policy lets in principals outside the zone of trust: anonymous "
    "callers, any AWS account, named outside accounts, federated identities, or AWS services on behalf "
    "of any account (no aws:SourceAccount / aws:SourceArn).",
)

SOURCE_KEYS = ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"]

REMEDIATION = {
    "anonymous": 'Remove the Allow for Principal "*" (or add a condition such as aws:PrincipalOrgID / '
    "aws:SourceVpce that limits it to your callers); enable S3 Block Public Access where it applies.",
    "any-account": 'Name the accounts or principals that need access instead of "*", or add an '
    "aws:PrincipalOrgID / aws:PrincipalAccount condition.",
    "organization": "Check that every account of the organization the aws:PrincipalOrgID / aws:PrincipalOrgPaths "
    "condition names should have this access; narrow it to the accounts or OUs that need it.",
    "outside-account": "Check that the named outside account is a trusted partner; if not, remove it. "
    "Narrow the actions it gets and add sts:ExternalId for role trust.",
    "federated": "Check the identity provider and restrict who may assume the role with conditions on "
    "the provider's keys (e.g. token audience and subject, SAML:aud).",
    "service-no-source": "Add aws:SourceAccount and aws:SourceArn (or aws:SourceOrgID) conditions so the "
    "service can only act on behalf of your own resources (confused deputy).",
}
LEVEL = {
    "anonymous": "critical",
    "any-account": "critical",
    "organization": "low",
    "outside-account": "medium",
    "federated": "medium",
    "service-no-source": "medium",
}


def allow_actions(policy: NamedPolicy) -> list[str]:
    """What an outside principal can get through the policy: the actions its Allow statements name
    (IAM cross-account evaluation needs the resource policy's own allow)."""
    pats: list[str] = []
    for st in policy.policy.Statement:
        if st.Effect != "Allow":
            continue
        if st.Action is None:
            return ["*"]
        pats += [a for a in st.Action if a == "*" or "*" in a or "?" in a or catalogue.lookup(a)]
    return list(dict.fromkeys(pats)) or []


def _category(cand: str, access: str | None = None) -> tuple[str, str | None]:
    """The finding's category: public access (anonymous, any account, any user of a public identity
    provider) or external access (a named account, an organization, a service, a provider), as the
    principal cover classifies the grant (reasoner.search.cover.access_of)."""
    p = parse_principal(cand)
    if p.type == "anonymous":
        return "anonymous", None
    if p.type == "service":
        return "service", None
    if p.type == "web_identity":
        return "federated", None
    if p.account == OUTSIDE_ACCOUNT:
        # Any account, unless only an organization's accounts get in (aws:PrincipalOrgID).
        return ("organization" if access == "external" else "any-account"), None
    return "outside-account", p.account


def _resources(arn: str) -> list[str]:
    return [arn, arn + "/*"] if arn.startswith("arn:aws:s3:::") and "/" not in arn else [arn]


class _Target:
    def __init__(self, arn: str, owner: str, policy: NamedPolicy, trust_of: Entity | None = None):
        self.arn, self.owner, self.policy, self.trust_of = arn, owner, policy, trust_of


def targets(ctx: Context) -> list[_Target]:
    out = [
        _Target(rp.arn, rp.account or (rp.arn.split(":")[4] or ""), rp.policy)
        for rp in sorted(ctx.snap.resource_policies.values(), key=lambda r: r.arn)
    ]
    for e in sorted(ctx.snap.principals.values(), key=lambda e: e.arn):
        if e.kind == "role" and e.trust_policy is not None:
            out.append(_Target(e.arn, e.account, e.trust_policy, e))
    return out


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    ts = targets(ctx)
    for i, t in enumerate(ts):
        ctx.progress("external access", i, len(ts))
        if ctx.out_of_time():
            out.append(_unknown(ctx, t, ctx.budget_reason))
            continue
        try:
            out += _check(ctx, t)
        except (ValueError, InputError) as exc:  # a malformed part of the export: unknown, never a pass
            out.append(_unknown(ctx, t, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"))
    return out


def _unknown(ctx: Context, t: _Target, reason: str) -> Finding:
    return ctx.finding(
        RULE,
        t.arn,
        "medium",
        "unknown",
        f"External access to {t.arn} could not be decided",
        account=t.owner,
        resource=t.arn,
        reason=reason,
        location=ctx.location_of(t.policy.name),
    )


def _check(ctx: Context, t: _Target) -> list[Finding]:
    try:
        cands = candidate_principals(t.policy.policy, t.owner, outside_only=True)
    except AbstractionError as exc:
        return [_unknown(ctx, t, str(exc))]
    cands = [c for c in cands if not ctx.inside_zone(parse_principal(c).account, t.owner)]
    if t.trust_of is not None:
        # Identity providers are searched along the role assumption edge (_federated).
        cands = [c for c in cands if parse_principal(c).type not in ("anonymous", "service", "web_identity")]
        actions = ["sts:AssumeRole"]
    else:
        actions = allow_actions(t.policy)
    found: list[Finding] = []
    unknown: list[str] = []
    searched = 0
    rcps = ctx.snap.levels_for(t.owner or None, "rcp")
    seen: set[tuple[str, str | None]] = set()
    for cand in cands:
        cat, acct = _category(cand)
        key = (cat, acct or (cand if cat in ("service", "federated") else None))
        if key in seen:  # one finding per category and account (the first principal found)
            continue
        hit, n = _first_hit(ctx, t, cand, actions, rcps, unknown)
        searched += n
        if hit:
            found.append(hit)
            seen.add(key)
    if t.trust_of is not None:
        found += _federated(ctx, t, unknown)
    if found:
        return found
    if unknown:
        return [_unknown(ctx, t, "; ".join(unknown[:3]))]
    what = "role trust policy" if t.trust_of is not None else "resource policy"
    zone = "its account" if ctx.zone == "account" else "the organization"
    return [
        ctx.finding(
            RULE,
            t.arn,
            "info",
            "pass",
            f"No access from outside {zone} to {t.arn}",
            account=t.owner,
            resource=t.arn,
            scope=f"{what} {t.policy.name}: {len(cands)} outside principal regions x {len(actions)} action "
            f"pattern(s), {searched} searches over every context",
            location=ctx.location_of(t.policy.name),
        )
    ]


def _first_hit(
    ctx: Context, t: _Target, cand: str, actions: list[str], rcps: Any, unknown: list[str]
) -> tuple[Finding | None, int]:
    """The first action and resource the candidate principal gets through the policy (and the searches run)."""
    cat, acct = _category(cand)
    n = 0
    for action in actions:
        for res in _resources(t.arn):
            n += 1
            if cat == "service":
                hit = _service(ctx, t, cand, action, res, rcps, unknown)
                if hit:
                    return hit, n
                continue
            r = search_principals(t.policy, t.owner, action, res, [cand], rcps, ctx.snap.management_account)
            if r.passed is False and r.answer is not None and r.answer.witness:
                cat, acct = _category(cand, r.access)
                return _fail(ctx, t, cat, cand, acct, r.answer.witness), n
            if r.passed is None:
                unknown.append(f"{cand}: {r.reason}")
    return None, n


def _fail(ctx: Context, t: _Target, cat: str, cand: str, acct: str | None, witness: dict[str, Any]) -> Finding:
    req = witness["request"]
    who = {
        "anonymous": "anyone (anonymous)",
        "any-account": "any AWS account",
        "organization": "the accounts of an organization",
        "outside-account": f"account {acct}",
        "federated": f"the identities of {cand.removeprefix('federated:')}",
        "service-no-source": ("any AWS service" if cand == UNNAMED_SERVICE else cand) + " on behalf of any account",
    }[cat]
    hop = ctx.witness_hop(witness)
    return ctx.finding(
        RULE,
        f"{t.arn}|{cat}|{acct or cand}",
        LEVEL[cat],
        "fail",
        f"{who} can {req['action']} on {t.arn}",
        account=t.owner,
        principal=cand,
        actions=[action_ref(req["action"])],
        resource=req.get("resource", t.arn),
        conditions=req.get("context", {}),
        path=[hop],
        witness=witness,
        decide_command=hop.decide_command,
        remediation=REMEDIATION[cat],
        location=ctx.location_of(t.policy.name),
        details={"category": cat, "policy": t.policy.name},
    )


def _service(
    ctx: Context, t: _Target, svc: str, action: str, res: str, rcps: Any, unknown: list[str]
) -> Finding | None:
    q = Query(
        principal=svc,
        action=action,
        resource=res,
        resource_account=t.owner,
        resource_policy=t.policy,
        rcps=rcps,
        management_account=ctx.snap.management_account,
        absent=list(SOURCE_KEYS),
    )
    a = can(q)
    if a.answer == "possible" and a.witness:
        return _fail(ctx, t, "service-no-source", svc, None, a.witness)
    if a.answer == "unknown":
        unknown.append(f"{svc}: {a.reason}")
    return None


def _federated(ctx: Context, t: _Target, unknown: list[str]) -> list[Finding]:
    assert t.trust_of is not None
    out = []
    for src, r in ctx.finder.assume_edges_into(t.trust_of, Constraints()):
        if src.kind != "federated":
            continue
        if r.outcome == "unknown":
            unknown.append(f"{src.arn}: {r.reason}")
        if r.outcome != "possible" or r.hop is None:
            continue
        hop = ctx.hop(r.hop)
        out.append(
            ctx.finding(
                RULE,
                f"{t.arn}|federated|{src.arn}",
                LEVEL["federated"],
                "fail",
                f"federated identities of {src.arn} can assume {t.arn}",
                account=t.owner,
                principal=src.arn,
                actions=[action_ref(r.hop.action)],
                resource=t.arn,
                conditions=dict(r.hop.context),
                path=[hop],
                decide_command=hop.decide_command,
                remediation=REMEDIATION["federated"],
                location=ctx.location_of(t.policy.name),
                details={"category": "federated", "policy": t.policy.name},
            )
        )
    return out
