"""Concrete tries before a search (Authorizer._try_concrete): a resource pattern is tried on one
ARN it names. An ARN with no account field (an AWS-owned EC2 image, arn:aws:ec2:*::image/*) is in
the principal's account for the decider and the search alike (engine/facts.py,
search.resources.resource_account_of), so it is tried too: an allow there is a witness; anything
else still goes to the search, whose answer stands."""

from __future__ import annotations

from snapshot_builders import A, allow, snapshot, user

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import HopCheck
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj

IMAGES = "arn:aws:ec2:*::image/*"


def _answer(tmp_path, policy):
    snap = load_snapshot(snapshot(tmp_path, users=[user("u", [policy])]))
    auth = Authorizer(snap)
    (r,) = auth.check_many([HopCheck(snap.entity("u"), "ec2:RunInstances", IMAGES, target=True)])
    return r, auth.stats


def test_an_image_pattern_is_tried_on_one_image_and_needs_no_search(tmp_path):
    r, stats = _answer(tmp_path, allow("ec2:RunInstances"))
    assert r.outcome == "possible" and stats.searches == 0
    assert r.possible_hop.resource == "arn:aws:ec2:x::image/x"
    (d,) = decide_many([decide_input_from_obj(r.possible_hop.witness)])
    assert d.decision == "allow"


def test_a_try_the_decider_denies_leaves_the_answer_to_the_search(tmp_path):
    # Only resources of another account: the principal's own images are not among them, which
    # the search proves (the try alone proves nothing).
    other = allow("ec2:RunInstances", condition={"StringEquals": {"aws:ResourceAccount": "222222222222"}})
    r, stats = _answer(tmp_path, other)
    assert r.outcome == "impossible" and stats.searches == 1
    assert A != "222222222222"


def test_a_try_never_sets_the_resource_account_key_to_another_account(tmp_path):
    # AWS: "aws:ResourceAccount: the account ID of the resource owner". A role of account A is
    # never a resource of 222222222222, whatever a statement's condition wants.
    other = allow("iam:PassRole", condition={"StringEquals": {"aws:ResourceAccount": "222222222222"}})
    snap = load_snapshot(snapshot(tmp_path, users=[user("u", [other])]))
    auth = Authorizer(snap)
    (r,) = auth.check_many([HopCheck(snap.entity("u"), "iam:PassRole", f"arn:aws:iam::{A}:role/*", target=True)])
    assert r.outcome == "impossible"
