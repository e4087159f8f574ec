"""Rule `privilege-escalation`: every principal that is not admin-equivalent itself but can become
so (reasoner.account.privesc: role assumption and the technique catalogue, each required request
checked with its exact conditions). A chain is *proved* when every step holds on the snapshot,
*conditional* when a step assumes something a policy snapshot cannot show (e.g. a Lambda function
running as the role): the precondition is in the finding."""

from __future__ import annotations

import re

from reasoner.account.privesc import Step
from reasoner.audit.findings import Finding, HopEvidence
from reasoner.audit.rulebase import Context, action_ref, rule

RULE = rule(
    "privilege-escalation",
    "Privilege escalation to admin-equivalent",
    "A principal that is not admin-equivalent can become admin-equivalent (allowed every IAM action on "
    "every resource) by assuming roles and using escalation techniques (passing roles to services, "
    "creating credentials, rewriting policies, joining groups).",
)

_VIA = re.compile(r"^(\S+) on (\S+)")


def run(ctx: Context) -> list[Finding]:
    results = ctx.privesc_results()
    out: list[Finding] = []
    safe: list[str] = []
    for r in results:
        if r.admin is None:
            out.append(
                ctx.finding(
                    RULE,
                    r.principal,
                    "high",
                    "unknown",
                    f"Whether {r.principal} can become admin-equivalent is unknown",
                    principal=r.principal,
                    reason=r.reason or "unknown",
                )
            )
        elif r.admin and r.paths and all(p for p in r.paths):
            out.append(_escalation(ctx, r.principal, r.paths))
        elif not r.admin:
            safe.append(r.principal)
    if safe:
        out.append(
            ctx.finding(
                RULE,
                "account",
                "info",
                "pass",
                f"{len(safe)} principals cannot become admin-equivalent",
                scope=f"{len(safe)} of {len(results)} principals; role assumption and every technique of the "
                "catalogue (reasoner/data/privesc_techniques.json), each permission with its exact conditions",
                details={"principals": safe},
            )
        )
    return out


def _escalation(ctx: Context, principal: str, paths: list[list[Step]]) -> Finding:
    chain = paths[0]
    preconditions = [s.assumes for s in chain if s.assumes]
    proved = not preconditions
    hops = [_step(ctx, s) for s in chain]
    actions = [action_ref(m.group(1)) for s in chain for v in s.via if (m := _VIA.match(v))]
    return ctx.finding(
        RULE,
        principal,
        "critical" if proved else "high",
        "fail",
        f"{principal} can become admin-equivalent in {len(chain)} step(s)"
        + ("" if proved else " (conditional)")
        + ": "
        + " -> ".join(s.technique for s in chain),
        principal=principal,
        actions=list({a.action: a for a in actions}.values()),
        resource=chain[-1].target,
        path=hops,
        decide_command=next((h.decide_command for h in hops if h.decide_command), None),
        conditions={"preconditions": preconditions} if preconditions else {},
        remediation="Remove the permissions the chain uses (listed per step), or limit them with conditions "
        "and resource ARNs (e.g. iam:PassRole only for named roles and iam:PassedToService); use a "
        "permissions boundary on roles that may create or change IAM entities.",
        details={
            "proved": proved,
            "chains": [[s.to_json() for s in p] for p in paths],
        },
    )


def _step(ctx: Context, s: Step) -> HopEvidence:
    ev = HopEvidence(
        kind="technique",
        principal=s.source,
        action=s.technique,
        resource=s.target,
        note="; ".join(s.via) + (f"; assumes {s.assumes}" if s.assumes else ""),
    )
    m = _VIA.match(s.via[0]) if s.via else None
    if m and "*" not in m.group(2) and s.source in ctx.snap.principals:
        # The first permission the step uses, decided concretely: its allowing statements.
        ev.decide_command = ctx.command(s.source, m.group(1), m.group(2))
        ctx.attach_statements(ev, s.source, m.group(1), m.group(2), {})
    return ev
