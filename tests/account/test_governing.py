"""Which resource policy governs a resource (reasoner/account/governing.py): one golden case per
mapping, each citing the service documentation it follows."""

from __future__ import annotations

import pytest

from reasoner.account.governing import globs_meet, governed, governing_holder, holders_of, reaches, search_scopes
from reasoner.policy.patterns import plain

R, A = "us-east-1", "111122223333"
CASES = [
    # S3 User Guide, "Bucket policies": a bucket policy grants permissions to the bucket and the
    # objects in it.
    ("arn:aws:s3:::shared-bucket", "arn:aws:s3:::shared-bucket/dir/key.txt", "arn:aws:s3:::other/dir/key.txt"),
    # Glue Developer Guide, "Resource-based policies for AWS Glue": the Data Catalog policy
    # (one per account and Region) controls its databases, tables and functions.
    (f"arn:aws:glue:{R}:{A}:catalog", f"arn:aws:glue:{R}:{A}:table/db/t", f"arn:aws:glue:{R}:{A}:job/etl"),
    (f"arn:aws:glue:{R}:{A}:catalog", f"arn:aws:glue:{R}:{A}:database/db", f"arn:aws:glue:us-west-2:{A}:database/db"),
    # API Gateway Developer Guide, "Access control with API Gateway resource policies": the
    # REST API's policy covers execute-api:/STAGE/METHOD/PATH of that API.
    (
        f"arn:aws:execute-api:{R}:{A}:a1b2c3/*",
        f"arn:aws:execute-api:{R}:{A}:a1b2c3/prod/GET/pets",
        f"arn:aws:execute-api:{R}:{A}:zzzzzz/prod/GET/pets",
    ),
    # DynamoDB PutResourcePolicy: "You can control index permissions using the base table's
    # policy"; a stream takes its own policy (a table or a stream).
    (
        f"arn:aws:dynamodb:{R}:{A}:table/Music",
        f"arn:aws:dynamodb:{R}:{A}:table/Music/index/ByArtist",
        f"arn:aws:dynamodb:{R}:{A}:table/Music/stream/2024-02-12T18:57:26.492",
    ),
    # One policy per resource: SQS queue, SNS topic, Lambda function, KMS key, secret, ECR repository.
    (f"arn:aws:sqs:{R}:{A}:q", f"arn:aws:sqs:{R}:{A}:q", f"arn:aws:sqs:{R}:{A}:q2"),
    (f"arn:aws:sns:{R}:{A}:t", f"arn:aws:sns:{R}:{A}:t", f"arn:aws:sns:{R}:{A}:t-other"),
    (f"arn:aws:lambda:{R}:{A}:function:f", f"arn:aws:lambda:{R}:{A}:function:f", f"arn:aws:lambda:{R}:{A}:function:g"),
    (f"arn:aws:kms:{R}:{A}:key/k-1", f"arn:aws:kms:{R}:{A}:key/k-1", f"arn:aws:kms:{R}:{A}:key/k-2"),
    (
        f"arn:aws:secretsmanager:{R}:{A}:secret:db-AbCdEf",
        f"arn:aws:secretsmanager:{R}:{A}:secret:db-AbCdEf",
        f"arn:aws:secretsmanager:{R}:{A}:secret:db-XyZxYz",
    ),
    (f"arn:aws:ecr:{R}:{A}:repository/app", f"arn:aws:ecr:{R}:{A}:repository/app", f"arn:aws:ecr:{R}:{A}:repository/b"),
]


@pytest.mark.parametrize(("holder", "inside", "outside"), CASES)
def test_the_holder_governs_its_resources_and_no_other(holder, inside, outside):
    assert governing_holder(inside, {holder}) == holder
    assert governing_holder(outside, {holder}) is None
    assert holder in holders_of(inside) or holder == inside
    assert reaches(inside, holder) and not reaches(outside, holder)


def test_a_resource_own_policy_comes_before_its_container():
    obj = "arn:aws:s3:::b/k"
    assert governing_holder(obj, {obj, "arn:aws:s3:::b"}) == obj


def test_a_pattern_reaches_the_bucket_policy_of_its_objects():
    """Issue 10 item 10: no-cross-account on arn:aws:s3:::shared-bucket/* searches the bucket policy."""
    assert reaches("arn:aws:s3:::shared-bucket/*", "arn:aws:s3:::shared-bucket")
    assert reaches("arn:aws:s3:::shared-*", "arn:aws:s3:::shared-bucket")
    assert not reaches("arn:aws:s3:::other/*", "arn:aws:s3:::shared-bucket")
    assert reaches(f"arn:aws:execute-api:{R}:{A}:a1b2c3/prod/*", f"arn:aws:execute-api:{R}:{A}:a1b2c3/*")
    assert reaches(f"arn:aws:glue:{R}:{A}:table/db/*", f"arn:aws:glue:{R}:{A}:catalog")


def test_search_scopes_stay_within_what_the_policy_governs():
    bucket = "arn:aws:s3:::b"
    assert search_scopes("arn:aws:s3:::b/*", bucket) == [("arn:aws:s3:::b/*", True)]
    # A pattern wider than the bucket's scope: the scopes are the bucket and its objects.
    assert search_scopes("arn:aws:s3:::*", bucket) == [(bucket, True), ("arn:aws:s3:::b/*", True)]
    # A partial overlap: searched over the governed scope, a witness checked against the pattern.
    assert search_scopes("arn:aws:s3:::b*/k?", bucket) == [("arn:aws:s3:::b/*", False)]
    assert governed(bucket) == (bucket, "arn:aws:s3:::b/*")


def test_glob_intersection():
    assert globs_meet(plain("a*c"), plain("ab*"))
    assert not globs_meet(plain("a?c"), plain("abbc"))
    assert globs_meet(plain("*"), plain("x"))
