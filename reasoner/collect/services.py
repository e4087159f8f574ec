"""What is read from each service of one account, and where it goes: GAAD, resource policies (a
policy that could not be read is written as an unreadable entry, so that its answers are
`unknown`), VPC endpoints, and the side data the bundle has no place for (extras)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reasoner.collect.reads import ABSENT, UNKNOWN, Read, Reader, items, pages

GLOBAL_REGION = "us-east-1"
GAAD_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def unreadable_policy(call: str, error: str | None) -> str:
    """The Content of an unreadable organization policy (that format has no Unreadable field, as
    resource policy entries have): not JSON, so the snapshot loader marks the policy unknown
    instead of taking it as absent."""
    return f"UNREADABLE: {call} failed: {error}"


@dataclass
class AccountData:
    """Everything collected from one account (filled from several threads)."""

    account: str
    gaad: dict | None = None
    resource_policies: dict[str, dict] = field(default_factory=dict)
    vpc_endpoints: list[dict] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    unlisted: list[str] = field(default_factory=list)  # listings that failed: resources we cannot name
    lock: threading.Lock = field(default_factory=threading.Lock)

    def policy(self, arn: str, read: Read, call: str, extract: Callable[[Any], Any]) -> None:
        """A resource policy read: present (and non-empty) -> entry; absent -> none; unknown -> unreadable entry."""
        if read.status == ABSENT:
            return
        if not read.ok:  # the explicit form the loader reads (resource_policies.ResourcePolicyEntry)
            with self.lock:
                why = f"{call} failed: {read.error}"
                self.resource_policies[arn] = {"Resource": arn, "Unreadable": why, "Account": self.account}
            return
        self.add_policy(arn, extract(read.value))

    def add_policy(self, arn: str, doc: Any) -> None:
        """A policy read as part of a listing (no policy: nothing)."""
        if not doc:
            return
        with self.lock:
            self.resource_policies[arn] = {"Resource": arn, "Policy": doc, "Account": self.account}

    def extra(self, section: str, name: str, read: Read, extract: Callable[[Any], Any] = lambda v: v) -> None:
        """Side data: the value, {"absent": code} or {"unknown": error}."""
        value = (
            extract(read.value)
            if read.ok
            else {"absent": read.error}
            if read.status == ABSENT
            else {"unknown": read.error}
        )
        with self.lock:
            self.extras.setdefault(section, {})[name] = value

    def listing(self, read: Read, what: str) -> bool:
        if read.status == UNKNOWN:
            with self.lock:
                self.unlisted.append(f"{what}: {read.error}")
        return read.ok


# -- IAM and S3 (global) ---------------------------------------------------------------------------


def collect_iam(r: Reader, d: AccountData) -> None:
    gaad = r.read("iam.GetAccountAuthorizationDetails", GLOBAL_REGION, "account authorization details")
    if not d.listing(gaad, "iam.GetAccountAuthorizationDetails (users, groups, roles, policies)"):
        return
    merged: dict[str, Any] = {k: pages(gaad, k) for k in GAAD_LISTS}
    merged["IsTruncated"] = False
    d.gaad = merged
    for user in merged["UserDetailList"]:
        name = user.get("UserName", "")
        keys = r.read("iam.ListAccessKeys", GLOBAL_REGION, user.get("Arn", name), UserName=name)
        d.listing(keys, f"iam.ListAccessKeys {name}")
        entries = []
        for key in pages(keys, "AccessKeyMetadata"):
            used = r.read("iam.GetAccessKeyLastUsed", GLOBAL_REGION, key["AccessKeyId"], AccessKeyId=key["AccessKeyId"])
            last = used.value.get("AccessKeyLastUsed") if used.ok else {used.status: used.error}
            entries.append({**key, "AccessKeyLastUsed": last})
        with d.lock:
            d.extras.setdefault("access_keys", {})[user.get("Arn", name)] = (
                entries if keys.ok else {keys.status: keys.error}
            )


def bucket_region(location: Read) -> str:
    if not location.ok:
        return GLOBAL_REGION  # botocore follows S3's redirect to the bucket's region
    constraint = location.value.get("LocationConstraint")
    return {None: GLOBAL_REGION, "": GLOBAL_REGION, "EU": "eu-west-1"}.get(constraint, constraint)


def collect_s3(r: Reader, d: AccountData) -> None:
    bpa = r.read("s3control.GetPublicAccessBlock", GLOBAL_REGION, "account", AccountId=d.account)
    d.extra("s3_account_public_access_block", d.account, bpa, lambda v: v.get("PublicAccessBlockConfiguration"))
    listed = r.read("s3.ListBuckets", GLOBAL_REGION, "buckets")
    if not d.listing(listed, "s3.ListBuckets"):
        return
    for bucket in pages(listed, "Buckets"):
        name = bucket["Name"]
        region = bucket_region(r.read("s3.GetBucketLocation", GLOBAL_REGION, name, Bucket=name))
        arn = f"arn:aws:s3:::{name}"
        pol = r.read("s3.GetBucketPolicy", region, arn, Bucket=name)
        d.policy(arn, pol, "s3.GetBucketPolicy", lambda v: v.get("Policy"))
        pab = r.read("s3.GetPublicAccessBlock", region, arn, Bucket=name)
        d.extra("s3_bucket_public_access_block", name, pab, lambda v: v.get("PublicAccessBlockConfiguration"))
        own = r.read("s3.GetBucketOwnershipControls", region, arn, Bucket=name)
        d.extra("s3_bucket_ownership_controls", name, own, lambda v: v.get("OwnershipControls"))
        with d.lock:
            d.extras.setdefault("s3_bucket_region", {})[name] = region


# -- regional services -----------------------------------------------------------------------------


def collect_kms(r: Reader, d: AccountData, region: str) -> None:
    keys = r.read("kms.ListKeys", region, "keys")
    if not d.listing(keys, f"kms.ListKeys {region}"):
        return
    for key in pages(keys, "Keys"):
        arn = key.get("KeyArn") or f"arn:aws:kms:{region}:{d.account}:key/{key['KeyId']}"
        pol = r.read("kms.GetKeyPolicy", region, arn, KeyId=key["KeyId"], PolicyName="default")
        d.policy(arn, pol, "kms.GetKeyPolicy", lambda v: v.get("Policy"))
        grants = r.read("kms.ListGrants", region, arn, KeyId=key["KeyId"])
        d.extra("kms_grants", arn, grants, lambda v: items(v, "Grants"))


def queue_arn(url: str, region: str) -> str:
    """https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (listed in `region`) -> arn:aws:sqs:REGION:ACCOUNT:NAME."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{region}:{account}:{name}"


