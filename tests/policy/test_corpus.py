"""Every policy document of the corpus (tests/corpus, copied from shared/corpus with its
licenses) loads, or is rejected with a precise message. The rejected files are listed here
with the reason: each is not a valid AWS policy."""

from __future__ import annotations

import pytest
from conftest import CORPUS

from reasoner.errors import InputError
from reasoner.policy.document import load_policy

FOLDERS = ["aws-managed-policies", "scp-rcp-examples", "resource-policies", "identity-policies", "quacky-samples"]
FILES = sorted(f for d in FOLDERS for f in (CORPUS / d).rglob("*.json"))

_PLACEHOLDER_CIDR = "'<my-corporate-cidr>' is not an IP address or CIDR block"
# path relative to tests/corpus -> the message (part) that rejects it, and why AWS would too.
REJECTED = {
    # Documentation placeholders where AWS requires a CIDR (the validator rejects them).
    **{
        p: _PLACEHOLDER_CIDR
        for p in [
            "scp-rcp-examples/data-perimeter-policy-examples/resource_control_policies/network_perimeter_sourcevpc_rcp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/resource_control_policies/network_perimeter_vpceorgid_rcp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/resource_control_policies/service_specific_controls/api_gateway_policy.json",
            "scp-rcp-examples/data-perimeter-policy-examples/resource_control_policies/service_specific_controls/sns_topic_policy.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/network_perimeter_sourcevpc_scp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/network_perimeter_vpceorgid_scp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/service_specific_controls/network_perimeter_ec2_scp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/service_specific_controls/network_perimeter_glue_scp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/service_specific_controls/network_perimeter_iam_users_scp.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/service_specific_controls/network_perimeter_lambda_scp.json",
            "scp-rcp-examples/service-control-policy-examples/Protect-cloud-platform-resource/Deny-use-of-IAM-user-credentials-from-unexpected-networks.json",
            "resource-policies/data-perimeter-historic/ecr_repository_policy.json",
            "resource-policies/data-perimeter-historic/kms_key_policy.json",
            "resource-policies/data-perimeter-historic/s3_bucket_policy.json",
            "resource-policies/data-perimeter-historic/secretsmanager_secret_policy.json",
        ]
    },
    # A placeholder where NumericGreaterThan needs a number.
    "scp-rcp-examples/resource-control-policy-examples/Service-specific-controls/S3-Prevent-long-term-presigned-url.json": "is not a number",
    # Quacky's domain.json files describe resource sets for model counting, not policies.
    **{
        f"quacky-samples/manual_s3/exp_single/{d}/domain.json": "$.Statement: required element is missing"
        for d in [
            "s3_allow_3",
            "s3_allow_notprincipal",
            "s3_allow_notresource",
            "s3_allow_prefix",
            "s3_allow_principals",
            "s3_allow_pstar",
            "s3_allow_rstar",
            "s3_deny_notresource",
            "s3_deny_resource",
        ]
    },
    # A policy variable before the fifth colon of a Resource ARN: "You can't use a variable to replace
    # parts of the ARN before the fifth colon, such as the service or account" (IAM User Guide, IAM
    # policy elements: Variables and tags). The two SCP examples are templates (${Region} / ${Account}
    # placeholders next to [CLOUDTRAIL_NAME]); the managed policy is published by AWS with
    # ${aws:PrincipalAccount} in the account field, which a customer policy could not hold.
    **{
        p: "policy variable before the fifth colon"
        for p in [
            "aws-managed-policies/AmazonTimestreamInfluxDBServiceRolePolicy.json",
            "scp-rcp-examples/service-control-policy-examples/Deny-changes-to-security-services/Deny-modifications-to-specific-CloudTrail-trails.json",
            "scp-rcp-examples/service-control-policy-examples/Deny-changes-to-security-services/Deny-users-from-disabling-or-altering-CloudWatch.json",
        ]
    },
    # Resource values that are not "*" nor an ARN: AWS rejects them ("Resource ... must be in ARN
    # format or "*"", IAM JSON policy elements: Resource). Documentation placeholders ("Bucket ARN",
    # "<third-party-resource>").
    **{
        p: "must be '*' or an ARN"
        for p in [
            "identity-policies/aws-docs-iam-user-guide/id_roles_use_passrole__00.json",
            "identity-policies/aws-docs-iam-user-guide/troubleshoot_policies__08.json",
            "identity-policies/aws-docs-s3-user-guide/replication-config-for-kms-objects__04.json",
            "identity-policies/aws-docs-s3-user-guide/replication-config-for-kms-objects__05.json",
            "identity-policies/aws-docs-s3-user-guide/replication-walkthrough-4__06.json",
            "resource-policies/aws-docs-s3-user-guide/MultiRegionAccessPointPermissions__04.json",
            "resource-policies/aws-docs-s3-user-guide/access-points-policies__09.json",
            "resource-policies/aws-docs-s3-user-guide/access-points-policies__10.json",
            "resource-policies/aws-docs-s3-user-guide/grant-destinations-permissions-to-s3__00.json",
            "resource-policies/aws-docs-s3-user-guide/olap-create__04.json",
            "resource-policies/aws-docs-s3-user-guide/ways-to-add-notification-config-to-bucket__00.json",
            "resource-policies/aws-docs-s3-user-guide/ways-to-add-notification-config-to-bucket__03.json",
            "resource-policies/vpc-endpoint-policies/data-perimeter/s3_endpoint_policy.json",
            "scp-rcp-examples/data-perimeter-policy-examples/service_control_policies/resource_perimeter_scp.json",
        ]
    },
    # AWS principals that are not "*", an account ID or an ARN (IAM JSON policy elements: Principal):
    # documentation placeholders ("ACCOUNT-B-ID", "account-ARN") and an ARN with a leading space.
    **{
        p: "an AWS principal is"
        for p in [
            "resource-policies/aws-docs-iam-user-guide/id_credentials_mfa_configure-api-require__05.json",
            "resource-policies/aws-docs-iam-user-guide/trust-policies/confused-deputy__00.json",
            "resource-policies/aws-docs-iam-user-guide/trust-policies/id_credentials_mfa_configure-api-require__00.json",
            "resource-policies/aws-docs-iam-user-guide/trust-policies/id_credentials_mfa_configure-api-require__01.json",
            "resource-policies/aws-docs-iam-user-guide/trust-policies/reference_policies_iam-condition-keys__10.json",
            "resource-policies/aws-docs-s3-user-guide/olap-policies__00.json",
            "resource-policies/aws-docs-s3-user-guide/replication-walkthrough-3__04.json",
        ]
    },
    # Principal given as a bare list: AWS requires "*" or an object keyed by principal type.
    **{
        f"quacky-samples/manual_s3/exp_single/{d}/policy.json": 'Principal must be "*" or an object'
        for d in ["s3_allow_notprincipal", "s3_allow_principals", "s3_allow_pstar"]
    },
}


def test_corpus_is_complete():
    assert len([f for f in FILES if "aws-managed-policies" in str(f)]) == 1594
    assert len(FILES) > 2800


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(CORPUS)) for f in FILES])
def test_corpus_policy_loads_or_is_rejected_precisely(path):
    rel = str(path.relative_to(CORPUS))
    if rel in REJECTED:
        with pytest.raises(InputError) as err:
            load_policy(path)
        line = err.value.one_line()
        assert REJECTED[rel] in line
        assert line.startswith(str(path)) and "$" in line and "\n" not in line
    else:
        policy = load_policy(path)
        assert policy.Statement
