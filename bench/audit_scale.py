"""`reasoner audit` at account scale: generates the account (bench/gen_account.py), runs every rule
with the per-rule budget, and prints the time per rule, the findings per rule and status, and the
size of the report in each format.

    .venv/bin/python bench/audit_scale.py                       # 1,000 roles, budget 300 s per rule
    .venv/bin/python bench/audit_scale.py --roles 200 --budget 60
    .venv/bin/python bench/audit_scale.py --snapshot FILE ...   # an existing snapshot instead
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

from reasoner.audit.report_formats import render_csv, render_json, render_markdown  # noqa: E402
from reasoner.audit.report_html import render_html  # noqa: E402
from reasoner.audit.report_sarif import render_sarif  # noqa: E402
from reasoner.audit.run import run_audit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--roles", type=int, default=1000)
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
        paths = args.snapshot
    else:
        t = time.perf_counter()
        account = out / f"account-{args.roles}.json"
        account.write_text(json.dumps(generate(args.roles)))
        print(
            f"generated {args.roles} roles in {time.perf_counter() - t:.1f} s "
            f"({account.stat().st_size / 1e6:.1f} MB, {account})"
        )
        paths = [str(account)]
    last = [""]

    def progress(what: str, done: int, total: int) -> None:
        if what != last[0]:
            last[0] = what
            print(f"  ... {what} ({total})", file=sys.stderr, flush=True)

    t = time.perf_counter()
    report = run_audit(paths, budget=args.budget, progress=progress)
    total = time.perf_counter() - t
    print(
        f"audit {total:.1f} s (budget {args.budget:.0f} s per rule), {len(report.findings)} findings, "
        f"statuses {report.summary.by_status}"
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
        path = out / f"audit-{args.roles if not args.snapshot else 'snapshot'}.{fmt}"
        path.write_text(text, encoding="utf-8")
        print(f"  {fmt:8} {len(text.encode()) / 1e6:7.2f} MB  rendered in {time.perf_counter() - t:.2f} s  ({path})")


if __name__ == "__main__":
    main()
