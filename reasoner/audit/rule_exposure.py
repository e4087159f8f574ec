"""Rule `exposure`: exact exposure counts, and actions granted per access level.

Per sensitive resource (S3 buckets and KMS keys with a resource policy): "N of M principals can read
it: X unconditionally, Y only via SERVICE, Z only from ENDPOINT", each number exact over the
snapshot's principals (who-can along every path, with and without constraints) and with the list
behind it:
- can: who-can for the read action (s3:GetObject on any object of the bucket, kms:Decrypt);
- unconditionally: who-can with every context key the request does not fix absent (strict), along
  a path of its own calls (no service hop);
- only via S: can, but not with aws:CalledVia avoiding S (for each service on a path found);
- only from E: can, but not with the first call outside endpoint E (for each endpoint of the service).
Resources not reached within the budget are listed with status unknown.

Per principal, the catalogue actions its Allow statements name, per access level (policy text:
before conditions, denies and boundaries; the exact answers are the searches above)."""

from __future__ import annotations

from functools import cache
from typing import Any

from reasoner.account.hops import Constraints
from reasoner.account.paths import WhoCanAnswer
from reasoner.audit.findings import Exposure, ExposureBucket, Finding, PrincipalAccess
from reasoner.audit.rulebase import Context, rule, short
from reasoner.errors import InputError
from reasoner.heap import settle
from reasoner.policy import catalogue
from reasoner.policy.request import NamedPolicy

RULE = rule(
    "exposure",
    "Exposure counts",
    "How many of the account's principals can read each sensitive resource, and how (unconditionally, "
    "only through a service, only from a VPC endpoint); actions granted per access level per principal.",
)

READ_ACTION = {"s3": "s3:GetObject", "kms": "kms:Decrypt"}


def sensitive(ctx: Context) -> list[tuple[str, str, str]]:
    """(resource ARN, action, resource the question names) for buckets and keys with a policy."""
    out = []
    for rp in sorted(ctx.snap.resource_policies.values(), key=lambda r: r.arn):
        svc = rp.arn.split(":")[2] if rp.arn.count(":") >= 5 else ""
        if svc == "s3" and "/" not in rp.arn:
            out.append((rp.arn, READ_ACTION["s3"], rp.arn + "/*"))
        elif svc == "kms" and ":key/" in rp.arn:
            out.append((rp.arn, READ_ACTION["kms"], rp.arn))
    return out


def run(ctx: Context) -> list[Finding]:
    targets = sensitive(ctx)
    total = len(ctx.snap.principals)
    for i, target in enumerate(targets):
        ctx.progress("exposure", i, len(targets))
        ctx.exposures.append(measure(ctx, target, total))
        settle()  # between questions (heap.py)
    return finish(ctx, [])


def measure(ctx: Context, target: tuple[str, str, str], total: int) -> Exposure:
    """One resource's exposure, independent of the others' (reasoner.audit.rule_groups runs them
    as tasks): unknown when the budget is spent or a part of the export is malformed."""
    arn, action, res = target
    if ctx.out_of_time():
        return Exposure(resource=arn, action=action, total_principals=total, status="unknown", reason=ctx.budget_reason)
    try:
        return _exposure(ctx, arn, action, res, total)
    except (ValueError, InputError) as exc:  # a malformed part of the export: unknown, never exact
        return Exposure(
            resource=arn,
            action=action,
            total_principals=total,
            status="unknown",
            reason=f"{type(exc).__name__}: {str(exc).splitlines()[0]}",
        )


def finish(ctx: Context, exposures: list[Exposure]) -> list[Finding]:
    """The report's part of the rule once every sensitive resource is measured: `exposures` (in
    `sensitive` order) added to those already in ctx, the access levels, the count of inexact ones."""
    ctx.exposures.extend(exposures)
    ctx.access_levels = access_levels(ctx)
    inexact = [e for e in ctx.exposures if e.status != "exact"]
    if not inexact:
        return []
    # The counts that are not exact show in the summary as unknown (never as a pass).
    return [
        ctx.finding(
            RULE,
            "exposure-counts",
            "info",
            "unknown",
            f"Exposure of {len(inexact)} of {len(ctx.exposures)} sensitive resources is not counted exactly",
            reason="; ".join(dict.fromkeys(e.reason or "unknown" for e in inexact[:50]))[:1000],
            details={"resources": [e.resource for e in inexact]},
        )
    ]


