"""Generate a synthetic organization snapshot bundle for scale benchmarks (deterministic, seeded).

    .venv/bin/python bench/gen_org.py OUT.json [--accounts 20] [--roles 250] [--buckets 40] [--keys 10] [--seed 0]

`generate(n_accounts, n_roles, n_buckets=40, seed=0, n_keys=10)` returns one bundle (reasoner/account/snapshot.py)
holding every account's authorization details, resource policies and VPC endpoints, and the
organization tree:

* each account is bench/gen_account.py's account (`n_roles` roles, users, groups, managed and
  inline policies, trust policies, buckets with policies, KMS keys) with its own seed, its own
  12-digit id and its own bucket names (S3 names are global), keeping the first `n_keys` of its 30
  KMS key policies;
* cross-account trust: the "other account" gen_account's trust and bucket policies name
  (210987654321) is the next account of the organization, so ~3% of the roles trust a role of a
  sibling account (with sts:ExternalId) and some buckets grant to it; 444455556666 stays an
  outside partner;
* the tree: root r-bench with a FullAWSAccess SCP and a deny of leaving the organization; OUs
  Prod, Dev and Shared (the accounts dealt round-robin, the first account the management
  account, directly under the root); Prod denies iam:CreateUser and s3:PutBucketPolicy outside
  its admins, Dev denies every region but us-east-1 (aws:RequestedRegion), Shared has an RCP
  requiring secure transport.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_account  # noqa: E402 - the account generator next to this file

V = "2012-10-17"
FULL_ACCESS = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
NO_LEAVING = {
    "Version": V,
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}
PROD_GUARD = {
    "Version": V,
    "Statement": [
        {
            "Sid": "OnlyAdminsChangeIdentities",
            "Effect": "Deny",
            "Action": ["iam:CreateUser", "s3:PutBucketPolicy"],
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/platform-*"}},
        }
    ],
}
DEV_REGIONS = {
    "Version": V,
    "Statement": [
        {
            "Sid": "OneRegion",
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*", "organizations:*"],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}},
        }
    ],
}
SECURE_TRANSPORT_RCP = {
    "Version": V,
    "Statement": [
        {
            "Sid": "SecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
        }
    ],
}


def account_id(i: int) -> str:
    return f"{100000000000 + i * 1111:012d}"


def _account(i: int, n_accounts: int, n_roles: int, n_buckets: int, n_keys: int, seed: int) -> dict:
    """gen_account's account i, renamed: its id, its buckets, its sibling for cross-account trust;
    only its first `n_keys` KMS key policies."""
    bundle = gen_account.generate(n_roles, n_buckets, seed=seed * 1000 + i)
    keys = [rp for rp in bundle["resource_policies"] if ":kms:" in rp["Resource"]]
    drop = {rp["Resource"] for rp in keys[n_keys:]}
    bundle["resource_policies"] = [rp for rp in bundle["resource_policies"] if rp["Resource"] not in drop]
    text = json.dumps(bundle)
    text = text.replace(gen_account.ACCOUNT, account_id(i))
    text = text.replace(gen_account.OTHER_ACCOUNTS[0], account_id((i + 1) % n_accounts))
    text = text.replace("bench-bucket-", f"bench-{i:03d}-bucket-")
    out = json.loads(text)
    for rp in out["resource_policies"]:
        rp.setdefault("Account", account_id(i))
    return out


def _scp(name: str, doc: dict, kind: str = "SERVICE_CONTROL_POLICY") -> dict:
    return {"Name": name, "Type": kind, "Content": json.dumps(doc)}


def organization(n_accounts: int) -> dict:
    ous: dict[str, list[dict]] = {"Prod": [], "Dev": [], "Shared": []}
    names = list(ous)
    for i in range(1, n_accounts):
        ous[names[(i - 1) % 3]].append({"Id": account_id(i), "Policies": [_scp("FullAWSAccess", FULL_ACCESS)]})
    guards = {
        "Prod": [_scp("ProdGuard", PROD_GUARD)],
        "Dev": [_scp("DevRegions", DEV_REGIONS)],
        "Shared": [_scp("SecureTransport", SECURE_TRANSPORT_RCP, "RESOURCE_CONTROL_POLICY")],
    }
    children: list[dict] = [{"Id": account_id(0), "Policies": [_scp("FullAWSAccess", FULL_ACCESS)]}]
    for k, name in enumerate(names):
        children.append(
            {
                "Id": f"ou-bench-{k:08d}",
                "Name": name,
                "Policies": [_scp("FullAWSAccess", FULL_ACCESS), *guards[name]],
                "Children": ous[name],
            }
        )
    return {
        "Id": "r-bench",
        "Arn": f"arn:aws:organizations::{account_id(0)}:root/o-bench/r-bench",
        "Policies": [_scp("FullAWSAccess", FULL_ACCESS), _scp("NoLeaving", NO_LEAVING)],
        "Children": children,
    }


def generate(n_accounts: int, n_roles: int, n_buckets: int = 40, seed: int = 0, n_keys: int = 10) -> dict:
    """The organization bundle (same arguments, same bundle)."""
    if n_accounts < 1:
        raise ValueError("n_accounts must be at least 1")
    accounts = [_account(i, n_accounts, n_roles, n_buckets, n_keys, seed) for i in range(n_accounts)]
    return {
        "description": f"bench/gen_org.py: {n_accounts} accounts x {n_roles} roles, {n_buckets} buckets and "
        f"{n_keys} KMS keys each",
        "authorization_details": [a["authorization_details"] for a in accounts],
        "resource_policies": [rp for a in accounts for rp in a["resource_policies"]],
        "vpc_endpoints": [e for a in accounts for e in a["vpc_endpoints"]["VpcEndpoints"]],
        "organization": organization(n_accounts),
        "management_account": account_id(0),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--accounts", type=int, default=20)
    ap.add_argument("--roles", type=int, default=250)
    ap.add_argument("--buckets", type=int, default=40)
    ap.add_argument("--keys", type=int, default=10, help="KMS key policies per account (at most 30)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    bundle = generate(a.accounts, a.roles, a.buckets, a.seed, a.keys)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(bundle))
    roles = sum(len(g["RoleDetailList"]) for g in bundle["authorization_details"])
    print(
        f"{a.out}: {a.accounts} accounts, {roles} roles, {len(bundle['resource_policies'])} resource policies, "
        f"{a.out.stat().st_size / 1e6:.1f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
