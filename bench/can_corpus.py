"""Benchmark: one `can` question per service granted by each AWS managed policy.

For every policy in tests/corpus/aws-managed-policies and every service its Allow statements
name, ask: "is any request to a resource of this service allowed with aws:SourceIp present and
outside 10.0.0.0/8?" Prints p50 / p99 time per question (whole question, and the clingo solve
part) and the total, plus the answer counts. Asserts nothing.

    .venv/bin/python bench/can_corpus.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import clingo  # noqa: E402

from reasoner.policy import catalogue  # noqa: E402
from reasoner.policy.document import parse_policy  # noqa: E402
from reasoner.policy.request import NamedPolicy  # noqa: E402
from reasoner.search.can import Query, can  # noqa: E402

PRINCIPAL = "arn:aws:sts::111122223333:assumed-role/bench/session"


def services_granted(policy) -> list[str]:
    out = set()
    for st in policy.Statement:
        if st.Effect != "Allow" or st.Action is None:
            continue
        for a in st.Action:
            svc = a.split(":", 1)[0].lower()
            if svc != "*" and svc in catalogue.services():
                out.add(svc)
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0, help="only the first N policies")
    args = ap.parse_args()
    files = sorted((ROOT / "tests" / "corpus" / "aws-managed-policies").glob("*.json"))
    if args.limit:
        files = files[: args.limit]

    solve_times: list[float] = []
    real_solve = clingo.Control.solve

    def timed_solve(self, *a, **k):
        t = time.perf_counter()
        try:
            return real_solve(self, *a, **k)
        finally:
            solve_times.append(time.perf_counter() - t)

    clingo.Control.solve = timed_solve
    totals: list[float] = []
    answers: dict[str, int] = {}
    slowest: list[tuple[float, str]] = []
    t_all = time.perf_counter()
    for f in files:
        policy = NamedPolicy(str(f), parse_policy(json.loads(f.read_text()), source=str(f)))
        for svc in services_granted(policy.policy):
            q = Query(
                principal=PRINCIPAL,
                action=f"{svc}:*",
                resource=f"arn:*:{svc}:*",
                resource_account="111122223333",
                identity_policies=[policy],
                exclude={"aws:SourceIp": [("ip_address", "10.0.0.0/8")]},
                present=["aws:SourceIp"],
            )
            t = time.perf_counter()
            a = can(q)
            dt = time.perf_counter() - t
            totals.append(dt)
            answers[a.answer] = answers.get(a.answer, 0) + 1
            slowest.append((dt, f"{f.stem} {svc}"))
    wall = time.perf_counter() - t_all

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

    print(f"{len(files)} policies, {len(totals)} questions, answers {answers}")
    print(
        f"per question (compile + ground + solve + concrete re-check): p50 {pct(totals, 50) * 1000:.0f} ms, "
        f"p99 {pct(totals, 99) * 1000:.0f} ms, max {max(totals) * 1000:.0f} ms"
    )
    print(
        f"clingo solve only: p50 {pct(solve_times, 50) * 1000:.1f} ms, p99 {pct(solve_times, 99) * 1000:.1f} ms, "
        f"mean {statistics.mean(solve_times) * 1000:.1f} ms over {len(solve_times)} solver calls"
    )
    print(f"whole sweep: {wall:.1f} s")
    for dt, name in sorted(slowest, reverse=True)[:5]:
        print(f"  slow: {dt * 1000:.0f} ms {name}")


if __name__ == "__main__":
    main()
