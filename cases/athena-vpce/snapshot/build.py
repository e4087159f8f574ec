"""Build snapshot.json from the case's verbatim policies (run: python cases/athena-vpce/snapshot/build.py).

The account: the post's BizMetricsQuery role, a ReportPublisher role that trusts it, an unrelated
admin role (AdministratorAccess) that only the SSO admin user may assume, the CloudFormation
deployer role of the post's second example, the examplecorp-business-data bucket policy, the KMS
key with AWS's default key policy, and the Athena VPC endpoint with the default (full access)
endpoint policy. Shapes are AWS's own: get-account-authorization-details, describe-vpc-endpoints.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent
POL = HERE.parent / "policies"
ACCT = "111122223333"


def doc(name):
    return json.loads((POL / name).read_text())


def trust(principal):
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
    }


def role(name, trust_doc, managed=(), inline=None, tags=None):
    out = {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROA" + name.upper()[:12],
        "Arn": f"arn:aws:iam::{ACCT}:role/{name}",
        "AssumeRolePolicyDocument": trust_doc,
        "InstanceProfileList": [],
        "RolePolicyList": inline or [],
        "AttachedManagedPolicies": [{"PolicyName": m.rsplit("/", 1)[-1], "PolicyArn": m} for m in managed],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    return out


def managed(arn, document):
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "PolicyVersionList": [{"Document": document, "VersionId": "v1", "IsDefaultVersion": True}],
    }


ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
BIZ = f"arn:aws:iam::{ACCT}:policy/BizMetricsQueryPolicy"
CFN = f"arn:aws:iam::{ACCT}:policy/CfnDdbKmsCalledVia"
PUBLISH_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PublishReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:GetObject"],
            "Resource": "arn:aws:s3:::examplecorp-reports/*",
        }
    ],
}

gaad = {
    "UserDetailList": [
        {
            "Path": "/",
            "UserName": "sso-admin",
            "UserId": "AIDASSOADMIN",
            "Arn": f"arn:aws:iam::{ACCT}:user/sso-admin",
            "UserPolicyList": [
                {
                    "PolicyName": "assume-admin",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Resource": f"arn:aws:iam::{ACCT}:role/Admin",
                            }
                        ],
                    },
                }
            ],
            "GroupList": [],
            "AttachedManagedPolicies": [],
            "Tags": [],
        }
    ],
    "GroupDetailList": [],
    "RoleDetailList": [
        role("BizMetricsQuery", trust({"AWS": f"arn:aws:iam::{ACCT}:root"}), managed=[BIZ], tags={"team": "analytics"}),
        role(
            "ReportPublisher",
            trust({"AWS": f"arn:aws:iam::{ACCT}:role/BizMetricsQuery"}),
            inline=[{"PolicyName": "publish", "PolicyDocument": PUBLISH_DOC}],
        ),
        role("Admin", trust({"AWS": f"arn:aws:iam::{ACCT}:user/sso-admin"}), managed=[ADMIN]),
        role("CfnDeployer", trust({"Service": "cloudformation.amazonaws.com"}), managed=[CFN]),
    ],
    "Policies": [
        managed(BIZ, doc("bizmetrics-query-role.json")),
        managed(CFN, doc("cfn-ddb-kms-calledvia.json")),
        managed(ADMIN, ADMIN_DOC),
    ],
}
bundle = {
    "description": "athena-vpce seed account (see build.py)",
    "authorization_details": gaad,
    "resource_policies": [
        {
            "Resource": "arn:aws:s3:::examplecorp-business-data",
            "Account": ACCT,
            "Policy": doc("examplecorp-business-data-bucket.json"),
        },
        {
            "Resource": "arn:aws:kms:region:111122223333:key/example",
            "Account": ACCT,
            "Policy": doc("kms-default-key-policy.json"),
        },
    ],
    "vpc_endpoints": {
        "VpcEndpoints": [
            {
                "VpcEndpointId": "vpce-0e880cb0a9EXAMPLE",
                "VpcId": "vpc-0a1b2c3dEXAMPLE",
                "VpcEndpointType": "Interface",
                "ServiceName": "com.amazonaws.us-east-1.athena",
                "State": "available",
                "PolicyDocument": json.dumps(
                    {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
                ),
            }
        ]
    },
}
(HERE / "snapshot.json").write_text(json.dumps(bundle, indent=2) + "\n")
