"""The collected snapshot answers exactly as the same account written by hand as a bundle:
who-can, privesc and prove, through the installed CLI."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from aws_account import (
    ACCOUNT,
    ACCOUNT_TRUST,
    ADMIN_INLINE,
    ANALYSTS_INLINE,
    AUDITOR_INLINE,
    CORP_DATA_POLICY,
    CORP_SECRET_POLICY,
    DATA_READ_V1,
    DATA_READ_V2,
    DENY_DELETE_SCP,
    EC2_TRUST,
    POLICY_EDITOR,
    QUEUE_POLICY,
    REASONER,
    REGION,
    ROOT,
    LocalAws,
)
from conftest import json_result

from reasoner import api
from reasoner.account.snapshot import Snapshot

FULL_SCP = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
FULL_RCP = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
)
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"

INVARIANTS = """
invariants:
  - id: secret-only-auditor
    never:
      principals: {match: ["*"], except: [auditor, root-like]}
      actions: [s3:GetObject]
      resources: ["arn:aws:s3:::corp-secret/*"]
  - id: data-readers
    only:
      principals: [app-role, alice, auditor, root-like]
      actions: [s3:GetObject]
      resources: ["arn:aws:s3:::corp-data/reports/*"]
  - id: data-not-public
    no-public: {resources: ["arn:aws:s3:::corp-data"], actions: ["s3:GetObject"]}
  - id: only-root-like-is-admin
    no-privesc: {allowed: [root-like]}
"""


def j(text: str) -> dict:
    return json.loads(text)


def handwritten_bundle(ids: dict[str, str]) -> dict:
    """The account the fixture built, as a user would write it from the AWS docs' shapes."""
    data_read, editor = ids["data_read"], ids["editor"]
    gaad = {
        "UserDetailList": [
            {
                "UserName": "alice",
                "Path": "/people/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/people/alice",
                "GroupList": ["analysts"],
                "AttachedManagedPolicies": [],
                "Tags": [{"Key": "team", "Value": "analytics"}],
            },
            {
                "UserName": "bob",
                "Path": "/people/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/people/bob",
                "GroupList": [],
                "AttachedManagedPolicies": [{"PolicyName": "PolicyEditor", "PolicyArn": editor}],
            },
            {
                "UserName": "root-like",
                "Path": "/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/root-like",
                "UserPolicyList": [{"PolicyName": "everything", "PolicyDocument": j(ADMIN_INLINE)}],
            },
        ],
        "GroupDetailList": [
            {
                "GroupName": "analysts",
                "Path": "/teams/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:group/teams/analysts",
                "GroupPolicyList": [{"PolicyName": "orders", "PolicyDocument": j(ANALYSTS_INLINE)}],
                "AttachedManagedPolicies": [{"PolicyName": "DataRead", "PolicyArn": data_read}],
            }
        ],
        "RoleDetailList": [
            {
                "RoleName": "app-role",
                "Path": "/service/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/service/app-role",
                "AssumeRolePolicyDocument": j(EC2_TRUST),
                "AttachedManagedPolicies": [{"PolicyName": "DataRead", "PolicyArn": data_read}],
            },
            {
                "RoleName": "auditor",
                "Path": "/audit/",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/audit/auditor",
                "AssumeRolePolicyDocument": j(ACCOUNT_TRUST),
                "RolePolicyList": [{"PolicyName": "read-all", "PolicyDocument": j(AUDITOR_INLINE)}],
            },
        ],
        "Policies": [
            {
                "PolicyName": "DataRead",
                "Arn": data_read,
                "Path": "/app/",
                "DefaultVersionId": "v2",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False, "Document": j(DATA_READ_V1)},
                    {"VersionId": "v2", "IsDefaultVersion": True, "Document": j(DATA_READ_V2)},
                ],
            },
            {
                "PolicyName": "PolicyEditor",
                "Arn": editor,
                "Path": "/",
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": j(POLICY_EDITOR)}],
            },
        ],
    }
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    full = [
        {"Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "Content": FULL_SCP},
        {"Name": "RCPFullAWSAccess", "Type": "RESOURCE_CONTROL_POLICY", "Content": FULL_RCP},
    ]
    deny = {"Name": "deny-deletes", "Type": "SERVICE_CONTROL_POLICY", "Content": DENY_DELETE_SCP}
    return {
        "authorization_details": gaad,
        "resource_policies": [
            {"Resource": "arn:aws:s3:::corp-data", "Policy": CORP_DATA_POLICY, "Account": ACCOUNT},
            {"Resource": "arn:aws:s3:::corp-secret", "Policy": CORP_SECRET_POLICY, "Account": ACCOUNT},
            {"Resource": ids["key_arn"], "Policy": key_policy},
            {"Resource": QUEUE, "Policy": QUEUE_POLICY},
        ],
        "organization": {
            "Id": ids["root"],
            "Arn": ids["root_arn"],
            "Policies": full,
            "Children": [
                {"Id": ACCOUNT, "Policies": full},
                {
                    "Id": ids["ou"],
                    "Policies": [*full, deny],
                    "Children": [{"Id": ids["member"], "Policies": full}, {"Id": ids["legacy"], "Policies": full}],
                },
            ],
        },
        "vpc_endpoints": {
            "VpcEndpoints": [
                {
                    "VpcEndpointId": ids["vpce"],
                    "VpcId": ids["vpc"],
                    "ServiceName": f"com.amazonaws.{REGION}.s3",
                    "PolicyDocument": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Principal": "*",
                                    "Action": "s3:*",
                                    "Resource": "arn:aws:s3:::corp-*",
                                }
                            ],
                        }
                    ),
                }
            ]
        },
    }


