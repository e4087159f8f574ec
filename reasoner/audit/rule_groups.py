"""The audit's rules as independent tasks on a reasoner.fanout executor (issue 14 item 5).

Rules that share an engine's work run in one task, in the audit's order: the privilege-escalation
search runs once for `privilege-escalation`, `admin-equivalent` and `sensitive-without-mfa`
(Context.privesc_results); the rules that answer each target on its own (PER_TARGET: exposure per
sensitive resource, external-access per resource or trust policy) are split into up to MAX_SHARDS
tasks each and put back together in target order; every other rule is a task of its own. Each task
runs the rules exactly as the serial audit does (same Context, same budgets), decides its pending witnesses
(Context.resolve) and returns its findings, so a report made on any executor has the findings of
the serial run. A worker builds the Context (the snapshot loaded, its PathFinder) once, for its
first task, and keeps it for the next ones (reasoner.fanout.worker_value).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal

from reasoner.account.snapshot import load_snapshot
from reasoner.audit import rule_exposure, rule_external
from reasoner.audit.findings import Exposure, Finding, PrincipalAccess, RuleRun
from reasoner.audit.rulebase import Context
from reasoner.errors import InputError
from reasoner.fanout import sharing, worker_value
from reasoner.heap import long_lived, settle

# Rules reading Context.privesc_results(): one task, so the search runs once.
SHARED_PRIVESC = ("privilege-escalation", "admin-equivalent", "sensitive-without-mfa")
# Rules answering each target on their own (PER_TARGET) run as at most this many tasks each.
MAX_SHARDS = 16


@dataclass(frozen=True)
class AuditSpec:
    """What a worker needs to build the audit's Context itself (small, picklable)."""

    paths: tuple[str, ...]
    snapshot_sha256: str
    zone: str
    budget: float
    invariants: str | None
    now: dt.datetime


@dataclass
class RuleOutcome:
    run: RuleRun
    findings: list[Finding]
    exposures: list[Exposure] = field(default_factory=list)
    access_levels: list[PrincipalAccess] | None = None  # set by the rule that computes them


def context(spec: AuditSpec) -> Context:
    snap = load_snapshot(list(spec.paths))
    return Context(
        snap, spec.snapshot_sha256, zone=spec.zone, budget=spec.budget, invariants_file=spec.invariants, now=spec.now
    )


def run_rule(ctx: Context, mod: ModuleType) -> RuleOutcome:
    """One rule in its own budget; a rule that fails is unknown, never a pass."""
    r = mod.RULE
    ctx.progress(r.title, 0, 1)
    ctx.start_rule()
    exposures_before, levels_before = len(ctx.exposures), ctx.access_levels
    t = time.perf_counter()
    status: Literal["ran", "partial", "unknown", "skipped"]
    try:
        got = mod.run(ctx)
        status = "partial" if ctx.out_of_time() else "ran"
        reason = ctx.budget_reason if status == "partial" else None
    except InputError:
        raise
    except Exception as exc:
        got = [ctx.finding(r, "rule-error", "medium", "unknown", f"{r.title}: the rule failed", reason=repr(exc))]
        status, reason = "unknown", repr(exc)
    seconds = round(time.perf_counter() - t, 2)
    settle()  # between rules (heap.py)
    run = RuleRun(id=r.id, title=r.title, status=status, seconds=seconds, reason=reason, findings=len(got))
    levels = ctx.access_levels if ctx.access_levels is not levels_before else None
    return RuleOutcome(run, got, ctx.exposures[exposures_before:], levels)


def run_rules(ctx: Context, mods: list[ModuleType]) -> list[RuleOutcome]:
    """The rules in order, then their pending witnesses decided (the statements of each hop)."""
    out = [run_rule(ctx, m) for m in mods]
    ctx.resolve()
    return out


def groups(mods: list[ModuleType]) -> list[list[ModuleType]]:
    """The tasks: the rules sharing the privilege-escalation search together, each other alone."""
    shared = [m for m in mods if m.RULE.id in SHARED_PRIVESC]
    out: list[list[ModuleType]] = []
    for m in mods:
        if m.RULE.id not in SHARED_PRIVESC:
            out.append([m])
        elif m is shared[0]:
            out.append(shared)
    return out


def _rule_modules(ids: tuple[str, ...]) -> list[ModuleType]:
    from reasoner.audit.run import RULES  # the audit's own list (run.py imports this module)

    by_id = {m.RULE.id: m for m in RULES}
    return [by_id[i] for i in ids]


def run_group_task(spec: AuditSpec, ids: tuple[str, ...]) -> list[RuleOutcome] | tuple[str, str | None, tuple]:
    """A task: the rules `ids` over the worker's Context. Bad input comes back as its parts (an
    InputError pickles without its source and path)."""
    ctx = worker_value(("audit-context", spec), lambda: context(spec))
    try:
        with long_lived():
            return run_rules(ctx, _rule_modules(ids))
    except InputError as exc:
        return (exc.message, exc.source, tuple(exc.path))


@dataclass(frozen=True)
class PerTarget:
    """A rule that answers each of its targets on its own: how to list them, answer one, and put
    the answers together into the rule's findings and exposures (in target order)."""

    targets: Callable[[Context], list[Any]]
    one: Callable[[Context, Any], Any]
    finish: Callable[[Context, list[Any]], tuple[list[Finding], list[Exposure]]]


def _exposure_finish(ctx: Context, exposures: list[Exposure]) -> tuple[list[Finding], list[Exposure]]:
    before = len(ctx.exposures)
    got = rule_exposure.finish(ctx, exposures)
    return got, ctx.exposures[before:]