def collect_sqs(r: Reader, d: AccountData, region: str) -> None:
    queues = r.read("sqs.ListQueues", region, "queues")
    if not d.listing(queues, f"sqs.ListQueues {region}"):
        return
    for url in pages(queues, "QueueUrls"):
        attrs = r.read("sqs.GetQueueAttributes", region, url, QueueUrl=url, AttributeNames=["Policy", "QueueArn"])
        arn = (attrs.value.get("Attributes") or {}).get("QueueArn") if attrs.ok else None
        d.policy(
            arn or queue_arn(url, region),
            attrs,
            "sqs.GetQueueAttributes",
            lambda v: (v.get("Attributes") or {}).get("Policy"),
        )


def collect_sns(r: Reader, d: AccountData, region: str) -> None:
    topics = r.read("sns.ListTopics", region, "topics")
    if not d.listing(topics, f"sns.ListTopics {region}"):
        return
    for topic in pages(topics, "Topics"):
        arn = topic["TopicArn"]
        attrs = r.read("sns.GetTopicAttributes", region, arn, TopicArn=arn)
        d.policy(arn, attrs, "sns.GetTopicAttributes", lambda v: (v.get("Attributes") or {}).get("Policy"))


def collect_lambda(r: Reader, d: AccountData, region: str) -> None:
    functions = r.read("lambda.ListFunctions", region, "functions")
    if d.listing(functions, f"lambda.ListFunctions {region}"):
        for fn in pages(functions, "Functions"):
            arn = fn["FunctionArn"]
            pol = r.read("lambda.GetPolicy", region, arn, FunctionName=arn)
            d.policy(arn, pol, "lambda.GetPolicy", lambda v: v.get("Policy"))
    layers = r.read("lambda.ListLayers", region, "layers")
    if not d.listing(layers, f"lambda.ListLayers {region}"):
        return
    for layer in pages(layers, "Layers"):
        name = layer["LayerName"]
        versions = r.read("lambda.ListLayerVersions", region, name, LayerName=name)
        d.listing(versions, f"lambda.ListLayerVersions {region} {name}")
        for v in pages(versions, "LayerVersions"):
            pol = r.read(
                "lambda.GetLayerVersionPolicy", region, v["LayerVersionArn"], LayerName=name, VersionNumber=v["Version"]
            )
            d.policy(v["LayerVersionArn"], pol, "lambda.GetLayerVersionPolicy", lambda v: v.get("Policy"))


