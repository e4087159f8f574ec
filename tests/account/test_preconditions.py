"""Technique preconditions the snapshot shows (reasoner/account/preconditions.py): *proved* when
visible and holding, *no* when visible and false, *conditional* when outside the snapshot.

AWS behaviour followed:
* EC2 gives an instance a role only through an instance profile that contains it (IAM User
  Guide, "Using instance profiles"); GAAD's RoleDetailList[].InstanceProfileList lists them.
* SetDefaultPolicyVersion makes an existing version the default (IAM API reference): the target
  gains that version's permissions in place of the default's; PolicyVersionList lists them all.
"""

from __future__ import annotations

from test_paths import A, allow, role, snapshot, trust, user

from reasoner.account.privesc import Privesc
from reasoner.account.snapshot import load_snapshot

ADMIN_DOC = allow("*")
POLICY = f"arn:aws:iam::{A}:policy/mine"


def run(f):
    return {r.principal.rsplit("/", 1)[-1]: r for r in Privesc(load_snapshot(f)).run()}


def ec2_admin(profiles):
    r = role("ec2-admin", trust({"Service": "ec2.amazonaws.com"}), [ADMIN_DOC])
    if profiles is not None:
        r["InstanceProfileList"] = [
            {"InstanceProfileName": p, "Arn": f"arn:aws:iam::{A}:instance-profile/{p}"} for p in profiles
        ]
    return r


RUNNER = user("runner", [allow(["iam:PassRole", "ec2:RunInstances"])])
SSM = user("ssm", [allow("ssm:StartSession")])


def test_run_instances_without_an_instance_profile_for_the_role_is_no(tmp_path):
    out = run(snapshot(tmp_path, users=[RUNNER], roles=[ec2_admin([])]))
    assert out["runner"].status == "no"


def test_run_instances_with_an_instance_profile_for_the_role_is_proved(tmp_path):
    out = run(snapshot(tmp_path, users=[RUNNER], roles=[ec2_admin(["web"])]))
    assert out["runner"].status == "proved"
    assert [s.technique for s in out["runner"].paths[0]] == ["ec2-run-instances"]


def test_instance_profiles_not_in_the_source_leave_it_conditional(tmp_path):
    out = run(snapshot(tmp_path, users=[RUNNER], roles=[ec2_admin(None)]))
    assert out["runner"].status == "conditional"
    assert "instance profile" in out["runner"].paths[0][0].assumes


def test_a_check_that_is_only_part_of_the_precondition_keeps_it_conditional(tmp_path):
    """ssm:StartSession also needs a running managed instance, which no policy snapshot shows:
    an instance profile makes it conditional, none makes it impossible."""
    assert run(snapshot(tmp_path, users=[SSM], roles=[ec2_admin(["web"])]))["ssm"].status == "conditional"
    assert run(snapshot(tmp_path, users=[SSM], roles=[ec2_admin([])]))["ssm"].status == "no"


def managed_versions(default_doc, others):
    versions = [{"VersionId": "v9", "IsDefaultVersion": True, "Document": default_doc}]
    versions += [{"VersionId": vid, "IsDefaultVersion": False, "Document": doc} for vid, doc in others]
    return {"Arn": POLICY, "PolicyName": "mine", "PolicyVersionList": versions}


def setter(tmp_path, others):
    u = user("u")
    u["AttachedManagedPolicies"] = [{"PolicyName": "mine", "PolicyArn": POLICY}]
    default = allow("iam:SetDefaultPolicyVersion", POLICY)
    return run(snapshot(tmp_path, users=[u], policies=[managed_versions(default, others)]))["u"]


def test_set_default_version_to_an_admin_version_is_proved(tmp_path):
    r = setter(tmp_path, [("v1", allow("s3:*")), ("v2", ADMIN_DOC)])
    assert r.status == "proved"
    assert [s.technique for s in r.paths[0]] == ["iam-set-default-policy-version-user"]


def test_set_default_version_with_no_version_granting_admin_is_no(tmp_path):
    assert setter(tmp_path, [("v1", allow("s3:*"))]).status == "no"
    assert setter(tmp_path, []).status == "no"


def test_a_version_replaces_the_default_it_does_not_add_to_it(tmp_path):
    """The default's Deny goes away with the default: v1 alone is admin, default + v1 would not be."""
    default = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:SetDefaultPolicyVersion", "Resource": POLICY},
            {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"},
        ],
    }
    u = user("u")
    u["AttachedManagedPolicies"] = [{"PolicyName": "mine", "PolicyArn": POLICY}]
    f = snapshot(tmp_path, users=[u], policies=[managed_versions(default, [("v1", ADMIN_DOC)])])
    assert run(f)["u"].status == "proved"


def test_an_unreadable_version_leaves_it_conditional(tmp_path):
    r = setter(tmp_path, [("v1", {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]})])
    assert r.status == "conditional"
    assert "non-default version" in r.paths[0][0].assumes


def test_who_can_keeps_a_narrower_version_as_a_conditional_path(tmp_path):
    """A version that is not admin still allows s3:GetObject: privesc says no, who-can still lists
    the principal (its path rests on the version, so it is marked with that precondition)."""
    from reasoner.account.paths import PathFinder

    u = user("u")
    u["AttachedManagedPolicies"] = [{"PolicyName": "mine", "PolicyArn": POLICY}]
    default = allow("iam:SetDefaultPolicyVersion", POLICY)
    f = snapshot(tmp_path, users=[u], policies=[managed_versions(default, [("v1", allow("s3:GetObject"))])])
    snap = load_snapshot(f)
    assert Privesc(snap).run()[0].status == "no"
    who = {
        p.principal.rsplit("/", 1)[-1]: p
        for p in PathFinder(snap).who_can("s3:GetObject", "arn:aws:s3:::b/k").principals
    }
    assert "u" in who
    assert any(h.assumes for h in who["u"].path.hops)
