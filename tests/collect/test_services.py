"""The resource policies of every service in the call table, read from a member account entered
with sts:AssumeRole (`--accounts`), in a region of their own (us-west-2)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from aws_account import MEMBER_ROLE, LocalAws, doc

from reasoner import api
from reasoner.collect.run import CollectOptions, collect

WEST = "us-west-2"
PARTNER = {"AWS": "arn:aws:iam::444455556666:root"}


def grant(action: str, resource: str) -> str:
    return doc({"Sid": "Partner", "Effect": "Allow", "Principal": PARTNER, "Action": action, "Resource": resource})


def build_services(aws: LocalAws, account: str) -> dict[str, str]:
    """One resource with a policy per service (and some without), in the member account."""
    creds = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE}", RoleSessionName="build")
    c = creds["Credentials"]
    session = aws.session((c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))

    def client(service: str):
        return session.client(service, endpoint_url=aws.url, region_name=WEST)

    arns = {}
    arns["sns"] = client("sns").create_topic(Name="alerts")["TopicArn"]
    client("sns").set_topic_attributes(
        TopicArn=arns["sns"], AttributeName="Policy", AttributeValue=grant("sns:Publish", arns["sns"])
    )
    lambda_trust = doc(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )
    role = client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=lambda_trust)["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("f.py", "def h(event, context):\n    return 1\n")
    fn = client("lambda").create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="f.h", Code={"ZipFile": code.getvalue()}
    )
    arns["lambda"] = fn["FunctionArn"]
    # moto writes an account principal as a bare "444455556666" where AWS writes {"AWS": "arn:...:root"}:
    # "*" is written as AWS writes it.
    client("lambda").add_permission(
        FunctionName="fn", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )
    layer = client("lambda").publish_layer_version(LayerName="shared", Content={"ZipFile": code.getvalue()})
    arns["layer"] = layer["LayerVersionArn"]
    client("lambda").add_layer_version_permission(
        LayerName="shared",
        VersionNumber=layer["Version"],
        StatementId="all",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    arns["secret"] = client("secretsmanager").create_secret(Name="db", SecretString="x")["ARN"]
    client("secretsmanager").put_resource_policy(
        SecretId=arns["secret"], ResourcePolicy=grant("secretsmanager:GetSecretValue", "*")
    )
    client("secretsmanager").create_secret(Name="no-policy", SecretString="y")
    arns["ecr"] = client("ecr").create_repository(repositoryName="app")["repository"]["repositoryArn"]
    client("ecr").set_repository_policy(repositoryName="app", policyText=grant("ecr:BatchGetImage", "*"))
    client("ecr").create_repository(repositoryName="bare")
    arns["events"] = client("events").create_event_bus(Name="bus")["EventBusArn"]
    client("events").put_permission(
        EventBusName="bus", Action="events:PutEvents", Principal="444455556666", StatementId="partner"
    )
    api_id = client("apigateway").create_rest_api(name="api", policy=grant("execute-api:Invoke", "*"))["id"]
    arns["apigateway"] = f"arn:aws:execute-api:{WEST}:{account}:{api_id}/*"
    table = client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    client("dynamodb").put_resource_policy(ResourceArn=table, Policy=grant("dynamodb:GetItem", table))
    arns["dynamodb"] = table
    arns["glue"] = f"arn:aws:glue:{WEST}:{account}:catalog"
    client("glue").put_resource_policy(PolicyInJson=grant("glue:GetTable", f"arn:aws:glue:{WEST}:{account}:*"))
    return arns


@pytest.fixture(scope="module")
def member_services(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, dict]:
    member = local_aws.ids["member"]
    arns = build_services(local_aws, member)
    out = tmp_path_factory.mktemp("services")
    result = collect(
        CollectOptions(out=out, regions=[WEST], accounts=[member], role_name=MEMBER_ROLE, endpoint_url=local_aws.url),
        session_factory=local_aws.session,
    )
    return arns, out, result.report


def test_every_service_policy_is_collected(member_services, local_aws):
    arns, out, report = member_services
    assert report["complete"], report["unknown"]
    member = local_aws.ids["member"]
    policies = {p["Resource"]: p for p in json.loads((out / "snapshot.json").read_text())["resource_policies"]}
    for service, arn in arns.items():
        assert arn in policies, service
        assert policies[arn]["Account"] == member
    reads = report["accounts"][member]["reads"]
    assert reads["ecr.GetRepositoryPolicy"] == {"absent": 1, "present": 1}
    assert reads["secretsmanager.GetResourcePolicy"] == {"present": 2}  # one answers without ResourcePolicy
    snap = api.load_snapshot(out / "snapshot.json")
    assert snap.problems == []
    for arn in arns.values():
        assert snap.resource_policies[arn].policy.policy.Statement


def test_a_partner_grant_is_seen_through_the_collected_policy(member_services):
    arns, out, _ = member_services
    snap = api.load_snapshot(out / "snapshot.json")
    stmt = snap.resource_policies[arns["secret"]].policy.policy.Statement[0]
    assert stmt.Sid == "Partner" and stmt.Effect == "Allow"
