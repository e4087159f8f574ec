"""A realistic account built through boto3 on a local AWS-compatible endpoint: users, groups,
roles with paths and trust policies, managed policy versions, buckets with policies, a KMS key, a
queue, a VPC endpoint and an organization with SCPs."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

# The installed console script next to the interpreter running the tests (as tests/conftest.py).
REASONER = str(Path(sys.executable).with_name("reasoner"))
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's default account: the caller and the organization's management account
REGION = "us-east-1"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


DATA_READ_V1 = doc(allow("s3:GetObject", "arn:aws:s3:::corp-data/reports/*"))
DATA_READ_V2 = doc(allow(["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::corp-data", "arn:aws:s3:::corp-data/*"]))
POLICY_EDITOR = doc(allow(["iam:CreatePolicyVersion", "iam:GetPolicy*", "iam:ListPolicyVersions"]))
ANALYSTS_INLINE = doc(allow("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"))
ADMIN_INLINE = doc(allow("*"))
EC2_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
ACCOUNT_TRUST = doc(
    {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }
)
AUDITOR_INLINE = doc(allow(["s3:GetObject", "s3:ListBucket"], "*"))
CORP_DATA_POLICY = doc(
    {
        "Sid": "AppRoleReads",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/service/app-role"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::corp-data/*",
    },
    {
        "Sid": "PartnerReads",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::corp-data/shared/*",
    },
)
CORP_SECRET_POLICY = doc(
    {
        "Sid": "OnlyAuditor",
        "Effect": "Deny",
        "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/audit/auditor"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::corp-secret/*",
    }
)
QUEUE_POLICY = doc(
    {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders",
    }
)
MEMBER_ROLE = "OrganizationAccountAccessRole"
DEPLOYER_INLINE = doc(allow("s3:GetObject", "arn:aws:s3:::corp-data/*"))
DENY_DELETE_SCP = doc({"Effect": "Deny", "Action": ["s3:DeleteBucket", "iam:DeleteRole"], "Resource": "*"})


@dataclass
class LocalAws:
    """The running endpoint and what the account builder created there (ids AWS generates)."""

    url: str
    ids: dict[str, str] = field(default_factory=dict)

    def session(self, creds: tuple[str, str, str] | None = None) -> boto3.Session:
        if creds is None:
            return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
        return boto3.Session(
            aws_access_key_id=creds[0], aws_secret_access_key=creds[1], aws_session_token=creds[2], region_name=REGION
        )

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        return (session or self.session()).client(
            service, endpoint_url=self.url, region_name=REGION, config=Config(s3={"addressing_style": "path"})
        )


ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def build_account(aws: LocalAws) -> None:
    build_iam(aws)
    build_resources(aws)
    build_organization(aws)


def build_iam(aws: LocalAws) -> None:
    iam = aws.client("iam")
    data_read = iam.create_policy(PolicyName="DataRead", Path="/app/", PolicyDocument=DATA_READ_V1)["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=data_read, PolicyDocument=DATA_READ_V2, SetAsDefault=True)
    editor = iam.create_policy(PolicyName="PolicyEditor", PolicyDocument=POLICY_EDITOR)["Policy"]["Arn"]
    iam.create_group(GroupName="analysts", Path="/teams/")
    iam.attach_group_policy(GroupName="analysts", PolicyArn=data_read)
    iam.put_group_policy(GroupName="analysts", PolicyName="orders", PolicyDocument=ANALYSTS_INLINE)
    iam.create_user(UserName="alice", Path="/people/", Tags=[{"Key": "team", "Value": "analytics"}])
    iam.add_user_to_group(GroupName="analysts", UserName="alice")
    iam.create_access_key(UserName="alice")
    iam.create_user(UserName="bob", Path="/people/")
    iam.attach_user_policy(UserName="bob", PolicyArn=editor)
    iam.create_user(UserName="root-like")
    iam.put_user_policy(UserName="root-like", PolicyName="everything", PolicyDocument=ADMIN_INLINE)
    iam.create_role(RoleName="app-role", Path="/service/", AssumeRolePolicyDocument=EC2_TRUST)
    iam.attach_role_policy(RoleName="app-role", PolicyArn=data_read)
    iam.create_role(RoleName="auditor", Path="/audit/", AssumeRolePolicyDocument=ACCOUNT_TRUST)
    iam.put_role_policy(RoleName="auditor", PolicyName="read-all", PolicyDocument=AUDITOR_INLINE)
    aws.ids.update(data_read=data_read, editor=editor)


def build_resources(aws: LocalAws) -> None:
    s3 = aws.client("s3")
    for name, policy in (("corp-data", CORP_DATA_POLICY), ("corp-secret", CORP_SECRET_POLICY), ("corp-logs", None)):
        s3.create_bucket(Bucket=name)
        if policy:
            s3.put_bucket_policy(Bucket=name, Policy=policy)
    s3.put_public_access_block(
        Bucket="corp-data",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    kms = aws.client("kms")
    key = kms.create_key(
        Description="orders",
        Policy=doc(
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ),
    )["KeyMetadata"]
    aws.ids["key_arn"] = key["Arn"]
    sqs = aws.client("sqs")
    sqs.create_queue(QueueName="orders", Attributes={"Policy": QUEUE_POLICY})
    sqs.create_queue(QueueName="scratch")
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ep = ec2.create_vpc_endpoint(
        VpcId=vpc,
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        PolicyDocument=doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::corp-*"}),
    )["VpcEndpoint"]
    aws.ids.update(vpc=vpc, vpce=ep["VpcEndpointId"])


def build_organization(aws: LocalAws) -> None:
    orgs = aws.client("organizations")
    org = orgs.create_organization(FeatureSet="ALL")["Organization"]
    root = orgs.list_roots()["Roots"][0]
    ou = orgs.create_organizational_unit(ParentId=root["Id"], Name="prod")["OrganizationalUnit"]
    members = {}
    for name in ("prod", "legacy"):  # legacy: the account the --org test cannot enter
        status = orgs.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members[name] = status["AccountId"]
        orgs.move_account(AccountId=status["AccountId"], SourceParentId=root["Id"], DestinationParentId=ou["Id"])
    member = members["prod"]
    sts = aws.client("sts")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/{MEMBER_ROLE}", RoleSessionName="build")["Credentials"]
    member_iam = aws.client("iam", aws.session((creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])))
    member_iam.create_user(UserName="deployer")
    member_iam.put_user_policy(UserName="deployer", PolicyName="read-data", PolicyDocument=DEPLOYER_INLINE)
    scp = orgs.create_policy(
        Name="deny-deletes", Description="", Type="SERVICE_CONTROL_POLICY", Content=DENY_DELETE_SCP
    )["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=scp["Id"], TargetId=ou["Id"])
    aws.ids.update(
        org=org["Id"],
        org_arn=org["Arn"],
        root=root["Id"],
        root_arn=root["Arn"],
        ou=ou["Id"],
        ou_arn=ou["Arn"],
        member=member,
        legacy=members["legacy"],
        scp=scp["Id"],
        scp_arn=scp["Arn"],
    )
