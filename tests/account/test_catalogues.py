"""The bundled catalogues: service chains (aws:CalledVia hops) and privilege-escalation techniques.

The lists of reference names (Rhino methods, PMapper edge types, pathfinding.cloud ids) are
copied here as literals so that the tests pass on a clone without /work/shared/reference; when
that directory exists, a test checks the literals against it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from reasoner.account.chains import DATA_FILE as CHAINS_FILE
from reasoner.account.chains import CatalogueDataError, load_chains, parse_chains
from reasoner.account.techniques import DATA_FILE as TECHNIQUES_FILE
from reasoner.account.techniques import PLACEHOLDERS, load_techniques, parse_techniques
from reasoner.policy import catalogue

REFERENCE = Path("/work/shared/reference")

# IAM User Guide, "AWS global condition context keys", aws:CalledVia, table "CalledVia services".
CALLED_VIA_SERVICES = {
    "athena.amazonaws.com",
    "cloudformation.amazonaws.com",
    "dynamodb.amazonaws.com",
    "kms.amazonaws.com",
}

# Rhino Security Labs, AWS-IAM-Privilege-Escalation: number -> title; the original 21 of 2018.
RHINO_ORIGINAL_21 = {
    1: "Creating a new policy version",
    2: "Setting the default policy version to an existing version",
    3: "Creating an EC2 instance with an existing instance profile",
    4: "Creating a new user access key",
    5: "Creating a new login profile",
    6: "Updating an existing login profile",
    7: "Attaching a policy to a user",
    8: "Attaching a policy to a group",
    9: "Attaching a policy to a role",
    10: "Creating/updating an inline policy for a user",
    11: "Creating/updating an inline policy for a group",
    12: "Creating/updating an inline policy for a role",
    13: "Adding a user to a group",
    14: "Updating the AssumeRolePolicyDocument of a role",
    15: "Passing a role to a new Lambda function, then invoking it",
    17: "Passing a role to a new Lambda function, then triggering it with DynamoDB",
    18: "Updating the code of an existing Lambda function",
    19: "Passing a role to a Glue Development Endpoint",
    20: "Updating an existing Glue Dev Endpoint",
    21: "Passing a role to CloudFormation",
    22: "Passing a role to Data Pipeline",
}
RHINO_LATER_COVERED = {
    16: "Passing a role to a new Lambda function, then invoking it cross-account",
    26: "Adding a malicious Lambda layer to an existing Lambda function",
    27: "Passing a role to a new SageMaker Jupyter notebook",
    28: "Gaining access to an existing SageMaker Jupyter notebook",
}
# Left out: CodeStar (discontinued; its actions are not in the action catalogue).
RHINO_LEFT_OUT = {
    23: ("Creating a CodeStar project from a template", ["codestar:CreateProjectFromTemplate"]),
    24: ("Passing a role to a new CodeStar project", ["codestar:CreateProject"]),
    25: (
        "Creating a new CodeStar project and associating a team member",
        ["codestar:CreateProject", "codestar:AssociateTeamMember"],
    ),
}

# PMapper edge checkers (one name per edge the checker draws) and admin self-escalation checks,
# in the order of pmapper-edge-types.json.
PMAPPER_EDGE_TYPES = [
    "iam:CreateAccessKey",
    "iam:LoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "sts:AssumeRole",
    "ec2",
    "lambda",
    "cloudformation",
    "codebuild",
    "sagemaker",
    "ssm",
    "autoscaling",
    "cross_account",
]
PMAPPER_ADMIN_CHECKS = [
    "admin:put-policy",
    "admin:attach-policy",
    "admin:create-role",
    "admin:create-policy-version",
    "admin:group-policy",
]

PATHFINDING_IDS = [
    "apprunner-001",
    "apprunner-002",
    "bedrock-001",
    "bedrock-002",
    "cloudformation-001",
    "cloudformation-002",
    "cloudformation-003",
    "cloudformation-004",
    "cloudformation-005",
    "codebuild-001",
    "codebuild-002",
    "codebuild-003",
    "codebuild-004",
    "datapipeline-001",
    "ec2instanceconnect-003",
    "ec2-001",
    "ec2-002",
    "ec2-003",
    "ec2-004",
    "ecs-001",
    "ecs-002",
    "ecs-003",
    "ecs-004",
    "ecs-005",
    "glue-001",
    "glue-002",
    "glue-003",
    "glue-004",
    "glue-005",
    "glue-006",
    "iam-001",
    "iam-002",
    "iam-003",
    "iam-004",
    "iam-005",
    "iam-006",
    "iam-007",
    "iam-008",
    "iam-009",
    "iam-010",
    "iam-011",
    "iam-012",
    "iam-013",
    "iam-014",
    "iam-015",
    "iam-016",
    "iam-017",
    "iam-018",
    "iam-019",
    "iam-020",
    "iam-021",
    "lambda-001",
    "lambda-002",
    "lambda-003",
    "lambda-004",
    "lambda-005",
    "lambda-006",
    "sagemaker-001",
    "sagemaker-002",
    "sagemaker-003",
    "sagemaker-004",
    "sagemaker-005",
    "ssm-001",
    "ssm-002",
    "sts-001",
]


def _services(chains) -> set[str]:
    return {c.service for c in chains}


# --------------------------------------------------------------------------- service chains


def test_chains_load_and_list_only_documented_calledvia_services():
    chains = load_chains()
    assert chains is load_chains()  # cached
    assert set(chains.services()) == CALLED_VIA_SERVICES
    for service in CALLED_VIA_SERVICES:
        assert any(c.service == service for c in chains.chains)


def test_every_chain_pattern_names_catalogue_actions():
    for c in load_chains().chains:
        assert c.trigger_actions(), c.id
        assert c.call_actions(), c.id
        for p in c.triggers + c.calls:
            assert catalogue.expand(p) or catalogue.lookup(p), (c.id, p)


def test_callers_of_s3_get_object():
    callers = _services(load_chains().callers_of("s3:GetObject"))
    assert {"athena.amazonaws.com", "cloudformation.amazonaws.com"} <= callers
    assert "dynamodb.amazonaws.com" not in callers


def test_callers_of_kms_decrypt():
    callers = _services(load_chains().callers_of("kms:Decrypt"))
    assert {"dynamodb.amazonaws.com", "athena.amazonaws.com", "cloudformation.amazonaws.com"} <= callers


def test_callers_of_is_case_insensitive_and_glob():
    chains = load_chains()
    assert [c.id for c in chains.callers_of("S3:getobject")] == [c.id for c in chains.callers_of("s3:GetObject")]
    # kms:GenerateDataKey* in the DynamoDB chain covers GenerateDataKeyWithoutPlaintext.
    assert "dynamodb.amazonaws.com" in _services(chains.callers_of("kms:GenerateDataKeyWithoutPlaintext"))
    # Only CloudFormation ("*") may call an IAM user-management action with the caller's session.
    assert _services(chains.callers_of("iam:CreateUser")) == {"cloudformation.amazonaws.com"}
    assert "kms.amazonaws.com" in _services(chains.callers_of("kms:CreateKey"))


def test_trigger_actions_expand_patterns_with_catalogue_spelling():
    chains = load_chains()
    dynamo = chains.chain("dynamodb-kms").trigger_actions()
    assert "dynamodb:GetItem" in dynamo and "dynamodb:BatchWriteItem" in dynamo
    assert "dynamodb:ListTables" not in dynamo
    assert "athena:StartQueryExecution" in chains.chain("athena-query-s3").trigger_actions()
    assert {c.id for c in chains.triggered_by("ATHENA:startqueryexecution")} >= {
        "athena-query-s3",
        "athena-query-lambda",
    }
    assert "cloudformation.amazonaws.com" in _services(chains.triggered_by("cloudformation:CreateStack"))


def test_hop_rules():
    chains = load_chains()
    rule = chains.hop_rule
    assert rule("aws:CalledVia").fas_hop == "append" and rule("aws:CalledVia").direct == "absent"
    assert rule("aws:calledviafirst").fas_hop == "first"
    assert rule("aws:CalledViaLast").fas_hop == "last"
    assert rule("aws:ViaAWSService").fas_hop == "true" and rule("aws:ViaAWSService").direct == "false"
    for key in ("aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp"):
        assert rule(key).fas_hop == "absent" and rule(key).direct == "present-if-vpc-endpoint"
        assert "iam-fas" in rule(key).sources
    assert rule("aws:SourceIp").fas_hop == "unknown"  # the documents disagree; see its note
    assert rule("aws:NoSuchKey") is None


def test_every_source_is_cited_with_a_url():
    chains = load_chains()
    for text in chains.sources.values():
        assert text.startswith("https://"), text
    cited = {c.source for c in chains.chains} | {s for c in chains.chains for s in c.see_also}
    cited |= {s for r in chains.hop_rules.keys for s in r.sources}
    assert cited == set(chains.sources)


def _chain_data() -> dict:
    return json.loads(CHAINS_FILE.read_text())


def test_chain_loader_rejects_extra_fields():
    data = _chain_data()
    data["chains"][0]["extra"] = 1
    with pytest.raises(CatalogueDataError, match="extra"):
        parse_chains(data)


def test_chain_loader_rejects_unknown_actions():
    data = _chain_data()
    data["chains"][0]["calls"].append("s3:NoSuchAction")
    with pytest.raises(CatalogueDataError, match="s3:NoSuchAction"):
        parse_chains(data)
    data = _chain_data()
    data["chains"][0]["triggers"] = ["athena:Nope*"]
    with pytest.raises(CatalogueDataError, match="athena:Nope"):
        parse_chains(data)


def test_chain_loader_rejects_unknown_source_and_bad_service():
    data = _chain_data()
    data["chains"][0]["source"] = "nowhere"
    with pytest.raises(CatalogueDataError, match="nowhere"):
        parse_chains(data)
    data = _chain_data()
    data["chains"][0]["service"] = "athena"
    with pytest.raises(CatalogueDataError, match="service principal"):
        parse_chains(data)


# --------------------------------------------------------------------------- techniques


def test_techniques_load():
    cat = load_techniques()
    assert cat is load_techniques()
    assert len(cat.techniques) >= 60
    assert len({t.id for t in cat.techniques}) == len(cat.techniques)


def test_every_required_action_is_in_the_catalogue():
    for t in load_techniques().techniques:
        for r in t.requires:
            info = catalogue.lookup(r.action)
            assert info is not None and info.full_name == r.action, (t.id, r.action)


def test_resources_use_the_actions_resource_types():
    for t in load_techniques().techniques:
        for r in t.requires:
            info = catalogue.lookup(r.action)
            if r.resource == "*":
                assert not info.resource_types, (t.id, r.action)
            else:
                service = r.action.split(":")[0]
                arn_service = r.resource.split(":")[2] if r.resource.startswith("arn:") else None
                assert r.resource.startswith("{") or arn_service, (t.id, r.resource)
                assert info.resource_types, (t.id, r.action)
                if arn_service is not None and service not in ("iam", "sts", "ssm", "ec2-instance-connect"):
                    assert arn_service == service, (t.id, r.action, r.resource)


@pytest.mark.parametrize("number,title", sorted(RHINO_ORIGINAL_21.items()))
def test_rhino_original_methods_covered(number, title):
    assert load_techniques().with_source(f"rhino:{title}"), f"Rhino method {number} not covered"


def test_rhino_later_methods_covered_or_left_out_for_a_reason():
    cat = load_techniques()
    for title in RHINO_LATER_COVERED.values():
        assert cat.with_source(f"rhino:{title}"), title
    for title, actions in RHINO_LEFT_OUT.values():
        assert not cat.with_source(f"rhino:{title}")
        assert all(catalogue.lookup(a) is None for a in actions), "CodeStar is back in the catalogue: cover it"
    assert len(RHINO_ORIGINAL_21) == 21


@pytest.mark.parametrize("edge", PMAPPER_EDGE_TYPES + PMAPPER_ADMIN_CHECKS)
def test_pmapper_edge_types_covered(edge):
    assert load_techniques().with_source(f"pmapper:{edge}"), edge


def test_pathfinding_paths_covered():
    covered = load_techniques().covered_sources()
    assert [p for p in PATHFINDING_IDS if f"pathfinding:{p}" not in covered] == []


def test_cited_sources_are_known_names():
    known = (
        {f"rhino:{t}" for t in {**RHINO_ORIGINAL_21, **RHINO_LATER_COVERED}.values()}
        | {f"pmapper:{e}" for e in PMAPPER_EDGE_TYPES + PMAPPER_ADMIN_CHECKS}
        | {f"pathfinding:{p}" for p in PATHFINDING_IDS}
    )
    assert load_techniques().covered_sources() <= known


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="needs /work/shared/reference")
def test_literal_lists_match_the_reference_files():
    rhino = json.loads((REFERENCE / "rhino-privesc-methods.json").read_text())["methods"]
    assert {m["number"]: m["title"] for m in rhino if m["in_original_2018_list_of_21"]} == RHINO_ORIGINAL_21
    later = {m["number"]: m["title"] for m in rhino if not m["in_original_2018_list_of_21"]}
    assert later == {**RHINO_LATER_COVERED, **{n: t for n, (t, _) in RHINO_LEFT_OUT.items()}}
    pmapper = json.loads((REFERENCE / "pmapper-edge-types.json").read_text())
    assert len(pmapper["edge_checkers"]) == len(PMAPPER_EDGE_TYPES)
    for checker, name in zip(pmapper["edge_checkers"], PMAPPER_EDGE_TYPES):
        assert name.split(":")[0] == checker["checker"].removesuffix("_edges"), (checker, name)
    assert len(pmapper["admin_self_escalation_checks"]) == len(PMAPPER_ADMIN_CHECKS) + 1  # + "* on *"
    paths = json.loads((REFERENCE / "pathfinding-cloud-paths.json").read_text())["paths"]
    assert [p["id"] for p in paths] == PATHFINDING_IDS


def test_placeholder_names_are_valid():
    assert PLACEHOLDERS == {"target", "caller", "account", "policy", "group"}
    for t in load_techniques().techniques:
        assert t.placeholders() <= PLACEHOLDERS, t.id
        if "policy" in t.placeholders():
            assert t.kind == "grant", t.id
        if "group" in t.placeholders():
            assert t.target == "user", t.id


def test_kinds_targets_and_trusted_services():
    cat = load_techniques()
    for t in cat.techniques:
        if t.kind == "join-group":
            assert t.target == "user"
        if t.trusts_service:
            assert t.target == "role" and t.kind == "become"
        for r in t.requires:
            if r.action == "iam:PassRole":
                assert r.resource == "{target}" and t.trusts_service, t.id
                passed = r.context.get("iam:PassedToService")
                assert passed in (None, t.trusts_service), t.id
    assert cat.technique("iam-put-role-policy").kind == "grant"
    assert cat.technique("iam-add-user-to-group").kind == "join-group"
    assert cat.technique("ec2-run-instances").trusts_service == "ec2.amazonaws.com"
    assert cat.technique("lambda-create-invoke").trusts_service == "lambda.amazonaws.com"
    assert {t.id for t in cat.using("iam:UpdateAssumeRolePolicy")} == {"iam-update-assume-role-policy"}


def test_bind_fills_placeholders():
    t = load_techniques().technique("ec2-run-instances")
    bound = t.bind(target="arn:aws:iam::111122223333:role/admin", account="111122223333")
    assert bound[0].action == "iam:PassRole" and bound[0].resource == "arn:aws:iam::111122223333:role/admin"
    assert bound[0].context == {"iam:PassedToService": "ec2.amazonaws.com"}
    assert bound[1].resource == "arn:aws:ec2:*:111122223333:instance/*"
    with pytest.raises(ValueError, match="account"):
        t.bind(target="arn:aws:iam::111122223333:role/admin")
    cfn = load_techniques().technique("cloudformation-create-stack").bind(target="arn:aws:iam::1:role/r", account="1")
    assert cfn[1].context == {"cloudformation:RoleArn": "arn:aws:iam::1:role/r"}


def _technique_data() -> dict:
    return json.loads(TECHNIQUES_FILE.read_text())


def _with(change) -> dict:
    data = copy.deepcopy(_technique_data())
    change(data["techniques"][0])
    return data


def test_technique_loader_rejects_unknown_actions():
    data = _with(lambda t: t["requires"].append({"action": "iam:NoSuchAction", "resource": "*"}))
    with pytest.raises(CatalogueDataError, match="iam:NoSuchAction"):
        parse_techniques(data)
    data = _with(lambda t: t["requires"].append({"action": "iam:Put*", "resource": "*"}))
    with pytest.raises(CatalogueDataError, match="exact action"):
        parse_techniques(data)


def test_technique_loader_rejects_bad_placeholders_and_fields():
    data = _with(lambda t: t["requires"].append({"action": "iam:PutUserPolicy", "resource": "{victim}"}))
    with pytest.raises(CatalogueDataError, match="victim"):
        parse_techniques(data)
    data = _with(lambda t: t.update(extra=True))
    with pytest.raises(CatalogueDataError, match="extra"):
        parse_techniques(data)
    data = _with(lambda t: t.update(sources=["blog:somewhere"]))
    with pytest.raises(CatalogueDataError, match="blog:somewhere"):
        parse_techniques(data)


def test_technique_loader_rejects_resources_of_the_wrong_shape():
    data = _with(lambda t: t["requires"].append({"action": "ec2:RunInstances", "resource": "arn:aws:s3:::bucket"}))
    with pytest.raises(CatalogueDataError, match="matches none"):
        parse_techniques(data)
    data = _with(lambda t: t["requires"].append({"action": "ec2:RunInstances", "resource": "*"}))
    with pytest.raises(CatalogueDataError, match="has resource types"):
        parse_techniques(data)
    data = _with(lambda t: t["requires"].append({"action": "glue:CreateDevEndpoint", "resource": "arn:aws:glue:*:1:x"}))
    with pytest.raises(CatalogueDataError, match="no resource type"):
        parse_techniques(data)
    data = _with(
        lambda t: t["requires"].append(
            {"action": "iam:PassRole", "resource": "{target}", "context": {"ec2:InstanceType": "t3.micro"}}
        )
    )
    with pytest.raises(CatalogueDataError, match="not a condition key"):
        parse_techniques(data)


def test_technique_loader_rejects_inconsistent_snapshot_checks():
    # techniques[0] is iam-create-policy-version-user: its binding already shows its precondition.
    data = _with(lambda t: t.update(snapshot_check="non-default-version"))
    with pytest.raises(CatalogueDataError, match="refines"):
        parse_techniques(data)
    data = _with(lambda t: t.update(snapshot_shows_precondition=False, snapshot_check="instance-profile"))
    with pytest.raises(CatalogueDataError, match="target role"):
        parse_techniques(data)
    data = _with(lambda t: t.update(snapshot_check="somewhere"))
    with pytest.raises(CatalogueDataError, match="snapshot_check"):
        parse_techniques(data)


def test_every_instance_profile_technique_is_checked_against_the_snapshot():
    """Every technique whose precondition names an instance profile lets the snapshot refute it."""
    for t in load_techniques().techniques:
        if t.assumes and "instance profile containing the target role" in t.assumes.replace(
            "whose instance profile contains", "instance profile containing"
        ):
            assert t.snapshot_check == "instance-profile", t.id
