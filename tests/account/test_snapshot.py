"""Loading account snapshots: every source format, and parts that are not valid reported with
their file and JSON path (answers about what they describe are unknown, never a guess)."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, ROOT, run_cli
from snapshot_builders import A, allow, role, snapshot, trust

from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.errors import InputError

SNAPS = CORPUS / "account-snapshots"
SEED = ROOT / "cases" / "athena-vpce"


CORPUS_SNAPSHOTS = sorted(
    p for p in SNAPS.rglob("*.json") if "cloudmapper-demo" not in p.parts and p.name != "expected.json"
) + [SNAPS / "cloudmapper-demo"]


@pytest.mark.parametrize("path", CORPUS_SNAPSHOTS, ids=lambda p: p.name)
def test_every_corpus_snapshot_loads(path):
    snap = load_snapshot(path)
    assert snap.sources
    for p in snap.problems:  # every skipped part names where it is
        assert p.startswith(("tests/", str(SNAPS), "arn:aws:")), p


def test_awscli_example_quirks_are_reported_not_guessed():
    """The AWS CLI doc example: group AttachedManagedPolicies as an object, a truncated page, and
    AWS managed policies that are not in the dump. Alice's permissions are then unknown."""
    snap = load_snapshot(SNAPS / "awscli-doc-example.gaad.json")
    assert any("IsTruncated" in p for p in snap.problems)
    alice = snap.entity("Alice")
    assert alice.groups == ["arn:aws:iam::123456789012:group/Admins"]
    assert any("AdministratorAccess" in why for why in alice.incomplete)
    a = PathFinder(snap).who_can("s3:GetObject", "arn:aws:s3:::bucket/key")
    assert alice.arn in {u.principal for u in a.unknown}


def test_cloudmapper_dump_loads_resource_policies_and_endpoints():
    snap = load_snapshot(SNAPS / "cloudmapper-demo")
    assert "arn:aws:s3:::cloudmapper_demo" in snap.resource_policies
    assert snap.endpoints and all(e.id.startswith("vpce-") for e in snap.endpoints.values())


def test_invalid_resource_policy_makes_answers_unknown(tmp_path):
    """A resource policy AWS would reject is skipped; it may have denied or allowed, so answers
    about the resource are unknown, never a guess."""
    f = snapshot(
        tmp_path,
        roles=[role("r", trust({"AWS": A}), [allow("s3:*")])],
        resource_policies=[
            {
                "Resource": "arn:aws:s3:::b",
                "Policy": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": "arn:aws:iam::111111111111:role/r",
                            "Action": "s3:*",
                            "Resource": "*",
                        }
                    ]
                },
            }
        ],
    )
    snap = load_snapshot(f)
    assert "arn:aws:s3:::b" in snap.broken_resources
    a = PathFinder(snap).who_can("s3:GetObject", "arn:aws:s3:::b/k")
    assert not a.principals and [u.principal for u in a.unknown] == [f"arn:aws:iam::{A}:role/r"]


def test_snapshot_bad_input_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"authorization_details": {"UserDetailList": [}')
    proc = run_cli("who-can", str(bad), "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and str(bad) in proc.stderr
    other = tmp_path / "other.json"
    other.write_text('{"hello": 1}')
    proc = run_cli("who-can", str(other), "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k")
    assert proc.returncode == 2 and "not a snapshot" in proc.stderr
    proc = run_cli(
        "who-can",
        str(SEED / "snapshot" / "snapshot.json"),
        "--action",
        "s3:GetObjekt",
        "--resource",
        "arn:aws:s3:::b/k",
    )
    assert proc.returncode == 2 and "s3:GetObject" in proc.stderr  # did you mean
    f = snapshot(
        tmp_path, roles=[role("r", trust({"AWS": A}))], organization={"Id": "r-1", "Children": [{"Id": "nope"}]}
    )
    with pytest.raises(InputError, match=r"\$\.organization\.Children\[0\]\.Id"):
        load_snapshot(f)


def test_bundle_is_a_pydantic_model_with_a_checked_in_schema(tmp_path):
    """docs/snapshot.schema.json is generated from reasoner.account.snapshot.SnapshotBundle."""
    from reasoner.account.snapshot import snapshot_schema

    assert json.loads((ROOT / "docs" / "snapshot.schema.json").read_text()) == snapshot_schema()
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({"authorization_details": {}, "management_account": "12"}))
    with pytest.raises(InputError, match=r"\$\.management_account"):
        load_snapshot(bad)
    bad.write_text(json.dumps({"authorization_details": {}, "resource_policies": [{"Resource": "arn:aws:s3:::b"}]}))
    with pytest.raises(InputError, match=r"\$\.resource_policies"):
        load_snapshot(bad)
