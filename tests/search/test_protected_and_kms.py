"""`can` applies the same per-request rules as `decide` (issue 10, left open by the decision rules):

- the protected layer (encodings/protected.lp): AWS managed policies, service-linked roles and
  IAM Identity Center roles cannot be changed whatever the policies say; sts:GetCallerIdentity is
  always allowed ("No permissions are required ... you can still perform this operation", AWS STS
  API Reference). Resource regions are split on facts.AWS_RULE_RESOURCE_PATTERNS.
- a KMS key policy must allow only for a KMS *key* (facts.needs_resource_policy): aliases and
  key-less actions (kms:ListKeys, kms:CreateKey) are decided by IAM policies alone (AWS KMS,
  "Controlling access to aliases"; kms:ListKeys takes "*" in an IAM policy).
"""

from __future__ import annotations

from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can

A = "111122223333"
USER = f"arn:aws:iam::{A}:user/u"
SSO_ROLE = f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"


def _policy(*statements: dict) -> NamedPolicy:
    return NamedPolicy("p.json", parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def _allow(action: str, resource: str = "*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def test_kms_list_keys_is_decided_by_the_identity_policy_alone():
    a = can(Query(USER, "kms:ListKeys", "*", identity_policies=[_policy(_allow("kms:*"))]))
    assert a.answer == "possible"


def test_kms_actions_on_a_pattern_find_the_key_less_ones():
    a = can(Query(USER, "kms:*", "*", identity_policies=[_policy(_allow("kms:*"))]))
    assert a.answer == "possible"
    assert ":key/" not in a.witness["request"]["resource"]


def test_kms_on_an_alias_needs_no_key_policy():
    alias = f"arn:aws:kms:us-east-1:{A}:alias/app"
    a = can(Query(USER, "kms:Decrypt", alias, identity_policies=[_policy(_allow("kms:*"))]))
    assert a.answer == "possible"


def test_kms_on_a_key_needs_the_key_policy():
    """No key policy given: 'No AWS principal ... has any permissions to a KMS key unless that
    permission is explicitly allowed in a key policy' (AWS KMS, Key policies)."""
    key = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert can(Query(USER, "kms:Decrypt", key, identity_policies=[_policy(_allow("kms:*"))])).answer == "impossible"
    keys = f"arn:aws:kms:us-east-1:{A}:key/*"
    assert can(Query(USER, "kms:Decrypt", keys, identity_policies=[_policy(_allow("kms:*"))])).answer == "impossible"


def test_a_protected_role_cannot_be_changed_whatever_the_policies_say():
    pol = _policy(_allow("iam:PutRolePolicy"))
    assert can(Query(USER, "iam:PutRolePolicy", SSO_ROLE, identity_policies=[pol])).answer == "impossible"
    pattern = f"arn:aws:iam::{A}:role/aws-reserved/*"
    assert can(Query(USER, "iam:PutRolePolicy", pattern, identity_policies=[pol])).answer == "impossible"
    # Reading it is not protected.
    got = can(Query(USER, "iam:GetRole", pattern, identity_policies=[_policy(_allow("iam:GetRole"))]))
    assert got.answer == "possible"


def test_a_role_pattern_finds_the_roles_that_are_not_protected():
    pol = _policy(_allow("iam:*"))
    a = can(Query(USER, "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/*", identity_policies=[pol]))
    assert a.answer == "possible"
    assert "/aws-reserved/" not in a.witness["request"]["resource"]
    assert "/aws-service-role/" not in a.witness["request"]["resource"]


def test_aws_managed_policies_cannot_be_changed():
    pol = _policy(_allow("iam:*"))
    a = can(Query(USER, "iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/*", identity_policies=[pol]))
    assert a.answer == "impossible"


def test_get_caller_identity_is_allowed_despite_an_explicit_deny():
    deny = _policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    a = can(Query(USER, "sts:GetCallerIdentity", "*", identity_policies=[deny]))
    assert a.answer == "possible"


def test_the_universal_question_leaves_out_what_aws_decides_alone():
    """goal deny asks for a request the policies do not allow: PutRolePolicy on an SSO role is
    refused by AWS whatever the policies say, so an allow-all identity allows every request the
    policies decide (the admin-equivalence check of privesc)."""
    q = Query(USER, "iam:*", "*", resource_account=A, identity_policies=[_policy(_allow("*"))], goal="deny")
    assert can(q).answer == "impossible"


def test_a_session_of_a_role_named_with_a_path_is_unknown_without_its_arn():
    """arn:aws:sts::A:assumed-role/NAME/S drops the role's path (IAM identifiers): a bucket policy
    naming role/app/Deployer cannot be decided for the session; with aws:PrincipalArn it can."""
    bucket = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{A}:role/app/Deployer"},
            "Action": "s3:GetObject",
            "Resource": "*",
        }
    )
    session = f"arn:aws:sts::{A}:assumed-role/Deployer/s"
    a = can(Query(session, "s3:GetObject", "arn:aws:s3:::b/k", resource_policy=bucket))
    assert a.answer == "unknown" and "aws:PrincipalArn" in (a.reason or "")
    given = {"aws:PrincipalArn": [f"arn:aws:iam::{A}:role/app/Deployer"]}
    a = can(Query(session, "s3:GetObject", "arn:aws:s3:::b/k", where=given, resource_policy=bucket))
    assert a.answer == "possible"
