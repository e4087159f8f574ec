"""Account snapshots: what `who-can`, `reach` and `privesc` reason over.

A snapshot is built from AWS's own output shapes, so users feed what they already collect:

* `aws iam get-account-authorization-details` (GAAD), verbatim, one or several pages/accounts;
* resource policies as a list of {"Resource": ARN, "Policy": document or JSON string, "Account"}
  (the IAMSpy shape) or an object {ARN: document};
* the organization tree: a root node {"Id": "r-...", "Policies": [{"Name", "Type", "Content"}],
  "Children": [OU or account nodes]} with SCPs (SERVICE_CONTROL_POLICY) and RCPs
  (RESOURCE_CONTROL_POLICY) per node;
* VPC endpoints as in `aws ec2 describe-vpc-endpoints` (VpcEndpointId, VpcId, ServiceName,
  PolicyDocument as a JSON string).

A bundle file holds them together: {"authorization_details": GAAD | [GAAD],
"resource_policies": ..., "organization": tree, "management_account": "...",
"vpc_endpoints": [...] | {"VpcEndpoints": [...]}}. A bare GAAD file, a resource-policy list, an
organization tree, or a directory of such files (a CloudMapper `collect` dump included) also load.
The README ("Account snapshots") documents the format.

Parts that are not valid (a policy AWS would reject, an attached policy missing from the dump)
are skipped and reported as problems with their file and JSON path; a principal whose
permissions could not be read completely is marked `incomplete`, and every answer about it is
"unknown" rather than a guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasoner.account.model import Endpoint, Entity, Group, OrgNode, ResourcePolicy, Snapshot, SnapshotUnknown
from reasoner.account.sources.bundle import SnapshotBundle, is_bundle, load_bundle, snapshot_schema
from reasoner.account.sources.cloudmapper import is_cloudmapper_dump, load_cloudmapper
from reasoner.account.sources.collection_report import (
    is_collected_extras,
    is_collection_report,
    load_collection_report,
)
from reasoner.account.sources.endpoints import load_endpoints
from reasoner.account.sources.gaad import PendingLinks, is_gaad, load_gaad, resolve_links
from reasoner.account.sources.organization import is_org_tree, load_org
from reasoner.account.sources.resource_policies import is_resource_list, load_resource_list
from reasoner.errors import InputError
from reasoner.policy.document import load_document

# The model and the bundle schema are imported from here by callers that load snapshots.
__all__ = [
    "MAX_SNAPSHOT_FILES",
    "Endpoint",
    "Entity",
    "Group",
    "OrgNode",
    "ResourcePolicy",
    "Snapshot",
    "SnapshotBundle",
    "SnapshotUnknown",
    "load_snapshot",
    "snapshot_schema",
]

MAX_SNAPSHOT_FILES = 20_000


def load_snapshot(paths: str | Path | list) -> Snapshot:
    """Load one or several snapshot files or directories into one Snapshot."""
    snap = Snapshot()
    items = paths if isinstance(paths, list) else [paths]
    snap.origin = [str(x) for x in items]
    pending: list[PendingLinks] = []
    for item in items:
        p = Path(item)
        if not p.exists():
            raise InputError("no such file or directory", source=str(p))
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        if len(files) > MAX_SNAPSHOT_FILES:
            raise InputError(f"{len(files)} files, over the {MAX_SNAPSHOT_FILES}-file limit", source=str(p))
        if p.is_dir() and is_cloudmapper_dump(files):
            load_cloudmapper(snap, p, files, pending)
            continue
        for f in files:
            if f.suffix.lower() not in (".json", ".yaml", ".yml"):
                continue
            _load_file(snap, f, load_document(f), pending, strict=not p.is_dir())
    resolve_links(snap, pending)
    _apply_org_unknowns(snap)
    if not snap.sources:
        raise InputError("no snapshot files found (JSON or YAML)", source=str(items[0]))
    return snap


def _load_file(snap: Snapshot, f: Path, doc: Any, pending: list[PendingLinks], *, strict: bool) -> None:
    src = str(f)
    snap.sources.append(src)
    if is_bundle(doc):
        load_bundle(snap, src, doc, pending)
    elif is_gaad(doc):
        load_gaad(snap, src, doc, (), pending)
    elif is_resource_list(doc):
        load_resource_list(snap, src, doc, ())
    elif is_org_tree(doc):
        load_org(snap, src, doc, ())
    elif isinstance(doc, dict) and "VpcEndpoints" in doc:
        load_endpoints(snap, src, doc["VpcEndpoints"], ("VpcEndpoints",))
    elif is_collection_report(doc):
        load_collection_report(snap, src, doc)
    elif is_collected_extras(doc):
        pass  # side data of `reasoner collect` (public access blocks, grants, keys): no answer reads it
    elif strict:
        raise InputError(
            "not a snapshot: expected a bundle with authorization_details, a "
            "get-account-authorization-details output, a resource-policy list, an "
            "organization tree or describe-vpc-endpoints output",
            source=src,
        )
    else:
        # A file of a directory that is no snapshot part (notes, other collectors' output).
        snap.sources.pop()
        snap.problems.append(
            f"{src}: $: not a snapshot part (GAAD, resource-policy list, organization "
            "tree, describe-vpc-endpoints); skipped"
        )


def _apply_org_unknowns(snap: Snapshot) -> None:
    """A principal whose SCPs could not all be read: every request it makes is unknown (a missing
    SCP could deny it). Its account's other levels and other accounts are still answered."""
    for e in snap.principals.values():
        if e.kind != "federated" and (why := snap.org_unknown(e.account, "scp")) is not None:
            e.incomplete.append(f"its SCPs are unknown: {why}")
            snap.problems.append(f"{e.arn}: its SCPs are unknown; answers about it are unknown")
