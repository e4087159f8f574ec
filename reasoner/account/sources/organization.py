"""The organization tree: a root node {"Id": "r-...", "Policies": [{"Name", "Type", "Content"}],
"Children": [OU or account nodes]} with SCPs (SERVICE_CONTROL_POLICY) and RCPs
(RESOURCE_CONTROL_POLICY) per node. A policy that could not be read (`Unreadable`, or Content
"UNREADABLE: ...") or a failed listing of a node's children is an unknown marker on that level."""

from __future__ import annotations

from typing import TypeGuard

from reasoner.account.model import OrgNode, Snapshot
from reasoner.account.sources.embedded import embedded_policy, unreadable_reason
from reasoner.errors import InputError, json_path


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


_KINDS = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}
# The collector's marker for an OU or account listing that failed (reasoner/collect/organization.py).
_CHILDREN_MARK = "unreadable-children-of-"


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
    _policies(snap, src, n.get("Policies"), p + ("Policies",), out)
    children = n.get("Children")
    if children is not None and not isinstance(children, list):
        _unknown(snap, out, "children", f"{src}: {json_path(p + ('Children',))}: not a list")
        children = []
    for j, c in enumerate(children or []):
        out.children.append(_org_node(snap, src, c, p + ("Children", j)))  # a malformed node is bad input
    return out


def _policies(snap: Snapshot, src: str, raw: object, p: tuple, out: OrgNode) -> None:
    """A node's SCPs and RCPs. One that cannot be read makes its level unknown for its type (a
    missing SCP could deny anything): answers that depend on the level are unknown, others not."""
    if raw is not None and not isinstance(raw, list):
        for kind in ("scp", "rcp"):
            _unknown(snap, out, kind, f"{src}: {json_path(p)}: not a list")
        return
    for j, pol in enumerate(raw or []):
        ptype = pol.get("Type", "SERVICE_CONTROL_POLICY") if isinstance(pol, dict) else None
        kinds = [_KINDS[ptype]] if ptype in _KINDS else ["scp", "rcp"] if not isinstance(ptype, str) else []
        name = str(pol.get("Name", pol.get("Id", j))) if isinstance(pol, dict) else str(j)
        why = unreadable_reason(pol, "Content")
        named = None
        if why is None and kinds:
            named = embedded_policy(
                snap, src, pol.get("Content") if isinstance(pol, dict) else None, p + (j, "Content"), f"{out.id}:{name}"
            )
            why = None if named is not None else snap.problems.pop()
        if why is not None:
            # The collector's markers: a failed OU/account listing, or roots that could not be listed.
            level = ["children"] if name.startswith(_CHILDREN_MARK) else kinds
            level += ["children"] if name == "unreadable-root" else []
            for kind in level:
                _unknown(snap, out, kind, f"{src}: {json_path(p + (j,))}: {ptype} {name} could not be read: {why}")
        elif named is not None:
            (out.scps if kinds == ["scp"] else out.rcps).append(named)


def _unknown(snap: Snapshot, node: OrgNode, kind: str, why: str) -> None:
    what = {"scp": "SCPs", "rcp": "RCPs", "children": "OUs and accounts"}[kind]
    snap.problems.append(f"{why}; the {what} at {node.id} are unknown, and so are answers that depend on them")
    node.unknown.setdefault(kind, why)
