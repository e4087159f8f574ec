"""Generate a synthetic account snapshot bundle for scale benchmarks (deterministic, seeded).

    .venv/bin/python bench/gen_account.py N OUT.json [--buckets 500] [--seed 0]

`generate(n_roles, n_buckets=500, seed=0)` returns a bundle (reasoner/account/snapshot.py):

* roles attach 1-3 AWS managed policies from tests/corpus/aws-managed-policies/ (weighted towards
  commonly attached ones, otherwise drawn from every attachable policy: paths `/`,
  `/service-role/`, `/job-function/`; not `/aws-service-role/`, `/root-task/` or deprecated
  ones), each with its real ARN (path included) and its document in Policies; a few roles carry
  AdministratorAccess, PowerUserAccess or ReadOnlyAccess; ~20% also attach a customer managed
  policy;
* 0-2 generated inline policies: S3 read/write on some buckets (some conditional on
  aws:SourceVpce, aws:PrincipalTag/team, aws:CalledVia athena, aws:SourceIp), DynamoDB and KMS
  on generated ARNs, sts:AssumeRole on other roles, and a few escalation grants
  (iam:PassRole with ec2:RunInstances / lambda:CreateFunction, iam:CreateAccessKey,
  iam:PutRolePolicy) and explicit denies;
* trust policies: most roles trust a service, ~20% the account root (some with conditions),
  ~10% one or two named roles or users, ~3% another account with sts:ExternalId;
* users (~5% of the role count) in a few groups;
* `n_buckets` buckets arn:aws:s3:::bench-bucket-NNN with bucket policies (deny outside a VPC
  endpoint, grants to named roles, grants to the account, deny insecure transport), KMS key
  policies, and two S3 and one DynamoDB VPC endpoint.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus" / "aws-managed-policies"

ACCOUNT = "123456789012"
OTHER_ACCOUNTS = ["210987654321", "444455556666"]
REGION = "us-east-1"
V = "2012-10-17"
TEAMS = ["analytics", "payments", "platform", "search", "ml", "web"]
FUNCS = ["etl", "api", "worker", "batch", "reporting", "ingest", "deploy", "scheduler"]
SERVICES = [
    "ec2",
    "lambda",
    "lambda",
    "lambda",
    "glue",
    "ecs-tasks",
    "ecs-tasks",
    "states",
    "codebuild",
    "sagemaker",
    "firehose",
    "events",
    "cloudformation",
    "athena",
]
S3_VPCES = [("vpce-0a1b2c3d4e5f60001", "vpc-0bench000000001"), ("vpce-0a1b2c3d4e5f60002", "vpc-0bench000000002")]
DDB_VPCE = ("vpce-0a1b2c3d4e5f60003", "vpc-0bench000000001")
N_TABLES = 50
N_KEYS = 30

# Policies real accounts attach most often (all in the corpus).
COMMON = [
    "AmazonS3ReadOnlyAccess",
    "AmazonS3FullAccess",
    "CloudWatchLogsFullAccess",
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonSSMManagedInstanceCore",
    "AmazonECSTaskExecutionRolePolicy",
    "AWSGlueServiceRole",
    "CloudWatchAgentServerPolicy",
    "AmazonDynamoDBReadOnlyAccess",
    "AmazonDynamoDBFullAccess",
    "AmazonAthenaFullAccess",
    "AWSXRayDaemonWriteAccess",
    "SecretsManagerReadWrite",
    "AmazonSQSFullAccess",
    "AmazonSNSFullAccess",
    "IAMReadOnlyAccess",
    "AmazonKinesisFullAccess",
    "CloudWatchReadOnlyAccess",
    "AmazonEC2ReadOnlyAccess",
    "AmazonRDSReadOnlyAccess",
    "AWSLambda_FullAccess",
]
BIG = ["AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"]


def _corpus() -> tuple[dict[str, dict], list[str]]:
    """name -> manifest entry, and the attachable names in a fixed order."""
    manifest = {}
    for line in (CORPUS / "MANIFEST.jsonl").read_text().splitlines():
        if line.strip():
            m = json.loads(line)
            manifest[m["name"]] = m
    pool = sorted(
        n
        for n, m in manifest.items()
        if m["path"] in ("/", "/service-role/", "/job-function/") and not m["deprecated"] and n not in BIG
    )
    return manifest, pool


def _doc(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.json").read_text())


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def bucket_arn(i: int) -> str:
    return f"arn:aws:s3:::bench-bucket-{i:03d}"


def table_arn(i: int) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/bench-table-{i:02d}"


def key_arn(i: int) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0000beef-{i:04d}-4000-8000-00000000{i:04d}"


def _stmt(effect, actions, resources, condition=None, sid=None) -> dict:
    st = {
        "Effect": effect,
        "Action": actions if len(actions) > 1 else actions[0],
        "Resource": resources if len(resources) > 1 else resources[0],
    }
    if sid:
        st = {"Sid": sid, **st}
    if condition:
        st["Condition"] = condition
    return st


class _Gen:
    def __init__(self, n_roles: int, n_buckets: int, seed: int):
        self.rnd = random.Random(seed)
        self.n_roles, self.n_buckets = n_roles, n_buckets
        self.manifest, self.pool = _corpus()
        self.used_managed: set[str] = set()
        self.roles = [
            f"{TEAMS[i % len(TEAMS)]}-{FUNCS[(i // len(TEAMS)) % len(FUNCS)]}-{i:05d}" for i in range(n_roles)
        ]
        self.users = [f"user-{i:04d}" for i in range(max(1, n_roles // 20))]
        self.n_groups = max(3, n_roles // 200)
        self.cmps = [f"arn:aws:iam::{ACCOUNT}:policy/bench/cmp-{i:03d}" for i in range(max(5, n_roles // 50))]

    # -- policy pieces -----------------------------------------------------------------------------
    def s3_condition(self, team: str) -> dict | None:
        r = self.rnd.random()
        if r < 0.12:
            return {"StringEquals": {"aws:SourceVpce": self.rnd.choice(S3_VPCES)[0]}}
        if r < 0.22:
            return {"StringEquals": {"aws:PrincipalTag/team": team}}
        if r < 0.30:
            return {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}}
        if r < 0.36:
            return {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}}
        return None

    def inline_statements(self, idx: int, team: str) -> list[dict]:
        rnd = self.rnd
        kind = rnd.random()
        out = []
        if kind < 0.45:  # S3 read / write
            buckets = rnd.sample(range(self.n_buckets), rnd.randint(1, 5))
            write = rnd.random() < 0.4
            acts = ["s3:GetObject", "s3:ListBucket"] + (["s3:PutObject", "s3:DeleteObject"] if write else [])
            res = []
            for b in buckets:
                res += [bucket_arn(b), bucket_arn(b) + (rnd.choice(["/*", "/data/*", f"/{team}/*"]))]
            out.append(_stmt("Allow", acts, res, self.s3_condition(team), sid="S3Access"))
            if write and rnd.random() < 0.2:
                out.append(_stmt("Deny", ["s3:DeleteObject"], [bucket_arn(b) + "/*" for b in buckets], sid="NoDelete"))
        elif kind < 0.65:  # DynamoDB
            tables = rnd.sample(range(N_TABLES), rnd.randint(1, 3))
            acts = rnd.choice(
                [
                    ["dynamodb:GetItem", "dynamodb:Query"],
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
                    ["dynamodb:*"],
                ]
            )
            res = [table_arn(t) for t in tables] + [table_arn(t) + "/index/*" for t in tables]
            cond = {"StringEquals": {"aws:SourceVpce": DDB_VPCE[0]}} if rnd.random() < 0.1 else None
            out.append(_stmt("Allow", acts, res, cond, sid="Tables"))
        elif kind < 0.82:  # KMS
            keys = rnd.sample(range(N_KEYS), rnd.randint(1, 2))
            cond = None
            if rnd.random() < 0.3:
                cond = {"StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com"]}}
            out.append(
                _stmt("Allow", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn(k) for k in keys], cond, sid="Keys")
            )
        elif kind < 0.90:  # assume other roles
            targets = rnd.sample(range(self.n_roles), min(self.n_roles, rnd.randint(1, 2)))
            out.append(_stmt("Allow", ["sts:AssumeRole"], [role_arn(self.roles[t]) for t in targets], sid="Assume"))
        elif kind < 0.95:  # misc services on generated ARNs
            out.append(
                _stmt(
                    "Allow",
                    ["sqs:SendMessage", "sqs:ReceiveMessage"],
                    [f"arn:aws:sqs:{REGION}:{ACCOUNT}:bench-queue-{rnd.randint(0, 99):02d}"],
                    sid="Queue",
                )
            )
            out.append(
                _stmt(
                    "Allow",
                    ["logs:CreateLogStream", "logs:PutLogEvents"],
                    [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/bench/{team}:*"],
                    sid="Logs",
                )
            )
        else:  # escalation edges
            esc = rnd.random()
            if esc < 0.45:
                targets = rnd.sample(range(self.n_roles), min(self.n_roles, rnd.randint(1, 3)))
                out.append(_stmt("Allow", ["iam:PassRole"], [role_arn(self.roles[t]) for t in targets], sid="Pass"))
                out.append(
                    _stmt(
                        "Allow",
                        rnd.choice([["ec2:RunInstances"], ["lambda:CreateFunction", "lambda:InvokeFunction"]]),
                        ["*"],
                        sid="Launch",
                    )
                )
            elif esc < 0.75:
                res = [user_arn(rnd.choice(self.users))] if rnd.random() < 0.6 else [f"arn:aws:iam::{ACCOUNT}:user/*"]
                out.append(_stmt("Allow", ["iam:CreateAccessKey"], res, sid="Keys"))
            else:
                targets = rnd.sample(range(self.n_roles), min(self.n_roles, rnd.randint(1, 2)))
                out.append(
                    _stmt(
                        "Allow", ["iam:PutRolePolicy"], [role_arn(self.roles[t]) for t in targets], sid="PutRolePolicy"
                    )
                )
        return out

    def trust(self, idx: int) -> dict:
        rnd = self.rnd
        r = rnd.random()
        st = {"Effect": "Allow", "Action": "sts:AssumeRole"}
        if r < 0.20:
            st["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
            c = rnd.random()
            if c < 0.25:
                st["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            elif c < 0.45:
                st["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": TEAMS[idx % len(TEAMS)]}}
        elif r < 0.30:
            names = []
            for _ in range(rnd.randint(1, 2)):
                if rnd.random() < 0.3:
                    names.append(user_arn(rnd.choice(self.users)))
                else:
                    names.append(role_arn(self.roles[rnd.randrange(self.n_roles)]))
            names = sorted(set(names) - {role_arn(self.roles[idx])}) or [user_arn(self.users[0])]
            st["Principal"] = {"AWS": names if len(names) > 1 else names[0]}
        elif r < 0.33:
            acct = rnd.choice(OTHER_ACCOUNTS)
            st["Principal"] = {"AWS": f"arn:aws:iam::{acct}:root"}
            st["Condition"] = {"StringEquals": {"sts:ExternalId": f"ext-{idx:05d}"}}
        else:
            svc = rnd.choice(SERVICES)
            st["Principal"] = {"Service": f"{svc}.amazonaws.com"}
        return {"Version": V, "Statement": [st]}

    def managed_for(self, idx: int) -> list[str]:
        rnd = self.rnd
        names: list[str] = []
        # A few roles with the big job-function policies, as real accounts have.
        if idx % 97 == 3:
            names.append("AdministratorAccess")
        elif idx % 89 == 5:
            names.append("PowerUserAccess")
        elif idx % 211 == 7:
            names.append("ReadOnlyAccess")
        want = rnd.randint(1, 3)
        while len(names) < want:
            n = rnd.choice(COMMON) if rnd.random() < 0.6 else rnd.choice(self.pool)
            if n not in names:
                names.append(n)
        return [self.managed_arn(n) for n in names]

    def managed_arn(self, name: str) -> str:
        self.used_managed.add(name)
        return self.manifest[name]["arn"]

    # -- entities ----------------------------------------------------------------------------------
    def role(self, idx: int) -> dict:
        rnd = self.rnd
        name = self.roles[idx]
        team = TEAMS[idx % len(TEAMS)]
        managed = self.managed_for(idx)
        if rnd.random() < 0.2:
            managed.append(rnd.choice(self.cmps))
        inline = []
        for j in range(rnd.choice([0, 1, 1, 2])):
            inline.append(
                {
                    "PolicyName": f"inline-{j}",
                    "PolicyDocument": {"Version": V, "Statement": self.inline_statements(idx, team)},
                }
            )
        tags = []
        if rnd.random() < 0.8:
            tags = [{"Key": "team", "Value": team}, {"Key": "env", "Value": rnd.choice(["prod", "staging", "dev"])}]
        return {
            "Path": "/",
            "RoleName": name,
            "RoleId": f"AROABENCH{idx:011d}",
            "Arn": role_arn(name),
            "CreateDate": "2024-01-01T00:00:00Z",
            "AssumeRolePolicyDocument": self.trust(idx),
            "InstanceProfileList": [],
            "RolePolicyList": inline,
            "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
            "Tags": tags,
            "RoleLastUsed": {},
        }

    def groups(self) -> list[dict]:
        out = []
        for g in range(self.n_groups):
            name = ["admins", "developers", "readonly"][g] if g < 3 else f"team-{g:03d}"
            managed, inline = [], []
            if name == "admins":
                managed = [self.managed_arn("AdministratorAccess")]
            elif name == "developers":
                managed = [self.managed_arn("PowerUserAccess")]
                inline = [
                    {
                        "PolicyName": "assume-team-roles",
                        "PolicyDocument": {
                            "Version": V,
                            "Statement": [
                                _stmt(
                                    "Allow",
                                    ["sts:AssumeRole"],
                                    [f"arn:aws:iam::{ACCOUNT}:role/*"],
                                    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                                )
                            ],
                        },
                    }
                ]
            elif name == "readonly":
                managed = [self.managed_arn("ReadOnlyAccess")]
            else:
                managed = [self.managed_arn(self.rnd.choice(COMMON))]
                inline = [
                    {
                        "PolicyName": "team-data",
                        "PolicyDocument": {"Version": V, "Statement": self.inline_statements(g, TEAMS[g % len(TEAMS)])},
                    }
                ]
            out.append(
                {
                    "Path": "/",
                    "GroupName": name,
                    "GroupId": f"AGPABENCH{g:011d}",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}",
                    "CreateDate": "2024-01-01T00:00:00Z",
                    "GroupPolicyList": inline,
                    "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
                }
            )
        return out

    def user(self, i: int, group_names: list[str]) -> dict:
        rnd = self.rnd
        name = self.users[i]
        r = rnd.random()
        groups = []
        if r < 0.05:
            groups = ["admins"]
        elif r < 0.45:
            groups = ["developers"]
        elif r < 0.6:
            groups = ["readonly"]
        if len(group_names) > 3 and rnd.random() < 0.5:
            groups.append(rnd.choice(group_names[3:]))
        inline = []
        if rnd.random() < 0.5:
            team = TEAMS[i % len(TEAMS)]
            inline.append(
                {"PolicyName": "self", "PolicyDocument": {"Version": V, "Statement": self.inline_statements(i, team)}}
            )
        managed = [self.managed_arn(rnd.choice(COMMON))] if rnd.random() < 0.3 else []
        return {
            "Path": "/",
            "UserName": name,
            "UserId": f"AIDABENCH{i:011d}",
            "Arn": user_arn(name),
            "CreateDate": "2024-01-01T00:00:00Z",
            "UserPolicyList": inline,
            "GroupList": groups,
            "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
            "Tags": [{"Key": "team", "Value": TEAMS[i % len(TEAMS)]}],
        }

    def customer_managed(self) -> list[dict]:
        out = []
        for i, arn in enumerate(self.cmps):
            doc = {"Version": V, "Statement": self.inline_statements(i, TEAMS[i % len(TEAMS)])}
            out.append(_policy_entry(arn, doc, path="/bench/"))
        return out

    def bucket_policy(self, b: int) -> dict:
        rnd = self.rnd
        arn = bucket_arn(b)
        sts = []
        r = rnd.random()
        if r < 0.25:  # only through a VPC endpoint (with an admin escape hatch on some)
            cond = {"StringNotEquals": {"aws:SourceVpce": rnd.choice(S3_VPCES)[0]}}
            if rnd.random() < 0.5:
                cond["ArnNotLike"] = {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/platform-*"}
            sts.append(
                {
                    "Sid": "DenyOutsideVpce",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, arn + "/*"],
                    "Condition": cond,
                }
            )
        if r < 0.55 or rnd.random() < 0.2:  # named roles
            names = sorted({role_arn(self.roles[rnd.randrange(self.n_roles)]) for _ in range(rnd.randint(1, 3))})
            acts = rnd.choice([["s3:GetObject"], ["s3:GetObject", "s3:PutObject"], ["s3:PutObject"]])
            sts.append(
                {
                    "Sid": "GrantRoles",
                    "Effect": "Allow",
                    "Principal": {"AWS": names if len(names) > 1 else names[0]},
                    "Action": acts if len(acts) > 1 else acts[0],
                    "Resource": arn + "/*",
                }
            )
        if 0.55 <= r < 0.75:  # the account (delegates to IAM policies)
            sts.append(
                {
                    "Sid": "GrantAccount",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [arn, arn + "/*"],
                }
            )
        if rnd.random() < 0.1:  # a partner account reads one prefix
            sts.append(
                {
                    "Sid": "Partner",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNTS[0]}:root"},
                    "Action": "s3:GetObject",
                    "Resource": arn + "/shared/*",
                }
            )
        if rnd.random() < 0.5 or not sts:
            sts.append(
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, arn + "/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            )
        return {"Version": V, "Statement": sts}

    def key_policy(self, k: int) -> dict:
        sts = [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if self.rnd.random() < 0.4:
            users = sorted({role_arn(self.roles[self.rnd.randrange(self.n_roles)]) for _ in range(2)})
            sts.append(
                {
                    "Sid": "Allow use of the key",
                    "Effect": "Allow",
                    "Principal": {"AWS": users},
                    "Action": [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                    ],
                    "Resource": "*",
                }
            )
        return {"Version": V, "Id": "key-default-1", "Statement": sts}

    def bundle(self) -> dict:
        roles = [self.role(i) for i in range(self.n_roles)]
        groups = self.groups()
        group_names = [g["GroupName"] for g in groups]
        users = [self.user(i, group_names) for i in range(len(self.users))]
        cmps = self.customer_managed()
        aws_managed = [
            _policy_entry(
                self.manifest[n]["arn"], _doc(n), path=self.manifest[n]["path"], version=self.manifest[n]["versionId"]
            )
            for n in sorted(self.used_managed)
        ]
        rps = [
            {"Resource": bucket_arn(b), "Policy": self.bucket_policy(b), "Account": ACCOUNT}
            for b in range(self.n_buckets)
        ]
        rps += [{"Resource": key_arn(k), "Policy": self.key_policy(k), "Account": ACCOUNT} for k in range(N_KEYS)]
        full = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
        only_ours = json.dumps(
            {
                "Version": V,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::bench-bucket-*", "arn:aws:s3:::bench-bucket-*/*"],
                    }
                ],
            }
        )
        eps = [
            {
                "VpcEndpointId": S3_VPCES[0][0],
                "VpcId": S3_VPCES[0][1],
                "VpcEndpointType": "Gateway",
                "ServiceName": f"com.amazonaws.{REGION}.s3",
                "State": "available",
                "PolicyDocument": full,
            },
            {
                "VpcEndpointId": S3_VPCES[1][0],
                "VpcId": S3_VPCES[1][1],
                "VpcEndpointType": "Gateway",
                "ServiceName": f"com.amazonaws.{REGION}.s3",
                "State": "available",
                "PolicyDocument": only_ours,
            },
            {
                "VpcEndpointId": DDB_VPCE[0],
                "VpcId": DDB_VPCE[1],
                "VpcEndpointType": "Gateway",
                "ServiceName": f"com.amazonaws.{REGION}.dynamodb",
                "State": "available",
                "PolicyDocument": full,
            },
        ]
        return {
            "description": f"bench/gen_account.py: {self.n_roles} roles, {len(users)} users, "
            f"{len(groups)} groups, {self.n_buckets} buckets",
            "authorization_details": {
                "UserDetailList": users,
                "GroupDetailList": groups,
                "RoleDetailList": roles,
                "Policies": cmps + aws_managed,
                "IsTruncated": False,
            },
            "resource_policies": rps,
            "vpc_endpoints": {"VpcEndpoints": eps},
        }


def _policy_entry(arn: str, doc: dict, path: str = "/", version: str = "v1") -> dict:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "PolicyId": "ANPA" + f"{zlib.crc32(arn.encode()):012d}",
        "Arn": arn,
        "Path": path,
        "DefaultVersionId": version,
        "AttachmentCount": 1,
        "IsAttachable": True,
        "PolicyVersionList": [{"Document": doc, "VersionId": version, "IsDefaultVersion": True}],
    }


def generate(n_roles: int, n_buckets: int = 500, seed: int = 0) -> dict:
    """A bundle of an account with `n_roles` roles (same arguments, same bundle)."""
    if n_roles < 1:
        raise ValueError("n_roles must be at least 1")
    return _Gen(n_roles, n_buckets, seed).bundle()


# Queryable resources the generator creates (for benchmarks).
def object_arn(bucket: int, key: str = "data/part-0001.parquet") -> str:
    return f"{bucket_arn(bucket)}/{key}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n_roles", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--buckets", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    bundle = generate(a.n_roles, a.buckets, a.seed)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(bundle))
    gaad = bundle["authorization_details"]
    print(
        f"{a.out}: {len(gaad['RoleDetailList'])} roles, {len(gaad['UserDetailList'])} users, "
        f"{len(gaad['GroupDetailList'])} groups, {len(gaad['Policies'])} managed policies, "
        f"{len(bundle['resource_policies'])} resource policies, {a.out.stat().st_size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
