"""Property: the statement-coverage shortcut (reasoner/policy/coverage.py) is sound against the
encodings: whenever it says a statement cannot cover an action, a policy made of that Allow
statement does not allow the action (the encodings decide implicit deny)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.coverage import covers_action
from reasoner.policy.document import Policy
from reasoner.policy.request import decide_input_from_obj

PATTERNS = ["s3:GetObject", "s3:Get*", "S3:getobject", "s3:*", "*", "s3:?etObject", "iam:*", "ec2:Run*", "*:Get*"]
ACTIONS = ["s3:GetObject", "s3:PutObject", "iam:CreateUser", "ec2:RunInstances", "ec2:DescribeInstances"]

statement = st.fixed_dictionaries(
    {
        "Effect": st.just("Allow"),
        "Resource": st.just("*"),
        "element": st.sampled_from(["Action", "NotAction"]),
        "patterns": st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3),
    }
)


@settings(max_examples=150, deadline=None)
@given(stmt=statement, action=st.sampled_from(ACTIONS))
def test_not_covered_means_the_encodings_deny(stmt, action):
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", stmt["element"]: stmt["patterns"]}],
    }
    policy = Policy.model_validate(doc)
    if covers_action(policy.Statement[0], action.lower()):
        return
    line = {
        "request": {
            "principal": "arn:aws:iam::111122223333:user/u",
            "action": action,
            "resource": "*",
            "resource_account": "111122223333",
        },
        "identity_policies": [doc],
    }
    (d,) = decide_many([decide_input_from_obj(line)])
    assert d.decision != "allow", (doc, action)


@settings(max_examples=100, deadline=None)
@given(stmt=statement, action=st.sampled_from(["s3:*", "s3:Get*", "iam:*", "ec2:Describe*"]))
def test_a_pattern_not_covered_means_no_action_it_names_is_covered(stmt, action):
    """For an action pattern the shortcut over-approximates: "not covered" holds for every
    catalogue action the pattern names."""
    from reasoner.policy import catalogue

    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", stmt["element"]: stmt["patterns"]}],
    }
    s = Policy.model_validate(doc).Statement[0]
    if not covers_action(s, action.lower()):
        assert not any(covers_action(s, a.lower()) for a in catalogue.expand(action)), (doc, action)


@settings(max_examples=150, deadline=None)
@given(stmt=statement, action=st.sampled_from(ACTIONS))
def test_coverage_of_an_action_name_is_exact(stmt, action):
    """For an action name coverage.py is the encoding's rule itself (match/action.lp): the Allow
    statement allows the action exactly when covers_action says it covers it, and so do its
    pieces (action_matches per pattern, statement_covers for Action / NotAction)."""
    from reasoner.policy.coverage import action_matches, statement_covers

    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*", stmt["element"]: stmt["patterns"]}],
    }
    s = Policy.model_validate(doc).Statement[0]
    line = {
        "request": {
            "principal": "arn:aws:iam::111122223333:user/u",
            "action": action,
            "resource": "*",
            "resource_account": "111122223333",
        },
        "identity_policies": [doc],
    }
    (d,) = decide_many([decide_input_from_obj(line)])
    covered = covers_action(s, action.lower())
    assert (d.decision == "allow") == covered, (doc, action, d.decision)
    pieces = statement_covers(any(action_matches(p, action) for p in stmt["patterns"]), stmt["element"] == "NotAction")
    assert pieces == covered


@settings(max_examples=100, deadline=None)
@given(pattern=st.sampled_from(PATTERNS + ["s3*", "*:*", "ec?:Run*", "kms:*"]), action=st.sampled_from(ACTIONS))
def test_service_may_match_is_a_sound_prefilter(pattern, action):
    """service_may_match is never decisive: it says no only when the pattern cannot match."""
    from reasoner.policy.coverage import action_matches, service_may_match

    if action_matches(pattern, action):
        assert service_may_match(pattern, action.split(":")[0])
