"""check-no-public-access and check-access-not-granted over the principal cover: every principal
form (AWS, Service, Federated, CanonicalUser, "*"), and public vs external access as IAM Access
Analyzer means them ("IAM Access Analyzer findings": public = anyone, any AWS account, any user of
a public identity provider; a named outside account, organization, service or provider is
external access)."""

from __future__ import annotations

import json

import pytest
from conftest import json_result, run_cli

from reasoner.audit.checks import check_access_not_granted, check_no_public_access
from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy

OWNER = "111122223333"
ROLE = f"arn:aws:iam::{OWNER}:role/R"


def _policy(*statements: dict) -> NamedPolicy:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return NamedPolicy("p.json", parse_policy(doc, source="p.json"))


def _trust(principal: dict, action: str, condition: dict | None = None) -> NamedPolicy:
    st: dict = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        st["Condition"] = condition
    return _policy(st)


@pytest.mark.parametrize(
    ("provider", "audience_key"),
    [
        ("cognito-identity.amazonaws.com", "cognito-identity.amazonaws.com:aud"),
        ("accounts.google.com", "accounts.google.com:aud"),
        ("graph.facebook.com", "graph.facebook.com:app_id"),
        ("www.amazon.com", "www.amazon.com:app_id"),
    ],
)
def test_a_public_identity_provider_without_an_audience_is_public(provider, audience_key):
    """Every user of the provider may assume the role: public. Pinned to one application (the
    aws-cli Access Analyzer example: cognito aud condition, isPublic false): external access."""
    open_trust = _trust({"Federated": provider}, "sts:AssumeRoleWithWebIdentity")
    r = check_no_public_access(open_trust, OWNER)
    assert r.passed is False and r.access == "public" and r.principal == f"federated:{provider}", r
    pinned = _trust({"Federated": provider}, "sts:AssumeRoleWithWebIdentity", {"StringEquals": {audience_key: "app-1"}})
    r = check_no_public_access(pinned, OWNER)
    assert r.passed is True and r.access == "external" and r.principal == f"federated:{provider}", r


def test_a_saml_or_oidc_provider_is_external_access():
    for arn in (f"arn:aws:iam::{OWNER}:saml-provider/corp", f"arn:aws:iam::{OWNER}:oidc-provider/token.example.com"):
        action = "sts:AssumeRoleWithSAML" if "saml" in arn else "sts:AssumeRoleWithWebIdentity"
        r = check_no_public_access(_trust({"Federated": arn}, action), OWNER)
        assert r.passed is True and r.access == "external" and r.principal == arn, r
        r = check_access_not_granted(_trust({"Federated": arn}, action), action, ROLE, OWNER)
        assert r.passed is False and r.principal == arn


def test_a_named_outside_account_is_external_not_public():
    grant = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    r = check_no_public_access(_policy({**grant, "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}), OWNER)
    assert r.passed is True and r.access == "external" and "444455556666" in (r.principal or ""), r


def test_an_organization_is_external_any_account_is_public():
    grant = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    r = check_no_public_access(
        _policy({**grant, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}), OWNER
    )
    assert r.passed is True and r.access == "external", r
    r = check_no_public_access(_policy(grant), OWNER)
    assert r.passed is False and r.access == "public", r
    # Any account holding a role of a given name: public (the account field is a wildcard).
    like = {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Deployer"}}
    r = check_no_public_access(_policy({**grant, "Condition": like}), OWNER)
    assert r.passed is False and r.access == "public", r


def test_a_named_service_is_external_an_unnamed_service_needs_a_wildcard():
    svc = {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"}
    r = check_no_public_access(_policy({**svc, "Resource": "*"}), OWNER)
    assert r.passed is True and r.access == "external" and r.principal == "sns.amazonaws.com", r
    by_name = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": "*",
        "Condition": {"StringLike": {"aws:PrincipalServiceName": "*"}},
    }
    r = check_no_public_access(_policy(by_name), OWNER)
    assert r.passed is False and r.access == "public", r


def test_a_canonical_user_principal_is_unknown_never_a_pass():
    st = {
        "Effect": "Allow",
        "Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    r = check_no_public_access(_policy(st), OWNER)
    assert r.passed is None and "CanonicalUser" in r.reason


def test_cli_cognito_trust_fails_with_the_public_field(tmp_path):
    """Issue 10 item 9: this trust policy used to pass check-no-public-access while decide allowed it."""
    f = tmp_path / "trust.json"
    f.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                    }
                ],
            }
        )
    )
    proc = run_cli("check-no-public-access", str(f), "--account", OWNER, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = json_result(proc.stdout)
    assert out["access"] == "public" and out["principal"] == "federated:cognito-identity.amazonaws.com"


def test_a_call_aws_allows_anyway_is_no_access_the_policy_grants():
    """sts:GetCallerIdentity needs no permission (AWS STS API Reference, GetCallerIdentity): it is
    allowed whatever the policies say, so it is no access this resource policy gives. With action
    `*` on an object the checks used to answer with it as the witness."""
    grant = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        }
    )
    r = check_no_public_access(grant, OWNER, "arn:aws:s3:::b/k")
    assert r.passed is True and r.access != "external", r.reason
    r = check_no_public_access(grant, "999988887777", "arn:aws:s3:::b/k")
    assert r.passed is True and r.access == "external" and "s3:GetObject" in r.reason
    empty = _policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    r = check_access_not_granted(empty, "sts:GetCallerIdentity")
    assert r.passed is True, r.reason
