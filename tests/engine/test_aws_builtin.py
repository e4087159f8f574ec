"""What AWS decides whatever the policies say (encodings/protected.lp), and the CLI exit codes of
the issue-10 input rules (role paths, policy variables before the fifth colon).

privesc decides every hop with the same decider, so no escalation path goes through a change IAM
refuses (a service-linked or IAM Identity Center role's policies or trust policy). Each case has a
control with an ordinary resource that does escalate, so the protection is what stops the path.
(privesc also skips AWS managed policies by itself, reasoner/account/privesc.py; the decider
agrees, tests/golden/aws_builtin.yaml.)

AWS: IAM User Guide, "AWS managed policies" ("You cannot change the permissions defined in AWS
managed policies"); IAM API Reference, UnmodifiableEntity ("service-linked roles are protected
AWS resources. Only the service that depends on the service-linked role can modify or delete
the role"); IAM Identity Center keeps its AWSReservedSSO_* roles under /aws-reserved/.
"""

from __future__ import annotations

import json

from conftest import json_result, run_cli

from reasoner.account.privesc import Privesc
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.facts import aws_rule_search_facts
from reasoner.policy.document import parse_policy
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can

A = "111122223333"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}


def allow(*actions: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}


def user(name: str, policies=(), attached=()) -> dict:
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::{A}:user/{name}",
        "GroupList": [],
        "UserPolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": p} for i, p in enumerate(policies)],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
    }


def role(path: str, name: str, policies=(), trusted: str | None = None) -> dict:
    principal = {"AWS": trusted} if trusted else {"Service": "ec2.amazonaws.com"}
    return {
        "RoleName": name,
        "Path": path,
        "Arn": f"arn:aws:iam::{A}:role{path}{name}",
        "AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        },
        "RolePolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": p} for i, p in enumerate(policies)],
        "AttachedManagedPolicies": [],
    }


def managed(arn: str, doc: dict) -> dict:
    return {
        "Arn": arn,
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyVersionList": [{"IsDefaultVersion": True, "VersionId": "v1", "Document": doc}],
    }


def privesc(tmp_path, users=(), roles=(), policies=()) -> dict:
    bundle = {
        "authorization_details": {
            "UserDetailList": list(users),
            "RoleDetailList": list(roles),
            "GroupDetailList": [],
            "Policies": list(policies),
        }
    }
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(bundle))
    return {r.principal.rsplit("/", 1)[-1]: r for r in Privesc(load_snapshot(f)).run()}


def test_no_new_version_of_an_aws_managed_policy(tmp_path):
    aws_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    own_arn = f"arn:aws:iam::{A}:policy/TeamReadOnly"
    out = privesc(
        tmp_path,
        users=[
            user("aws", [allow("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")], [aws_arn]),
            user("own", [allow("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion")], [own_arn]),
        ],
        policies=[managed(aws_arn, READ_ONLY), managed(own_arn, READ_ONLY)],
    )
    assert out["own"].admin is True  # control: a customer managed policy can be rewritten
    assert out["aws"].admin is False, [[s.to_json() for s in p] for p in out["aws"].paths]


def test_no_path_through_an_identity_center_role(tmp_path):
    caller = f"arn:aws:iam::{A}:user/dev"
    out = privesc(
        tmp_path,
        users=[user("dev", [allow("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy")])],
        roles=[
            role("/aws-reserved/sso.amazonaws.com/", "AWSReservedSSO_ReadOnly_0123456789abcdef", [READ_ONLY], caller),
        ],
    )
    assert out["dev"].admin is False, [[s.to_json() for s in p] for p in out["dev"].paths]


def test_identity_center_control_ordinary_role_escalates(tmp_path):
    caller = f"arn:aws:iam::{A}:user/dev"
    out = privesc(
        tmp_path,
        users=[user("dev", [allow("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy")])],
        roles=[role("/team/", "ReadOnly", [READ_ONLY], caller)],
    )
    assert out["dev"].admin is True


def test_no_path_through_a_service_linked_role(tmp_path):
    slr = role(
        "/aws-service-role/elasticloadbalancing.amazonaws.com/", "AWSServiceRoleForElasticLoadBalancing", [ADMIN]
    )
    out = privesc(tmp_path, users=[user("dev", [allow("iam:UpdateAssumeRolePolicy")])], roles=[slr])
    assert out["dev"].admin is False, [[s.to_json() for s in p] for p in out["dev"].paths]
    control = privesc(
        tmp_path, users=[user("dev", [allow("iam:UpdateAssumeRolePolicy")])], roles=[role("/", "Ops", [ADMIN])]
    )
    assert control["dev"].admin is True


