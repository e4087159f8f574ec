"""`privesc`: admin-equivalence proofs and escalation chains (techniques from Rhino Security Labs,
PMapper and pathfinding.cloud; reasoner/data/privesc_techniques.json cites each)."""

from __future__ import annotations

from conftest import CORPUS, json_result, run_cli
from test_paths import A, allow, role, snapshot, trust, user

from reasoner.account.privesc import Privesc
from reasoner.account.snapshot import load_snapshot

ADMIN_DOC = allow("*")


def managed(name, doc, account=A):
    return {
        "Arn": f"arn:aws:iam::{account}:policy/{name}",
        "PolicyName": name,
        "PolicyVersionList": [{"IsDefaultVersion": True, "VersionId": "v1", "Document": doc}],
    }


def run(f, start=None):
    return {r.principal.rsplit("/", 1)[-1]: r for r in Privesc(load_snapshot(f)).run(start)}


def techniques(r):
    return [[s.technique for s in p] for p in r.paths]


def test_admin_is_proved_not_read(tmp_path):
    """iam:* on * (or * on *) is admin; a policy that leaves out one IAM action is not."""
    not_quite = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:DeleteRole", "Resource": "*"},
        ],
    }
    f = snapshot(tmp_path, users=[user("all", [ADMIN_DOC]), user("iam", [allow("iam:*")]), user("almost", [not_quite])])
    out = run(f)
    assert out["all"].admin and out["iam"].admin and out["all"].paths == [[]]
    # Not admin itself, but iam:* minus one action still escalates (e.g. a new role it assumes).
    assert out["almost"].admin and out["almost"].paths[0]


