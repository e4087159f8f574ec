"""Broken and hostile snapshots (issue 11): nothing lost, nothing guessed. A malformed field, a
duplicate, an unreadable trust policy, a truncated page, an account or listing the collector
could not read: the answers that depend on it are `unknown` with the reason, and a snapshot that
is incomplete as a whole says so."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, json_result, run_cli
from snapshot_builders import A, B, allow, role, snapshot, trust, user

from reasoner import api
from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import SnapshotUnknown, load_snapshot

C = "333333333333"
SEED = ROOT / "cases" / "athena-vpce" / "snapshot" / "snapshot.json"
DATA = "arn:aws:s3:::examplecorp-business-data/revenuedata/x.parquet"
BIZ = "arn:aws:iam::111122223333:role/BizMetricsQuery"


def _seed() -> dict:
    return json.loads(SEED.read_text())


def _gaad(d: dict) -> dict:
    g = d["authorization_details"]
    return g if isinstance(g, dict) else g[0]


def _role(d: dict, name: str) -> dict:
    return next(r for r in _gaad(d)["RoleDetailList"] if r["RoleName"] == name)


def _two_defaults(d: dict) -> None:
    p = next(p for p in _gaad(d)["Policies"] if p["Arn"].endswith("/BizMetricsQueryPolicy"))
    v = copy.deepcopy(p["PolicyVersionList"][0])
    v.update(VersionId="v9", IsDefaultVersion=True, Document=allow("*"))
    p["PolicyVersionList"].append(v)


def _duplicate_role(d: dict) -> None:
    r = copy.deepcopy(_role(d, "BizMetricsQuery"))
    r["AttachedManagedPolicies"] = []
    _gaad(d)["RoleDetailList"].append(r)


# (damage, what the reason says): BizMetricsQuery's answer on the data must be unknown.
PRINCIPAL_DAMAGE = {
    "tags-object": (lambda d: _role(d, "BizMetricsQuery").update(Tags={"team": "analytics"}), "Tags"),
    "tags-lower-case": (
        lambda d: _role(d, "BizMetricsQuery").update(Tags=[{"key": "team", "value": "analytics"}]),
        "Tags",
    ),
    "boundary-string": (
        lambda d: _role(d, "BizMetricsQuery").update(PermissionsBoundary="arn:aws:iam::111122223333:policy/B"),
        "PermissionsBoundary",
    ),
    "attached-without-arn": (
        lambda d: _role(d, "BizMetricsQuery").update(AttachedManagedPolicies=[{"PolicyName": "X"}]),
        "PolicyArn",
    ),
    "two-default-versions": (_two_defaults, "2 default versions"),
    "duplicate-role": (_duplicate_role, "defined twice"),
    "inline-list-as-object": (lambda d: _role(d, "BizMetricsQuery").update(RolePolicyList={"a": 1}), "not a list"),
}


def _write(tmp_path: Path, d: dict, name: str = "snap.json") -> Path:
    f = tmp_path / name
    f.write_text(json.dumps(d))
    return f


@pytest.mark.parametrize("damage", sorted(PRINCIPAL_DAMAGE))
def test_a_malformed_principal_field_makes_its_answers_unknown(tmp_path, damage):
    d = _seed()
    change, said = PRINCIPAL_DAMAGE[damage]
    change(d)
    snap = load_snapshot(_write(tmp_path, d))
    a = PathFinder(snap).who_can("s3:GetObject", DATA)
    unknown = {u.principal: u.reason for u in a.unknown}
    assert BIZ in unknown and said in (unknown[BIZ] or ""), unknown
    assert BIZ not in {p.principal for p in a.principals}
    assert any(said in p for p in snap.problems)
    # decide --snapshot refuses what who-can reports unknown, with the same reason
    with pytest.raises(SnapshotUnknown, match=said):
        api.snapshot_request(snap, BIZ, "s3:GetObject", DATA)


def test_a_duplicate_resource_policy_that_differs_is_unknown(tmp_path):
    d = _seed()
    rp = copy.deepcopy(d["resource_policies"][0])
    rp["Policy"] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*"}]}
    rp["Policy"]["Statement"][0]["Resource"] = "*"
    d["resource_policies"].append(rp)
    snap = load_snapshot(_write(tmp_path, d))
    a = PathFinder(snap).who_can("s3:GetObject", DATA)
    assert not a.principals
    assert all("defined again" in (u.reason or "") for u in a.unknown) and a.unknown
    # the same entry twice is no conflict
    d = _seed()
    d["resource_policies"].append(copy.deepcopy(d["resource_policies"][0]))
    assert not load_snapshot(_write(tmp_path, d)).broken_resources


def test_an_unreadable_trust_policy_trusts_nobody_is_never_assumed(tmp_path):
    """Who may assume the role is unknown, not nobody: callers that reach the data only through
    it are unknown; the role's own permissions are still answered."""
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("sts:AssumeRole")])],
        roles=[role("reader", trust({"AWS": A}), [allow("s3:GetObject")])],
    )
    d = json.loads(f.read_text())
    d["authorization_details"]["RoleDetailList"][0]["AssumeRolePolicyDocument"] = "{not json"
    snap = load_snapshot(_write(tmp_path, d))
    a = PathFinder(snap).who_can("s3:GetObject", "arn:aws:s3:::b/k")
    assert [p.principal for p in a.principals] == [f"arn:aws:iam::{A}:role/reader"]
    unknown = {u.principal: u.reason for u in a.unknown}
    assert "trust policy" in unknown[f"arn:aws:iam::{A}:user/u"]
    with pytest.raises(SnapshotUnknown, match="trust policy"):
        api.snapshot_request(snap, f"arn:aws:iam::{A}:user/u", "sts:AssumeRole", f"arn:aws:iam::{A}:role/reader")


