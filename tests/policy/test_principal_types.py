"""Property: the one list of principal types that carry identity policies
(reasoner/policy/principals.IDENTITY_POLICY_TYPES) agrees with the decider: for every principal
form, an identity policy takes effect (its explicit Deny wins over a resource policy's Allow)
exactly when the list holds the principal's type; for the other types decide refuses identity
policies (an input error) rather than dropping them.

AWS: IAM User Guide, "Identity-based policies and resource-based policies" (identity policies are
attached to IAM users, groups and roles), "Policy evaluation logic" (an explicit deny in any
policy wins).
"""

from __future__ import annotations

from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.principals import IDENTITY_POLICY_TYPES, has_identity_policies, parse_principal
from reasoner.policy.request import decide_input_from_obj

ACCOUNT = "111122223333"
NAMES = st.text("abcXYZ019_-", min_size=1, max_size=8)
SERVICE = st.builds(lambda n: f"{n.lower()}.amazonaws.com", st.text("abcdefghij", min_size=1, max_size=8))
# One strategy per principal form, drawn evenly (every type of the list and of its complement).
FORMS = [
    st.builds(lambda n: f"arn:aws:iam::{ACCOUNT}:user/{n}", NAMES),
    st.builds(lambda n: f"arn:aws:iam::{ACCOUNT}:user/path/{n}", NAMES),
    st.builds(lambda n: f"arn:aws:iam::{ACCOUNT}:role/{n}", NAMES),
    st.builds(lambda n, s: f"arn:aws:sts::{ACCOUNT}:assumed-role/{n}/{s}", NAMES, NAMES),
    st.builds(lambda n: f"arn:aws:sts::{ACCOUNT}:federated-user/{n}", NAMES),
    st.sampled_from([ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root"]),
    st.sampled_from(["anonymous", "*"]),
    SERVICE,
    st.sampled_from(
        [
            "federated:cognito-identity.amazonaws.com",
            "federated:accounts.google.com",
            "federated:www.amazon.com",
            f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta",
            f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
        ]
    ),
]
PRINCIPALS = st.integers(0, len(FORMS) - 1).flatmap(lambda i: FORMS[i])
ALLOW_ANYONE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}],
}
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _decide(principal: str, identity: list[dict]):
    line = {
        "request": {
            "principal": principal,
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::bucket/key",
            "resource_account": ACCOUNT,
        },
        "identity_policies": identity,
        "resource_policy": ALLOW_ANYONE,
    }
    (d,) = decide_many([decide_input_from_obj(line)])
    return d


@settings(max_examples=150, deadline=None)
@given(PRINCIPALS)
# Every form at least once, whatever the draw.
@example(ACCOUNT)
@example(f"arn:aws:iam::{ACCOUNT}:root")
@example("anonymous")
@example("*")
@example("athena.amazonaws.com")
@example("federated:cognito-identity.amazonaws.com")
@example(f"arn:aws:iam::{ACCOUNT}:saml-provider/Okta")
@example(f"arn:aws:sts::{ACCOUNT}:federated-user/f")
def test_identity_policies_take_effect_exactly_for_the_listed_types(principal):
    p = parse_principal(principal)
    event(p.type)
    assert has_identity_policies(p) == (p.type in IDENTITY_POLICY_TYPES)
    without = _decide(principal, [])
    assert without.decision == "allow", without  # the resource policy alone lets anyone in
    with_deny = _decide(principal, [DENY_ALL])
    if has_identity_policies(p):
        assert with_deny.decision == "explicit_deny", with_deny
    else:
        assert with_deny.decision is None and "no identity policies" in (with_deny.error or ""), with_deny


def test_every_principal_type_is_drawn():
    """The list and its complement are both exercised by the strategy above."""
    kinds = {"user", "role_session", "root", "federated_user", "service", "anonymous", "web_identity"}
    assert IDENTITY_POLICY_TYPES < kinds
