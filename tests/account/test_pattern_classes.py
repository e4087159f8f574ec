"""Classes of resource patterns (reasoner/account/classes.py, `pattern_class`): two requests that
differ only in their pattern (`arn:aws:s3:::b1/*` and `arn:aws:s3:::b2/*`) have the same answer in
every context when each statement that can apply names every ARN of both patterns or none of
either (IAM User Guide, "IAM JSON policy elements: Resource"); a resource policy's statements that
name neither the caller nor everyone do not count. Checked against the search (`can`: possible or
impossible) on random identity and bucket policies; and the authorizer answers a later pattern of
a class from the first (check_many), its witness allowed by the decider."""

from __future__ import annotations

import datetime as dt
import json
from itertools import combinations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from snapshot_builders import A, allow, snapshot, user

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import pattern_class
from reasoner.account.hops import HopCheck
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj
from reasoner.search.can import can

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
USER = f"arn:aws:iam::{A}:user/"
BUCKETS = ["b1", "b2", "b3"]


def pattern(b: str) -> str:
    return f"arn:aws:s3:::{b}/*"


# every ARN of a pattern ('*', 'b*', b1's own), none, or some: of every bucket ('*/logs/*'), of one
IDENTITY_RESOURCES = [
    "*",
    "arn:aws:s3:::b1/*",
    "arn:aws:s3:::b*",
    "arn:aws:s3:::*/logs/*",
    "arn:aws:s3:::b1/logs/*",
    "arn:aws:s3:::other/*",
]
CONDITIONS = [None, None, {"Bool": {"aws:SecureTransport": "true"}}, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}]
PRINCIPALS = [{"AWS": USER + "caller"}, {"AWS": USER + "other"}, {"AWS": A}, "*"]


def identity_statements():
    return st.builds(
        lambda effect, resources, condition: {
            "Effect": effect,
            "Action": "s3:GetObject",
            "Resource": resources,
            **({"Condition": condition} if condition else {}),
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.lists(st.sampled_from(IDENTITY_RESOURCES), min_size=1, max_size=2),
        st.sampled_from(CONDITIONS),
    )


def bucket_statements():
    # "own": the bucket's own objects (names every ARN of its pattern); "*"; another bucket's;
    # "logs": some of the bucket's own objects
    return st.tuples(
        st.sampled_from(["Allow", "Deny"]),
        st.sampled_from(PRINCIPALS),
        st.sampled_from(["own", "*", "other", "logs"]),
        st.sampled_from(CONDITIONS),
    )


def _bucket_policy(b: str, statements) -> dict:
    resource = {"own": pattern(b), "*": "*", "other": "arn:aws:s3:::other/*", "logs": f"arn:aws:s3:::{b}/logs/*"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Principal": principal,
                "Action": "s3:GetObject",
                "Resource": resource[which],
                **({"Condition": condition} if condition else {}),
            }
            for effect, principal, which, condition in statements
        ],
    }


def _authorizer(tmp_path, identity, bucket_policies):
    users = [user("caller", [{"Version": "2012-10-17", "Statement": identity}]), user("other")]
    policies = [
        {"Resource": f"arn:aws:s3:::{b}", "Account": A, "Policy": _bucket_policy(b, sts)}
        for b, sts in zip(BUCKETS, bucket_policies)
    ]
    snap = load_snapshot(snapshot(tmp_path, users=users, resource_policies=policies))
    return snap, Authorizer(snap, NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    identity=st.lists(identity_statements(), min_size=1, max_size=3),
    bucket_policies=st.lists(st.lists(bucket_statements(), min_size=1, max_size=2), min_size=3, max_size=3),
)
def test_patterns_of_one_class_have_the_same_answer(identity, bucket_policies, tmp_path):
    snap, auth = _authorizer(tmp_path, identity, bucket_policies)
    who = snap.entity(USER + "caller")
    queries = {b: auth.query(HopCheck(who, "s3:GetObject", pattern(b), target=True)) for b in BUCKETS}
    classes = {b: pattern_class(q) for b, q in queries.items()}
    same = [(x, y) for x, y in combinations(BUCKETS, 2) if classes[x] is not None and classes[x] == classes[y]]
    event(f"pairs in one class: {len(same)}")
    answers = {b: can(queries[b]).answer for b in {b for pair in same for b in pair}}
    for x, y in same:
        assert answers[x] == answers[y], (x, y, json.dumps(identity), json.dumps(bucket_policies))


def test_buckets_whose_policies_name_others_are_answered_once(tmp_path):
    # The caller reads any object over TLS; every bucket denies insecure transport to everyone
    # (a statement naming the bucket's own objects) and grants someone else.
    identity = [allow("s3:GetObject", "*", {"Bool": {"aws:SecureTransport": "true"}})["Statement"][0]]
    policies = [
        [("Deny", "*", "own", {"Bool": {"aws:SecureTransport": "false"}}), ("Allow", PRINCIPALS[1], "own", None)]
    ]
    snap, auth = _authorizer(tmp_path, identity, policies * 3)
    who = snap.entity(USER + "caller")
    (first,) = auth.check_many([HopCheck(who, "s3:GetObject", pattern("b1"), target=True)])
    assert first.outcome == "possible"
    before = (auth.stats.searches, auth.stats.plain_decisions)
    second, third = auth.check_many([HopCheck(who, "s3:GetObject", pattern(b), target=True) for b in BUCKETS[1:]])
    assert (auth.stats.searches, auth.stats.plain_decisions) == (before[0], before[1] + 2)
    assert second.outcome == third.outcome == "possible"
    assert second.possible_hop.resource.startswith("arn:aws:s3:::b2/")
    (d,) = decide_many([decide_input_from_obj(second.possible_hop.witness)])
    assert d.decision == "allow"


def test_a_pattern_a_statement_names_in_part_is_a_class_of_its_own(tmp_path):
    # Allow on b1's logs only: some ARNs of b1/* and none of b2/* or b3/*. b2 and b3 are alike
    # (impossible both), b1 is not (possible): it must not join their class.
    identity = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b1/logs/*"]}]
    snap, auth = _authorizer(tmp_path, identity, [[("Deny", "*", "other", None)]] * 3)
    who = snap.entity(USER + "caller")
    queries = {b: auth.query(HopCheck(who, "s3:GetObject", pattern(b), target=True)) for b in BUCKETS}
    assert pattern_class(queries["b1"]) is None
    assert pattern_class(queries["b2"]) is not None and pattern_class(queries["b2"]) == pattern_class(queries["b3"])
    assert [can(queries[b]).answer for b in BUCKETS] == ["possible", "impossible", "impossible"]
    checks = [HopCheck(who, "s3:GetObject", pattern(b), target=True) for b in ("b2", "b1", "b3")]
    assert [r.outcome for r in auth.check_many(checks)] == ["impossible", "possible", "impossible"]


def test_a_wildcard_before_the_resource_field_is_not_taken_to_name_every_arn(tmp_path):
    # 'arn:aws:s3:*' has its wildcard in the region field, where it does not cross a ':' in ARN
    # matching: it is not read as naming every object of a bucket (the pattern stays alone).
    identity = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:*"]}]
    snap, auth = _authorizer(tmp_path, identity, [[("Deny", "*", "other", None)]] * 3)
    who = snap.entity(USER + "caller")
    assert pattern_class(auth.query(HopCheck(who, "s3:GetObject", pattern("b1"), target=True))) is None
