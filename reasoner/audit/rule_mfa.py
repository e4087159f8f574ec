"""Rule `sensitive-without-mfa`: principals that can act on IAM, KMS key policies, Organizations or
the audit trail (CloudTrail, AWS Config) in a request without MFA (aws:MultiFactorAuthPresent
false), as a first call of their own (role assumption chains are the privilege-escalation rule's).
Admin-equivalent principals are left to the admin-equivalent rule. Each (principal, area) is one
exact search per listed action until one is allowed."""

from __future__ import annotations

from reasoner.account.hops import Constraints, Hop
from reasoner.account.model import Entity
from reasoner.audit.findings import Finding
from reasoner.audit.rulebase import Context, action_ref, rule

RULE = rule(
    "sensitive-without-mfa",
    "Sensitive actions without MFA",
    "A principal can change IAM permissions, KMS key policies, the Organization, or stop the audit trail "
    "(CloudTrail, AWS Config) without multi-factor authentication.",
)

# area -> (action, resource template); {a} is the principal's account.
AREAS: dict[str, list[tuple[str, str]]] = {
    "IAM": [
        ("iam:AttachRolePolicy", "arn:aws:iam::{a}:role/*"),
        ("iam:PutRolePolicy", "arn:aws:iam::{a}:role/*"),
        ("iam:CreatePolicyVersion", "arn:aws:iam::{a}:policy/*"),
        ("iam:UpdateAssumeRolePolicy", "arn:aws:iam::{a}:role/*"),
        ("iam:AttachUserPolicy", "arn:aws:iam::{a}:user/*"),
        ("iam:CreateAccessKey", "arn:aws:iam::{a}:user/*"),
    ],
    "KMS key policies": [("kms:PutKeyPolicy", "arn:aws:kms:*:{a}:key/*")],
    "Organizations": [
        ("organizations:DetachPolicy", "arn:aws:organizations::*"),
        ("organizations:LeaveOrganization", "arn:aws:organizations::*"),
    ],
    "audit trail": [
        ("cloudtrail:StopLogging", "arn:aws:cloudtrail:*:{a}:trail/*"),
        ("cloudtrail:DeleteTrail", "arn:aws:cloudtrail:*:{a}:trail/*"),
        ("cloudtrail:PutEventSelectors", "arn:aws:cloudtrail:*:{a}:trail/*"),
        ("config:StopConfigurationRecorder", "*"),
        ("config:DeleteConfigurationRecorder", "*"),
    ],
}
NO_MFA = Constraints(where=(("aws:MultiFactorAuthPresent", "false"),))


def run(ctx: Context) -> list[Finding]:
    ctx.privesc_results()
    people = [
        e
        for e in sorted(ctx.snap.principals.values(), key=lambda e: e.arn)
        if e.kind in ("user", "role") and not ctx.privesc.is_admin(e)
    ]
    out: list[Finding] = []
    steps = [(area, action, template) for area, items in AREAS.items() for action, template in items]
    found: set[tuple[str, str]] = set()
    unknown: dict[tuple[str, str], str] = {}
    auth = ctx.finder.auth
    for n, (area, action, template) in enumerate(steps):
        ctx.progress("sensitive actions", n, len(steps))
        todo = [e for e in people if (e.arn, area) not in found]
        if ctx.out_of_time():
            for e in todo:
                unknown.setdefault((e.arn, area), ctx.budget_reason)
            continue
        # One batch per action over every principal still open in its area.
        checks = [
            c
            for e in todo
            for res in _resources(ctx, template.format(a=e.account))
            for c in auth.first_calls(e, action, res, NO_MFA, True)
        ]
        for c, r in zip(checks, auth.check_many(checks)):
            key = (c.who.arn, area)
            if r is None or key in found:
                continue
            if r.outcome == "possible" and r.hop is not None:
                found.add(key)
                unknown.pop(key, None)
                out.append(_finding(ctx, c.who, area, r.hop))
            elif r.outcome == "unknown":
                unknown.setdefault(key, r.reason or "unknown")
    clean = len(people) * len(AREAS) - len(found) - len(unknown)
    if clean:
        out.append(
            ctx.finding(
                RULE,
                "account",
                "info",
                "pass",
                f"{clean} of {len(people) * len(AREAS)} (principal, area) pairs allow no sensitive action without MFA",
                scope=f"{len(people)} non-admin users and roles x {len(AREAS)} areas ({', '.join(AREAS)}); "
                f"{len(steps)} actions, each an exact search of the first call with aws:MultiFactorAuthPresent false",
            )
        )
    for (arn, area), reason in sorted(unknown.items()):
        e = ctx.snap.principals[arn]
        out.append(
            ctx.finding(
                RULE,
                f"{arn}|{area}",
                "medium",
                "unknown",
                f"Whether {e.kind} {e.name} can act on {area} without MFA is unknown",
                principal=arn,
                reason=reason,
            )
        )
    return out


def _resources(ctx: Context, pattern: str) -> list[str]:
    """A KMS key pattern is asked key by key (each key has its own key policy); other patterns as they are."""
    if ":kms:" not in pattern:
        return [pattern]
    acct = pattern.split(":")[4]
    keys = sorted(
        rp.arn for rp in ctx.snap.resource_policies.values() if ":kms:" in rp.arn and rp.arn.split(":")[4] == acct
    )
    return keys or [pattern]


def _finding(ctx: Context, e: Entity, area: str, hop: Hop) -> Finding:
    ev = ctx.hop(hop)
    return ctx.finding(
        RULE,
        f"{e.arn}|{area}",
        "high" if area != "IAM" else "medium",
        "fail",
        f"{e.kind} {e.name} can {hop.action} ({area}) without MFA",
        principal=e.arn,
        actions=[action_ref(hop.action)],
        resource=hop.resource,
        conditions=dict(hop.context),
        path=[ev],
        decide_command=ev.decide_command,
        remediation=f"Require MFA for {area} changes (a Deny with BoolIfExists aws:MultiFactorAuthPresent false), "
        "or remove the permission from this principal and grant it to a dedicated, MFA-protected role.",
    )
