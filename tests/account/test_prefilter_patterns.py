"""`identity_allow_patterns` (reasoner/account/prefilters.py) is `may_allow_identity` for many
concrete ARNs at once: an allow needs an Allow statement whose Action and Resource can match (IAM
User Guide, "Policy evaluation logic": no Allow statement that applies, implicit deny). privesc
and the trust graph use it to skip targets; the two must agree on every concrete ARN."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshot_builders import A, role, snapshot, trust

from reasoner.account.prefilters import allowed_by_patterns, identity_allow_patterns, may_allow_identity
from reasoner.account.snapshot import load_snapshot

ROLE = f"arn:aws:iam::{A}:role/"
ACTIONS = ["iam:PassRole", "iam:*", "iam:Put*", "sts:AssumeRole", "s3:GetObject", "*"]
RESOURCES = [
    "*",
    ROLE + "app-*",
    ROLE + "app-1",
    ROLE + "db-?",
    f"arn:aws:iam::{A}:*",
    "arn:aws:iam::*:role/*",
    ROLE + "${aws:username}",
    f"arn:aws:iam::{A}:user/*",
    "arn:aws:s3:::b/*",
]
ARNS = [ROLE + "app-1", ROLE + "app-22", ROLE + "db-1", ROLE + "db-12", f"arn:aws:iam::{A}:user/u", "arn:aws:s3:::b/k"]


def statements():
    return st.builds(
        lambda effect, action, resources, negated: {
            "Effect": effect,
            ("NotAction" if action == "s3:GetObject" else "Action"): action,
            ("NotResource" if negated else "Resource"): resources,
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.sampled_from(ACTIONS),
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=3),
        st.sampled_from([False, False, False, True]),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policies=st.lists(st.lists(statements(), min_size=1, max_size=3), max_size=3))
def test_identity_allow_patterns_agree_with_may_allow_identity(policies, tmp_path):
    docs = [{"Version": "2012-10-17", "Statement": p} for p in policies]
    snap = load_snapshot(snapshot(tmp_path, roles=[role("caller", trust({"AWS": A}), docs)]))
    e = snap.entity(ROLE + "caller")
    for action in ("iam:PassRole", "sts:AssumeRole", "iam:PutRolePolicy"):
        pats = identity_allow_patterns(e, action)
        for arn in ARNS:
            assert allowed_by_patterns(pats, arn) == may_allow_identity(e, action, arn), (action, arn, pats)
