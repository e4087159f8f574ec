"""who-can's outside principals (reasoner.account.outside): anonymous, any or named other AWS
accounts, organizations, federated identities and services, as IAM Access Analyzer defines public
and external access, from the one search the audit's external-access rule uses too.

AWS docs cited by the tests:
- IAM User Guide, "IAM Access Analyzer findings" / "How IAM Access Analyzer findings work": a
  resource shared with anyone (Principal "*" without a limiting condition, which includes
  anonymous callers) or with any AWS account is public; shared with a named account, organization,
  service or federated identity outside the zone of trust is external access.
- IAM User Guide, "Cross-account policy evaluation logic": a request from another account is
  allowed only when the resource policy allows it AND the caller's own identity policies allow it;
  the caller's account is not in the snapshot, so such a grant holds "if their own account allows".
- IAM User Guide, "AWS global condition context keys" (aws:SourceAccount, aws:SourceArn) and
  "The confused deputy problem": a service principal allowed without them acts for any account.
"""

from __future__ import annotations

import json
from pathlib import Path

from conftest import json_result, run_cli

from reasoner.account.outside import IF_THEIR_ACCOUNT_ALLOWS
from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.audit.run import run_audit

ACCOUNT = "111122223333"
PARTNER = "444455556666"
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def bucket_policy(bucket: str, principal: object, action: str = "s3:GetObject", **extra: object) -> dict:
    return doc(
        {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": f"arn:aws:s3:::{bucket}/*", **extra}
    )


def role(name: str, trust: dict, inline: dict | None = None) -> dict:
    return {
        "RoleName": name,
        "RoleId": "AROA" + name.upper(),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": inline}] if inline else [],
        "AttachedManagedPolicies": [],
        "Tags": [],
    }


def snapshot(tmp_path: Path, roles: list[dict], policies: dict[str, dict]) -> Path:
    b = {
        "authorization_details": {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []},
        "resource_policies": [{"Resource": arn, "Policy": pol, "Account": ACCOUNT} for arn, pol in policies.items()],
    }
    p = tmp_path / "snap.json"
    p.write_text(json.dumps(b))
    return p


def outside(snap: Path, action: str, resource: str) -> dict[str, dict]:
    a = PathFinder(load_snapshot(snap)).who_can(action, resource, outside=True)
    assert a.outside is not None
    return {g["category"]: g for g in a.to_json()["outside"]["principals"]}


def test_principal_star_is_public_anonymous_access(tmp_path):
    """Access Analyzer: Principal "*" is public; an anonymous caller needs the resource policy alone."""
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::pub": bucket_policy("pub", "*")})
    got = outside(snap, "s3:GetObject", "arn:aws:s3:::pub/report.csv")
    assert got["anonymous"]["access"] == "public" and got["anonymous"]["principal"] == "anonymous"
    assert got["anonymous"]["holds"] == "through the resource policy alone"
    assert got["any-account"]["access"] == "public" and got["any-account"]["holds"] == IF_THEIR_ACCOUNT_ALLOWS
    assert got["anonymous"]["witness"]["request"]["action"] == "s3:GetObject"
    # A service or identity provider nobody names is public too (any of them gets in).
    assert got["service-no-source"]["access"] == got["federated"]["access"] == "public"
    assert got["federated"]["who"].startswith("any federated identity")


def test_named_outside_account_holds_if_their_own_account_allows(tmp_path):
    """Cross-account policy evaluation logic: the resource policy names the account; the caller's
    own identity policies (not in the snapshot) must allow too."""
    policy = bucket_policy("shared", {"AWS": f"arn:aws:iam::{PARTNER}:root"})
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::shared": policy})
    got = outside(snap, "s3:GetObject", "arn:aws:s3:::shared/x")
    assert set(got) == {"outside-account"}
    g = got["outside-account"]
    assert g["account"] == PARTNER and g["access"] == "external" and g["holds"] == IF_THEIR_ACCOUNT_ALLOWS
    assert g["principal"].startswith("arn:aws:") and f":{PARTNER}:" in g["principal"]
    assert outside(snap, "s3:PutObject", "arn:aws:s3:::shared/x") == {}  # the policy grants only GetObject


def test_the_snapshots_own_account_is_not_outside(tmp_path):
    policy = bucket_policy("own", {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    snap = snapshot(tmp_path, [role("Reader", TRUST_EC2, READ)], {"arn:aws:s3:::own": policy})
    a = PathFinder(load_snapshot(snap)).who_can("s3:GetObject", "arn:aws:s3:::own/x", outside=True)
    assert [p.principal for p in a.principals] == [f"arn:aws:iam::{ACCOUNT}:role/Reader"]
    assert a.outside is not None and a.outside.grants == [] and a.outside.unknown == []


def test_org_id_condition_is_external_not_public(tmp_path):
    """Access Analyzer: Principal "*" limited by aws:PrincipalOrgID is shared with the organization."""
    cond = {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg"}}}
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::org": bucket_policy("org", "*", **cond)})
    got = outside(snap, "s3:GetObject", "arn:aws:s3:::org/x")
    assert set(got) == {"organization"} and got["organization"]["access"] == "external"
    assert got["organization"]["request"]["context"]["aws:PrincipalOrgID"] == "o-exampleorg"


def test_service_principal_with_and_without_source_conditions(tmp_path):
    """Confused deputy: a service allowed without aws:SourceAccount / aws:SourceArn acts for any
    account; with aws:SourceAccount it acts only for the account it names (still listed)."""
    svc = {"Service": "cloudtrail.amazonaws.com"}
    cond = {"Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}
    policies = {
        "arn:aws:s3:::logs": bucket_policy("logs", svc, "s3:PutObject"),
        "arn:aws:s3:::guarded": bucket_policy("guarded", svc, "s3:PutObject", **cond),
    }
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], policies)
    logs = outside(snap, "s3:PutObject", "arn:aws:s3:::logs/AWSLogs/x")
    assert set(logs) == {"service-no-source"} and logs["service-no-source"]["principal"] == "cloudtrail.amazonaws.com"
    assert logs["service-no-source"]["holds"] == "through the resource policy alone"
    guarded = outside(snap, "s3:PutObject", "arn:aws:s3:::guarded/AWSLogs/x")
    assert set(guarded) == {"service"}
    assert guarded["service"]["request"]["context"]["aws:SourceAccount"] == ACCOUNT


def test_federated_identity_named_by_a_resource_policy(tmp_path):
    """A web identity provider named in a resource policy: every user of a public provider whose
    audience key is left open (IAM User Guide, "Available keys for AWS web identity federation")."""
    policy = bucket_policy("app", {"Federated": "cognito-identity.amazonaws.com"})
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::app": policy})
    got = outside(snap, "s3:GetObject", "arn:aws:s3:::app/x")
    assert set(got) == {"federated"} and got["federated"]["principal"] == "federated:cognito-identity.amazonaws.com"


def test_an_explicit_deny_for_other_accounts_leaves_no_outside_principal(tmp_path):
    """Policy evaluation: an explicit Deny overrides the Allow (aws:PrincipalAccount not ours)."""
    policy = doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::locked/*"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::locked/*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
        },
    )
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::locked": policy})
    got = outside(snap, "s3:GetObject", "arn:aws:s3:::locked/x")
    # Anonymous callers have no account: aws:PrincipalAccount is absent, and StringNotEquals on an
    # absent key matches (IAM User Guide, "Condition operators"), so the Deny applies to them too.
    assert got == {}


def test_outside_account_through_a_role_trust_policy(tmp_path):
    """An outside account the trust policy names can assume the role, then read as the role: the
    sts:ExternalId condition remains, and it holds only if their own account allows."""
    trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "partner-id"}},
        }
    )
    snap = snapshot(tmp_path, [role("Partner", trust, READ), role("Ec2", TRUST_EC2)], {})
    a = PathFinder(load_snapshot(snap)).who_can("s3:GetObject", "arn:aws:s3:::any-bucket/x", outside=True)
    assert f"arn:aws:iam::{ACCOUNT}:role/Partner" in [p.principal for p in a.principals]
    data = a.to_json()["outside"]
    (g,) = data["principals"]
    assert g["category"] == "outside-account" and g["account"] == PARTNER
    assert g["resource"] == f"arn:aws:iam::{ACCOUNT}:role/Partner" and g["request"]["action"] == "sts:AssumeRole"
    assert g["request"]["context"]["sts:ExternalId"] == "partner-id"
    assert g["path"] and g["path"][-1]["action"] == "s3:GetObject"
    assert g["holds"] == IF_THEIR_ACCOUNT_ALLOWS


def test_who_can_and_the_audit_agree(tmp_path):
    """One home: the audit's external-access categories are who-can's outside categories."""
    policies = {
        "arn:aws:s3:::pub": bucket_policy("pub", "*"),
        "arn:aws:s3:::shared": bucket_policy("shared", {"AWS": f"arn:aws:iam::{PARTNER}:root"}),
    }
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], policies)
    r = run_audit([str(snap)], only=["external-access"])
    audit = {
        (f.resource.split("/")[0], f.details["category"])
        for f in r.findings
        if f.rule.id == "external-access" and f.status == "fail"
    }
    who = {(b, c) for b in ("arn:aws:s3:::pub", "arn:aws:s3:::shared") for c in outside(snap, "s3:GetObject", b + "/x")}
    # The audit reports one finding per category; any-account is public like anonymous.
    assert {x for x in who if x[1] != "any-account"} <= audit
    assert ("arn:aws:s3:::shared", "outside-account") in audit and ("arn:aws:s3:::pub", "anonymous") in audit


def test_not_from_vpce_makes_an_endpoint_only_grant_unknown_not_silent(tmp_path):
    """The outside search does not take the path constraints: a grant whose request needs the
    excluded endpoint is reported unknown, never dropped as if impossible."""
    cond = {"Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    snap = snapshot(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::vpc": bucket_policy("vpc", "*", **cond)})
    from reasoner.account.hops import Constraints

    a = PathFinder(load_snapshot(snap)).who_can(
        "s3:GetObject", "arn:aws:s3:::vpc/x", Constraints(not_from_vpce=("vpce-1a2b3c4d",)), outside=True
    )
    assert a.outside is not None and not a.outside.grants and a.outside.unknown


def test_cli_lists_outside_principals_in_their_own_group(tmp_path):
    policy = bucket_policy("shared", {"AWS": f"arn:aws:iam::{PARTNER}:root"})
    snap = snapshot(tmp_path, [role("Reader", TRUST_EC2, READ)], {"arn:aws:s3:::shared": policy})
    args = ["who-can", str(snap), "--action", "s3:GetObject", "--resource", "arn:aws:s3:::shared/x"]
    table = run_cli(*args)
    assert table.returncode == 0, table.stderr
    assert "outside the snapshot" in table.stdout and f"account {PARTNER}" in table.stdout
    assert "if their own account allows" in table.stdout
    data = json_result(run_cli(*args, "--json").stdout)
    assert [p["principal"] for p in data["principals"]] == [f"arn:aws:iam::{ACCOUNT}:role/Reader"]
    assert [g["account"] for g in data["outside"]["principals"]] == [PARTNER]


def test_assuming_the_role_itself_lists_the_outside_account_its_trust_policy_names(tmp_path):
    """who-can sts:AssumeRole on a role: the trust policy is the role's resource policy (IAM User
    Guide, "Cross-account policy evaluation logic": the trust policy and the caller's own policies)."""
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}, "Action": "sts:AssumeRole"})
    snap = snapshot(tmp_path, [role("Partner", trust, READ)], {})
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/Partner"
    got = outside(snap, "sts:AssumeRole", role_arn)
    assert set(got) == {"outside-account"} and got["outside-account"]["account"] == PARTNER
    assert got["outside-account"]["resource"] == role_arn and "path" not in got["outside-account"]
    assert outside(snap, "sts:TagSession", role_arn) == {}  # the trust policy allows only AssumeRole
