"""`reasoner diff OLD NEW` on two snapshots: every changed principal, resource policy and trust
policy is compared exactly; changes the policy diff cannot compare are unknown, never "same"."""

from __future__ import annotations

import copy
import json

from conftest import ROOT, json_result, run_cli

from reasoner.account.snapshot import load_snapshot
from reasoner.audit.snapshot_diff import diff_snapshots

SEED = ROOT / "cases" / "athena-vpce" / "snapshot" / "snapshot.json"
BASE = json.loads(SEED.read_text())
LEAKY = {
    "RoleName": "Leaky",
    "Arn": "arn:aws:iam::111122223333:role/Leaky",
    "AssumeRolePolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    },
    "RolePolicyList": [
        {
            "PolicyName": "p",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::examplecorp-business-data/*",
                    }
                ],
            },
        }
    ],
}


def write(tmp_path, name, bundle):
    f = tmp_path / name
    f.write_text(json.dumps(bundle))
    return f


def test_identical_snapshots_have_no_changes():
    d = diff_snapshots(load_snapshot(SEED), load_snapshot(SEED))
    assert d.changes == [] and d.new_access == "no"


def test_new_role_and_public_statement_are_new_access(tmp_path):
    new = copy.deepcopy(BASE)
    new["authorization_details"]["RoleDetailList"].append(LEAKY)
    new["resource_policies"][0]["Policy"]["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::examplecorp-business-data/public/*",
        }
    )
    d = diff_snapshots(load_snapshot(SEED), load_snapshot(write(tmp_path, "new.json", new)))
    by = {(c.subject.rsplit(":", 1)[-1], c.what): c for c in d.changes}
    leaky = by[("role/Leaky", "identity")]
    assert leaky.change == "added" and leaky.new_access == "yes"
    assert leaky.answer.added.classes[0].action == "s3:GetObject"
    bucket = by[("examplecorp-business-data", "resource")]
    assert bucket.new_access == "yes"
    assert "anonymous" in {c.principal for c in bucket.answer.added.classes}
    assert bucket.answer.removed.answer == "same"  # nothing was taken away
    assert d.new_access == "yes"


def test_narrowing_is_removed_access_only(tmp_path):
    new = copy.deepcopy(BASE)
    pol = next(p for p in new["authorization_details"]["Policies"] if p["PolicyName"] == "BizMetricsQueryPolicy")
    pol["PolicyVersionList"][0]["Document"]["Statement"].pop()  # AllowS3ActionsViaAthena
    d = diff_snapshots(load_snapshot(SEED), load_snapshot(write(tmp_path, "new.json", new)))
    [c] = [c for c in d.changes if c.subject.endswith("role/BizMetricsQuery")]
    assert c.new_access == "no" and c.answer.removed.answer == "differs"
    assert d.new_access == "no"


def test_boundary_change_is_unknown_not_same(tmp_path):
    new = copy.deepcopy(BASE)
    new["authorization_details"]["Policies"].append(
        {
            "Arn": "arn:aws:iam::111122223333:policy/b",
            "PolicyName": "b",
            "PolicyVersionList": [
                {
                    "IsDefaultVersion": True,
                    "Document": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    },
                }
            ],
        }
    )
    role = next(r for r in new["authorization_details"]["RoleDetailList"] if r["RoleName"] == "ReportPublisher")
    role["PermissionsBoundary"] = {"PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/b"}
    d = diff_snapshots(load_snapshot(SEED), load_snapshot(write(tmp_path, "new.json", new)))
    [c] = d.changes
    assert c.new_access == "unknown" and "boundary" in c.unknown and d.new_access == "unknown"


def test_snapshot_diff_cli_check_no_new_access(tmp_path):
    new = copy.deepcopy(BASE)
    new["authorization_details"]["RoleDetailList"].append(LEAKY)
    f = write(tmp_path, "new.json", new)
    proc = run_cli("diff", str(SEED), str(f), "--check", "no-new-access")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "role/Leaky" in proc.stdout
    proc = run_cli("diff", str(SEED), str(SEED), "--check", "no-new-access", "--json")
    assert proc.returncode == 0 and json_result(proc.stdout)["changes"] == []
