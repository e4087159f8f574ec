"""Resource classes with policy variables (reasoner/account/classes.py, `resource_class`): a
Resource / NotResource entry with a policy variable matches as the variable's value fills it (IAM
User Guide, "IAM policy elements: Variables and tags": the value from the request context, else the
default, else the entry matches nothing). When the request space fixes every such value (the
caller's principal tags, present or absent), the filled pattern classes resources like any other;
a variable the context leaves open, or one derived from the caller (aws:username), leaves each
resource in a class of its own. Checked against the concrete decider on small random accounts."""

from __future__ import annotations

import datetime as dt
import json
from itertools import combinations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from snapshot_builders import A, role, snapshot, trust

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import resource_class
from reasoner.account.concrete import plain_input
from reasoner.account.hops import HopCheck
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
ROLE = f"arn:aws:iam::{A}:role/"
TARGETS = ["a-1", "a-2", "b-1", "x-1", "x-2", "c", "team-a"]
RESOURCES = [
    ROLE + "${aws:PrincipalTag/team}-*",
    ROLE + "${aws:PrincipalTag/team, 'x'}-*",
    ROLE + "team-${aws:PrincipalTag/team}",
    ROLE + "${aws:PrincipalTag/cost}*",
    ROLE + "${aws:SourceVpce}",  # a key the context leaves open: no class
    ROLE + "${aws:username}-*",  # derived from the caller: no class
    ROLE + "a-*",
    ROLE + "*",
    "*",
]
CONDITIONS = [None, None, {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}]
CONTEXTS = [{}, {"iam:PassedToService": "ec2.amazonaws.com"}, {"iam:PassedToService": "glue.amazonaws.com"}]


def statements():
    return st.builds(
        lambda effect, resources, negated, condition: {
            "Effect": effect,
            "Action": "iam:PassRole",
            ("NotResource" if negated else "Resource"): resources,
            **({"Condition": condition} if condition else {}),
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2),
        st.sampled_from([False, False, False, True]),
        st.sampled_from(CONDITIONS),
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    policy=st.lists(statements(), min_size=1, max_size=3),
    tags=st.fixed_dictionaries({"team": st.sampled_from(["a", "b", None]), "cost": st.sampled_from(["x", None])}),
    version=st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17"]),
)
def test_resources_of_one_class_have_the_same_decision(policy, tags, version, tmp_path):
    doc = {"Version": version, "Statement": policy}
    caller = role("caller", trust({"AWS": A}), [doc], tags={k: v for k, v in tags.items() if v is not None})
    targets = [role(n, trust({"Service": "ec2.amazonaws.com"})) for n in TARGETS]
    snap = load_snapshot(snapshot(tmp_path, roles=[caller, *targets]))
    auth = Authorizer(snap, NOW)
    who = snap.entity(ROLE + "caller")
    queries = {n: auth.query(HopCheck(who, "iam:PassRole", ROLE + n, target=True)) for n in TARGETS}
    classes = {n: resource_class(q) for n, q in queries.items()}
    same = [(x, y) for x, y in combinations(TARGETS, 2) if classes[x] is not None and classes[x] == classes[y]]
    event(f"pairs in one class: {min(len(same), 5)}")

    def decisions(n: str) -> list[str | None]:
        return [d.decision for d in decide_many([plain_input(queries[n], dict(c)) for c in CONTEXTS])]

    for x, y in same:
        assert decisions(x) == decisions(y), (x, y, json.dumps(doc), tags)


def test_a_principal_tag_variable_classes_roles_by_the_filled_pattern(tmp_path):
    """${aws:PrincipalTag/team} is the caller's tag 'a': a-1 and a-2 match the filled pattern
    alike, b-1 does not; without the tag the entry matches nothing, so every role is alike."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE + "${aws:PrincipalTag/team}-*"}],
    }
    targets = [role(n, trust({"Service": "ec2.amazonaws.com"})) for n in TARGETS]
    for tags, alike, apart in (({"team": "a"}, ("a-1", "a-2"), "b-1"), ({}, ("a-1", "b-1"), None)):
        callers = [role("caller", trust({"AWS": A}), [doc], tags=tags)]
        snap = load_snapshot(snapshot(tmp_path, roles=callers + targets))
        auth = Authorizer(snap, NOW)
        who = snap.entity(ROLE + "caller")

        def cls(n, auth=auth, who=who):
            return resource_class(auth.query(HopCheck(who, "iam:PassRole", ROLE + n, target=True)))

        assert cls(alike[0]) is not None and cls(alike[0]) == cls(alike[1])
        if apart:
            assert cls(alike[0]) != cls(apart)
