"""The snapshot bundle file: {"authorization_details": GAAD | [GAAD], "resource_policies": ...,
"organization": tree, "management_account": "...", "vpc_endpoints": [...] | {"VpcEndpoints": [...]}}.
Its pydantic model is the published schema (docs/snapshot.schema.json)."""

from __future__ import annotations

from typing import TypeGuard

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reasoner.account.model import Snapshot
from reasoner.account.sources.collection_report import apply_unknowns
from reasoner.account.sources.endpoints import load_endpoints
from reasoner.account.sources.gaad import PendingLinks, is_gaad, load_gaad
from reasoner.account.sources.organization import load_org
from reasoner.account.sources.resource_policies import ResourcePolicyEntry, is_resource_list, load_resource_list
from reasoner.errors import InputError
from reasoner.policy.document import validation_to_input_error


class UnknownResource(BaseModel):
    """Resources a failed listing could not name (e.g. ListQueues denied in a region)."""

    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(
        pattern=r"^arn:", description="an ARN pattern (`*`, `?`), e.g. arn:aws:sqs:us-east-1:111122223333:*"
    )
    reason: str = Field(description="the call that failed and its error")


class SnapshotBundle(BaseModel):
    """The snapshot bundle file (README, "Account snapshots"); every part is optional but the
    authorization details. Parts keep AWS's own output shapes and are read leniently; see
    reasoner/snapshot.py for what is reported when a part is not valid."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    description: str = ""
    authorization_details: dict | list[dict] = Field(
        description="`aws iam get-account-authorization-details` output, verbatim (one or several pages/accounts)"
    )
    resource_policies: list[ResourcePolicyEntry] | dict[str, dict | str] | None = None
    organization: dict | None = Field(
        default=None,
        description="the organization root node: Id, Arn, Policies "
        "[{Name, Type, Content}], Children [OU / account nodes]",
    )
    management_account: str | None = Field(default=None, pattern=r"^\d{12}$")
    vpc_endpoints: list[dict] | dict | None = Field(
        default=None, description="`aws ec2 describe-vpc-endpoints` output or its VpcEndpoints list"
    )
    unknown_accounts: dict[str, str] | None = Field(
        default=None,
        description="accounts that could not be read (not entered, or their authorization details "
        "unreadable) -> why: every answer involving one of them is unknown",
    )
    unknown_resources: list[UnknownResource] | None = Field(
        default=None,
        description="resources a failed listing could not name: answers about a resource matching "
        "the pattern (or a queried pattern matching it) are unknown",
    )
    incomplete: list[str] | None = Field(
        default=None, description="other reasons the snapshot is incomplete as a whole (every answer says so)"
    )


def snapshot_schema() -> dict:
    return SnapshotBundle.model_json_schema()


def is_bundle(doc: object) -> TypeGuard[dict]:
    return isinstance(doc, dict) and "authorization_details" in doc


def load_bundle(snap: Snapshot, src: str, doc: dict, pending: list[PendingLinks]) -> None:
    try:
        SnapshotBundle.model_validate(doc)
    except ValidationError as exc:
        raise validation_to_input_error(exc, src) from None
    if isinstance(doc.get("resource_policies"), list):
        doc = {**doc, "resource_policies": [{k: v for k, v in x.items()} for x in doc["resource_policies"]]}
    _load_authorization_details(snap, src, doc.get("authorization_details"), pending)
    _load_resource_policies(snap, src, doc.get("resource_policies"))
    if doc.get("organization") is not None:
        load_org(snap, src, doc["organization"], ("organization",))
    if doc.get("management_account") is not None:
        snap.management_account = str(doc["management_account"])
    apply_unknowns(snap, src, doc.get("unknown_accounts"), doc.get("unknown_resources"), doc.get("incomplete"))
    eps = doc.get("vpc_endpoints")
    if isinstance(eps, dict):
        eps = eps.get("VpcEndpoints")
        load_endpoints(snap, src, eps or [], ("vpc_endpoints", "VpcEndpoints"))
    elif eps is not None:
        load_endpoints(snap, src, eps, ("vpc_endpoints",))


def _load_authorization_details(snap: Snapshot, src: str, gaads: object, pending: list[PendingLinks]) -> None:
    for i, g in enumerate(gaads if isinstance(gaads, list) else [gaads]):
        path: tuple = ("authorization_details", i) if isinstance(gaads, list) else ("authorization_details",)
        if not is_gaad(g):
            raise InputError(
                "expected get-account-authorization-details output (UserDetailList, RoleDetailList, ...)",
                source=src,
                path=path,
            )
        load_gaad(snap, src, g, path, pending)


def _load_resource_policies(snap: Snapshot, src: str, rps: object) -> None:
    if isinstance(rps, dict):
        rps = [{"Resource": k, "Policy": v} for k, v in rps.items()]
    if rps is None:
        return
    if not is_resource_list(rps):
        raise InputError(
            "expected a list of {Resource, Policy, Account} or an object {ARN: policy}",
            source=src,
            path=("resource_policies",),
        )
    load_resource_list(snap, src, rps, ("resource_policies",))
