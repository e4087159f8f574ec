"""Rule `policy-hygiene`: statements of the snapshot's own policies (inline, customer managed, trust,
resource and endpoint policies; AWS managed policies cannot be changed and are left out):

- an action paired with a resource of a type it cannot take (catalogue resource types);
- iam:PassRole allowed on "*";
- Allow with NotAction or NotResource;
- statements that change no decision and actions the catalogue does not know (reasoner lint's
  proofs; the redundancy search is exact and the most expensive part, so it runs within the rule's
  budget and the policies it did not reach are reported unknown)."""

from __future__ import annotations

import re
from functools import cache

from reasoner.audit.findings import Finding
from reasoner.audit.lint import action_findings, redundant_statements
from reasoner.audit.rulebase import Context, action_ref, rule
from reasoner.policy import catalogue
from reasoner.policy.coverage import action_matches
from reasoner.policy.document import Statement
from reasoner.policy.request import NamedPolicy

RULE = rule(
    "policy-hygiene",
    "Policy hygiene",
    "Statements that grant more than they seem to or nothing at all: actions paired with resources they "
    "cannot take, iam:PassRole on every role, Allow with NotAction / NotResource, statements that change "
    "no decision, unknown actions.",
)


def own_policies(ctx: Context) -> list[tuple[NamedPolicy, str]]:
    """(policy, kind) for every policy of the snapshot that its owner can change, by name."""
    seen: dict[str, tuple[NamedPolicy, str]] = {}
    for arn, p in ctx.snap.managed_policies.items():
        if ":aws:policy/" not in arn:
            seen.setdefault(p.name, (p, "identity"))
    for e in ctx.snap.principals.values():
        for p in e.identity_policies:
            if ":aws:policy/" not in p.name:
                seen.setdefault(p.name, (p, "identity"))
        if e.boundary is not None and ":aws:policy/" not in e.boundary.name:
            seen.setdefault(e.boundary.name, (e.boundary, "identity"))
        if e.trust_policy is not None:
            seen.setdefault(e.trust_policy.name, (e.trust_policy, "trust"))
    for g in ctx.snap.groups.values():
        for p in g.policies:
            seen.setdefault(p.name, (p, "identity"))
    for rp in ctx.snap.resource_policies.values():
        seen.setdefault(rp.policy.name, (rp.policy, "resource"))
    return [seen[k] for k in sorted(seen)]


@cache
def _format_regex(fmt: str) -> re.Pattern:
    parts = re.split(r"\$\{[^}]*\}", fmt)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$", re.I)


def resource_fits(action: str, resource: str) -> bool | None:
    """Can `action` take `resource` (an ARN or pattern)? None when the catalogue cannot say."""
    info = catalogue.lookup(action)
    if info is None or resource == "*":
        return None
    base = re.sub(r"\$\{[^}]*\}", "x", resource).replace("?", "x")
    if not base.startswith("arn:"):
        return None
    formats = [f for _, f, _ in info.resource_types if f]
    if not formats:
        return False  # the action takes only "*"
    # A wildcard matches across "/" and ":": probe it with a short and a longer value.
    probes = {base.replace("*", fill) for fill in ("x", "x/x", "x:x/x")}
    return any(_format_regex(f).match(p) for f in formats for p in probes)


