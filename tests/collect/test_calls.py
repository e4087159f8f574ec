"""The call table and the small readers of AWS's shapes (no endpoint needed)."""

from __future__ import annotations

import json

from reasoner.collect.calls import CALLS, call
from reasoner.collect.reads import ABSENT, PRESENT, UNKNOWN, Read
from reasoner.collect.services import AccountData, bucket_region, queue_arn, rest_api_policy


def test_every_call_names_its_boto3_method_and_an_iam_action():
    for c in CALLS:
        assert c.method == c.method.lower() and "__" not in c.method
        assert c.action.split(":")[0] and ":" in c.action
    assert call("iam.GetAccountAuthorizationDetails").method == "get_account_authorization_details"
    assert call("ec2.DescribeVpcEndpoints").method == "describe_vpc_endpoints"
    assert call("s3.GetBucketPolicy").absent == {"NoSuchBucketPolicy"}
    assert call("lambda.GetPolicy").absent == {"ResourceNotFoundException"}


def test_absent_writes_nothing_and_unknown_writes_an_unreadable_entry():
    d = AccountData("111122223333")
    d.policy("arn:aws:s3:::a", Read(ABSENT, error="NoSuchBucketPolicy"), "s3.GetBucketPolicy", lambda v: v["Policy"])
    d.policy("arn:aws:s3:::b", Read(UNKNOWN, error="AccessDenied: no"), "s3.GetBucketPolicy", lambda v: v["Policy"])
    d.policy("arn:aws:s3:::c", Read(PRESENT, {"Policy": "{}"}), "s3.GetBucketPolicy", lambda v: v["Policy"])
    assert set(d.resource_policies) == {"arn:aws:s3:::b", "arn:aws:s3:::c"}
    entry = d.resource_policies["arn:aws:s3:::b"]
    assert "Policy" not in entry
    assert entry["Unreadable"].startswith("s3.GetBucketPolicy failed: AccessDenied")


def test_aws_shapes():
    assert (
        queue_arn("https://sqs.eu-west-1.amazonaws.com/111122223333/jobs", "eu-west-1")
        == "arn:aws:sqs:eu-west-1:111122223333:jobs"
    )
    assert bucket_region(Read(PRESENT, {"LocationConstraint": None})) == "us-east-1"
    assert bucket_region(Read(PRESENT, {"LocationConstraint": "EU"})) == "eu-west-1"
    assert bucket_region(Read(PRESENT, {"LocationConstraint": "ap-south-1"})) == "ap-south-1"
    escaped = '{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[]}'  # API Gateway's policy text
    assert json.loads(rest_api_policy(escaped) or "") == {"Version": "2012-10-17", "Statement": []}
    assert rest_api_policy(None) is None
