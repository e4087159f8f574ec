"""`reasoner prove`: the seed's invariants hold, and each one fails with a counterexample when
the account is broken on purpose."""

from __future__ import annotations

import copy
import json
import shlex
import xml.etree.ElementTree as ET

import pytest
from conftest import ROOT, run_cli

from reasoner.account.snapshot import load_snapshot
from reasoner.audit.invariants import InvariantsFile, Prover, json_schema, load_invariants

SEED = ROOT / "cases" / "athena-vpce"
INVARIANTS = SEED / "invariants.yaml"
SNAP = json.loads((SEED / "snapshot" / "snapshot.json").read_text())
ACCT = "111122223333"
OBJECT = "arn:aws:s3:::examplecorp-business-data/revenuedata/part-0000.parquet"


def prove(bundle: dict, tmp_path, only: str | None = None):
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(bundle))
    spec = load_invariants(INVARIANTS)
    prover = Prover(load_snapshot(f))
    return {i.id: prover.prove(i) for i in spec.invariants if only in (None, i.id)}


def add_role(bundle, name, policy, trust=None):
    b = copy.deepcopy(bundle)
    b["authorization_details"]["RoleDetailList"].append(
        {
            "RoleName": name,
            "Arn": f"arn:aws:iam::{ACCT}:role/{name}",
            "AssumeRolePolicyDocument": trust
            or {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": policy}],
            "AttachedManagedPolicies": [],
        }
    )
    return b


def test_seed_invariants_are_proved_through_the_cli():
    proc = run_cli("prove", str(INVARIANTS), str(SEED), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert {r["id"]: r["status"] for r in results} == {i.id: "proved" for i in load_invariants(INVARIANTS).invariants}
    assert all(r["scope"] for r in results)


def test_never_violated_by_a_direct_reader(tmp_path):
    """A role with s3:GetObject on the bucket reads it directly: the same-account identity policy
    suffices (IAM: same-account evaluation), so 'only through Athena' breaks."""
    b = add_role(
        SNAP,
        "Leaky",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::examplecorp-business-data/*"}
            ],
        },
    )
    res = prove(b, tmp_path)
    for inv in ("data-only-through-athena", "data-only-from-the-endpoint", "only-known-readers"):
        r = res[inv]
        assert r.status == "violated" and r.principal.endswith("role/Leaky"), (inv, r)
    # The counterexample is a ready command that the concrete decider allows.
    cmd = res["data-only-through-athena"].decide_command
    proc = run_cli(*shlex.split(cmd.replace(str(tmp_path / "snap.json"), str(tmp_path / "snap.json")))[1:], "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["decision"] == "allow"
    assert res["bucket-not-public"].status == "proved"


def test_never_violated_through_role_assumption(tmp_path):
    """BizMetricsQuery may assume ReportPublisher; if ReportPublisher can read the data directly,
    BizMetricsQuery reaches it without Athena in two hops."""
    b = copy.deepcopy(SNAP)
    pub = next(r for r in b["authorization_details"]["RoleDetailList"] if r["RoleName"] == "ReportPublisher")
    pub["RolePolicyList"][0]["PolicyDocument"]["Statement"][0]["Resource"] = "arn:aws:s3:::*"
    r = prove(b, tmp_path, only="data-only-through-athena")["data-only-through-athena"]
    assert r.status == "violated"
    assert [h["kind"] for h in r.path] in (["call"], ["assume", "call"])


def test_no_public_violated_by_a_public_statement(tmp_path):
    b = copy.deepcopy(SNAP)
    b["resource_policies"][0]["Policy"]["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::examplecorp-business-data/*",
        }
    )
    res = prove(b, tmp_path)
    assert res["bucket-not-public"].status == "violated"
    assert res["bucket-not-public"].principal in (
        "anonymous",
        "arn:aws:iam::999999999999:user/outsider",
        "arn:aws:sts::999999999999:assumed-role/outsider/session",
        "arn:aws:iam::999999999999:root",
    )
    assert res["no-cross-account"].status == "violated"


def test_no_cross_account_violated_by_a_trust_policy(tmp_path):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    b = add_role(
        SNAP,
        "Partner",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]},
        trust,
    )
    r = prove(b, tmp_path, only="no-cross-account")["no-cross-account"]
    assert r.status == "violated" and "444455556666" in r.principal and "Partner" in r.reason


def test_no_privesc_violated_by_an_access_key_edge(tmp_path):
    b = add_role(
        SNAP,
        "Helpdesk",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": f"arn:aws:iam::{ACCT}:user/*"}
            ],
        },
    )
    r = prove(b, tmp_path, only="only-admins-are-admin")["only-admins-are-admin"]
    assert r.status == "violated" and r.principal.endswith("role/Helpdesk")
    assert r.path[0]["technique"] == "iam-create-access-key" and r.path[0]["to"].endswith("user/sso-admin")


def test_always_violated_by_a_conditional_deny(tmp_path):
    """'always' quantifies over every context: a Deny on insecure transport leaves a context
    (aws:SecureTransport false) in which the query is refused."""
    b = copy.deepcopy(SNAP)
    pol = next(p for p in b["authorization_details"]["Policies"] if p["PolicyName"] == "BizMetricsQueryPolicy")
    pol["PolicyVersionList"][0]["Document"]["Statement"].append(
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    )
    r = prove(b, tmp_path, only="bizmetrics-can-always-query")["bizmetrics-can-always-query"]
    assert r.status == "violated"
    assert r.path[0]["context"]["aws:SecureTransport"] in ("false", False)


def test_junit_and_sarif_outputs(tmp_path):
    b = add_role(
        SNAP,
        "Leaky",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
    )
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(b))
    proc = run_cli("prove", str(INVARIANTS), str(f), "--format", "junit")
    assert proc.returncode == 1
    suite = ET.fromstring(proc.stdout.split("?>", 1)[1])
    assert suite.tag == "testsuite" and int(suite.get("tests")) == 7 and int(suite.get("failures")) >= 3
    failed = {c.get("name") for c in suite if c.find("failure") is not None}
    assert "data-only-through-athena" in failed
    proc = run_cli("prove", str(INVARIANTS), str(f), "--format", "sarif")
    assert proc.returncode == 1
    sarif = json.loads(proc.stdout)
    assert sarif["version"] == "2.1.0"
    levels = {r["ruleId"]: r["level"] for r in sarif["runs"][0]["results"]}
    assert levels["data-only-through-athena"] == "error" and levels["bizmetrics-can-always-query"] == "none"


@pytest.mark.parametrize(
    "text,where",
    [
        ("invariants: [{id: x}]", "exactly one of"),
        (
            "invariants: [{id: x, never: {actions: [s3:GetObjekt], resources: ['*']}}]",
            "$.invariants[0].never.actions[0]",
        ),
        ("invariants: [{id: x, never: {actions: [s3:GetObject], resources: ['*'], extra: 1}}]", "extra"),
        ("invariants: [{id: x, no-privesc: {}}, {id: x, no-privesc: {}}]", "duplicate"),
        ("invariants: [{id: x, never: {actions: [s3:GetObject]", "malformed YAML"),
    ],
)
def test_bad_invariants_file_is_one_line_exit_2(tmp_path, text, where):
    f = tmp_path / "inv.yaml"
    f.write_text(text)
    proc = run_cli("prove", str(f), str(SEED))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and str(f) in proc.stderr
    assert where in proc.stderr, proc.stderr


def test_schema_is_generated_from_the_model_and_checked_in():
    """docs/invariants.schema.json is `reasoner prove --schema`; the README points to it."""
    shipped = json.loads((ROOT / "docs" / "invariants.schema.json").read_text())
    assert shipped == json_schema()
    proc = run_cli("prove", "--schema")
    assert proc.returncode == 0 and json.loads(proc.stdout) == shipped
    InvariantsFile.model_validate({"invariants": [{"id": "a", "no-public": {}}]})
