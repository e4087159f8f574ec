"""`reasoner audit`: every rule over one snapshot, into one AuditReport (reasoner.audit.findings).

Rules run in order, each within its own time budget (`budget` seconds; the shared privilege
escalation search runs once, inside the first rule that needs it). A rule that raises is reported
`unknown` with the error, never as a pass; a rule out of budget reports what it did not reach as
`unknown`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Literal

from reasoner.account.snapshot import load_snapshot
from reasoner.audit import (
    rule_admin,
    rule_exposure,
    rule_external,
    rule_hygiene,
    rule_invariants,
    rule_mfa,
    rule_privesc,
    rule_unused,
    suppressions,
)
from reasoner.audit.findings import AuditReport, Finding, RuleRun, SnapshotRef, sort_key, summarize
from reasoner.audit.invariants import load_invariants
from reasoner.audit.rulebase import DEFAULT_BUDGET_SECONDS, Context, sha256_of
from reasoner.errors import InputError

RULES: list[ModuleType] = [
    rule_external,
    rule_privesc,
    rule_admin,
    rule_mfa,
    rule_invariants,
    rule_hygiene,
    rule_unused,
    rule_exposure,
]


def run_audit(
    snapshot: list[str],
    *,
    invariants: str | None = None,
    zone: str = "account",
    suppress: str | None = None,
    budget: float = DEFAULT_BUDGET_SECONDS,
    only: list[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    now: dt.datetime | None = None,
) -> AuditReport:
    t0 = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    if zone not in ("account", "organization"):
        raise InputError(f"--zone-of-trust {zone!r}: expected account or organization", source="<command line>")
    if invariants:
        load_invariants(invariants)  # bad input fails before any search
    supp = suppressions.load_suppressions(suppress) if suppress else None
    snap = load_snapshot(list(snapshot))
    files = [s for s in snap.sources if Path(s).is_file()]
    ctx = Context(snap, sha256_of(files), zone=zone, budget=budget, invariants_file=invariants, now=now)
    if progress is not None:
        ctx.progress = progress
    findings: list[Finding] = []
    runs: list[RuleRun] = []
    for mod in RULES:
        r = mod.RULE
        if only and r.id not in only:
            continue
        if mod is rule_invariants and not invariants:
            runs.append(RuleRun(id=r.id, title=r.title, status="skipped", reason="no --invariants file"))
            continue
        ctx.progress(r.title, 0, 1)
        ctx.start_rule()
        t = time.perf_counter()
        status: Literal["ran", "partial", "unknown", "skipped"]
        try:
            got = mod.run(ctx)
            status = "partial" if ctx.out_of_time() else "ran"
            reason = ctx.budget_reason if status == "partial" else None
        except InputError:
            raise
        except Exception as exc:  # a rule that fails is unknown, never a pass
            got = [ctx.finding(r, "rule-error", "medium", "unknown", f"{r.title}: the rule failed", reason=repr(exc))]
            status, reason = "unknown", repr(exc)
        runs.append(
            RuleRun(
                id=r.id,
                title=r.title,
                status=status,
                seconds=round(time.perf_counter() - t, 2),
                reason=reason,
                findings=len(got),
            )
        )
        findings += got
    ctx.resolve()
    if snap.incomplete:  # a principal or resource may be missing: no absence is proved (issue 11)
        why = f"the snapshot is incomplete: {snap.incomplete[0]}"
        findings = [
            f.model_copy(update={"status": "unknown", "reason": why}) if f.status == "pass" else f for f in findings
        ]
    # Principals or resources may be missing (issue 11): every report format says so up front.
    warnings = [f"WARNING: snapshot incomplete: {why}" for why in snap.incomplete[:20]]
    warnings += [f"snapshot: {p}" for p in snap.problems[:50]]
    if supp is not None and suppress is not None:
        findings, w = suppressions.apply(findings, supp, suppress, now.date(), ctx.snapshot_sha256)
        warnings = w + warnings
    findings.sort(key=sort_key)
    return AuditReport(
        generated_at=now.replace(microsecond=0).isoformat(),
        snapshots=[SnapshotRef(path=p, sha256=sha256_of([p])) for p in files],
        zone_of_trust=zone,  # type: ignore[arg-type]
        accounts=sorted(snap.accounts),
        invariants_file=invariants,
        summary=summarize(findings),
        rules=runs,
        findings=findings,
        exposures=ctx.exposures,
        access_levels=ctx.access_levels,
        warnings=warnings,
        seconds=round(time.perf_counter() - t0, 2),
    )
