"""who-can's backward search over escalation edges agrees with reach's forward one (issue 10 item
13, issue 14): on small random accounts where principals grant policies to each other, create
access keys, rewrite trust policies and assume roles, a principal is in who-can's answer exactly
when reach from it finds a path, and every hop of every path is a request the concrete decider
allows.

who-can looks for a grant's chain to its target only through principals not already found
(PathFinder._escalate_backward): a chain through a found principal gives the granter that
principal's path instead. reach follows every chain forward, so the two must still agree on who."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshot_builders import A, allow, role, snapshot, trust, user

from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj

OBJECT = "arn:aws:s3:::b/k"
USERS = ["u0", "u1"]
ROLES = ["r0", "r1", "r2"]
NAMES = USERS + ROLES


def arn(name: str) -> str:
    kind = "user" if name in USERS else "role"
    return f"arn:aws:iam::{A}:{kind}/{name}"


# What a principal may be allowed: the request itself, or an escalation onto another principal.
ability = st.one_of(
    st.just(("s3:GetObject", None)),
    st.tuples(st.just("iam:PutUserPolicy"), st.sampled_from(USERS)),
    st.tuples(st.just("iam:PutRolePolicy"), st.sampled_from(ROLES)),
    st.tuples(st.just("iam:CreateAccessKey"), st.sampled_from(USERS)),
    st.tuples(st.just("iam:UpdateAssumeRolePolicy"), st.sampled_from(ROLES)),
    st.tuples(st.just("sts:AssumeRole"), st.sampled_from(ROLES)),
)
account = st.fixed_dictionaries(
    {
        "abilities": st.fixed_dictionaries({n: st.lists(ability, max_size=3, unique=True) for n in NAMES}),
        # who each role's trust policy names (an empty list: it trusts nobody in the account)
        "trusted": st.fixed_dictionaries({r: st.lists(st.sampled_from(NAMES), max_size=2, unique=True) for r in ROLES}),
    }
)


def _finder(acc, tmp_path) -> PathFinder:
    def policies(name):
        return [allow(action, OBJECT if target is None else arn(target)) for action, target in acc["abilities"][name]]

    users = [user(n, policies(n)) for n in USERS]
    roles = [
        role(n, trust({"AWS": [arn(t) for t in acc["trusted"][n]] or f"arn:aws:iam::{A}:root"}), policies(n))
        if acc["trusted"][n]
        else role(n, {"Version": "2012-10-17", "Statement": []}, policies(n))
        for n in ROLES
    ]
    return PathFinder(load_snapshot(snapshot(tmp_path, users=users, roles=roles)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acc=account)
def test_who_can_and_reach_agree_over_escalation_edges(acc, tmp_path):
    f = _finder(acc, tmp_path)
    answer = f.who_can("s3:GetObject", OBJECT)
    found = {p.principal for p in answer.principals}
    assert not answer.unknown
    reached = {arn(n) for n in NAMES if f.reach(arn(n), "s3:GetObject", OBJECT).answer == "possible"}
    assert found == reached
    witnesses = [h.witness for p in answer.principals for h in p.path.hops]
    assert all(d.decision == "allow" for d in decide_many([decide_input_from_obj(w) for w in witnesses]))