# -- the search (reasoner can, and privesc hops with conditions) ---------------------------------------

SSO_ROLE = f"arn:aws:iam::{A}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef"


def test_search_facts_name_the_rule_per_action_and_resource():
    alice = parse_principal(f"arn:aws:iam::{A}:user/alice")
    facts = aws_rule_search_facts(
        alice,
        {1: "iam:PutRolePolicy", 2: "iam:GetRole", 3: "sts:GetCallerIdentity"},
        {10: SSO_ROLE, 11: f"arn:aws:iam::{A}:role/ops"},
    )
    assert sorted(facts) == [
        "aws_rule_for(1,10,aws_protected,-4).",
        "aws_rule_for(3,10,aws_always_allowed,-1).",
        "aws_rule_for(3,11,aws_always_allowed,-1).",
    ]
    assert aws_rule_search_facts(alice, {1: "iam:DeleteRole"}, SSO_ROLE) == ["aws_rule_for(1,none,aws_protected,-4)."]


def test_can_agrees_with_the_decider_on_a_protected_role():
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:PutRolePolicy",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ],
    }
    q = Query(
        principal=f"arn:aws:iam::{A}:user/u",
        action="iam:PutRolePolicy",
        resource=SSO_ROLE,
        identity_policies=[NamedPolicy("p", parse_policy(doc))],
    )
    assert can(q).answer == "impossible"


# -- CLI exit codes ----------------------------------------------------------------------------------------


def _write(tmp_path, name: str, doc: dict) -> str:
    f = tmp_path / name
    f.write_text(json.dumps(doc))
    return str(f)


def test_cli_session_of_a_pathed_role_needs_principal_arn(tmp_path):
    """IAM identifiers: arn:aws:sts::A:assumed-role/NAME/S drops the role's path. A bucket policy
    naming role/app/Deployer: exit 2 asking for aws:PrincipalArn; with it, the Deny applies."""
    bucket = _write(
        tmp_path,
        "bucket.json",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": f"arn:aws:iam::{A}:role/app/Deployer"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                },
            ],
        },
    )
    args = ["decide", "--principal", f"arn:aws:sts::{A}:assumed-role/Deployer/s", "--action", "s3:GetObject"]
    args += ["--resource", "arn:aws:s3:::b/k", "--resource-account", A, "--resource-policy", bucket]
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "aws:PrincipalArn" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli(*args, "--context", f"aws:PrincipalArn=arn:aws:iam::{A}:role/app/Deployer", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json_result(proc.stdout)["decision"] == "explicit_deny"


def test_cli_variable_before_the_fifth_colon_is_exit_2(tmp_path):
    """IAM policy elements: Variables and tags -- variables only after the fifth colon."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:GetRole",
                "Resource": [f"arn:aws:iam::{A}:role/a", "arn:aws:iam::${aws:PrincipalAccount}:role/x"],
            }
        ],
    }
    policy = _write(tmp_path, "p.json", doc)
    proc = run_cli(
        "decide", "--principal", f"arn:aws:iam::{A}:user/u", "--action", "iam:GetRole",
        "--resource", f"arn:aws:iam::{A}:role/x", "--identity-policy", policy,
    )  # fmt: skip
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "$.Statement[0].Resource[1]" in proc.stderr and "fifth colon" in proc.stderr


def test_cli_protected_and_always_allowed_layers(tmp_path):
    admin = _write(tmp_path, "admin.json", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:*", "Resource": "*"},
    ]})  # fmt: skip
    base = ["decide", "--principal", f"arn:aws:iam::{A}:user/u", "--identity-policy", admin, "--json"]
    proc = run_cli(*base, "--action", "sts:GetCallerIdentity", "--resource", "*")
    out = json_result(proc.stdout)
    assert (out["decision"], out["decided_by"]) == ("allow", "aws-always-allowed")
    proc = run_cli(*base, "--action", "iam:CreatePolicyVersion", "--resource", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    out = json_result(proc.stdout)
    assert (out["decision"], out["decided_by"]) == ("explicit_deny", "aws-protected")
    assert [s["layer"] for s in out["determining_statements"]] == ["aws-protected"]
    proc = run_cli(*base, "--action", "iam:CreatePolicyVersion", "--resource", "arn:aws:iam::aws:policy/ReadOnlyAccess",
                   "--fail-on-deny")  # fmt: skip
    assert proc.returncode == 1
