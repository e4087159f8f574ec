"""Rule `sensitive-without-mfa`: principals that can act on IAM, KMS key policies, Organizations or
the audit trail (CloudTrail, AWS Config) in a request without MFA (aws:MultiFactorAuthPresent
false), as a first call of their own (role assumption chains are the privilege-escalation rule's).
Admin-equivalent principals are left to the admin-equivalent rule. Each (principal, area) is one
exact search per listed action until one is allowed."""

from __future__ import annotations

from reasoner.account.hops import Constraints
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
        ("organizations:DetachPolicy", "*"),
        ("organizations:LeaveOrganization", "*"),
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
    for i, e in enumerate(people):
        ctx.progress("sensitive actions", i, len(people))
        if ctx.out_of_time():
            out.append(
                ctx.finding(
                    RULE,
                    e.arn,
                    "medium",
                    "unknown",
                    f"Sensitive actions of {e.arn} without MFA",
                    principal=e.arn,
                    reason=ctx.budget_reason,
                )
            )
            continue
        out += _principal(ctx, e)
    return out


def _principal(ctx: Context, e: Entity) -> list[Finding]:
    out = []
    auth = ctx.finder.auth
    for area, items in AREAS.items():
        unknown = []
        for action, template in items:
            checks = auth.first_calls(e, action, template.format(a=e.account), NO_MFA, target=True)
            results = auth.check_many(checks)
            hit = next((r for r in results if r is not None and r.outcome == "possible" and r.hop), None)
            unknown += [r.reason or "unknown" for r in results if r is not None and r.outcome == "unknown"]
            if hit is not None and hit.hop is not None:
                ev = ctx.hop(hit.hop)
                out.append(
                    ctx.finding(
                        RULE,
                        f"{e.arn}|{area}",
                        "high" if area != "IAM" else "medium",
                        "fail",
                        f"{e.kind} {e.name} can {hit.hop.action} ({area}) without MFA",
                        principal=e.arn,
                        actions=[action_ref(hit.hop.action)],
                        resource=hit.hop.resource,
                        conditions=dict(hit.hop.context),
                        path=[ev],
                        decide_command=ev.decide_command,
                        remediation=f"Require MFA for {area} changes (a Deny with "
                        "BoolIfExists aws:MultiFactorAuthPresent false), or remove the permission from this "
                        "principal and grant it to a dedicated, MFA-protected role.",
                    )
                )
                unknown = []
                break
        if unknown:
            out.append(
                ctx.finding(
                    RULE,
                    f"{e.arn}|{area}",
                    "medium",
                    "unknown",
                    f"Whether {e.kind} {e.name} can act on {area} without MFA is unknown",
                    principal=e.arn,
                    reason=unknown[0],
                )
            )
    return out
