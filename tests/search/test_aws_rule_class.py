"""Property: `search.actions.aws_rule_class` groups actions that encodings/protected.lp decides
alike. The search keeps one action per signature, so two actions of one class must get the same
decision from the built-in layer for every caller and resource (AWS STS API Reference,
GetCallerIdentity; IAM User Guide, AWS managed policies; IAM API Reference, UnmodifiableEntity).

Checked against the decider, not against facts.aws_rule: with a Deny-everything identity policy a
request the built-in layer does not decide is an explicit deny from the policy; with an
Allow-everything one it is allowed. A request AWS decides gets the same answer under both.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy import catalogue
from reasoner.policy.request import decide_input_from_obj
from reasoner.search.actions import aws_rule_class

A = "111122223333"
SPECIAL = [
    "sts:GetCallerIdentity",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:DeleteRole",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:AttachRolePolicy",
    "iam:UpdateRoleDescription",
    "iam:TagRole",
    "iam:GetRole",
    "iam:PassRole",
    "s3:GetObject",
]
CALLERS = [
    f"arn:aws:iam::{A}:user/alice",
    f"arn:aws:sts::{A}:assumed-role/dev/s",
    f"arn:aws:iam::{A}:root",
    f"arn:aws:sts::{A}:federated-user/bob",
]
RESOURCES = [
    "arn:aws:iam::aws:policy/AdministratorAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
    f"arn:aws:iam::{A}:policy/mine",
    f"arn:aws:iam::{A}:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk",
    f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123",
    f"arn:aws:iam::{A}:role/app/Deployer",
    "arn:aws:s3:::bucket/key",
    "*",
]


def _policy(effect: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": "*", "Resource": "*"}]}


def _builtin(caller: str, action: str, resource: str) -> str | None:
    """The built-in layer's decision, or None when the policies decide."""
    lines = [
        {
            "request": {"principal": caller, "action": action, "resource": resource, "resource_account": A},
            "identity_policies": [_policy(effect)],
        }
        for effect in ("Allow", "Deny")
    ]
    allowed, denied = decide_many([decide_input_from_obj(x) for x in lines])
    # The policies decide when the Deny makes a difference (a federated user's session also
    # needs a session policy to be allowed, so its Allow-everything case is an implicit deny).
    return allowed.decision if allowed.decision == denied.decision else None


actions = st.sampled_from(SPECIAL) | st.sampled_from(catalogue.expand("iam:*"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=actions, b=actions, caller=st.sampled_from(CALLERS), resource=st.sampled_from(RESOURCES))
def test_actions_of_one_class_are_decided_alike_by_the_builtin_layer(a, b, caller, resource):
    if aws_rule_class(a) != aws_rule_class(b):
        return
    assert _builtin(caller, a, resource) == _builtin(caller, b, resource), (a, b, caller, resource)


def test_the_builtin_layer_decides_what_the_classes_say():
    """Controls: the classes are not all equal, and the layer does decide these requests."""
    assert aws_rule_class("sts:GetCallerIdentity") != aws_rule_class("s3:GetObject")
    assert _builtin(CALLERS[0], "sts:GetCallerIdentity", "*") == "allow"
    assert _builtin(CALLERS[0], "iam:DeletePolicy", RESOURCES[0]) == "explicit_deny"
    assert _builtin(CALLERS[0], "iam:PutRolePolicy", RESOURCES[4]) == "explicit_deny"
    assert _builtin(CALLERS[0], "iam:PutRolePolicy", RESOURCES[5]) is None