def collect_secrets(r: Reader, d: AccountData, region: str) -> None:
    secrets = r.read("secretsmanager.ListSecrets", region, "secrets")
    if not d.listing(secrets, f"secretsmanager.ListSecrets {region}"):
        return
    for s in pages(secrets, "SecretList"):
        pol = r.read("secretsmanager.GetResourcePolicy", region, s["ARN"], SecretId=s["ARN"])
        d.policy(s["ARN"], pol, "secretsmanager.GetResourcePolicy", lambda v: v.get("ResourcePolicy"))


def collect_ecr(r: Reader, d: AccountData, region: str) -> None:
    repos = r.read("ecr.DescribeRepositories", region, "repositories")
    if not d.listing(repos, f"ecr.DescribeRepositories {region}"):
        return
    for repo in pages(repos, "repositories"):
        name = repo["repositoryName"]
        pol = r.read("ecr.GetRepositoryPolicy", region, repo["repositoryArn"], repositoryName=name)
        d.policy(repo["repositoryArn"], pol, "ecr.GetRepositoryPolicy", lambda v: v.get("policyText"))


def collect_glue(r: Reader, d: AccountData, region: str) -> None:
    arn = f"arn:aws:glue:{region}:{d.account}:catalog"
    pol = r.read("glue.GetResourcePolicy", region, arn)
    d.policy(arn, pol, "glue.GetResourcePolicy", lambda v: v.get("PolicyInJson"))


def collect_dynamodb(r: Reader, d: AccountData, region: str) -> None:
    tables = r.read("dynamodb.ListTables", region, "tables")
    if not d.listing(tables, f"dynamodb.ListTables {region}"):
        return
    for name in pages(tables, "TableNames"):
        desc = r.read("dynamodb.DescribeTable", region, name, TableName=name)
        table = desc.value.get("Table", {}) if desc.ok else {}
        arn = table.get("TableArn") or f"arn:aws:dynamodb:{region}:{d.account}:table/{name}"
        pol = r.read("dynamodb.GetResourcePolicy", region, arn, ResourceArn=arn)
        d.policy(arn, pol, "dynamodb.GetResourcePolicy", lambda v: v.get("Policy"))
        if not desc.ok:
            d.listing(desc, f"dynamodb.DescribeTable {region} {name} (its stream)")
        elif table.get("LatestStreamArn"):
            stream = table["LatestStreamArn"]
            pol = r.read("dynamodb.GetResourcePolicy", region, stream, ResourceArn=stream)
            d.policy(stream, pol, "dynamodb.GetResourcePolicy", lambda v: v.get("Policy"))


def collect_events(r: Reader, d: AccountData, region: str) -> None:
    buses = r.read("events.ListEventBuses", region, "event buses")
    if not d.listing(buses, f"events.ListEventBuses {region}"):
        return
    for bus in pages(buses, "EventBuses"):
        d.add_policy(bus["Arn"], bus.get("Policy"))


def rest_api_policy(text: str | None) -> str | None:
    """API Gateway returns the policy JSON with its quotes backslash-escaped."""
    if not text:
        return None
    try:
        json.loads(text)
        return text
    except ValueError:
        return text.replace('\\"', '"').replace("\\\\", "\\")


def collect_apigateway(r: Reader, d: AccountData, region: str) -> None:
    apis = r.read("apigateway.GetRestApis", region, "REST APIs")
    if not d.listing(apis, f"apigateway.GetRestApis {region}"):
        return
    for api in pages(apis, "items"):
        arn = f"arn:aws:execute-api:{region}:{d.account}:{api['id']}/*"
        d.add_policy(arn, rest_api_policy(api.get("policy")))


def collect_vpc_endpoints(r: Reader, d: AccountData, region: str) -> None:
    eps = r.read("ec2.DescribeVpcEndpoints", region, "VPC endpoints")
    if d.listing(eps, f"ec2.DescribeVpcEndpoints {region}"):
        with d.lock:
            d.vpc_endpoints.extend(pages(eps, "VpcEndpoints"))


GLOBAL_COLLECTORS: dict[str, Callable[[Reader, AccountData], None]] = {"iam": collect_iam, "s3": collect_s3}
REGIONAL_COLLECTORS: dict[str, Callable[[Reader, AccountData, str], None]] = {
    "ec2": collect_vpc_endpoints,
    "kms": collect_kms,
    "sqs": collect_sqs,
    "sns": collect_sns,
    "lambda": collect_lambda,
    "secretsmanager": collect_secrets,
    "ecr": collect_ecr,
    "glue": collect_glue,
    "dynamodb": collect_dynamodb,
    "events": collect_events,
    "apigateway": collect_apigateway,
}
