"""Resource policies as a list of {"Resource": ARN, "Policy": document or JSON string, "Account"}
(the IAMSpy shape)."""

from __future__ import annotations

from typing import Any, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reasoner.account.model import ResourcePolicy, Snapshot
from reasoner.account.sources.embedded import arn_account, embedded_policy, first_definition, unreadable_reason
from reasoner.errors import json_path


class ResourcePolicyEntry(BaseModel):
    """One resource policy (the IAMSpy shape): the resource, its policy, the owning account."""

    model_config = ConfigDict(extra="forbid")

    Resource: str = Field(description="the resource ARN (an S3 bucket's policy also covers its objects)")
    Policy: dict | str | None = Field(
        default=None, description="the policy document, or its JSON text (absent when Unreadable is given)"
    )
    Account: str | None = Field(default=None, pattern=r"^\d{12}$", description="owner (S3 ARNs carry none)")
    Unreadable: str | None = Field(
        default=None,
        description="why the policy could not be read (e.g. 's3.GetBucketPolicy failed: AccessDenied: ...'): "
        "every answer about the resource is unknown. The older form, a Policy string "
        "'UNREADABLE: <reason>', is read the same way",
    )

    @model_validator(mode="after")
    def _policy_or_unreadable(self) -> ResourcePolicyEntry:
        if (self.Policy is None) == (self.Unreadable is None):
            raise ValueError("give either Policy or Unreadable")
        return self


def is_resource_list(doc: Any) -> TypeGuard[list]:
    return isinstance(doc, list) and all(
        isinstance(x, dict) and "Resource" in x and ("Policy" in x or "Unreadable" in x) for x in doc
    )


def load_resource_list(snap: Snapshot, src: str, items: list, prefix: tuple) -> None:
    for i, it in enumerate(items):
        path = prefix + (i,)
        arn = it.get("Resource")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            snap.problems.append(f"{src}: {json_path(path + ('Resource',))}: not an ARN; skipped")
            continue
        if (why := unreadable_reason(it, "Policy")) is not None:
            snap.problems.append(f"{src}: {json_path(path)}: the policy of {arn} could not be read: {why}")
            snap.broken_resources[arn] = snap.problems[-1]
            continue
        if not first_definition(snap, f"resource-policy {arn}", it.get("Policy"), f"{src}: {json_path(path)}"):
            snap.broken_resources[arn] = snap.problems[-1]
            snap.resource_policies.pop(arn, None)
            continue
        if arn in snap.broken_resources:
            continue
        named = embedded_policy(snap, src, it.get("Policy"), path + ("Policy",), f"{arn}#policy")
        if named is None:
            snap.broken_resources[arn] = snap.problems[-1]
            continue
        acct = it.get("Account") or arn_account(arn) or None
        snap.resource_policies[arn] = ResourcePolicy(arn=arn, account=str(acct) if acct else None, policy=named)
