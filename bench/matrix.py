"""Benchmark: the access matrix (`reasoner matrix`) on a generated account against the same
requests sent one by one to the reference open evaluator (@cloud-copilot/iam-simulate, installed
on demand under bench/peer/).

    .venv/bin/python bench/matrix.py                       # 1,000 principals x 50 actions x 100 resources
    .venv/bin/python bench/matrix.py --principals 200      # scaled down: 200 x 50 x 100
    .venv/bin/python bench/matrix.py --quick               # 40 x 50 x 100, a 500-cell peer sample

The account is bench/gen_account.py's (--roles roles, 500 buckets, seed 0). Principals are its
first N principals (roles and users, sorted by ARN); the 50 actions span the services the account
uses (S3, DynamoDB, KMS, STS, IAM, EC2, Lambda, ...); the 100 resources are 40 objects in 40
buckets, 10 buckets, 15 tables, 10 KMS keys and 25 roles. Every cell is decided (a cell whose
action has no such resource type is decided too: AWS would answer it).

The peer cannot be run on millions of cells in a sensible time: it evaluates a random sample of
the cells (--peer-sample), one request per call with the layers `decide --snapshot` gives the cell,
in the same run, and its time for the whole matrix is projected from its per-request time on the
sample (the requests it refuses, such as a resource type the action does not have, are timed too).
The same sample is checked against our single decisions. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "bench" / "peer"))

import gen_account  # noqa: E402
from peer import run_peer, version  # noqa: E402

from reasoner.account.matrix import access_matrix, snapshot_input  # noqa: E402
from reasoner.account.model import SnapshotUnknown  # noqa: E402
from reasoner.account.snapshot import load_snapshot  # noqa: E402
from reasoner.engine.decide import decide_many  # noqa: E402
from reasoner.search.witness import batch_line  # noqa: E402

ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObjectTagging",
    "s3:PutObjectAcl",
    "s3:ListBucket",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucket",
    "s3:GetBucketLocation",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",
    "dynamodb:DescribeTable",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:CreateGrant",
    "kms:DescribeKey",
    "kms:ScheduleKeyDeletion",
    "sts:AssumeRole",
    "sts:TagSession",
    "iam:PassRole",
    "iam:GetRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:ListRoles",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "lambda:UpdateFunctionCode",
    "athena:StartQueryExecution",
    "glue:GetTable",
    "logs:PutLogEvents",
    "sqs:SendMessage",
    "sns:Publish",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "cloudformation:CreateStack",
    "cloudwatch:PutMetricData",
    "ecr:GetAuthorizationToken",
    "sts:GetCallerIdentity",
]


def resources(snap, n_principals: int) -> list[str]:
    roles = sorted(a for a, e in snap.principals.items() if e.kind == "role")
    return (
        [gen_account.object_arn(i * 7) for i in range(40)]
        + [gen_account.bucket_arn(i * 11) for i in range(10)]
        + [gen_account.table_arn(i * 3) for i in range(15)]
        + [gen_account.key_arn(i * 2) for i in range(10)]
        + roles[:: max(1, len(roles) // 25)][:25]
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the matrix's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--roles", type=int, default=1000, help="roles of the generated account")
    ap.add_argument("--principals", type=int, default=1000)
    ap.add_argument("--peer-sample", type=int, default=2000, help="cells sent to the peer, one by one")
    ap.add_argument("--workers", type=int, default=None, help="processes for the matrix (default: up to 2)")
    ap.add_argument("--quick", action="store_true", help="40 principals of a 100-role account, 500 peer cells")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.quick:
        args.roles, args.principals, args.peer_sample = 100, 40, 500
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    acct = out / f"account-{args.roles}.json"
    acct.write_text(json.dumps(gen_account.generate(args.roles, seed=args.seed)))
    snap = load_snapshot(acct)
    principals = sorted(a for a, e in snap.principals.items() if e.kind != "federated")[: args.principals]
    res = resources(snap, len(principals))
    cells = len(principals) * len(ACTIONS) * len(res)
    print(
        f"# matrix bench {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; account {acct.name} ({len(snap.principals)} principals)"
    )
    print(f"{len(principals)} principals x {len(ACTIONS)} actions x {len(res)} resources = {cells:,} cells")

    t0, c0 = time.perf_counter(), _cpu()
    m = access_matrix(snap, principals, ACTIONS, res, workers=args.workers)
    ours, ours_cpu = time.perf_counter() - t0, _cpu() - c0
    print(
        f"ours: {ours:.1f} s wall, {ours_cpu:.1f} s CPU (all processes) = {cells / ours:,.0f} cells/s; "
        f"{m.requests_decided:,} distinct requests grounded ({cells / max(1, m.requests_decided):.1f} cells each); "
        f"{m.counts()}"
    )

    rnd = random.Random(args.seed)
    sample = [
        (rnd.randrange(len(principals)), rnd.randrange(len(ACTIONS)), rnd.randrange(len(res)))
        for _ in range(args.peer_sample)
    ]
    inputs, where = [], []
    for p, a, r in sample:
        try:
            inputs.append(snapshot_input(snap, principals[p], ACTIONS[a], res[r]))
            where.append((p, a, r))
        except SnapshotUnknown:
            pass  # neither we nor the peer decide it
    single = decide_many(inputs)
    same = sum(
        {k: v for k, v in d.to_json_obj(with_mismatches=False).items() if k != "id"} == m.answer(*cell)
        for d, cell in zip(single, where)
    )
    print(f"sample: {same} of {len(where)} cells equal to single decisions")
    batch = out / "matrix-sample.jsonl"
    with batch.open("w") as f:
        for i, inp in enumerate(inputs):
            f.write(json.dumps({"id": i, **batch_line(inp)}) + "\n")
    peer = run_peer(batch, out / "matrix-sample-peer.jsonl")
    simulated = max(1, peer["lines"] - peer["skipped"])
    per_request = peer["seconds"] / simulated
    projected = per_request * cells
    projected_cpu = peer["cpu_seconds"] / simulated * cells
    print(
        f"peer (@cloud-copilot/iam-simulate {version()}): {peer['lines'] - peer['skipped']} sample cells one by one "
        f"in {peer['seconds']:.2f} s = {1 / per_request:,.0f}/s (refused {peer['errors']}, skipped {peer['skipped']} "
        f"{peer['skip_reasons']}); projected for the {cells:,} cells: {projected:,.0f} s wall, "
        f"{projected_cpu:,.0f} s CPU"
    )
    print(
        f"ratio: the matrix is {projected / ours:.1f}x faster than the peer one by one in wall time, "
        f"{projected_cpu / ours_cpu:.1f}x in CPU time"
    )


if __name__ == "__main__":
    main()