def test_admin_needing_mfa_is_not_admin_itself_but_escalates(tmp_path):
    """The admin check's plain context has no aws:MultiFactorAuthPresent, so a grant that needs
    MFA is not admin by itself; escalation steps search the context (the caller may present MFA),
    and AdministratorAccess attached to itself carries no such condition."""
    mfa = allow("*", condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    r = run(snapshot(tmp_path, users=[user("u", [mfa])]))["u"]
    assert r.admin and r.paths[0]
    assert (
        Privesc(load_snapshot(tmp_path / "snap.json")).is_admin(load_snapshot(tmp_path / "snap.json").entity("u"))
        is False
    )


def test_put_user_policy_on_itself(tmp_path):
    """Rhino #5 (PutUserPolicy): a user that may write its own inline policy grants itself anything."""
    f = snapshot(tmp_path, users=[user("u", [allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/u")])])
    r = run(f)["u"]
    assert r.admin and techniques(r)[0] == ["iam-put-user-policy"]


def test_create_access_key_for_an_admin_user(tmp_path):
    """Rhino #4 (CreateAccessKey): keys for another user are that user's permissions."""
    f = snapshot(
        tmp_path,
        users=[user("boss", [ADMIN_DOC]), user("u", [allow("iam:CreateAccessKey", f"arn:aws:iam::{A}:user/boss")])],
    )
    r = run(f)["u"]
    assert r.admin and ["iam-create-access-key"] in techniques(r)
    assert r.paths[0][0].target == f"arn:aws:iam::{A}:user/boss"


def test_passrole_to_ec2_with_the_passed_to_service_condition(tmp_path):
    """Rhino #8 (PassRole + ec2:RunInstances): the target role must trust EC2, and iam:PassRole is
    checked with iam:PassedToService = ec2.amazonaws.com (IAM: iam:PassedToService)."""

    def caller(service):
        return user(
            "dev",
            [
                allow("iam:PassRole", f"arn:aws:iam::{A}:role/*", {"StringEquals": {"iam:PassedToService": service}}),
                allow("ec2:RunInstances"),
            ],
        )

    ec2_admin = role("ec2-admin", trust({"Service": "ec2.amazonaws.com"}), [ADMIN_DOC])
    r = run(snapshot(tmp_path, users=[caller("ec2.amazonaws.com")], roles=[ec2_admin]))["dev"]
    assert r.admin and any(p[0].technique == "ec2-run-instances" for p in r.paths)
    r = run(snapshot(tmp_path, users=[caller("lambda.amazonaws.com")], roles=[ec2_admin]))["dev"]
    assert r.admin is False


def test_boundary_blocks_the_escalation(tmp_path):
    """A permissions boundary without IAM writes caps the user's own PutUserPolicy."""
    u = user("u", [allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/u")])
    u["PermissionsBoundary"] = {"PermissionsBoundaryArn": f"arn:aws:iam::{A}:policy/b"}
    f = snapshot(tmp_path, users=[u], policies=[managed("b", allow("s3:*"))])
    assert run(f)["u"].admin is False


def test_add_user_to_an_admin_group(tmp_path):
    """Rhino #9 (AddUserToGroup): joining a group whose policies are admin."""
    group = {
        "GroupName": "admins",
        "Arn": f"arn:aws:iam::{A}:group/admins",
        "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": ADMIN_DOC}],
        "AttachedManagedPolicies": [],
    }
    f = snapshot(
        tmp_path, users=[user("u", [allow("iam:AddUserToGroup", f"arn:aws:iam::{A}:group/admins")])], groups=[group]
    )
    r = run(f)["u"]
    assert r.admin and techniques(r)[0] == ["iam-add-user-to-group"]


def test_create_policy_version_of_an_attached_policy(tmp_path):
    """Rhino #1 (CreatePolicyVersion): a new default version of a policy attached to oneself."""
    u = user("u")
    u["AttachedManagedPolicies"] = [{"PolicyName": "mine", "PolicyArn": f"arn:aws:iam::{A}:policy/mine"}]
    f = snapshot(
        tmp_path,
        users=[u],
        policies=[managed("mine", allow("iam:CreatePolicyVersion", f"arn:aws:iam::{A}:policy/mine"))],
    )
    r = run(f)["u"]
    assert r.admin and "iam-create-policy-version-user" in techniques(r)[0]
    # The precondition (a customer-managed policy attached to the target) is what the snapshot
    # shows and the binding uses: proved, not conditional.
    assert r.status == "proved" and not any(s.assumes for s in r.paths[0])


def test_chain_through_role_assumption(tmp_path):
    """sts:AssumeRole along a trust policy, then the role's own escalation."""
    f = snapshot(
        tmp_path,
        users=[user("u")],
        roles=[
            role(
                "r1",
                trust({"AWS": f"arn:aws:iam::{A}:user/u"}),
                [allow("iam:AttachRolePolicy", f"arn:aws:iam::{A}:role/r1")],
            )
        ],
    )
    r = run(f)["u"]
    assert r.admin and [s.technique for s in r.paths[0]] == ["sts:AssumeRole", "iam-attach-role-policy"]


def test_nothing_to_escalate(tmp_path):
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("s3:GetObject")])],
        roles=[role("r", trust({"Service": "ec2.amazonaws.com"}), [ADMIN_DOC])],
    )
    out = run(f)
    assert out["u"].admin is False and out["r"].admin is True


def test_cli_json_shape_and_unknown_exit_code(tmp_path):
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("iam:PutUserPolicy", f"arn:aws:iam::{A}:user/u")])],
        roles=[role("r", trust({"AWS": A}), [allow("s3:*")])],
    )
    proc = run_cli("privesc", str(f), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json_result(proc.stdout)
    assert {r["principal"].rsplit("/", 1)[-1] for r in rows} == {"u", "r"}
    u = next(r for r in rows if r["principal"].endswith("user/u"))
    assert u["admin"] is True and set(u["paths"][0][0]) >= {"technique", "from", "to", "via"}
    # The AWS CLI example lacks AdministratorAccess's text: those users are unknown, exit 4.
    proc = run_cli("privesc", str(CORPUS / "account-snapshots" / "awscli-doc-example.gaad.json"), "--json")
    assert proc.returncode == 4
    assert any(r["admin"] is None for r in json_result(proc.stdout))


OLD_SESSION = {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}
RECENT_SESSION = {"DateGreaterThan": {"aws:TokenIssueTime": "2021-01-01T00:00:00Z"}}


def test_token_issue_time_is_a_session_issued_now(tmp_path):
    """aws:TokenIssueTime is present only with temporary credentials (absent with a user's
    long-term keys) and is the time a still-valid session was issued (IAM User Guide, global
    condition keys; STS session limits, session.py): no session issued today satisfies
    DateLessThan 2020-01-01, and a role session always has the key. privesc, reach and the
    admin check read it the same way."""
    own = f"arn:aws:iam::{A}:"
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("iam:PutUserPolicy", own + "user/u", OLD_SESSION)])],
        roles=[
            role("r", trust({"AWS": own + "root"}), [allow("iam:PutRolePolicy", own + "role/r", OLD_SESSION)]),
            role("q", trust({"AWS": own + "root"}), [allow("iam:PutRolePolicy", own + "role/q", RECENT_SESSION)]),
            role("admin-recent", trust({"AWS": own + "root"}), [allow("*", "*", RECENT_SESSION)]),
        ],
    )
    out = run(f)
    assert out["u"].admin is False and out["r"].admin is False
    assert out["q"].admin and techniques(out["q"]) == [["iam-put-role-policy"]]
    assert out["admin-recent"].admin and out["admin-recent"].paths[0] == []  # a role session issued now
    from reasoner.account.paths import PathFinder

    finder = PathFinder(load_snapshot(f))
    assert finder.reach("u", "iam:PutUserPolicy", own + "user/u").answer == "impossible"
    assert finder.reach("r", "iam:PutRolePolicy", own + "role/r").answer == "impossible"
    hop = finder.reach("q", "iam:PutRolePolicy", own + "role/q").paths[0].hops[0]
    import datetime as dt

    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert hop.context["aws:TokenIssueTime"] >= yesterday


def test_a_chain_that_rests_on_a_precondition_is_conditional_not_proved(tmp_path):
    """ec2:RunInstances with iam:PassRole needs an instance profile for the role, which a policy
    snapshot without instance profiles cannot show: the answer is conditional, with that
    precondition in plain words (no {placeholder} text); a chain with no precondition is proved."""
    own = f"arn:aws:iam::{A}:"
    ec2_admin = role("ec2-admin", trust({"Service": "ec2.amazonaws.com"}), [ADMIN_DOC])
    runner = user("runner", [allow(["iam:PassRole", "ec2:RunInstances"])])
    writer = user("writer", [allow("iam:PutUserPolicy", own + "user/writer")])
    out = run(snapshot(tmp_path, users=[runner, writer], roles=[ec2_admin]))
    assert out["runner"].status == "conditional" and out["runner"].admin
    assumes = [s.assumes for s in out["runner"].paths[0] if s.assumes]
    assert assumes and all("{" not in a for a in assumes)
    assert out["writer"].status == "proved" and out["ec2-admin"].status == "proved"
    assert out["runner"].to_json()["status"] == "conditional"
