"""Time `reasoner audit` on a generated organization (bench/gen_org.py): serial, on a local process
pool and on a local Dask cluster (dask.distributed LocalCluster, worker processes), and print the
speed-up on the same workers and the per-task overhead of each executor (issue 14 item 5).

    .venv/bin/python bench/org_scale.py --quick                  # 2 accounts x 4 roles
    .venv/bin/python bench/org_scale.py --accounts 20 --roles 250 --budget 600
    .venv/bin/python bench/org_scale.py --scheduler tcp://HOST:8786   # a real cluster instead of a local one

Each executor runs the audit's rules as tasks (reasoner.audit.rule_groups: the rules sharing the
privilege-escalation search in one task, every other rule alone); the answers (findings, exposures,
access levels) are compared with the serial run's. The per-task overhead is the wall time of 200
empty tasks on the executor divided by 200; the cluster's start-up is printed apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_org  # noqa: E402 - next to this file

from reasoner import fanout  # noqa: E402
from reasoner.account.snapshot import load_snapshot  # noqa: E402
from reasoner.audit.findings import AuditReport  # noqa: E402
from reasoner.audit.run import run_audit  # noqa: E402

NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
EMPTY_TASKS = 200


def _nothing(x: int) -> int:
    return x


def answers(r: AuditReport) -> str:
    return json.dumps(
        [
            [(x.id, x.status, x.findings) for x in r.rules],
            [f.model_dump(mode="json") for f in r.findings],
            [e.model_dump(mode="json") for e in r.exposures],
            [a.model_dump(mode="json") for a in r.access_levels],
        ],
        sort_keys=True,
    )


def same(r: AuditReport, serial: AuditReport) -> str:
    """'True', or what differs from the serial run's answers."""
    if answers(r) == answers(serial):
        return "True"

    def by_rule(report: AuditReport) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in report.findings:
            out.setdefault(f.rule.id, []).append(json.dumps(f.model_dump(mode="json"), sort_keys=True))
        return {k: sorted(v) for k, v in out.items()}

    mine, theirs = by_rule(r), by_rule(serial)
    differ = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
    return f"False (findings of: {', '.join(differ) or 'none'}; else exposures, access levels or rule runs)"


def task_overhead(ex: fanout.Executor) -> float:
    """Seconds per empty task (after one warm-up round, so worker start-up is not counted)."""
    fanout.map_ordered(ex, _nothing, range(4))
    t = time.perf_counter()
    fanout.map_ordered(ex, _nothing, range(EMPTY_TASKS))
    return (time.perf_counter() - t) / EMPTY_TASKS


def timed_audit(path: str, budget: float, executor: str | fanout.Executor, workers: int) -> tuple[float, AuditReport]:
    t = time.perf_counter()
    report = run_audit([path], now=NOW, budget=budget, executor=executor, workers=workers)
    return time.perf_counter() - t, report


def _header(args: argparse.Namespace, path: Path) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout
    print(
        f"# org_scale {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}; commit {commit.strip()}"
    )
    print(
        f"# {args.accounts} accounts x {args.roles} roles, {args.buckets} buckets and {args.keys} KMS keys each; "
        f"{args.workers} workers; budget {args.budget:.0f} s per rule"
    )
    t = time.perf_counter()
    snap = load_snapshot([str(path)])
    print(
        f"snapshot {path.name}: {len(snap.principals)} principals, {len(snap.resource_policies)} resource policies, "
        f"{len(snap.accounts)} accounts, loaded in {time.perf_counter() - t:.2f} s, {len(snap.problems)} problems"
    )


def _dask_executor(args: argparse.Namespace):  # -> (executor, closer, start seconds)
    import distributed

    t = time.perf_counter()
    if args.scheduler:
        client = distributed.Client(args.scheduler)
        cluster = None
    else:
        cluster = distributed.LocalCluster(
            n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=None
        )
        client = distributed.Client(cluster)
    start = time.perf_counter() - t

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(pure=False), close, start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--roles", type=int, default=250)
    ap.add_argument("--buckets", type=int, default=40)
    ap.add_argument("--keys", type=int, default=10, help="KMS key policies per account")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=600.0, help="seconds per rule")
    ap.add_argument("--quick", action="store_true", help="2 accounts x 4 roles, 5 buckets, 1 key")
    ap.add_argument("--scheduler", help="a Dask scheduler address instead of a LocalCluster")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    args = ap.parse_args()
    if args.quick:
        args.accounts, args.roles, args.buckets, args.keys = 2, 4, 5, 1
    path = args.out / f"org-{args.accounts}x{args.roles}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gen_org.generate(args.accounts, args.roles, args.buckets, n_keys=args.keys)))
    _header(args, path)

    # The pooled runs first: a forked pool's workers would inherit the caches a serial run left in
    # this process (the Dask workers are new processes either way).
    with fanout.executor("process", args.workers) as ex:
        pool_overhead = task_overhead(ex)
    pool_s, pool = timed_audit(str(path), args.budget, "process", args.workers)
    dask_r = None
    if not args.no_dask:
        ex, close, start = _dask_executor(args)
        try:
            dask_overhead = task_overhead(ex)
            dask_s, dask_r = timed_audit(str(path), args.budget, ex, args.workers)
        finally:
            close()
    serial_s, serial = timed_audit(str(path), args.budget, "serial", 1)
    rules = ", ".join(f"{x.id} {x.seconds:.1f}s" for x in serial.rules if x.status != "skipped")
    print(f"serial      {serial_s:8.2f} s   {len(serial.findings)} findings   ({rules})")
    print(
        f"process x{args.workers}  {pool_s:8.2f} s   speed-up {serial_s / pool_s:.2f}x   "
        f"same answers: {same(pool, serial)}   per-task overhead {pool_overhead * 1e3:.2f} ms"
    )
    if dask_r is not None:
        where = args.scheduler or f"LocalCluster {args.workers} processes"
        print(
            f"dask        {dask_s:8.2f} s   speed-up {serial_s / dask_s:.2f}x   same answers: "
            f"{same(dask_r, serial)}   per-task overhead {dask_overhead * 1e3:.2f} ms   "
            f"({where}, started in {start:.2f} s)"
        )
    partial = [x.id for x in serial.rules if x.status == "partial"]
    if partial:
        print(f"note: out of budget in the serial run ({', '.join(partial)}): raise --budget for exact comparisons")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
