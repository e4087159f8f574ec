"""`reasoner prove`: the seed's invariants hold, and each one fails with a counterexample when
the account is broken on purpose."""

from __future__ import annotations

import copy
import json
import shlex
import xml.etree.ElementTree as ET

import pytest
from conftest import ROOT, json_result, run_cli

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
    results = json_result(proc.stdout)["results"]
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
    assert proc.returncode == 0 and json_result(proc.stdout)["decision"] == "allow"
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


# ---- issue 10 items 9-11: governing policies, public vs external, every violator, vacuity --------------
SHARED = "arn:aws:s3:::shared-bucket"
PARTNER = "444455556666"


def with_shared_bucket(bundle: dict) -> dict:
    b = copy.deepcopy(bundle)
    b["resource_policies"].append(
        {
            "Resource": SHARED,
            "Account": ACCT,
            "Policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                        "Action": "s3:GetObject",
                        "Resource": f"{SHARED}/*",
                    }
                ],
            },
        }
    )
    return b


def prove_text(bundle: dict, tmp_path, text: str, *args: str):
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(bundle))
    inv = tmp_path / "inv.yaml"
    inv.write_text(text)
    return run_cli("prove", str(inv), str(snap), *args)


def test_an_object_pattern_searches_its_bucket_policy(tmp_path):
    """S3 User Guide, bucket policies: the bucket's policy governs its objects, so a pattern over
    the objects reaches it. A grant to one named account is external access (not public)."""
    text = (
        "invariants:\n"
        f"  - {{id: cross, no-cross-account: {{resources: ['{SHARED}/*']}}}}\n"
        f"  - {{id: public, no-public: {{resources: ['{SHARED}/*']}}}}\n"
    )
    proc = prove_text(with_shared_bucket(SNAP), tmp_path, text, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    res = {r["id"]: r for r in json_result(proc.stdout)["results"]}
    cross = res["cross"]
    assert cross["status"] == "violated" and PARTNER in cross["principal"] and cross["access"] == "external"
    # Every violator is listed (root, user, role session, federated user of the partner), with the total.
    assert cross["violators_total"] == len(cross["violators"]) >= 3
    assert all(PARTNER in v["principal"] and v["access"] == "external" for v in cross["violators"])
    assert res["public"]["status"] == "proved" and "1 resource policies" in res["public"]["scope"]


def test_every_violator_in_every_format(tmp_path):
    text = f"invariants:\n  - {{id: cross, no-cross-account: {{resources: ['{SHARED}/*']}}}}\nmax_violators: 2\n"
    b = with_shared_bucket(SNAP)
    out = json_result(prove_text(b, tmp_path, text, "--json").stdout)["results"][0]
    assert len(out["violators"]) == 2 and out["violators_total"] > 2
    junit = prove_text(b, tmp_path, text, "--format", "junit")
    failure = ET.fromstring(junit.stdout.split("?>", 1)[1]).find("testcase/failure")
    assert failure is not None and json.loads(failure.text or "")["violators_total"] == out["violators_total"]
    sarif = json.loads(prove_text(b, tmp_path, text, "--format", "sarif").stdout)
    props = sarif["runs"][0]["results"][0]["properties"]
    assert len(props["violators"]) == 2 and props["violators_total"] == out["violators_total"]
    table = prove_text(b, tmp_path, text)
    assert f"violators ({out['violators_total']})" in table.stdout and "more" in table.stdout


def test_never_lists_every_principal_that_can(tmp_path):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::examplecorp-business-data/*"}
        ],
    }
    b = add_role(add_role(SNAP, "LeakyA", policy), "LeakyB", policy)
    r = prove(b, tmp_path, only="data-only-through-athena")["data-only-through-athena"]
    assert r.status == "violated"
    assert {"LeakyA", "LeakyB"} <= {v.principal.rsplit("/", 1)[-1] for v in r.violators}


@pytest.mark.parametrize(
    ("body", "unmatched"),
    [
        # A principal pattern that matches no user, role or provider.
        (
            "never: {principals: {match: ['NoSuchRole*']}, actions: [s3:GetObject], resources: ['*']}",
            "principal NoSuchRole*",
        ),
        # A renamed or misspelt bucket: no policy, role, named ARN or bucket in the snapshot.
        ("no-cross-account: {resources: ['arn:aws:s3:::examplecorp-busines-data/*']}", "resource arn:aws:s3:::"),
        ("no-public: {resources: ['arn:aws:s3:::nowhere']}", "resource arn:aws:s3:::nowhere"),
        # Every pattern names someone, but no principal has the tag.
        (
            "never: {principals: {match: ['*'], tags: {team: nobody}}, actions: [s3:GetObject], resources: ['*']}",
            "principals {",
        ),
        ("only: {principals: [Admin], actions: [s3:GetObject], resources: ['arn:aws:s3:::nowhere/*']}", "nowhere"),
        # `always` about a principal or a resource the snapshot does not have.
        ("always: {principal: NoSuchRole, action: s3:GetObject, resource: 'arn:aws:s3:::nowhere/k'}", "NoSuchRole"),
        (
            "always: {principal: BizMetricsQuery, action: s3:GetObject, resource: 'arn:aws:s3:::nowhere/k'}",
            "resource arn:aws:s3:::nowhere/k",
        ),
        # Every principal is an allowed exception: the invariant constrains nobody.
        ("only: {principals: ['*'], actions: [s3:GetObject], resources: ['*']}", "outside the allowed"),
        ("no-privesc: {allowed: ['*']}", "outside the allowed"),
    ],
)
def test_a_pattern_that_names_nothing_is_vacuous_exit_4(tmp_path, body, unmatched):
    proc = prove_text(SNAP, tmp_path, f"invariants:\n  - {{id: v, {body}}}\n", "--json")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    r = json_result(proc.stdout)["results"][0]
    assert r["status"] == "vacuous" and any(unmatched in u for u in r["unmatched"]), r


def test_patterns_that_name_something_are_not_vacuous(tmp_path):
    """A role ARN, a resource ARN named in an identity policy, and a bucket's objects all count."""
    text = (
        "invariants:\n"
        f"  - {{id: role, no-cross-account: {{resources: ['arn:aws:iam::{ACCT}:role/Biz*']}}}}\n"
        "  - {id: objects, no-public: {resources: ['arn:aws:s3:::examplecorp-business-data/revenuedata/*']}}\n"
        f"  - {{id: workgroup, no-public: {{resources: ['arn:aws:athena:us-east-1:{ACCT}:workgroup/*']}}}}\n"
    )
    proc = prove_text(SNAP, tmp_path, text, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_public_finds_a_public_identity_provider_in_a_trust_policy(tmp_path):
    """IAM Access Analyzer: a role any Cognito identity may assume (no aud condition) is public."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
            }
        ],
    }
    b = add_role(SNAP, "CognitoRole", {"Version": "2012-10-17", "Statement": []}, trust)
    text = f"invariants:\n  - {{id: p, no-public: {{resources: ['arn:aws:iam::{ACCT}:role/CognitoRole']}}}}\n"
    proc = prove_text(b, tmp_path, text, "--json")
    r = json_result(proc.stdout)["results"][0]
    assert proc.returncode == 1 and r["access"] == "public", r
    assert r["principal"] == "federated:cognito-identity.amazonaws.com"


def test_who_can_looks_up_the_governing_policy():
    """Snapshot.resource_policy_for goes through reasoner.account.governing."""
    from reasoner.account.model import ResourcePolicy, Snapshot
    from reasoner.policy.document import parse_policy
    from reasoner.policy.request import NamedPolicy

    empty = NamedPolicy("p", parse_policy({"Version": "2012-10-17", "Statement": []}, source="p"))
    snap = Snapshot()
    for arn in (
        "arn:aws:execute-api:us-east-1:111122223333:a1b2c3/*",
        "arn:aws:glue:us-east-1:111122223333:catalog",
        "arn:aws:dynamodb:us-east-1:111122223333:table/Music",
        SHARED,
    ):
        snap.resource_policies[arn] = ResourcePolicy(arn, ACCT, empty)
    assert snap.resource_policy_for("arn:aws:execute-api:us-east-1:111122223333:a1b2c3/prod/GET/pets") is not None
    assert snap.resource_policy_for("arn:aws:glue:us-east-1:111122223333:table/db/t").arn.endswith(":catalog")
    assert snap.resource_policy_for("arn:aws:dynamodb:us-east-1:111122223333:table/Music/index/I").arn.endswith("Music")
    assert snap.resource_policy_for(f"{SHARED}/k").arn == SHARED
    assert snap.resource_policy_for("arn:aws:dynamodb:us-east-1:111122223333:table/Music/stream/s") is None
