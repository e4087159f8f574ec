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
service or an identity provider (federated) is external access. The search itself lives in
reasoner.account.outside (who-can lists the same outside principals); this module turns its grants
into findings."""

from __future__ import annotations

from reasoner.account.outside import OutsideGrant, Target, allow_actions, federated_grants, scan
from reasoner.audit.findings import Finding
from reasoner.audit.rulebase import Context, action_ref, rule
from reasoner.errors import InputError
from reasoner.search.domains import AbstractionError

RULE = rule(
    "external-access",
    "Public and external access",
    "A resource policy or role trust policy lets in principals outside the zone of trust: anonymous "
    "callers, any AWS account, named outside accounts, federated identities, or AWS services on behalf "
    "of any account (no aws:SourceAccount / aws:SourceArn).",
)

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


def targets(ctx: Context) -> list[Target]:
    out = [
        Target(rp.arn, rp.account or (rp.arn.split(":")[4] or ""), rp.policy)
        for rp in sorted(ctx.snap.resource_policies.values(), key=lambda r: r.arn)
    ]
    for e in sorted(ctx.snap.principals.values(), key=lambda e: e.arn):
        if e.kind == "role" and e.trust_policy is not None:
            out.append(Target(e.arn, e.account, e.trust_policy, e))
    return out


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    ts = targets(ctx)
    for i, t in enumerate(ts):
        ctx.progress("external access", i, len(ts))
        out += check(ctx, t)
    return out


def check(ctx: Context, t: Target) -> list[Finding]:
    """One target's findings, independent of the others' (reasoner.audit.rule_groups runs them as
    tasks): unknown when the budget is spent or a part of the export is malformed."""
    if ctx.out_of_time():
        return [_unknown(ctx, t, ctx.budget_reason)]
    try:
        return _check(ctx, t)
    except (ValueError, InputError) as exc:  # a malformed part of the export: unknown, never a pass
        return [_unknown(ctx, t, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")]


def _unknown(ctx: Context, t: Target, reason: str) -> Finding:
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


def _check(ctx: Context, t: Target) -> list[Finding]:
    try:
        s = scan(ctx.snap, t, lambda account: ctx.inside_zone(account, t.owner))
    except AbstractionError as exc:
        return [_unknown(ctx, t, str(exc))]
    grants = list(s.grants)
    unknown = list(s.unknown)
    if t.trust_of is not None:
        # Identity providers are searched along the role assumption edge.
        grants += federated_grants(ctx.finder, t.trust_of, t.policy.name, unknown)
    if grants:
        return [_fail(ctx, t, g) for g in grants]
    if unknown:
        return [_unknown(ctx, t, "; ".join(unknown[:3]))]
    what = "role trust policy" if t.trust_of is not None else "resource policy"
    zone = "its account" if ctx.zone == "account" else "the organization"
    actions = 1 if t.trust_of is not None else len(allow_actions(t.policy))
    return [
        ctx.finding(
            RULE,
            t.arn,
            "info",
            "pass",
            f"No access from outside {zone} to {t.arn}",
            account=t.owner,
            resource=t.arn,
            scope=f"{what} {t.policy.name}: {s.candidates} outside principal regions x {actions} action "
            f"pattern(s), {s.searches} searches over every context",
            location=ctx.location_of(t.policy.name),
        )
    ]


def _fail(ctx: Context, t: Target, g: OutsideGrant) -> Finding:
    if g.hop is not None:  # an identity provider: the snapshot's assumption hop
        hop = ctx.hop(g.hop)
        subject = f"{t.arn}|federated|{g.principal}"
        title = f"federated identities of {g.principal} can assume {t.arn}"
        conditions = dict(g.hop.context)
        action, resource, witness = g.hop.action, t.arn, None
    else:
        req = g.request
        hop = ctx.witness_hop(g.witness or {})
        subject = f"{t.arn}|{g.category}|{g.account or g.principal}"
        title = f"{g.label} can {req['action']} on {t.arn}"
        conditions = req.get("context", {})
        action, resource, witness = req["action"], req.get("resource", t.arn), g.witness
    return ctx.finding(
        RULE,
        subject,
        LEVEL[g.category],
        "fail",
        title,
        account=t.owner,
        principal=g.principal,
        actions=[action_ref(action)],
        resource=resource,
        conditions=conditions,
        path=[hop],
        witness=witness,
        decide_command=hop.decide_command,
        remediation=REMEDIATION[g.category],
        location=ctx.location_of(t.policy.name),
        details={"category": g.category, "policy": t.policy.name},
    )
