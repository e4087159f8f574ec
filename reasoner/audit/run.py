"""`reasoner audit`: every rule over one snapshot, into one AuditReport (reasoner.audit.findings).

Rules run in order, each within its own time budget (`budget` seconds; the shared privilege
escalation search runs once, inside the first rule that needs it). A rule that raises is reported
`unknown` with the error, never as a pass; a rule out of budget reports what it did not reach as
`unknown`. The rules can run as independent tasks on a local process pool or a Dask cluster
(reasoner.audit.rule_groups, reasoner.fanout) with the same findings."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from types import ModuleType

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
from reasoner.audit.findings import AuditReport, Exposure, Finding, RuleRun, SnapshotRef, sort_key, summarize
from reasoner.audit.invariants import load_invariants
from reasoner.audit.rule_groups import AuditSpec, run_groups
from reasoner.audit.rulebase import DEFAULT_BUDGET_SECONDS, Context, sha256_of
from reasoner.errors import InputError
from reasoner.fanout import executor as make_executor
from reasoner.heap import long_lived

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


def _run_rules(
    ctx: Context,
    spec: AuditSpec,
    only: list[str] | None,
    executor: str | Executor,
    workers: int,
    dask_scheduler: str | None,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[list[RuleRun], list[Finding]]:
    """Every rule's run and findings, in the audit's order, wherever they ran."""
    selected = [m for m in RULES if not only or m.RULE.id in only]
    skipped = {m.RULE.id for m in selected if m is rule_invariants and not spec.invariants}
    mods = [m for m in selected if m.RULE.id not in skipped]
    if isinstance(executor, Executor):
        outcomes = run_groups(ctx, spec, mods, executor, progress, workers)
    elif dask_scheduler is None and (executor == "serial" or (executor == "process" and workers < 2)):
        outcomes = run_groups(ctx, spec, mods, None, progress)
    else:
        with make_executor("dask" if dask_scheduler else executor, workers, dask_scheduler) as ex:
            outcomes = run_groups(ctx, spec, mods, ex, progress, workers)
    runs: list[RuleRun] = []
    findings: list[Finding] = []
    exposures: list[Exposure] = []
    for m in selected:
        if m.RULE.id in skipped:
            runs.append(RuleRun(id=m.RULE.id, title=m.RULE.title, status="skipped", reason="no --invariants file"))
            continue
        o = outcomes[m.RULE.id]
        runs.append(o.run)
        findings += o.findings
        exposures += o.exposures
        if o.access_levels is not None:
            ctx.access_levels = o.access_levels
    ctx.exposures = exposures
    return runs, findings


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
    executor: str | Executor = "process",
    workers: int = 1,
    dask_scheduler: str | None = None,
) -> AuditReport:
    """The audit of the snapshot. With `workers` > 1 (or a Dask scheduler, or an Executor) the rules run
    as independent tasks (reasoner.audit.rule_groups) on a reasoner.fanout executor, `process`
    (a local pool) unless `executor` says `serial` or `dask`; the findings are the serial run's."""
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
    with long_lived():  # the audit is a session: its questions share the caches (heap.py)
        runs, findings = _run_rules(
            ctx,
            AuditSpec(tuple(snapshot), ctx.snapshot_sha256, zone, budget, invariants, now),
            only,
            executor,
            workers,
            dask_scheduler,
            progress,
        )
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
