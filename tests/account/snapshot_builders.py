"""Small account snapshots written inline, so that every test states its account."""

from __future__ import annotations

import json
from pathlib import Path

A, B = "111111111111", "222222222222"


def role(name, trust, policies=(), account=A, tags=None, boundary=None):
    out = {
        "RoleName": name,
        "Arn": f"arn:aws:iam::{account}:role/{name}",
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": p} for i, p in enumerate(policies)],
        "AttachedManagedPolicies": [],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryArn": boundary}
    return out


def user(name, policies=(), account=A, groups=()):
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "GroupList": list(groups),
        "UserPolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": p} for i, p in enumerate(policies)],
        "AttachedManagedPolicies": [],
    }


def allow(action, resource="*", condition=None):
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


def trust(principal, condition=None):
    st = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [st]}


def snapshot(tmp_path, users=(), roles=(), **extra) -> Path:
    bundle = {
        "authorization_details": {
            "UserDetailList": list(users),
            "RoleDetailList": list(roles),
            "GroupDetailList": extra.pop("groups", []),
            "Policies": extra.pop("policies", []),
        },
        **extra,
    }
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(bundle))
    return f