def test_prove_no_cross_account_is_unknown_over_an_unreadable_trust_policy(tmp_path):
    d = _seed()
    _role(d, "ReportPublisher")["AssumeRolePolicyDocument"] = "{not json"
    folder = tmp_path / "case"
    shutil.copytree(SEED.parent.parent, folder)
    _write(folder / "snapshot", d, "snapshot.json")
    results = {r.id: r for r in api.prove(folder / "invariants.yaml", folder)}
    assert results["no-cross-account"].status == "unknown"
    assert "ReportPublisher" in (results["no-cross-account"].reason or "")


def test_a_truncated_page_makes_the_snapshot_incomplete_in_every_answer(tmp_path):
    d = _seed()
    _gaad(d).update(IsTruncated=True, Marker="next")
    f = _write(tmp_path, d)
    snap = load_snapshot(f)
    assert not snap.complete and "IsTruncated" in snap.incomplete[0]
    # reach cannot prove "impossible" when principals or roles may be missing
    r = PathFinder(snap).reach(BIZ, "s3:DeleteBucket", "arn:aws:s3:::examplecorp-business-data")
    assert r.answer == "unknown" and any("incomplete" in u for u in r.unknown)
    out = run_cli("who-can", str(f), "--action", "s3:GetObject", "--resource", DATA, "--json")
    assert out.returncode == 4
    body = json_result(out.stdout)
    assert body["complete"] is False and "IsTruncated" in body["incomplete"][0]
    table = run_cli("who-can", str(f), "--action", "s3:GetObject", "--resource", DATA)
    assert "snapshot incomplete" in table.stdout and table.returncode == 4
    proved = {r.id: r.status for r in api.prove(ROOT / "cases" / "athena-vpce" / "invariants.yaml", snap)}
    assert "proved" not in proved.values()


def test_unreadable_marker_reports_its_cause(tmp_path):
    """The collector's marker, old (Policy "UNREADABLE: ...") and explicit (Unreadable)."""
    for entry in (
        {"Resource": "arn:aws:s3:::b", "Policy": "UNREADABLE: s3.GetBucketPolicy failed: AccessDenied: no"},
        {"Resource": "arn:aws:s3:::b", "Unreadable": "s3.GetBucketPolicy failed: AccessDenied: no"},
    ):
        snap = load_snapshot(snapshot(tmp_path, roles=[role("r", trust({"AWS": A}))], resource_policies=[entry]))
        why = snap.broken_policy_for("arn:aws:s3:::b/k")
        assert why is not None and "AccessDenied" in why and "not JSON" not in why


def _cloudmapper(tmp_path: Path) -> Path:
    dump = tmp_path / "cm"
    shutil.copytree(CORPUS / "account-snapshots" / "cloudmapper-demo", dump)
    return dump


@pytest.mark.parametrize(
    "folder,name,arn",
    [
        ("sns-get-topic-attributes", "arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Ademo_private", None),
        ("lambda-get-policy", "invpclambda", "arn:aws:lambda:us-east-1:123456789012:function:invpclambda"),
        ("s3-get-bucket-policy", "cloudmapper_demo", "arn:aws:s3:::cloudmapper_demo"),
    ],
)
def test_an_unreadable_cloudmapper_policy_is_unknown_not_absent(tmp_path, folder, name, arn):
    dump = _cloudmapper(tmp_path)
    (dump / "us-east-1" / folder / name).write_text("{truncated")
    snap = load_snapshot(dump)
    arn = arn or "arn:aws:sns:us-east-1:123456789012:demo_private"
    assert arn in snap.broken_resources and arn not in snap.resource_policies
    assert snap.broken_policy_for(arn) is not None


