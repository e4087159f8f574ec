"""Escalation is a path (issue 10 item 13): a principal that can become another principal (create
its access keys or login profile, update a trust policy, pass a role to a service) or rewrite its
own permissions can do whatever that principal can, as PMapper's graph has it; `who-can` and
`reach` follow these edges, show them as hops (kind "escalate") and mark the ones that rest on a
precondition the snapshot cannot show."""

from __future__ import annotations

from snapshot_builders import A, allow, snapshot, user

from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj

OBJECT = "arn:aws:s3:::b/k"


def finder(tmp_path) -> PathFinder:
    f = snapshot(
        tmp_path,
        users=[
            user("u", [allow("iam:CreateAccessKey", f"arn:aws:iam::{A}:user/v")]),  # becomes v
            user("w", [allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/w")]),  # edits its own policy
            user("v", [allow("s3:GetObject")]),
            user("x", [allow("iam:CreateAccessKey", f"arn:aws:iam::{A}:user/x")]),  # itself: nothing new
        ],
    )
    return PathFinder(load_snapshot(f))


def test_becoming_another_user_is_a_path(tmp_path):
    a = finder(tmp_path).reach("u", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    hops = a.paths[0].hops
    assert [(h.kind, h.action) for h in hops] == [("escalate", "iam:CreateAccessKey"), ("call", "s3:GetObject")]
    assert hops[0].assumes == "the target user has fewer than two access keys"  # GAAD lists no keys
    assert hops[1].principal.endswith(":user/v")


def test_a_principal_that_edits_its_own_policies_is_never_impossible(tmp_path):
    a = finder(tmp_path).reach("w", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    grant, target = a.paths[0].hops
    assert grant.kind == "escalate" and grant.action == "iam:PutUserPolicy"
    assert target.assumes and "granted itself" in target.assumes
    # The target hop's witness carries the policy the principal wrote; the decider allows it.
    (d,) = decide_many([decide_input_from_obj(target.witness)])
    assert d.decision == "allow"


def test_who_can_follows_escalation_edges(tmp_path):
    f = finder(tmp_path)
    who = {p.principal.rsplit("/", 1)[-1]: p for p in f.who_can("s3:GetObject", OBJECT).principals}
    assert set(who) == {"u", "v", "w"}
    assert f.reach("x", "s3:GetObject", OBJECT).answer == "impossible"
    # every escalation hop is a request the concrete decider allows
    lines = [h.witness for p in who.values() for h in p.path.hops if h.kind == "escalate"]
    assert lines and all(d.decision == "allow" for d in decide_many([decide_input_from_obj(x) for x in lines]))


# The three edges below follow PMapper's graph (an edge whenever one principal can gain another's
# or new permissions) and Rhino Security Labs' methods: "Adding a user to a group" (join-group),
# "Updating an inline policy for a user/role" on another principal, "Creating a new role" with
# iam:CreateRole + iam:PutRolePolicy + sts:AssumeRole.


def _witnesses_allowed(path) -> bool:
    lines = [h.witness for h in path.hops]
    return all(d.decision == "allow" for d in decide_many([decide_input_from_obj(x) for x in lines]))


def test_joining_a_group_is_a_path_to_what_the_group_allows(tmp_path):
    group = {
        "GroupName": "readers",
        "Arn": f"arn:aws:iam::{A}:group/readers",
        "GroupPolicyList": [{"PolicyName": "read", "PolicyDocument": allow("s3:GetObject")}],
        "AttachedManagedPolicies": [],
    }
    j = user("j", [allow("iam:AddUserToGroup", f"arn:aws:iam::{A}:group/readers")])
    f = PathFinder(load_snapshot(snapshot(tmp_path, users=[j], groups=[group])))
    a = f.reach("j", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    assert [h.action for h in a.paths[0].hops] == ["iam:AddUserToGroup", "s3:GetObject"]
    assert "readers" in (a.paths[0].hops[-1].assumes or "")
    assert "j" in {p.principal.rsplit("/", 1)[-1] for p in f.who_can("s3:GetObject", OBJECT).principals}
    # a group that allows something else gives no path
    assert f.reach("j", "s3:PutObject", OBJECT).answer == "impossible"


def test_granting_to_another_principal_then_becoming_it(tmp_path):
    g = user(
        "g",
        [
            allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/t"),
            allow("iam:CreateAccessKey", f"arn:aws:iam::{A}:user/t"),
        ],
    )
    only_grant = user("h", [allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/t")])
    f = PathFinder(load_snapshot(snapshot(tmp_path, users=[g, only_grant, user("t")])))
    a = f.reach("g", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    assert [h.action for h in a.paths[0].hops] == ["iam:PutUserPolicy", "iam:CreateAccessKey", "s3:GetObject"]
    # granting to a principal one cannot become gives nothing
    assert f.reach("h", "s3:GetObject", OBJECT).answer == "impossible"
    who = {p.principal.rsplit("/", 1)[-1] for p in f.who_can("s3:GetObject", OBJECT).principals}
    assert who == {"g"}


def test_creating_a_role_and_assuming_it_is_a_path(tmp_path):
    c = user("c", [allow(["iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole"], f"arn:aws:iam::{A}:role/*")])
    f = PathFinder(load_snapshot(snapshot(tmp_path, users=[c])))
    a = f.reach("c", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    assert a.paths[0].hops[-1].principal.startswith(f"arn:aws:iam::{A}:role/")
    assert _witnesses_allowed(a.paths[0])
    assert "c" in {p.principal.rsplit("/", 1)[-1] for p in f.who_can("s3:GetObject", OBJECT).principals}
