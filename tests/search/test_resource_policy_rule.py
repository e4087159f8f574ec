"""Property: the action-level shortcut of "the key or trust policy must allow"
(search/actions.may_need_resource_policy, used to split action regions in can and diff) agrees with
its one home, engine/facts.needs_resource_policy, and both with the decider: within one account,
with an identity policy allowing everything and no resource policy, a request is allowed exactly
when no key or trust policy has to allow it.

AWS: IAM User Guide, "Policy evaluation logic" (role trust policies and KMS key policies must
allow even within one account); AWS KMS Developer Guide, "Key policies" and "Controlling access to
aliases".
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.engine.facts import needs_resource_policy
from reasoner.policy import catalogue
from reasoner.policy.request import decide_input_from_obj
from reasoner.search.actions import may_need_resource_policy

ACCOUNT = "111122223333"
RESOURCES = [
    "*",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/app",
    f"arn:aws:iam::{ACCOUNT}:role/app",
    "arn:aws:s3:::bucket/key",
    f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/t",
]
ACTIONS = sorted(
    set(catalogue.expand("kms:*"))
    | set(catalogue.expand("sts:*"))
    | {"s3:GetObject", "iam:PassRole", "dynamodb:GetItem", "iam:GetRole"}
)
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ACTIONS), st.sampled_from(RESOURCES))
def test_the_shortcut_and_the_rule_agree_with_the_decider(action, resource):
    needed = needs_resource_policy(action, resource)
    if needed:
        assert may_need_resource_policy(action)  # the shortcut never says "not needed" wrongly
    line = {
        "request": {
            "principal": f"arn:aws:iam::{ACCOUNT}:user/u",
            "action": action,
            "resource": resource,
            "resource_account": ACCOUNT,
        },
        "identity_policies": [ALLOW_ALL],
    }
    (d,) = decide_many([decide_input_from_obj(line)])
    assert d.error is None, d.error
    assert (d.decision == "allow") == (not needed or action.lower() == "sts:getcalleridentity"), (action, resource, d)


def test_the_shortcut_is_exactly_some_resource_needs_it():
    for action in ACTIONS:
        assert may_need_resource_policy(action) == any(needs_resource_policy(action, r) for r in RESOURCES), action


ARN_PARTS = st.tuples(
    st.sampled_from(["aws", "aws-cn"]),
    st.sampled_from(["kms", "iam", "s3", "kmsx"]),
    st.sampled_from(["us-east-1", ""]),
    st.sampled_from([ACCOUNT, "", "aws"]),
    st.sampled_from(["key/k", "key/", "alias/key/x", "keys/k", "alias/a", "role/key/r", "key"]),
)


@settings(max_examples=200, deadline=None)
@given(ARN_PARTS)
def test_the_resource_regions_split_where_the_rule_changes(parts):
    """search/resources.KMS_KEY_PATTERN, the resources a search tells apart for the key policy
    rule, holds exactly the ARNs on which facts.needs_resource_policy asks for a KMS action."""
    from reasoner.policy.patterns import arn_match, plain
    from reasoner.search.resources import KMS_KEY_PATTERN

    arn = "arn:{}:{}:{}:{}:{}".format(*parts)
    assert needs_resource_policy("kms:Decrypt", arn) == arn_match(plain(KMS_KEY_PATTERN), arn), arn