def _collected(tmp_path: Path, report: dict, **bundle) -> Path:
    out = tmp_path / "collected"
    out.mkdir()
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("*")])],
        resource_policies=[{"Resource": "arn:aws:s3:::known", "Policy": allow("s3:*"), "Account": A}],
        **bundle,
    )
    d = json.loads(f.read_text())
    d["resource_policies"][0]["Policy"]["Statement"][0]["Principal"] = {"AWS": A}
    (out / "snapshot.json").write_text(json.dumps({"format": "reasoner-collect/1", **d}))
    (out / "collected-extras.json").write_text(json.dumps({"format": "reasoner-collected-extras/1", "accounts": {}}))
    (out / "collection-report.json").write_text(json.dumps({"format": "reasoner-collection-report/1", **report}))
    return out


def test_collected_report_and_extras_are_recognised_and_used(tmp_path):
    report = {
        "complete": False,
        "accounts": {
            A: {"entered": True, "unlisted": ["sqs.ListQueues us-east-1: AccessDenied: no"]},
            B: {"entered": False, "error": "sts:AssumeRole ...: AccessDenied"},
        },
    }
    snap = load_snapshot(_collected(tmp_path, report))
    assert not any("not a snapshot part" in p for p in snap.problems)
    assert B in snap.unknown_accounts and not snap.complete
    u = f"arn:aws:iam::{A}:user/u"
    finder = PathFinder(snap)
    # a queue the failed listing could not name, asked by ARN or by a pattern covering it
    for resource in (f"arn:aws:sqs:us-east-1:{A}:q", f"arn:aws:sqs:*:{A}:*"):
        assert u in {x.principal for x in finder.who_can("sqs:SendMessage", resource).unknown}, resource
    # a queue in another region was listed: answered
    assert u in {p.principal for p in finder.who_can("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{A}:q").principals}
    # a resource of the account that could not be entered
    assert u in {x.principal for x in finder.who_can("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{B}:q").unknown}
    # an S3 bucket whose policy is known is answered; one that may be in account B is not
    assert u in {p.principal for p in finder.who_can("s3:GetObject", "arn:aws:s3:::known/k").principals}
    assert u in {x.principal for x in finder.who_can("s3:GetObject", "arn:aws:s3:::other/k").unknown}


def test_bundle_unknowns_are_read_from_the_bundle_itself(tmp_path):
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("*")])],
        unknown_accounts={B: "could not be entered"},
        unknown_resources=[{"pattern": f"arn:aws:kms:*:{A}:key/*", "reason": "kms.ListKeys denied"}],
    )
    snap = load_snapshot(f)
    assert snap.unknown_accounts == {B: "could not be entered"}
    assert snap.broken_policy_for(f"arn:aws:kms:us-east-1:{A}:key/k1") is not None
    assert snap.broken_policy_for(f"arn:aws:sqs:us-east-1:{A}:q") is None
    assert len(snap.incomplete) == 2


