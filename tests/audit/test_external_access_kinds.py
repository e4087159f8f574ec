"""Rule `external-access` with the principal cover's public / external distinction (IAM Access
Analyzer: anyone and any account are public; an organization is external access)."""

from __future__ import annotations

from test_audit_rules import ACCOUNT, NOW, TRUST_EC2, bundle, by_rule, doc, role

from reasoner.audit.run import run_audit


def test_an_organization_grant_is_external_and_any_account_public(tmp_path):
    grant = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    org_only = doc(
        {**grant, "Resource": "arn:aws:s3:::org/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}
    )
    anyone = doc({**grant, "Resource": "arn:aws:s3:::pub/*"})
    snap = bundle(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::org": org_only, "arn:aws:s3:::pub": anyone})
    r = run_audit([snap], now=NOW, only=["external-access"])
    cats = {(f.resource.split("/")[0], f.details["category"]) for f in by_rule(r, "external-access", "fail")}
    assert ("arn:aws:s3:::org", "organization") in cats and ("arn:aws:s3:::org", "any-account") not in cats
    assert ("arn:aws:s3:::pub", "anonymous") in cats and ("arn:aws:s3:::pub", "any-account") in cats
    (org,) = [f for f in by_rule(r, "external-access", "fail") if f.details["category"] == "organization"]
    assert org.severity.level == "low" and org.conditions.get("aws:PrincipalOrgID") in ("o-abc", ["o-abc"])


def test_a_web_identity_grant_in_a_resource_policy_is_federated(tmp_path):
    federated = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": "accounts.google.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::fed/*",
        }
    )
    snap = bundle(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::fed": federated})
    r = run_audit([snap], now=NOW, only=["external-access"])
    (f,) = by_rule(r, "external-access", "fail")
    assert f.details["category"] == "federated" and f.principal == "federated:accounts.google.com"
    assert ACCOUNT == f.account