def reasoner(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REASONER, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="module")
def collected(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    out = tmp_path_factory.mktemp("collected")
    t0 = time.perf_counter()
    run = reasoner("collect", "--out", str(out), "--endpoint-url", local_aws.url, "--regions", REGION)
    seconds = time.perf_counter() - t0
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == ""  # no progress bar when stderr is not a terminal
    assert f"{ACCOUNT}: entered" in run.stdout
    return out, seconds


@pytest.fixture(scope="module")
def handwritten(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("handwritten") / "bundle.json"
    path.write_text(json.dumps(handwritten_bundle(local_aws.ids), indent=1))
    return path


def same_shape(obj: object, snapshot: Path) -> object:
    """An answer as JSON, with the snapshot's path (in its decide commands) and timings left out."""
    return json.loads(json.dumps(obj).replace(str(snapshot), "SNAPSHOT"), object_hook=_no_stats)


def _no_stats(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k not in ("stats", "seconds")}


@pytest.fixture(scope="module")
def both(collected, handwritten) -> list[tuple[Path, Snapshot]]:
    """The collected and the handwritten snapshot, loaded."""
    out = []
    for path in (collected[0] / "snapshot.json", handwritten):
        snap = api.load_snapshot(path)
        assert snap.problems == []
        out.append((path, snap))
    return out


QUERIES = [
    ("s3:GetObject", "arn:aws:s3:::corp-data/reports/q1.csv"),
    ("s3:GetObject", "arn:aws:s3:::corp-data/shared/x"),
    ("s3:GetObject", "arn:aws:s3:::corp-secret/plans.txt"),
    ("s3:DeleteBucket", "arn:aws:s3:::corp-logs"),
    ("sqs:SendMessage", QUEUE),
    ("kms:Decrypt", "KEY"),
]


def test_who_can_answers_as_on_the_handwritten_bundle(both, local_aws):
    for action, resource in QUERIES:
        resource = local_aws.ids["key_arn"] if resource == "KEY" else resource
        mine, theirs = (same_shape(api.who_can(s, action, resource).to_json(), p) for p, s in both)
        assert mine == theirs, (action, resource)
        assert not mine["unknown"]
    readers = {p["principal"].rsplit("/", 1)[-1] for p in mine["principals"] if p["answer"] == "possible"}
    # kms:Decrypt: the key policy delegates to IAM; bob can make a new default version of his own
    # policy (privesc) and so can do whatever an Allow * on * lets him (escalation is a path)
    assert readers == {"bob", "root-like"}


def test_privesc_answers_as_on_the_handwritten_bundle(both):
    mine, theirs = (same_shape([r.to_json() for r in api.privesc(s)], p) for p, s in both)
    assert mine == theirs
    admins = {p["principal"].rsplit("/", 1)[-1] for p in mine if p["admin"]}
    assert admins == {"bob", "root-like"}  # bob: a new default version of his own policy


def test_prove_answers_as_on_the_handwritten_bundle(both, tmp_path):
    inv = tmp_path / "invariants.yaml"
    inv.write_text(INVARIANTS)
    mine, theirs = (same_shape([r.model_dump(mode="json") for r in api.prove(inv, s)], p) for p, s in both)
    assert mine == theirs
    # data-readers (only) is violated by bob, who can rewrite his own policy and then read
    assert [r["status"] for r in mine] == ["proved", "violated", "proved", "violated"]


def test_the_folder_loads_as_a_snapshot(collected):
    """`--snapshot DIR`: the bundle loads; the report and the side file are the only parts skipped."""
    run = reasoner(
        "who-can", str(collected[0]), "--action", "s3:GetObject", "--resource", "arn:aws:s3:::corp-data/x", "--json"
    )
    assert run.returncode == 0, run.stderr
    skipped = json_result(run.stdout)["snapshot_problems"]
    assert all("collection-report.json" in p or "collected-extras.json" in p for p in skipped), skipped
    decide = reasoner(
        "decide",
        "--snapshot",
        str(collected[0] / "snapshot.json"),
        "--principal",
        f"arn:aws:iam::{ACCOUNT}:role/service/app-role",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::corp-data/reports/a",
        "--json",
    )
    assert decide.returncode == 0, decide.stderr
    assert json_result(decide.stdout)["decision"] == "allow"


def test_the_report_and_side_data(collected):
    out, seconds = collected
    report = json.loads((out / "collection-report.json").read_text())
    assert report["complete"] and report["unknown"] == []
    reads = report["accounts"][ACCOUNT]["reads"]
    assert reads["s3.GetBucketPolicy"] == {"absent": 1, "present": 2}
    assert reads["sqs.GetQueueAttributes"] == {"present": 2}  # one queue has no Policy attribute: no entry
    extras = json.loads((out / "collected-extras.json").read_text())["accounts"][ACCOUNT]
    assert extras["s3_bucket_public_access_block"]["corp-data"]["BlockPublicPolicy"] is True
    assert extras["s3_bucket_public_access_block"]["corp-logs"] == {"absent": "NoSuchPublicAccessBlockConfiguration"}
    assert [k["Status"] for k in extras["access_keys"][f"arn:aws:iam::{ACCOUNT}:user/people/alice"]] == ["Active"]
    gaad = json.loads((out / "snapshot.json").read_text())["authorization_details"][0]
    data_read = next(p for p in gaad["Policies"] if p["Arn"].endswith("/DataRead"))  # moto omits PolicyName
    assert [v["VersionId"] for v in data_read["PolicyVersionList"]] == ["v1", "v2"]
    print(f"collection of the test account: {seconds:.1f} s")
