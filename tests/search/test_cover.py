"""The principal cover (reasoner/search/cover.py) against the encodings: whenever the search over
the cover says no principal is allowed, the concrete decider (encodings/match/principal.lp and the
principal condition keys) denies principals of every form, with contexts of their own."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reasoner.audit.checks import check_access_not_granted
from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.cover import ALLOW_ALL, ALLOW_ALL_FILE, candidate_principals

OWNER = "111122223333"
PARTNER = "444455556666"
SAML = f"arn:aws:iam::{OWNER}:saml-provider/corp"
ACTION, RESOURCE = "s3:GetObject", "arn:aws:s3:::b/k"

PRINCIPAL_ELEMENTS = [
    "*",
    {"AWS": "*"},
    {"AWS": PARTNER},
    {"AWS": f"arn:aws:iam::{PARTNER}:root"},
    {"AWS": f"arn:aws:iam::{PARTNER}:user/zed"},
    {"AWS": f"arn:aws:iam::{OWNER}:role/R"},
    {"AWS": f"arn:aws:sts::{OWNER}:assumed-role/R/s"},
    {"Service": "s3.amazonaws.com"},
    {"Federated": "cognito-identity.amazonaws.com"},
    {"Federated": "accounts.google.com"},
    {"Federated": SAML},
]
CONDITIONS = [
    {"StringEquals": {"aws:PrincipalType": "User"}},
    {"StringEquals": {"aws:PrincipalType": "FederatedUser"}},
    {"StringEquals": {"aws:PrincipalType": "Account"}},
    {"StringNotEquals": {"aws:PrincipalType": "AssumedRole"}},
    {"StringEquals": {"aws:PrincipalAccount": PARTNER}},
    {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
    {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/R*"}},
    {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}},
    {"StringEquals": {"aws:PrincipalServiceName": "lambda.amazonaws.com"}},
    {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    {"StringEquals": {"cognito-identity.amazonaws.com:aud": "pool-1"}},
    {"Null": {"aws:PrincipalAccount": "true"}},
]

# Concrete principals of every form (none of them a member of the cover), with the contexts they
# may come with: (principal, identity policies apply, context). A session gives aws:PrincipalArn
# (its role's ARN, with a path for one of them): the session ARN alone does not carry the path.
CONCRETE = [
    ("anonymous", False, {}),
    (f"arn:aws:iam::{PARTNER}:user/zed", True, {}),
    (f"arn:aws:iam::{PARTNER}:user/other", True, {"aws:PrincipalOrgID": "o-abc"}),
    (f"arn:aws:iam::{PARTNER}:root", True, {}),
    (
        f"arn:aws:sts::{PARTNER}:assumed-role/Reader/x",
        True,
        {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/Reader"},
    ),
    (f"arn:aws:sts::{PARTNER}:federated-user/fed", True, {}),
    ("arn:aws:iam::123412341234:user/u", True, {"aws:PrincipalOrgID": "o-abc"}),
    ("arn:aws:iam::123412341234:root", True, {}),
    ("arn:aws:sts::123412341234:assumed-role/Rx/s", True, {"aws:PrincipalArn": "arn:aws:iam::123412341234:role/Rx"}),
    ("arn:aws:sts::123412341234:assumed-role/R/s", True, {"aws:PrincipalArn": "arn:aws:iam::123412341234:role/p/R"}),
    ("arn:aws:sts::123412341234:federated-user/f", True, {"aws:PrincipalOrgID": "o-zzz"}),
    (f"arn:aws:iam::{OWNER}:user/alice", True, {}),
    (f"arn:aws:sts::{OWNER}:assumed-role/R/s", True, {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/R"}),
    (f"arn:aws:sts::{OWNER}:assumed-role/Other/s", True, {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/Other"}),
    (f"arn:aws:iam::{OWNER}:root", True, {}),
    ("s3.amazonaws.com", False, {}),
    ("lambda.amazonaws.com", False, {}),
    ("federated:cognito-identity.amazonaws.com", False, {"cognito-identity.amazonaws.com:aud": "pool-1"}),
    ("federated:cognito-identity.amazonaws.com", False, {"cognito-identity.amazonaws.com:aud": "pool-2"}),
    ("federated:accounts.google.com", False, {}),
    ("federated:graph.facebook.com", False, {}),
    (SAML, False, {}),
    (f"arn:aws:iam::{PARTNER}:oidc-provider/token.example.com", False, {}),
]


@st.composite
def statements(draw):
    effect = draw(st.sampled_from(["Allow", "Deny"]))
    s: dict = {"Effect": effect, "Action": draw(st.sampled_from([ACTION, "s3:*", "*"])), "Resource": "*"}
    element = draw(st.sampled_from(PRINCIPAL_ELEMENTS))
    if effect == "Deny" and element != "*" and draw(st.booleans()):
        s["NotPrincipal"] = element
    else:
        s["Principal"] = element
    if draw(st.sampled_from([True, True, False])):
        s["Condition"] = draw(st.sampled_from(CONDITIONS))
    return s


def _decide(policy: NamedPolicy, principal: str, with_identity: bool, context: dict) -> str | None:
    allow_all = [NamedPolicy(str(ALLOW_ALL_FILE), ALLOW_ALL)]
    federated_user = parse_principal(principal).type == "federated_user"
    inp = DecideInput(
        request=Request(principal=principal, action=ACTION, resource=RESOURCE, resource_account=OWNER, context=context),
        identity_policies=allow_all if with_identity else [],
        session_policy=allow_all[0] if federated_user else None,
        resource_policy=policy,
    )
    return decide_many([inp], raise_errors=True)[0].decision


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=3))
def test_no_allowed_cover_member_means_every_principal_is_denied(stmts):
    doc = {"Version": "2012-10-17", "Statement": stmts}
    policy = NamedPolicy("p.json", parse_policy(json.loads(json.dumps(doc)), source="p.json"))
    r = check_access_not_granted(policy, ACTION, RESOURCE, OWNER)
    assert r.passed is not None, r.reason
    event("a cover member is allowed" if r.passed is False else "no cover member is allowed")
    if r.passed is False:
        return  # the witness was re-checked by the concrete decider inside `can`
    for principal, with_identity, context in CONCRETE:
        assert _decide(policy, principal, with_identity, context) != "allow", (principal, context, stmts)


def test_the_cover_has_a_principal_of_every_form():
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "accounts.google.com"}, "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Federated": SAML}, "Action": "*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "sqs.amazonaws.com"}, "Action": "*", "Resource": "*"},
        ],
    }
    cover = candidate_principals(parse_policy(doc, source="p"), OWNER, outside_only=False)
    types = {parse_principal(c).type for c in cover}
    assert types == {"anonymous", "user", "role_session", "root", "federated_user", "service", "web_identity"}
    assert {"federated:accounts.google.com", SAML, "sqs.amazonaws.com"} <= set(cover)
