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
