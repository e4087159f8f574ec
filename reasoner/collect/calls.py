"""The one table of AWS calls the collector makes: it drives the collection (which client method,
which errors mean "there is no policy") and `reasoner collect --print-policy` (the IAM actions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One AWS API operation the collector calls."""

    service: str  # the boto3 client name
    operation: str  # the API operation name (botocore's, e.g. GetBucketPolicy)
    action: str  # the IAM action it needs
    scope: str  # global (once per account) | regional (per region) | organization | member-role
    absent: frozenset[str] = field(default_factory=frozenset)  # error codes meaning "no such policy/setting"
    paginated: bool = False

    @property
    def key(self) -> str:
        return f"{self.service}.{self.operation}"

    @property
    def method(self) -> str:
        """The boto3 client method (GetBucketPolicy -> get_bucket_policy)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.operation).lower()


def _c(service: str, operation: str, action: str, scope: str, *absent: str, paginated: bool = False) -> Call:
    return Call(service, operation, action, scope, frozenset(absent), paginated)


CALLS: tuple[Call, ...] = (
    _c("sts", "GetCallerIdentity", "sts:GetCallerIdentity", "global"),
    _c("sts", "AssumeRole", "sts:AssumeRole", "member-role"),
    # IAM
    _c("iam", "GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails", "global", paginated=True),
    _c("iam", "ListAccessKeys", "iam:ListAccessKeys", "global", "NoSuchEntity", paginated=True),
    _c("iam", "GetAccessKeyLastUsed", "iam:GetAccessKeyLastUsed", "global"),
    # Organizations (management account or delegated administrator)
    _c(
        "organizations",
        "DescribeOrganization",
        "organizations:DescribeOrganization",
        "organization",
        "AWSOrganizationsNotInUseException",
    ),
    _c("organizations", "ListRoots", "organizations:ListRoots", "organization", paginated=True),
    _c(
        "organizations",
        "ListOrganizationalUnitsForParent",
        "organizations:ListOrganizationalUnitsForParent",
        "organization",
        paginated=True,
    ),
    _c("organizations", "ListAccountsForParent", "organizations:ListAccountsForParent", "organization", paginated=True),
    # A policy type that is not enabled has no policies attached anywhere.
    _c(
        "organizations",
        "ListPoliciesForTarget",
        "organizations:ListPoliciesForTarget",
        "organization",
        "PolicyTypeNotEnabledException",
        paginated=True,
    ),
    _c("organizations", "DescribePolicy", "organizations:DescribePolicy", "organization"),
    # EC2
    _c("ec2", "DescribeRegions", "ec2:DescribeRegions", "global"),
    _c("ec2", "DescribeVpcEndpoints", "ec2:DescribeVpcEndpoints", "regional", paginated=True),
    # S3 (buckets are listed once; each bucket is read in its own region)
    _c("s3", "ListBuckets", "s3:ListAllMyBuckets", "global", paginated=True),
    _c("s3", "GetBucketLocation", "s3:GetBucketLocation", "global", "NoSuchBucket"),
    _c("s3", "GetBucketPolicy", "s3:GetBucketPolicy", "regional", "NoSuchBucketPolicy"),
    _c(
        "s3",
        "GetPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "regional",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    _c(
        "s3",
        "GetBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
        "regional",
        "OwnershipControlsNotFoundError",
    ),
    _c(
        "s3control",
        "GetPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "global",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    # KMS (key policies always exist; grants may be none)
    _c("kms", "ListKeys", "kms:ListKeys", "regional", paginated=True),
    _c("kms", "GetKeyPolicy", "kms:GetKeyPolicy", "regional"),
    _c("kms", "ListGrants", "kms:ListGrants", "regional", paginated=True),
    # SQS / SNS: the policy is an attribute; a queue without one has no policy
    _c("sqs", "ListQueues", "sqs:ListQueues", "regional", paginated=True),
    _c("sqs", "GetQueueAttributes", "sqs:GetQueueAttributes", "regional"),
    _c("sns", "ListTopics", "sns:ListTopics", "regional", paginated=True),
    _c("sns", "GetTopicAttributes", "sns:GetTopicAttributes", "regional"),
    # Lambda: GetPolicy answers ResourceNotFoundException when the function has no policy
    _c("lambda", "ListFunctions", "lambda:ListFunctions", "regional", paginated=True),
    _c("lambda", "GetPolicy", "lambda:GetPolicy", "regional", "ResourceNotFoundException"),
    _c("lambda", "ListLayers", "lambda:ListLayers", "regional", paginated=True),
    _c("lambda", "ListLayerVersions", "lambda:ListLayerVersions", "regional", paginated=True),
    _c("lambda", "GetLayerVersionPolicy", "lambda:GetLayerVersionPolicy", "regional", "ResourceNotFoundException"),
    # Secrets Manager: a secret without a policy answers without ResourcePolicy
    _c("secretsmanager", "ListSecrets", "secretsmanager:ListSecrets", "regional", paginated=True),
    _c("secretsmanager", "GetResourcePolicy", "secretsmanager:GetResourcePolicy", "regional"),
    # ECR
    _c("ecr", "DescribeRepositories", "ecr:DescribeRepositories", "regional", paginated=True),
    _c("ecr", "GetRepositoryPolicy", "ecr:GetRepositoryPolicy", "regional", "RepositoryPolicyNotFoundException"),
    # Glue: the Data Catalog's resource policy
    _c("glue", "GetResourcePolicy", "glue:GetResourcePolicy", "regional", "EntityNotFoundException"),
    # DynamoDB: table and stream resource policies
    _c("dynamodb", "ListTables", "dynamodb:ListTables", "regional", paginated=True),
    _c("dynamodb", "DescribeTable", "dynamodb:DescribeTable", "regional"),
    _c("dynamodb", "GetResourcePolicy", "dynamodb:GetResourcePolicy", "regional", "PolicyNotFoundException"),
    # EventBridge: ListEventBuses carries each bus's Policy
    _c("events", "ListEventBuses", "events:ListEventBuses", "regional", paginated=True),
    # API Gateway: GetRestApis carries each REST API's policy
    _c("apigateway", "GetRestApis", "apigateway:GET", "regional", paginated=True),
)

CALL_BY_KEY: dict[str, Call] = {c.key: c for c in CALLS}


def call(key: str) -> Call:
    return CALL_BY_KEY[key]


def minimal_policy(role_name: str | None = None) -> dict:
    """The read-only IAM policy the collector needs: every action of the table; sts:AssumeRole only
    on the member role (`--org`)."""
    reads = sorted({c.action for c in CALLS if c.scope != "member-role"})
    statements: list[dict] = [{"Sid": "ReasonerCollectRead", "Effect": "Allow", "Action": reads, "Resource": "*"}]
    assume = sorted({c.action for c in CALLS if c.scope == "member-role"})
    statements.append(
        {
            "Sid": "ReasonerCollectEnterMemberAccounts",
            "Effect": "Allow",
            "Action": assume,
            "Resource": f"arn:aws:iam::*:role/{role_name or 'ROLE_NAME'}",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
