"""Resource policies as a list of {"Resource": ARN, "Policy": document or JSON string, "Account"}
(the IAMSpy shape)."""

from __future__ import annotations

from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from reasoner.account.model import ResourcePolicy, Snapshot
from reasoner.account.sources.embedded import arn_account, embedded_policy
from reasoner.errors import json_path


class ResourcePolicyEntry(BaseModel):
    """One resource policy (the IAMSpy shape): the resource, its policy, the owning account."""

    model_config = ConfigDict(extra="forbid")

    Resource: str = Field(description="the resource ARN (an S3 bucket's policy also covers its objects)")
    Policy: dict | str = Field(description="the policy document, or its JSON text")
    Account: str | None = Field(default=None, pattern=r"^\d{12}$", description="owner (S3 ARNs carry none)")


def is_resource_list(doc: Any) -> TypeGuard[list]:
    return isinstance(doc, list) and all(isinstance(x, dict) and "Resource" in x and "Policy" in x for x in doc)


def load_resource_list(snap: Snapshot, src: str, items: list, prefix: tuple) -> None:
    for i, it in enumerate(items):
        path = prefix + (i,)
        arn = it.get("Resource")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            snap.problems.append(f"{src}: {json_path(path + ('Resource',))}: not an ARN; skipped")
            continue
        named = embedded_policy(snap, src, it.get("Policy"), path + ("Policy",), f"{arn}#policy")
        if named is None:
            snap.broken_resources[arn] = snap.problems[-1]
            continue
        acct = it.get("Account") or arn_account(arn) or None
        snap.resource_policies[arn] = ResourcePolicy(arn=arn, account=str(acct) if acct else None, policy=named)