class _OutOfTime(Exception):
    """The budget ran out between two of one resource's questions."""


def _exposure(ctx: Context, arn: str, action: str, res: str, total: int) -> Exposure:
    try:
        return _counted(ctx, arn, action, res, total)
    except _OutOfTime:
        return Exposure(resource=arn, action=action, total_principals=total, status="unknown", reason=ctx.budget_reason)


def _counted(ctx: Context, arn: str, action: str, res: str, total: int) -> Exposure:
    def who_can(*args: Any) -> WhoCanAnswer:
        # The budget is checked before each of the resource's questions, not only between resources.
        if ctx.out_of_time():
            raise _OutOfTime
        return ctx.finder.who_can(*args)

    base = who_can(action, res)
    can = [p.principal for p in base.principals]
    unknown = [f"{u.principal}: {u.reason}" for u in base.unknown]
    buckets = []
    strict = who_can(action, res, Constraints(strict=True))
    direct = [
        p.principal
        for p in strict.principals
        if p.principal in can and p.path and not any(h.called_via for h in p.path.hops)
    ]
    buckets.append(ExposureBucket(label="unconditionally", principals=direct))
    services = sorted({s for p in base.principals if p.path for h in p.path.hops for s in h.called_via})
    for s in services:
        other = {p.principal for p in who_can(action, res, Constraints(without_via=(s,))).principals}
        buckets.append(ExposureBucket(label=f"only via {s}", principals=[a for a in can if a not in other]))
    svc = action.split(":")[0]
    used = _endpoints_used(base.principals)
    for ep in sorted(ctx.snap.endpoints_for(svc), key=lambda e: e.id):
        if ep.id not in used:
            # No shortest path comes through it: every principal that can, can without it (exact).
            buckets.append(ExposureBucket(label=f"only from {ep.id}", principals=[]))
            continue
        other = {p.principal for p in who_can(action, res, Constraints(not_from_vpce=(ep.id,))).principals}
        buckets.append(ExposureBucket(label=f"only from {ep.id}", principals=[a for a in can if a not in other]))
    return Exposure(
        resource=arn,
        action=action,
        total_principals=total,
        can=can,
        buckets=buckets,
        unknown=unknown,
        status="unknown" if unknown else "exact",
        reason=f"{len(unknown)} principal(s) unknown: {unknown[0]}" if unknown else None,
    )


def _endpoints_used(answers: list) -> set[str]:
    """The endpoints the first calls of these paths come through (aws:SourceVpce of a witness)."""
    out: set[str] = set()
    for p in answers:
        for h in p.path.hops if p.path else []:
            for k, v in h.context.items():
                if k.lower() == "aws:sourcevpce":
                    out.update(v if isinstance(v, list) else [str(v)])
    return out


@cache
def _expand(pattern: str) -> frozenset[str]:
    return frozenset(catalogue.expand(pattern))


@cache
def _all_actions() -> frozenset[str]:
    return _expand("*")


@cache
def _level(action: str) -> str:
    info = catalogue.lookup(action)
    return (info.access_level if info else "") or "Unknown"


_POLICY_CACHE: dict[int, frozenset[str]] = {}


def _granted(p: NamedPolicy) -> frozenset[str]:
    key = id(p.policy)
    if key not in _POLICY_CACHE:
        acts: set[str] = set()
        for st in p.policy.Statement:
            if st.Effect != "Allow":
                continue
            if st.Action is not None:
                for a in st.Action:
                    acts |= _expand(a)
            else:
                excluded: set[str] = set()
                for a in st.NotAction or []:
                    excluded |= _expand(a)
                acts |= _all_actions() - excluded
        _POLICY_CACHE[key] = frozenset(acts)
    return _POLICY_CACHE[key]


def access_levels(ctx: Context) -> list[PrincipalAccess]:
    out = []
    for e in sorted(ctx.snap.principals.values(), key=lambda e: e.arn):
        acts: set[str] = set()
        for p in e.identity_policies:
            acts |= _granted(p)
        levels: dict[str, int] = {}
        for a in acts:
            lv = _level(a)
            levels[lv] = levels.get(lv, 0) + 1
        out.append(PrincipalAccess(principal=e.arn, levels=dict(sorted(levels.items()))))
    return out


def label(arn: str) -> str:
    return short(arn)
