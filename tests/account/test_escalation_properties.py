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

from reasoner.account.escalation import EscalationEdges
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


# Callers with the same policies form classes (privesc.Privesc._technique_class): their edges are
# found from one of them, and their own hops answered from its witnesses (Authorizer.check_as).
PEOPLE = ["u0", "u1", "u2", "u3"]
profile = st.lists(
    st.one_of(
        st.tuples(st.just("iam:PutUserPolicy"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("iam:CreateAccessKey"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("iam:CreateLoginProfile"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("iam:AttachUserPolicy"), st.sampled_from(PEOPLE)),
        st.tuples(st.just("iam:PutUserPolicy"), st.just("*")),
    ),
    min_size=1,
    max_size=3,
    unique=True,
)
classy = st.tuples(st.lists(profile, min_size=1, max_size=2), st.lists(st.integers(0, 1), min_size=4, max_size=4))


def _people(tmp_path, profiles, picks):
    def policy(action, target):
        return allow(action, "arn:aws:iam::" + A + ":user/*" if target == "*" else arn_of(target))

    users = [user(n, [policy(a, t) for a, t in profiles[k % len(profiles)]]) for n, k in zip(PEOPLE, picks)]
    return load_snapshot(snapshot(tmp_path, users=users))


def arn_of(name: str) -> str:
    return f"arn:aws:iam::{A}:user/{name}"


def _edges(snap, by_class: bool):
    f = PathFinder(snap)
    edges = EscalationEdges(snap, f.auth, f, by_class=by_class)
    found = edges.out_of(list(snap.principals.values()))
    return (
        edges,
        {
            arn: sorted((e.kind, e.target, e.technique, e.new_role) for e in out if e.hops is not None)
            for arn, out in found.items()
        },
        found,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=classy)
def test_edges_found_by_class_are_each_callers_own(case, tmp_path):
    profiles, picks = case
    snap = _people(tmp_path, profiles, picks)
    _, reference, _ = _edges(snap, by_class=False)
    grouped, found, raw = _edges(snap, by_class=True)
    assert found == reference
    hops = [h for out in raw.values() for e in out if e.hops for h in e.hops]
    assert all(h.principal == e.caller for out in raw.values() for e in out if e.hops for h in e.hops)
    assert all(d.decision == "allow" for d in decide_many([decide_input_from_obj(h.witness) for h in hops]))


def test_two_users_with_the_same_policies_share_their_edges(tmp_path):
    # u0 and u1 may both create access keys of any user: one class, one set of searches; each
    # one's edges name itself, and its hops are its own requests.
    profiles = [[("iam:CreateAccessKey", "u2")], [("iam:CreateAccessKey", "u3")]]
    snap = _people(tmp_path, profiles, [0, 0, 1, 1])
    grouped, found, raw = _edges(snap, by_class=True)
    assert grouped.from_class > 0
    assert found == _edges(snap, by_class=False)[1]
    (edge,) = raw[arn_of("u1")]
    assert edge.caller == arn_of("u1") and edge.target == arn_of("u2")
    assert [h.principal for h in edge.hops or []] == [arn_of("u1")]