def _statement_checks(ctx: Context, named: NamedPolicy, i: int, st: Statement) -> list[Finding]:
    out: list[Finding] = []
    loc = ctx.location_of(named.name, i)
    base = f"{named.name}|{i}"
    where = f"statement {i}" + (f" ({st.Sid})" if st.Sid else "") + f" of {named.name}"
    if st.Effect != "Allow":
        return out
    if st.NotAction is not None or st.NotResource is not None:
        el = "NotAction" if st.NotAction is not None else "NotResource"
        out.append(
            ctx.finding(
                RULE,
                f"{base}|{el}",
                "medium",
                "fail",
                f"Allow with {el} in {where}",
                resource=named.name,
                location=loc,
                remediation=f"Allow with {el} grants everything not listed, including actions and "
                "resources added later; list what is allowed instead.",
                details={"check": el.lower(), "policy": named.name, "index": i, "sid": st.Sid},
            )
        )
    actions = st.Action or []
    resources = st.Resource or []
    passrole = [a for a in actions if action_matches(a, "iam:PassRole")]
    if "*" in resources and passrole:
        guarded = any(k.lower() == "iam:passedtoservice" for _, k, _ in st.operators())
        out.append(
            ctx.finding(
                RULE,
                f"{base}|passrole-star",
                "low" if guarded else "high",
                "fail",
                f"iam:PassRole on every role in {where}",
                resource=named.name,
                location=loc,
                actions=[action_ref("iam:PassRole")],
                remediation="Name the roles that may be passed (Resource: role ARNs) and add "
                "iam:PassedToService; PassRole on * lets the holder run code as any role.",
                details={
                    "check": "passrole-star",
                    "policy": named.name,
                    "index": i,
                    "sid": st.Sid,
                    "iam:PassedToService": guarded,
                },
            )
        )
    dead = [
        a
        for a in actions
        if "*" not in a and "?" not in a and resources and all(resource_fits(a, r) is False for r in resources)
    ]
    if dead:
        out.append(
            ctx.finding(
                RULE,
                f"{base}|resource-type",
                "low",
                "fail",
                f"{len(dead)} action(s) of {where} can take none of its resources: {', '.join(dead[:5])}"
                + (" ..." if len(dead) > 5 else ""),
                resource=", ".join(resources),
                location=loc,
                actions=[action_ref(a) for a in dead],
                remediation="These actions never match a request through this statement: fix the "
                "resource ARNs (see each action's resource types in the Service Authorization "
                "Reference) or move the actions to a statement with the right resources.",
                details={
                    "check": "resource-type",
                    "policy": named.name,
                    "index": i,
                    "sid": st.Sid,
                    "resources": resources,
                },
            )
        )
    return out


def run(ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    policies = own_policies(ctx)
    for named, _kind in policies:
        for i, st in enumerate(named.policy.Statement):
            out += _statement_checks(ctx, named, i, st)
        for lf in action_findings(named):
            out.append(
                ctx.finding(
                    RULE,
                    f"{named.name}|{lf.statement}|{lf.kind}|{lf.message}",
                    "low",
                    "fail",
                    f"{lf.message} (statement {lf.statement} of {named.name})",
                    resource=named.name,
                    location=ctx.location_of(named.name, lf.statement),
                    remediation="Fix the action name or remove it: it matches no request.",
                    details={"check": lf.kind, "policy": named.name, "index": lf.statement, "sid": lf.sid},
                )
            )
    out += _redundancy(ctx, policies)
    return out


def _redundancy(ctx: Context, policies: list[tuple[NamedPolicy, str]]) -> list[Finding]:
    out: list[Finding] = []
    skipped: list[str] = []
    for n, (named, kind) in enumerate(policies):
        ctx.progress("redundant statements", n, len(policies))
        if ctx.out_of_time():
            skipped.append(named.name)
            continue
        try:
            found, undecided = redundant_statements(named, kind="resource" if kind != "identity" else "identity")
        except Exception as exc:  # a policy the diff search does not take (reported, not guessed)
            out.append(
                ctx.finding(
                    RULE,
                    f"{named.name}|redundancy",
                    "info",
                    "unknown",
                    f"Redundant statements of {named.name}",
                    resource=named.name,
                    reason=str(exc),
                    location=ctx.location_of(named.name),
                )
            )
            continue
        for f in found:
            out.append(
                ctx.finding(
                    RULE,
                    f"{named.name}|{f.statement}|{f.kind}",
                    "info",
                    "fail",
                    f"statement {f.statement}" + (f" ({f.sid})" if f.sid else "") + f" of {named.name} "
                    "changes no decision",
                    resource=named.name,
                    location=ctx.location_of(named.name, f.statement),
                    remediation="Remove the statement (or fix it, if it was meant to grant or deny "
                    "something): " + f.message,
                    details={"check": f.kind, "policy": named.name, "index": f.statement, "sid": f.sid},
                )
            )
        for u in undecided:
            out.append(
                ctx.finding(
                    RULE,
                    f"{named.name}|{u.statement}|redundancy",
                    "info",
                    "unknown",
                    f"whether statement {u.statement} of {named.name} changes a decision",
                    resource=named.name,
                    reason=u.reason,
                    location=ctx.location_of(named.name, u.statement),
                )
            )
    if skipped:
        out.append(
            ctx.finding(
                RULE,
                "redundancy-budget",
                "info",
                "unknown",
                f"Redundant statements of {len(skipped)} policies were not searched",
                reason=ctx.budget_reason,
                details={"policies": skipped},
            )
        )
    return out
