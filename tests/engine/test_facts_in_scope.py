"""Only the facts in scope: a grounding that receives only the statements whose Action / NotAction
covers one of its requests' actions (reasoner/policy/coverage.py) and the context values of the
keys those statements read decides exactly as one that receives every fact (hypothesis, random
batches of requests over shared policies). And the batch reader's cheap bound check never lets
through a line check_tree would refuse."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.batch import MAX_DEPTH, plainly_bounded
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.document import check_tree, json_loads, parse_policy
from reasoner.policy.request import DecideInput, NamedPolicy, Request

A = "111122223333"
ACTIONS = ["s3:GetObject", "s3:PutObject", "kms:Decrypt", "sts:AssumeRole", "iam:PassRole", "ec2:RunInstances"]
PATTERNS = ["s3:GetObject", "s3:*", "kms:*", "*", "s3:Put*", "iam:PassRole", "sts:AssumeRole"]
RESOURCES = [
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/${aws:username}",
    "*",
    f"arn:aws:kms:us-east-1:{A}:key/k",
    "arn:aws:iam::*:role/*",
]
CONDITIONS = [
    None,
    {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    {"StringLike": {"aws:username": "u*"}},
    {"Null": {"aws:SourceVpce": "true"}},
    {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringNotEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}},
]


@st.composite
def statement(draw, principal: bool = False) -> dict:
    key = "NotAction" if draw(st.integers(0, 4)) == 0 else "Action"
    s = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        key: draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True)),
        "Resource": draw(st.sampled_from(RESOURCES)),
    }
    cond = draw(st.sampled_from(CONDITIONS))
    if cond:
        s["Condition"] = cond
    if principal:
        s["Principal"] = draw(st.sampled_from(["*", {"AWS": A}, {"AWS": f"arn:aws:iam::{A}:user/u1"}]))
    return s


def policies(principal: bool = False):
    return st.lists(
        st.lists(statement(principal), min_size=1, max_size=4).map(
            lambda stmts: parse_policy({"Version": "2012-10-17", "Statement": stmts})
        ),
        min_size=1,
        max_size=3,
    )


context = st.fixed_dictionaries(
    {},
    optional={
        "aws:PrincipalTag/team": st.sampled_from(["red", "blue"]),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        "aws:CalledVia": st.just(["athena.amazonaws.com"]),
        "aws:SourceVpce": st.just("vpce-1"),
        "aws:RequestedRegion": st.sampled_from(["us-east-1", "eu-west-1"]),
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    identity=policies(),
    resource=policies(principal=True),
    asks=st.lists(
        st.tuples(
            st.sampled_from(
                [f"arn:aws:iam::{A}:user/u1", f"arn:aws:sts::{A}:assumed-role/r/s", "arn:aws:iam::999999999999:user/x"]
            ),
            st.sampled_from(ACTIONS),
            st.sampled_from(
                [
                    "arn:aws:s3:::b/k",
                    "arn:aws:s3:::b/u1",
                    f"arn:aws:kms:us-east-1:{A}:key/k",
                    f"arn:aws:iam::{A}:role/r",
                ]
            ),
            context,
            st.integers(0, 7),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_filtered_facts_decide_as_every_fact(identity, resource, asks):
    inputs = []
    for principal, action, res, ctx, pick in asks:
        inputs.append(
            DecideInput(
                request=Request(principal=principal, action=action, resource=res, resource_account=A, context=ctx),
                identity_policies=[NamedPolicy(f"id{i}", p) for i, p in enumerate(identity) if pick & (1 << i)],
                resource_policy=NamedPolicy("rp", resource[pick % len(resource)]) if pick % 3 else None,
            )
        )
    filtered = decide_many(inputs, in_scope_only=True)
    every = decide_many(inputs, in_scope_only=False)
    assert [d.model_dump() for d in filtered] == [d.model_dump() for d in every]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300)
@given(json_values, st.integers(0, MAX_DEPTH + 3))
def test_cheap_bound_check_passes_only_what_check_tree_passes(value, nesting):
    for _ in range(nesting):
        value = [value]
    data = json.dumps(value).encode()
    if plainly_bounded(data):
        check_tree(json_loads(data), source="x")  # must not raise
    try:
        check_tree(json_loads(data), source="x")
    except InputError:
        assert not plainly_bounded(data)
