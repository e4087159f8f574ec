"""Benchmark: how often a random small `can` question is answered `unknown` because its resource
pattern leaves the resource's account open (arn:aws:iam::*:role/X), and what the others answer.

Questions are drawn from a fixed seed: a principal (a user, a role, a session, the root user, of
the home account 111122223333 or of 444455556666), one identity policy of 1-3 statements and, half
the time, a resource policy of 1-2 statements, over a few services (S3, IAM, KMS, DynamoDB, STS),
with Resource patterns and aws:ResourceAccount conditions that name accounts or leave them open;
the question's resource is drawn from the same kind of patterns. Prints the answer counts, the
unknown reasons (first 60 characters), the fraction unknown because the account is open, and the
time per question. For the questions whose pattern leaves the account open, the baseline is the
old workaround measured in the same run: the same question with --resource-account fixed to the
principal's account (one account instead of the searched ones); the ratio is printed. Asserts
nothing.

    .venv/bin/python bench/can_account_open.py [--n 400] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reasoner.policy.document import parse_policy  # noqa: E402
from reasoner.policy.principals import parse_principal  # noqa: E402
from reasoner.policy.request import NamedPolicy  # noqa: E402
from reasoner.search.can import Query, can  # noqa: E402
from reasoner.search.resources import account_dimension  # noqa: E402

HOME, OTHER = "111122223333", "444455556666"
PRINCIPALS = [
    f"arn:aws:iam::{HOME}:user/alice",
    f"arn:aws:iam::{HOME}:role/app",
    f"arn:aws:sts::{HOME}:assumed-role/app/s",
    HOME,
    f"arn:aws:iam::{OTHER}:user/bob",
]
ACTIONS = ["s3:GetObject", "s3:Get*", "iam:GetRole", "iam:*", "kms:Decrypt", "dynamodb:GetItem", "sts:AssumeRole"]
RESOURCES = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::*",
    f"arn:aws:iam::{HOME}:role/*",
    "arn:aws:iam::*:role/X",
    f"arn:aws:kms:us-east-1:{HOME}:key/*",
    "arn:aws:kms:*:*:key/*",
    f"arn:aws:dynamodb:us-east-1:{HOME}:table/t",
    "arn:aws:dynamodb:us-east-1:*:table/*",
    f"arn:aws:iam::{OTHER}:role/X",
    "arn:aws:iam::*:user/*",
    f"arn:aws:s3:::b/{HOME}/*",
]
# The question's resource: mostly patterns that fix the account, as real questions do.
QUERY_RESOURCES = [
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::*",
    f"arn:aws:iam::{HOME}:role/*",
    f"arn:aws:iam::{HOME}:role/X",
    f"arn:aws:kms:us-east-1:{HOME}:key/*",
    f"arn:aws:dynamodb:us-east-1:{HOME}:table/*",
    f"arn:aws:iam::{OTHER}:role/X",
    f"arn:aws:kms:us-east-1:{OTHER}:key/k",
    "arn:aws:s3:::b/x",
    f"arn:aws:iam::{HOME}:user/*",
    "arn:aws:iam::*:role/X",
    f"arn:aws:dynamodb:us-east-1:{HOME}:table/t",
    f"arn:aws:iam::{HOME}:role/app",
    f"arn:aws:kms:us-east-1:{HOME}:key/k",
    "arn:aws:s3:::b/a/*",
    f"arn:aws:iam::{OTHER}:user/*",
]


def _statement(rnd: random.Random, principal: bool) -> dict:
    s: dict = {
        "Effect": "Allow" if rnd.random() < 0.8 else "Deny",
        "Action": rnd.sample(ACTIONS, rnd.randint(1, 2)),
        "Resource": rnd.sample(RESOURCES, rnd.randint(1, 2)),
    }
    if principal:
        s["Principal"] = rnd.choice(
            [{"AWS": HOME}, {"AWS": OTHER}, {"AWS": "*"}, {"AWS": f"arn:aws:iam::{OTHER}:root"}]
        )
    if rnd.random() < 0.25:
        op = rnd.choice(["StringEquals", "StringNotEquals", "StringLike"])
        s["Condition"] = {op: {"aws:ResourceAccount": rnd.choice([HOME, OTHER, "*"])}}
    return s


def question(rnd: random.Random) -> Query:
    identity = [_statement(rnd, False) for _ in range(rnd.randint(1, 3))]
    resource = [_statement(rnd, True) for _ in range(rnd.randint(1, 2))] if rnd.random() < 0.5 else None
    pol = NamedPolicy("identity.json", parse_policy({"Version": "2012-10-17", "Statement": identity}))
    rp = (
        NamedPolicy("resource.json", parse_policy({"Version": "2012-10-17", "Statement": resource}))
        if resource
        else None
    )
    return Query(
        principal=rnd.choice(PRINCIPALS),
        action=rnd.choice(ACTIONS),
        resource=rnd.choice(QUERY_RESOURCES if rnd.random() < 0.85 else RESOURCES),
        identity_policies=[pol],
        resource_policy=rp,
        now=1_800_000_000,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    answers: collections.Counter = collections.Counter()
    reasons: collections.Counter = collections.Counter()
    times = []
    open_times, fixed_times = [], []
    for _ in range(args.n):
        q = question(rnd)
        t = time.perf_counter()
        a = can(q)
        times.append(time.perf_counter() - t)
        if account_dimension(q, parse_principal(q.principal)) is not None:
            open_times.append(times[-1])
            t = time.perf_counter()
            can(dataclasses.replace(q, resource_account=parse_principal(q.principal).account))
            fixed_times.append(time.perf_counter() - t)
        answers[a.answer] += 1
        if a.answer == "unknown":
            reasons[(a.reason or "")[:60]] += 1
    open_account = sum(n for r, n in reasons.items() if "account open" in r)
    print(f"questions: {args.n} (seed {args.seed})")
    print("answers:", dict(sorted(answers.items())))
    for r, n in reasons.most_common():
        print(f"  unknown x{n}: {r}")
    print(f"unknown because the resource account is open: {open_account}/{args.n} = {open_account / args.n:.3f}")
    times.sort()
    p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
    print(f"time per question: p50 {p50:.0f} ms, p99 {p99:.0f} ms, total {sum(times):.1f} s")
    if open_times:
        ratio = sum(open_times) / max(sum(fixed_times), 1e-9)
        print(
            f"open-account questions: {len(open_times)}, searched over accounts {sum(open_times):.2f} s, "
            f"with the account fixed (baseline) {sum(fixed_times):.2f} s, ratio {ratio:.2f}x"
        )


if __name__ == "__main__":
    main()
