"""Benchmark: decisions per second of `reasoner decide --batch` on a generated 20,000-line batch
(mixed layers and operators), against the reference open evaluator (@cloud-copilot/iam-simulate,
installed on demand under bench/peer/) on the same lines in the same run, and the wall time of
one `reasoner decide` call.

    .venv/bin/python bench/decide_batch.py [--lines 20000] [--seed 7] [--rounds 2] [--no-peer]

Ours and the peer's runs alternate (--rounds times each); the ratio is ours / the peer's
throughput per round, ours on 1 process (the peer's is one node process) and on the default
workers. The peer skips what it cannot express (counted) and refuses some lines (counted as its
errors, still timed). Prints figures; asserts nothing. The batch is written to
bench/out/batch.jsonl.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench" / "peer"))

from peer import run_peer, version  # noqa: E402

from reasoner.cli.decide_cmd import run_batch  # noqa: E402

ACCOUNTS = ["111122223333", "444455556666"]
ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "kms:Decrypt",
    "dynamodb:GetItem",
    "ec2:RunInstances",
    "athena:StartQueryExecution",
    "glue:GetTable",
    "iam:PassRole",
    "sts:AssumeRole",
    "lambda:InvokeFunction",
    "sqs:SendMessage",
    "logs:PutLogEvents",
]
IPS = ["10.1.2.3", "192.0.2.10", "203.0.113.7", "2001:db8::1"]


def resource_for(action: str, rnd: random.Random, account: str) -> str:
    svc = action.split(":")[0]
    return {
        "s3": f"arn:aws:s3:::bucket-{rnd.randint(0, 9)}/data/{rnd.randint(0, 99)}.csv",
        "kms": f"arn:aws:kms:us-east-1:{account}:key/k{rnd.randint(0, 5)}",
        "dynamodb": f"arn:aws:dynamodb:us-east-1:{account}:table/t{rnd.randint(0, 5)}",
        "ec2": f"arn:aws:ec2:us-east-1:{account}:instance/i-{rnd.randint(0, 999):06d}",
        "athena": f"arn:aws:athena:us-east-1:{account}:workgroup/wg{rnd.randint(0, 3)}",
        "glue": f"arn:aws:glue:us-east-1:{account}:table/db/t{rnd.randint(0, 9)}",
        "iam": f"arn:aws:iam::{account}:role/app-{rnd.randint(0, 9)}",
        "sts": f"arn:aws:iam::{account}:role/app-{rnd.randint(0, 9)}",
        "lambda": f"arn:aws:lambda:us-east-1:{account}:function:f{rnd.randint(0, 9)}",
        "sqs": f"arn:aws:sqs:us-east-1:{account}:q{rnd.randint(0, 9)}",
        "logs": f"arn:aws:logs:us-east-1:{account}:log-group:g{rnd.randint(0, 9)}:log-stream:s",
    }[svc]


def condition(rnd: random.Random) -> dict:
    return rnd.choice(
        [
            {"StringEquals": {"aws:PrincipalTag/team": rnd.choice(["red", "blue"])}},
            {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}},
            {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com", "cloudformation.amazonaws.com"]}},
            {"ForAllValues:StringLike": {"aws:TagKeys": ["env", "team*"]}},
            {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-0123456789abcdef0"}},
            {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
            {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
            {"NumericLessThan": {"s3:max-keys": "100"}},
            {"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}},
            {"Bool": {"aws:SecureTransport": "true"}},
            {"Null": {"aws:TokenIssueTime": "false"}},
            {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}},
            {"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "Finance"}},
        ]
    )


def statement(rnd: random.Random, effect: str, principal: bool = False) -> dict:
    acts = rnd.sample(ACTIONS, rnd.randint(1, 3))
    s: dict = {"Sid": f"S{rnd.randint(0, 999)}", "Effect": effect}
    if rnd.random() < 0.1:
        s["NotAction"] = [a.split(":")[0] + ":Delete*" for a in acts]
    else:
        s["Action"] = [a if rnd.random() < 0.6 else a.split(":")[0] + ":*" for a in acts]
    s["Resource"] = rnd.choice(
        [
            "*",
            [f"arn:aws:s3:::bucket-{rnd.randint(0, 9)}/*", "arn:aws:kms:*:*:key/*"],
            ["arn:aws:*:us-east-1:111122223333:*"],
        ]
    )
    if principal:
        s["Principal"] = rnd.choice(
            [
                "*",
                {"AWS": f"arn:aws:iam::{rnd.choice(ACCOUNTS)}:root"},
                {"AWS": f"arn:aws:iam::111122223333:role/app-{rnd.randint(0, 9)}"},
                {"Service": "athena.amazonaws.com"},
            ]
        )
    for _ in range(rnd.choice([0, 1, 1, 2])):
        s.setdefault("Condition", {}).update(condition(rnd))
    return s


def policy(rnd: random.Random, n: int, principal: bool = False, deny_rate: float = 0.2) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [statement(rnd, "Deny" if rnd.random() < deny_rate else "Allow", principal) for _ in range(n)],
    }


def generate(lines: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    managed = sorted((ROOT / "tests" / "corpus" / "aws-managed-policies").glob("*.json"))
    managed_docs = [json.loads(p.read_text()) for p in rnd.sample(managed, 40)]
    managed_docs = [d.get("PolicyVersion", {}).get("Document", d) if "Statement" not in d else d for d in managed_docs]
    identity_pool = [policy(rnd, rnd.randint(1, 6)) for _ in range(300)] + managed_docs
    resource_pool = [policy(rnd, rnd.randint(1, 4), principal=True) for _ in range(100)]
    boundary_pool = [policy(rnd, 2, deny_rate=0.0) for _ in range(20)]
    scp_pool = [
        [
            [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
            [policy(rnd, 2, deny_rate=0.5)],
        ]
        for _ in range(10)
    ]
    out = []
    for i in range(lines):
        acct = rnd.choice(ACCOUNTS)
        kind = rnd.random()
        principal = (
            f"arn:aws:sts::{acct}:assumed-role/app-{rnd.randint(0, 9)}/s{i}"
            if kind < 0.6
            else f"arn:aws:iam::{acct}:user/u{rnd.randint(0, 20)}"
        )
        action = rnd.choice(ACTIONS)
        ctx: dict = {"aws:SourceIp": rnd.choice(IPS), "aws:PrincipalTag/team": rnd.choice(["red", "blue", "green"])}
        if rnd.random() < 0.4:
            ctx["aws:CalledVia"] = rnd.sample(
                ["athena.amazonaws.com", "cloudformation.amazonaws.com", "dynamodb.amazonaws.com"], rnd.randint(1, 2)
            )
        if rnd.random() < 0.3:
            ctx["aws:SourceVpce"] = "vpce-0123456789abcdef0"
        if rnd.random() < 0.5:
            ctx["aws:TagKeys"] = rnd.sample(["env", "team", "owner", "cost"], rnd.randint(0, 3))
        ctx["aws:SecureTransport"] = rnd.random() < 0.8
        ctx["aws:CurrentTime"] = "2026-11-29T10:00:00Z"
        line: dict = {
            "id": i,
            "request": {
                "principal": principal,
                "action": action,
                "resource": resource_for(action, rnd, rnd.choice(ACCOUNTS)),
                "context": ctx,
            },
            "identity_policies": rnd.sample(identity_pool, rnd.randint(1, 3)),
        }
        if rnd.random() < 0.5:
            line["resource_policy"] = rnd.choice(resource_pool)
        if rnd.random() < 0.2:
            line["permission_boundary"] = rnd.choice(boundary_pool)
        if rnd.random() < 0.3:
            line["scps"] = rnd.choice(scp_pool)
        out.append(json.dumps(line))
    return out


def _agreement(rows: list[dict], answers: Path) -> None:
    """How often the peer's decision is ours (on the lines both decided)."""
    ours = {r["id"]: r["decision"] for r in rows}
    same = differ = 0
    for line in answers.read_text().splitlines():
        got = json.loads(line)
        if got["decision"] is None or ours.get(got["id"]) is None:
            continue
        same += got["decision"] == ours[got["id"]]
        differ += got["decision"] != ours[got["id"]]
    print(f"  decisions: the peer agrees with ours on {same} lines and differs on {differ}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=2, help="alternating runs of ours and the peer's")
    ap.add_argument("--no-peer", action="store_true", help="skip the reference evaluator")
    args = ap.parse_args()
    lines = generate(args.lines, args.seed)
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    batch = outdir / "batch.jsonl"
    batch.write_text("\n".join(lines) + "\n")

    text = batch.read_text()
    for rnd in range(max(1, args.rounds)):
        mine = {}
        for workers in (1, None):
            sink = io.StringIO()
            t0 = time.perf_counter()
            n = run_batch(io.StringIO(text), sink, str(batch), workers=workers)
            dt = time.perf_counter() - t0
            mine[workers] = n / dt
            rows = [json.loads(x) for x in sink.getvalue().splitlines()]
            counts: dict = {}
            for r in rows:
                counts[r["decision"] or "error"] = counts.get(r["decision"] or "error", 0) + 1
            label = "1 process" if workers == 1 else "default workers"
            print(f"round {rnd + 1} ours ({label}): {n} requests in {dt:.2f} s = {n / dt:,.0f} decisions/s  {counts}")
        if args.no_peer:
            continue
        answers = outdir / "batch-peer.jsonl"
        peer = run_peer(batch, answers)
        print(
            f"round {rnd + 1} peer (@cloud-copilot/iam-simulate {version()}): {peer['lines'] - peer['skipped']} "
            f"simulated in {peer['seconds']:.2f} s = {peer['per_second']:,.0f}/s; skipped {peer['skipped']} "
            f"{peer['skip_reasons']}; refused by the peer {peer['errors']}"
        )
        print(
            f"round {rnd + 1} ratio ours/peer: {mine[1] / peer['per_second']:.2f}x on 1 process, "
            f"{mine[None] / peer['per_second']:.2f}x on the default workers"
        )
        _agreement(rows, answers)

    t0 = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "reasoner"), "decide", "--batch", str(batch)],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    dt_cli = time.perf_counter() - t0
    print(f"batch via CLI: {n} requests in {dt_cli:.2f} s = {n / dt_cli:,.0f} decisions/s (process start included)")

    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "reasoner"),
                "decide",
                "--case",
                str(ROOT / "cases" / "athena-vpce"),
                "--question",
                "s3-getobject-via-athena",
            ],
            stdout=subprocess.DEVNULL,
            check=True,
        )
        runs.append(time.perf_counter() - t0)
    print(f"one `reasoner decide` call (seed case question): median {sorted(runs)[2]:.2f} s wall over 5 runs")


if __name__ == "__main__":
    main()
