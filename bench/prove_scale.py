"""Time `reasoner prove`: the seed's invariants, and 20 invariants over a generated account.

    .venv/bin/python bench/prove_scale.py [--roles 1000] [--skip-privesc]

Prints the time per invariant and in total, with each answer. The generated account comes from
bench/gen_account.py (deterministic). Figures only: no timed assertions anywhere.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from gen_account import ACCOUNT, bucket_arn, generate, table_arn  # noqa: E402

from reasoner.account.snapshot import load_snapshot  # noqa: E402
from reasoner.audit.invariants import InvariantsFile, Prover, load_invariants  # noqa: E402
from reasoner.heap import long_lived  # noqa: E402


def generated_invariants(skip_privesc: bool) -> InvariantsFile:
    inv = []
    for b in (7, 42, 100, 201, 333):
        inv.append(
            {
                "id": f"never-read-bucket-{b}",
                "never": {
                    "principals": {"match": ["*"], "tags": {"team": "web"}},
                    "actions": ["s3:GetObject"],
                    "resources": [bucket_arn(b) + "/*"],
                    "without_via": ["athena.amazonaws.com"],
                },
            }
        )
    for b in (11, 250, 499):
        inv.append(
            {
                "id": f"only-payments-write-{b}",
                "only": {
                    "principals": [f"arn:aws:iam::{ACCOUNT}:role/payments-*"],
                    "actions": ["s3:PutObject"],
                    "resources": [bucket_arn(b) + "/*"],
                },
            }
        )
    for t in (1, 5, 9):
        inv.append(
            {
                "id": f"never-ddb-{t}",
                "never": {
                    "principals": {"match": ["*"], "tags": {"team": "search"}},
                    "actions": ["dynamodb:DeleteItem"],
                    "resources": [table_arn(t)],
                },
            }
        )
    inv.append(
        {
            "id": "always-analytics-etl",
            "always": {
                "principal": f"arn:aws:iam::{ACCOUNT}:role/analytics-etl-00000",
                "action": "s3:GetObject",
                "resource": bucket_arn(0) + "/data/x",
                "where": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60001"},
            },
        }
    )
    inv.append(
        {
            "id": "always-platform-etl",
            "always": {
                "principal": f"arn:aws:iam::{ACCOUNT}:role/platform-etl-00002",
                "action": "logs:PutLogEvents",
                "resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/bench/platform:log-stream:x",
            },
        }
    )
    for b in (3, 77, 150, 420):
        inv.append({"id": f"bucket-{b}-not-public", "no-public": {"resources": [bucket_arn(b)]}})
    inv.append(
        {
            "id": "buckets-000-019-no-cross-account",
            "no-cross-account": {"resources": ["arn:aws:s3:::bench-bucket-00*", "arn:aws:s3:::bench-bucket-01*"]},
        }
    )
    inv.append(
        {
            "id": "roles-no-cross-account",
            "no-cross-account": {"resources": [f"arn:aws:iam::{ACCOUNT}:role/*"], "except_accounts": ["210987654321"]},
        }
    )
    if not skip_privesc:
        inv.append({"id": "no-privesc", "no-privesc": {"allowed": ["*admin*"]}})
    else:
        inv.append(
            {
                "id": "never-iam-write",
                "never": {
                    "principals": {"match": ["*"], "except": ["*admin*"]},
                    "actions": ["iam:PutRolePolicy"],
                    "resources": [f"arn:aws:iam::{ACCOUNT}:role/*"],
                },
            }
        )
    return InvariantsFile.model_validate({"invariants": inv})


def run(prover: Prover, spec: InvariantsFile, label: str) -> None:
    times, counts = [], {}
    t_all = time.perf_counter()
    with long_lived() as settle:  # one session, as reasoner.api.prove runs it (settling counted)
        for inv in spec.invariants:
            t = time.perf_counter()
            r = prover.prove(inv)
            settle()
            times.append(time.perf_counter() - t)
            counts[r.status] = counts.get(r.status, 0) + 1
            print(f"  {inv.id:34s} {inv.kind:17s} {r.status:9s} {times[-1]:7.2f} s", flush=True)
    total = time.perf_counter() - t_all
    print(
        f"{label}: {len(times)} invariants, total {total:.1f} s, p50 {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s, answers {counts}"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roles", type=int, default=1000)
    ap.add_argument("--skip-privesc", action="store_true", help="replace the no-privesc invariant by a never")
    args = ap.parse_args()
    seed = ROOT / "cases" / "athena-vpce"
    t = time.perf_counter()
    prover = Prover(load_snapshot(seed / "snapshot" / "snapshot.json"))
    print(f"seed: loaded in {time.perf_counter() - t:.2f} s")
    run(prover, load_invariants(seed / "invariants.yaml"), "seed invariants")
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "account.json"
        f.write_text(json.dumps(generate(args.roles)))
        t = time.perf_counter()
        snap = load_snapshot(f)
        print(
            f"generated account: {args.roles} roles, {len(snap.principals)} principals, "
            f"{len(snap.resource_policies)} resource policies, loaded in {time.perf_counter() - t:.2f} s"
        )
        run(Prover(snap), generated_invariants(args.skip_privesc), f"{args.roles}-role account")
    return 0


if __name__ == "__main__":
    sys.exit(main())
