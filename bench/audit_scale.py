"""`reasoner audit` at account scale: generates the account (bench/gen_account.py), runs every rule
with the per-rule budget, and prints the time per rule, the findings per rule and status, and the
size of the report in each format.

    .venv/bin/python bench/audit_scale.py                       # 1,000 roles, budget 300 s per rule
    .venv/bin/python bench/audit_scale.py --roles 200 --budget 60
    .venv/bin/python bench/audit_scale.py --roles 200,1000 --budget 3600 --workers 2 --buckets 50
    .venv/bin/python bench/audit_scale.py --snapshot FILE ...   # an existing snapshot instead

With several sizes it prints the growth of each rule's time and of the whole audit between
consecutive sizes, next to the growth of the principal count (the generated accounts keep the same
buckets, tables and keys at every size, so the growth is the principals'). A rule that used up its
budget at any size makes its ratio a measure of the budget: it is marked, so give a budget no rule
reaches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_account import generate  # noqa: E402

from reasoner.account.snapshot import load_snapshot  # noqa: E402
from reasoner.audit.report_formats import render_csv, render_json, render_markdown  # noqa: E402
from reasoner.audit.report_html import render_html  # noqa: E402
from reasoner.audit.report_sarif import render_sarif  # noqa: E402
from reasoner.audit.run import run_audit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--roles", default="1000", help="role counts, comma-separated")
    ap.add_argument("--workers", type=int, default=1, help="audit --workers (a local process pool above 1)")
    ap.add_argument("--buckets", type=int, default=500, help="buckets of the generated account (500: gen_account's)")
    ap.add_argument("--budget", type=float, default=300.0, help="seconds per rule")
    ap.add_argument("--snapshot", nargs="*", help="audit these snapshot files instead of a generated account")
    ap.add_argument("--out", default=str(HERE / "out"), help="where the account and the reports are written")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"# audit_scale {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    if args.snapshot:
        audit_one(args, out, args.snapshot, "snapshot")
        return
    rows = []
    for roles in [int(x) for x in args.roles.split(",")]:
        t = time.perf_counter()
        account = out / (f"account-{roles}.json" if args.buckets == 500 else f"account-{roles}-b{args.buckets}.json")
        account.write_text(json.dumps(generate(roles, n_buckets=args.buckets)))
        size = account.stat().st_size / 1e6
        print(f"generated {roles} roles in {time.perf_counter() - t:.1f} s ({size:.1f} MB, {account})")
        rows.append(audit_one(args, out, [str(account)], str(roles)))
    for a, b in zip(rows, rows[1:]):
        growth(a, b)


def growth(a: dict, b: dict) -> None:
    """Time ratios of the larger audit to the smaller, per rule and whole, beside the principals'."""
    print(
        f"growth {a['label']} -> {b['label']} roles: principals {b['principals'] / a['principals']:.1f}x, "
        f"audit {b['seconds'] / a['seconds']:.1f}x ({a['seconds']:.0f} s -> {b['seconds']:.0f} s)"
    )
    for rid, (secs, status) in b["rules"].items():
        before, status_a = a["rules"].get(rid, (0.0, ""))
        cut = " (budget used up: the ratio measures the budget)" if "partial" in (status, status_a) else ""
        ratio = f"{secs / before:5.1f}x" if before >= 0.05 else "    -"
        print(f"  {rid:24} {before:8.1f} s -> {secs:8.1f} s  {ratio}{cut}")


def audit_one(args, out: Path, paths: list[str], label: str) -> dict:
    last = [""]

    def progress(what: str, done: int, total: int) -> None:
        if what != last[0]:
            last[0] = what
            print(f"  ... {what} ({total})", file=sys.stderr, flush=True)

    t = time.perf_counter()
    report = run_audit(paths, budget=args.budget, progress=progress, workers=args.workers)
    total = time.perf_counter() - t
    principals = len(load_snapshot(list(paths)).principals)
    print(
        f"audit {total:.1f} s (budget {args.budget:.0f} s per rule, {args.workers} worker(s)), "
        f"{len(report.findings)} findings, statuses {report.summary.by_status}"
    )
    for r in report.rules:
        c = report.summary.by_rule.get(r.id, {})
        print(
            f"  {r.id:24} {r.status:8} {r.seconds:8.1f} s  fail {c.get('fail', 0):5}  unknown "
            f"{c.get('unknown', 0):5}  pass {c.get('pass', 0):5}  suppressed {c.get('suppressed', 0)}"
        )
    exact = sum(1 for e in report.exposures if e.status == "exact")
    print(
        f"  exposure: {exact} of {len(report.exposures)} resources exact; "
        f"access levels for {len(report.access_levels)} principals"
    )
    renderers = {
        "json": render_json,
        "html": render_html,
        "markdown": render_markdown,
        "csv": render_csv,
        "sarif": lambda r: json.dumps(render_sarif(r), indent=1),
    }
    for fmt, fn in renderers.items():
        t = time.perf_counter()
        text = fn(report)
        path = out / f"audit-{label}.{fmt}"
        path.write_text(text, encoding="utf-8")
        print(f"  {fmt:8} {len(text.encode()) / 1e6:7.2f} MB  rendered in {time.perf_counter() - t:.2f} s  ({path})")
    return {
        "label": label,
        "seconds": total,
        "principals": principals,
        "rules": {r.id: (r.seconds or 0.0, r.status) for r in report.rules},
    }


if __name__ == "__main__":
    main()
