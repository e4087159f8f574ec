"""The organization tree: a root node {"Id": "r-...", "Policies": [{"Name", "Type", "Content"}],
"Children": [OU or account nodes]} with SCPs (SERVICE_CONTROL_POLICY) and RCPs
(RESOURCE_CONTROL_POLICY) per node."""

from __future__ import annotations

from typing import TypeGuard

from reasoner.account.model import OrgNode, Snapshot
from reasoner.account.sources.embedded import embedded_policy
from reasoner.errors import InputError


def is_org_tree(doc: object) -> TypeGuard[dict]:
    return isinstance(doc, dict) and str(doc.get("Id", "")).startswith("r-")


def load_org(snap: Snapshot, src: str, node: dict, path: tuple) -> None:
    snap.org_root = _org_node(snap, src, node, path)
    arn = str(node.get("Arn", ""))
    if arn.startswith("arn:aws:organizations::"):
        bits = arn.split(":")
        snap.management_account = snap.management_account or bits[4] or None
        if "/o-" in arn:
            snap.org_id = "o-" + arn.split("/o-", 1)[1].split("/", 1)[0]


def _org_node(snap: Snapshot, src: str, n: dict, p: tuple) -> OrgNode:
    if not isinstance(n, dict) or "Id" not in n:
        raise InputError("organization node without Id", source=src, path=p)
    nid = str(n["Id"])
    kind = "root" if nid.startswith("r-") else "ou" if nid.startswith("ou-") else "account"
    if kind == "account" and not (nid.isdigit() and len(nid) == 12):
        raise InputError(
            f"organization node Id {nid!r} is not r-..., ou-... or a 12-digit account", source=src, path=p + ("Id",)
        )
    out = OrgNode(id=nid, kind=kind)
    for j, pol in enumerate(n.get("Policies") or []):
        ptype = pol.get("Type", "SERVICE_CONTROL_POLICY")
        named = embedded_policy(
            snap,
            src,
            pol.get("Content"),
            p + ("Policies", j, "Content"),
            f"{nid}:{pol.get('Name', pol.get('Id', j))}",
        )
        if named is None:
            # A missing SCP could deny anything: the whole tree would be guessed. Refuse it.
            raise InputError(
                f"{ptype} {pol.get('Name', j)} is not a valid policy",
                source=src,
                path=p + ("Policies", j, "Content"),
            )
        if ptype == "SERVICE_CONTROL_POLICY":
            out.scps.append(named)
        elif ptype == "RESOURCE_CONTROL_POLICY":
            out.rcps.append(named)
    for j, c in enumerate(n.get("Children") or []):
        out.children.append(_org_node(snap, src, c, p + ("Children", j)))
    return out