def _org(scp_ou: dict, rcp_ou: dict | None = None) -> dict:
    ok = {"Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "Content": allow("*")}
    return {
        "Id": "r-root",
        "Arn": "arn:aws:organizations::999999999999:root/o-abc/r-root",
        "Policies": [ok],
        "Children": [
            {"Id": "ou-a", "Policies": [ok, scp_ou], "Children": [{"Id": A, "Policies": [ok]}]},
            {"Id": "ou-b", "Policies": [ok, *([rcp_ou] if rcp_ou else [])], "Children": [{"Id": B, "Policies": [ok]}]},
            {"Id": C, "Policies": [ok]},
        ],
    }


def test_an_unreadable_scp_makes_only_its_level_unknown(tmp_path):
    unread = {"Name": "deny-x", "Type": "SERVICE_CONTROL_POLICY", "Unreadable": "DescribePolicy: AccessDenied"}
    rcp = {"Name": "r", "Type": "RESOURCE_CONTROL_POLICY", "Content": "UNREADABLE: DescribePolicy failed: Throttled"}
    f = snapshot(
        tmp_path,
        users=[user("a", [allow("*")]), user("b", [allow("*")], account=B), user("c", [allow("*")], account=C)],
        organization=_org(unread, rcp),
        management_account="999999999999",
    )
    snap = load_snapshot(f)
    finder = PathFinder(snap)
    # A's SCPs are unknown: what a does is unknown; c, under known levels, is answered
    a = finder.who_can("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{C}:q")
    assert {p.principal for p in a.principals} == {f"arn:aws:iam::{C}:user/c"}
    assert [u.principal for u in a.unknown] == [f"arn:aws:iam::{A}:user/a"] and "AccessDenied" in a.unknown[0].reason
    # B's RCPs are unknown: its resources are unknown to everyone
    b = finder.who_can("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{B}:q")
    reasons = {u.principal: u.reason or "" for u in b.unknown}
    assert not b.principals and all("Throttled" in reasons[f"arn:aws:iam::{x}"] for x in (f"{B}:user/b", f"{C}:user/c"))


def test_an_unlisted_ou_makes_accounts_missing_from_the_tree_unknown(tmp_path):
    listing = {"Name": "unreadable-children-of-ou-a", "Content": "UNREADABLE: ListAccountsForParent failed: Denied"}
    org = _org({"Name": "ok", "Type": "SERVICE_CONTROL_POLICY", "Content": allow("*")})
    org["Children"][0]["Policies"].append(listing)
    org["Children"][0]["Children"] = []  # A was not listed
    f = snapshot(tmp_path, users=[user("a", [allow("*")]), user("b", [allow("*")], account=B)], organization=org)
    snap = load_snapshot(f)
    assert snap.entity("a").incomplete and not snap.entity("b").incomplete


def test_decide_snapshot_cli_answers_unknown_exit_4(tmp_path):
    d = _seed()
    _role(d, "BizMetricsQuery")["Tags"] = {"team": "x"}
    f = _write(tmp_path, d)
    args = ("decide", "--snapshot", str(f), "--principal", BIZ, "--action", "s3:GetObject", "--resource", DATA)
    out = run_cli(*args, "--json")
    assert out.returncode == 4, out.stderr
    body = json_result(out.stdout)
    assert body["answer"] == "unknown" and "Tags" in body["reason"] and body["decision"] is None
    assert run_cli(*args).returncode == 4


def test_a_snapshot_on_stdin_is_read_through_the_bounded_reader():
    from reasoner.policy.document import MAX_DOCUMENT_BYTES

    out = run_cli("who-can", "-", "--action", "s3:GetObject", "--resource", DATA, stdin=" " * (MAX_DOCUMENT_BYTES + 1))
    assert out.returncode == 2 and "limit" in out.stderr and len(out.stderr.splitlines()) == 1


def test_collection_report_unknowns():
    from reasoner.account.sources.collection_report import unknowns_from_report

    accounts, resources, other = unknowns_from_report(
        {
            "accounts": {
                A: {
                    "entered": True,
                    "unlisted": [
                        "iam.GetAccountAuthorizationDetails (users, groups, roles, policies): AccessDenied: no",
                        "s3.ListBuckets: AccessDenied: no",
                        "lambda.ListLayerVersions eu-west-1 tools: Throttling: slow",
                        "ec2.DescribeVpcEndpoints us-east-1: AccessDenied: no",
                        "iam.ListAccessKeys alice: AccessDenied: no",
                    ],
                },
                B: {"entered": False, "error": "sts:AssumeRole: AccessDenied"},
            },
            "organization": {"problems": ["organizations.DescribeOrganization: AccessDenied"]},
        }
    )
    assert set(accounts) == {A, B} and "could not be read" in accounts[A] and "entered" in accounts[B]
    assert [r["pattern"] for r in resources] == ["arn:aws:s3:::*", f"arn:aws:lambda:eu-west-1:{A}:layer:tools:*"]
    assert len(other) == 2 and any("DescribeVpcEndpoints" in o for o in other)  # access keys: side data only


def test_a_pattern_over_every_account_meets_an_unknown_account(tmp_path):
    snap = load_snapshot(snapshot(tmp_path, users=[user("u", [allow("*")])], unknown_accounts={B: "not entered"}))
    assert snap.broken_policy_for("arn:aws:sqs:*:*:*") is not None
    assert snap.broken_policy_for(f"arn:aws:sqs:*:{A}:*") is None
    assert snap.broken_policy_for("*") is None  # the caller's own account


def test_audit_report_says_the_snapshot_is_incomplete(tmp_path):
    from reasoner.audit.run import run_audit

    d = _seed()
    _gaad(d).update(IsTruncated=True)
    report = run_audit([str(_write(tmp_path, d))], only=["external-access"])
    assert report.warnings[0].startswith("WARNING: snapshot incomplete:") and "IsTruncated" in report.warnings[0]
