"""Rule `admin-equivalent`: principals that are admin-equivalent themselves (allowed every IAM action
on every resource in their plain context, proved by reasoner.account.privesc: a search for an IAM
request they are not allowed finds none)."""

from __future__ import annotations

from reasoner.audit.findings import Finding
from reasoner.audit.rulebase import Context, action_ref, rule

RULE = rule(
    "admin-equivalent",
    "Admin-equivalent principals",
    "A user, role or identity provider is allowed every IAM action on every resource (so it can grant "
    "itself anything). Each should be a deliberate, small set of break-glass or administration identities.",
)


def run(ctx: Context) -> list[Finding]:
    ctx.privesc_results()  # every admin check runs there (and is cached)
    out = []
    for e in sorted(ctx.snap.principals.values(), key=lambda e: e.arn):
        if ctx.out_of_time():
            out.append(
                ctx.finding(
                    RULE, e.arn, "high", "unknown", f"Admin check of {e.arn}", principal=e.arn, reason=ctx.budget_reason
                )
            )
            continue
        admin = ctx.privesc.is_admin(e)
        if admin is None:
            out.append(
                ctx.finding(
                    RULE,
                    e.arn,
                    "high",
                    "unknown",
                    f"Whether {e.arn} is admin-equivalent is unknown",
                    principal=e.arn,
                    reason=e.incomplete[0] if e.incomplete else "the admin check was not complete",
                )
            )
        elif admin:
            ev = ctx.request_hop(e.arn, "iam:CreateUser", f"arn:aws:iam::{e.account}:user/any-new-user")
            out.append(
                ctx.finding(
                    RULE,
                    e.arn,
                    "high",
                    "fail",
                    f"{e.kind} {e.name} is admin-equivalent",
                    principal=e.arn,
                    actions=[action_ref("iam:*")],
                    resource="*",
                    path=[ev],
                    decide_command=ev.decide_command,
                    remediation="Keep admin rights to a few named break-glass identities; give everyone else "
                    "job-scoped policies, require MFA for human admins, and prefer short sessions.",
                    details={"policies": [p.name for p in e.identity_policies]},
                )
            )
    return out