PER_TARGET = {
    rule_exposure.RULE.id: PerTarget(
        rule_exposure.sensitive,
        lambda ctx, t: rule_exposure.measure(ctx, t, len(ctx.snap.principals)),
        _exposure_finish,
    ),
    rule_external.RULE.id: PerTarget(
        rule_external.targets, rule_external.check, lambda ctx, parts: ([f for p in parts for f in p], [])
    ),
}


def shard_task(
    spec: AuditSpec, rule_id: str, shard: int, shards: int, budget: float | None = None
) -> tuple[list[Any], bool] | str:
    """A task: every `shards`-th target of a PER_TARGET rule from `shard` on, each answered as the
    rule does (the task has its share of the rule's budget), witnesses decided. A failure comes
    back as text."""
    ctx = worker_value(("audit-context", spec), lambda: context(spec))
    rule = PER_TARGET[rule_id]
    saved = ctx.budget  # the worker's Context serves its next tasks with the rule budget
    ctx.budget = spec.budget if budget is None else budget
    ctx.start_rule()
    ctx.budget = saved
    try:
        with long_lived():
            targets = rule.targets(ctx)
            got = []
            for i in range(shard, len(targets), shards):
                got.append(rule.one(ctx, targets[i]))
                settle()  # between questions (heap.py)
            ctx.resolve()
    except InputError:
        raise
    except Exception as exc:  # the rule failed: unknown, as run_rule reports it
        return repr(exc)
    return got, ctx.out_of_time()


def _shards_outcome(
    ctx: Context, mod: ModuleType, parts: list[tuple[list[Any], bool] | str], seconds: float
) -> RuleOutcome:
    """A PER_TARGET rule's outcome from its shards (shard k holds targets k, k + n, ...)."""
    r = mod.RULE
    failed = [p for p in parts if isinstance(p, str)]
    ctx.start_rule()
    if failed:
        got = [ctx.finding(r, "rule-error", "medium", "unknown", f"{r.title}: the rule failed", reason=failed[0])]
        run = RuleRun(id=r.id, title=r.title, status="unknown", seconds=seconds, reason=failed[0], findings=1)
        return RuleOutcome(run, got)
    shards = [p for p in parts if not isinstance(p, str)]
    n = len(shards)
    ordered = [shards[i % n][0][i // n] for i in range(sum(len(e) for e, _ in shards))]
    partial = any(late for _, late in shards)
    levels_before = ctx.access_levels
    got, exposures = PER_TARGET[r.id].finish(ctx, ordered)
    status: Literal["ran", "partial"] = "partial" if partial else "ran"
    reason = ctx.budget_reason if partial else None
    run = RuleRun(id=r.id, title=r.title, status=status, seconds=seconds, reason=reason, findings=len(got))
    levels = ctx.access_levels if ctx.access_levels is not levels_before else None
    return RuleOutcome(run, got, exposures, levels)


def _submit(
    ex: Executor, spec: AuditSpec, mods: list[ModuleType], shards: dict[str, int], workers: int
) -> dict[Future, tuple[str, ModuleType | None]]:
    """Every task with its label for the progress line and, for a shard, its rule. A rule's shards
    share its budget: `workers` of them at a time, so the rule's wall time stays within the
    budget (with a full budget each, 16 shards on 2 workers took 8 budgets)."""
    futures: dict[Future, tuple[str, ModuleType | None]] = {}
    for g in groups(mods):
        n = shards.get(g[0].RULE.id, 0)
        if n > 1:
            share = spec.budget * min(max(1, workers), n) / n
            for k in range(n):
                f = ex.submit(shard_task, spec, g[0].RULE.id, k, n, share)
                futures[f] = (f"{g[0].RULE.title} {k + 1}/{n}", g[0])
        else:
            label = ", ".join(m.RULE.title for m in g)
            futures[ex.submit(run_group_task, spec, tuple(m.RULE.id for m in g))] = (label, None)
    return futures


def run_groups(
    ctx: Context,
    spec: AuditSpec,
    mods: list[ModuleType],
    ex: Executor | None,
    progress: Callable[[str, int, int], None] | None = None,
    workers: int = 1,
) -> dict[str, RuleOutcome]:
    """Every rule's outcome by rule id: in this process over `ctx` when `ex` is None, else one
    task per group on the executor, a PER_TARGET rule one task per shard of its targets."""
    if ex is None:
        return {o.run.id: o for o in run_rules(ctx, mods)}
    shards = {
        m.RULE.id: min(MAX_SHARDS, len(PER_TARGET[m.RULE.id].targets(ctx))) for m in mods if m.RULE.id in PER_TARGET
    }
    out: dict[str, RuleOutcome] = {}
    t = time.perf_counter()
    with sharing(("audit-context", spec), ctx):  # a forked pool starts with this Context
        futures = _submit(ex, spec, mods, shards, workers)
        parts: dict[Future, tuple[list[Any], bool] | str] = {}
        for done, f in enumerate(as_completed(futures), 1):
            got = f.result()
            label, sharded = futures[f]
            if sharded is not None:
                parts[f] = got
            elif isinstance(got, tuple):
                message, source, path = got
                raise InputError(message, source=source, path=path)
            else:
                out.update((o.run.id, o) for o in got)
            if progress is not None:
                progress(label, done, len(futures))
    seconds = round(time.perf_counter() - t, 2)
    for m in mods:
        mine = [parts[f] for f, (_, rule) in futures.items() if rule is m]  # in shard order
        if mine:
            out[m.RULE.id] = _shards_outcome(ctx, m, mine, seconds)
    return out
