"""Resource classes across resource policies (reasoner/account/classes.py, `resource_policy_key`):
a resource policy's statement whose Principal element names neither the caller nor everyone
cannot apply to the caller's request (IAM User Guide, "AWS JSON policy elements: Principal";
encodings/match/principal.lp matches entries by equality with the request's names). Two resources
whose policies differ only in such statements are alike for that caller: one class, the same
decision in every context. Checked against the concrete decider on KMS keys with random key
policies; and the authorizer answers a later key of a class from the first (check_many), its
witness allowed by the decider."""

from __future__ import annotations

import datetime as dt
import json
from itertools import combinations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from snapshot_builders import A, allow, snapshot, user

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import resource_class
from reasoner.account.concrete import plain_input
from reasoner.account.hops import HopCheck
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
USER = f"arn:aws:iam::{A}:user/"
KEYS = [f"arn:aws:kms:us-east-1:{A}:key/{n}" for n in ("k0", "k1", "k2", "k3")]
PRINCIPALS = [
    {"AWS": USER + "caller"},
    {"AWS": USER + "other"},
    {"AWS": [USER + "other", USER + "third"]},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": "222222222222"},
    "*",
    {"Service": "ec2.amazonaws.com"},
]
CONDITIONS = [None, None, {"Bool": {"aws:SecureTransport": "true"}}, {"StringEquals": {"aws:SourceVpce": "vpce-1"}}]
CONTEXTS = [{}, {"aws:SecureTransport": "false"}, {"aws:SourceVpce": "vpce-1"}, {"aws:SourceVpce": "vpce-2"}]


def statements():
    return st.builds(
        lambda effect, principal, negated, condition: {
            "Effect": effect,
            ("NotPrincipal" if negated else "Principal"): principal,
            "Action": "kms:Decrypt",
            "Resource": "*",
            **({"Condition": condition} if condition else {}),
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.sampled_from(PRINCIPALS),
        st.sampled_from([False, False, False, True]),
        st.sampled_from(CONDITIONS),
    )


def _snapshot(tmp_path, identity, key_policies):
    users = [user("caller", identity), user("other"), user("third")]
    policies = {
        "resource_policies": [
            {"Resource": arn, "Account": A, "Policy": {"Version": "2012-10-17", "Statement": doc}}
            for arn, doc in zip(KEYS, key_policies)
        ]
    }
    return load_snapshot(snapshot(tmp_path, users=users, **policies))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    identity=st.sampled_from([[allow("kms:Decrypt")], [allow("kms:Decrypt", KEYS[0])], []]),
    key_policies=st.lists(st.lists(statements(), min_size=1, max_size=3), min_size=4, max_size=4),
)
def test_keys_of_one_class_have_the_same_decision(identity, key_policies, tmp_path):
    snap = _snapshot(tmp_path, identity, key_policies)
    auth = Authorizer(snap, NOW)
    who = snap.entity(USER + "caller")
    queries = {k: auth.query(HopCheck(who, "kms:Decrypt", k, target=True)) for k in KEYS}
    classes = {k: resource_class(q) for k, q in queries.items()}
    same = [(x, y) for x, y in combinations(KEYS, 2) if classes[x] is not None and classes[x] == classes[y]]
    event(f"pairs in one class: {min(len(same), 3)}")
    if any(x != y for x, y in combinations([json.dumps(p) for p in key_policies], 2)):
        event("policies differ")

    def decisions(k: str) -> list[str | None]:
        return [d.decision for d in decide_many([plain_input(queries[k], dict(c)) for c in CONTEXTS])]

    for x, y in same:
        assert decisions(x) == decisions(y), (x, y, json.dumps(key_policies), identity)


def test_keys_whose_policies_name_others_are_answered_once(tmp_path):
    # The caller may decrypt with a request tag. Each key policy lets the account's identity
    # policies decide (a KMS key policy must: AWS KMS, "Default key policy") and grants someone
    # else; one denies the caller itself.
    identity = [allow("kms:Decrypt", "*", {"StringEquals": {"aws:RequestTag/project": "blue"}})]
    account = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*", "Resource": "*"}
    grant_other = [
        account,
        {"Effect": "Allow", "Principal": {"AWS": USER + "other"}, "Action": "kms:*", "Resource": "*"},
    ]
    grant_third = [
        account,
        {"Effect": "Allow", "Principal": {"AWS": USER + "third"}, "Action": "kms:*", "Resource": "*"},
    ]
    deny_caller = [{"Effect": "Deny", "Principal": {"AWS": USER + "caller"}, "Action": "kms:*", "Resource": "*"}]
    snap = _snapshot(tmp_path, identity, [grant_other, grant_third, grant_other + deny_caller, grant_third])
    auth = Authorizer(snap, NOW)
    who = snap.entity(USER + "caller")

    def ask(*keys):
        return auth.check_many([HopCheck(who, "kms:Decrypt", k, target=True) for k in keys])

    (first,) = ask(KEYS[0])
    assert first.outcome == "possible"
    before = (auth.stats.searches, auth.stats.plain_decisions)
    second, fourth = ask(KEYS[1], KEYS[3])
    # From the first key's answer: no search, one decision each (its witness on the key, allowed)
    assert (auth.stats.searches, auth.stats.plain_decisions) == (before[0], before[1] + 2)
    assert second.outcome == fourth.outcome == "possible"
    assert second.possible_hop.resource == KEYS[1] and fourth.possible_hop.resource == KEYS[3]
    (d,) = decide_many([decide_input_from_obj(second.possible_hop.witness)])
    assert d.decision == "allow"
    # The policy that denies the caller is not of the class: asked on its own.
    (denied,) = ask(KEYS[2])
    assert denied.outcome == "impossible"
