"""`aws iam get-account-authorization-details` (GAAD) output, one or several pages/accounts: users,
roles, groups and managed policies. Group memberships, managed policies and boundaries are linked
once every page and file is read (`resolve_links`)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypeGuard

from reasoner.account.model import Entity, Group, Snapshot
from reasoner.account.sources.embedded import arn_account, embedded_policy
from reasoner.errors import json_path
from reasoner.policy.request import NamedPolicy


class PendingLinks(NamedTuple):
    """A principal's groups and boundary, named in one page but possibly defined in another."""

    entity: Entity
    group_names: list[str]
    boundary_arn: str | None
    src: str
    path: tuple


def is_gaad(doc: Any) -> TypeGuard[dict]:
    return isinstance(doc, dict) and any(k in doc for k in ("UserDetailList", "RoleDetailList", "GroupDetailList"))


def load_gaad(snap: Snapshot, src: str, doc: dict, prefix: tuple, pending: list[PendingLinks]) -> None:
    if doc.get("IsTruncated"):
        snap.problems.append(
            f"{src}: $: IsTruncated is true: later pages (Marker) are not in the file; "
            "principals, groups or policies on them are missing"
        )
    _load_managed_policies(snap, src, doc, prefix)
    _load_groups(snap, src, doc, prefix)
    for kind, key, list_key in (
        ("user", "UserDetailList", "UserPolicyList"),
        ("role", "RoleDetailList", "RolePolicyList"),
    ):
        for i, u in enumerate(doc.get(key) or []):
            _load_principal(snap, src, u, kind, list_key, prefix + (key, i), pending)


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, list):
        return {str(t.get("Key")): str(t.get("Value", "")) for t in raw if isinstance(t, dict) and "Key" in t}
    return {}


def _managed_list(raw: Any) -> list[dict]:
    # The AWS CLI's own example gives a group's AttachedManagedPolicies as one object.
    if isinstance(raw, dict):
        return [raw]
    return [x for x in raw or [] if isinstance(x, dict)]


def _managed_arns(raw: Any) -> list[str]:
    return [m["PolicyArn"] for m in _managed_list(raw) if m.get("PolicyArn")]


def _load_managed_policies(snap: Snapshot, src: str, doc: dict, prefix: tuple) -> None:
    for i, pol in enumerate(doc.get("Policies") or []):
        path = prefix + ("Policies", i)
        arn = pol.get("Arn")
        versions = pol.get("PolicyVersionList") or []
        default = next((v for v in versions if v.get("IsDefaultVersion")), None)
        if not arn or default is None:
            snap.problems.append(f"{src}: {json_path(path)}: managed policy without Arn or default version; skipped")
            continue
        j = versions.index(default)
        named = embedded_policy(snap, src, default.get("Document"), path + ("PolicyVersionList", j, "Document"), arn)
        if named is not None:
            snap.managed_policies[arn] = named


def _inline_policies(snap: Snapshot, src: str, raw: Any, path: tuple, arn: str) -> tuple[list[NamedPolicy], list[str]]:
    """A principal's or group's inline policies, and a problem per policy that is not valid."""
    policies, incomplete = [], []
    for j, ip in enumerate(raw or []):
        named = embedded_policy(
            snap,
            src,
            ip.get("PolicyDocument"),
            path + (j, "PolicyDocument"),
            f"{arn}#inline/{ip.get('PolicyName', j)}",
        )
        if named is None:
            incomplete.append(f"inline policy {ip.get('PolicyName', j)} is not valid")
        else:
            policies.append(named)
    return policies, incomplete


def _load_groups(snap: Snapshot, src: str, doc: dict, prefix: tuple) -> None:
    for i, g in enumerate(doc.get("GroupDetailList") or []):
        path = prefix + ("GroupDetailList", i)
        arn = g.get("Arn") or ""
        grp = Group(arn=arn, name=g.get("GroupName", arn), account=arn_account(arn))
        grp.policies, grp.incomplete = _inline_policies(
            snap, src, g.get("GroupPolicyList"), path + ("GroupPolicyList",), arn
        )
        grp.managed_policy_arns = _managed_arns(g.get("AttachedManagedPolicies"))
        snap.groups[arn] = grp


def _load_principal(
    snap: Snapshot, src: str, u: dict, kind: str, list_key: str, path: tuple, pending: list[PendingLinks]
) -> None:
    arn = u.get("Arn")
    if not arn or not isinstance(arn, str):
        snap.problems.append(f"{src}: {json_path(path)}: entry without Arn; skipped")
        return
    e = Entity(
        arn=arn,
        kind=kind,
        name=u.get("UserName") or u.get("RoleName") or arn.rsplit("/", 1)[-1],
        account=arn_account(arn),
        tags=_tags(u.get("Tags")),
    )
    e.identity_policies, e.incomplete = _inline_policies(snap, src, u.get(list_key), path + (list_key,), arn)
    e.managed_policy_arns = _managed_arns(u.get("AttachedManagedPolicies"))
    pb = u.get("PermissionsBoundary")
    boundary_arn = pb.get("PermissionsBoundaryArn") if isinstance(pb, dict) else None
    if kind == "role":
        trust = embedded_policy(
            snap, src, u.get("AssumeRolePolicyDocument"), path + ("AssumeRolePolicyDocument",), f"{arn}#trust"
        )
        if trust is None:
            e.incomplete.append("trust policy is not valid")
        e.trust_policy = trust
    groups = [str(n) for n in u.get("GroupList") or []]
    pending.append(PendingLinks(e, groups, boundary_arn, src, path))
    snap.principals[arn] = e


def resolve_links(snap: Snapshot, pending: list[PendingLinks]) -> None:
    """Attach managed policies, groups and boundaries once every page and file is read."""
    by_name = {(g.account, g.name): g for g in snap.groups.values()}
    for e, group_names, boundary_arn, _src, _path in pending:
        managed = list(e.managed_policy_arns)
        for n in group_names:
            g = by_name.get((e.account, n))
            if g is None:
                e.incomplete.append(f"group {n} is not in the snapshot")
                continue
            e.groups.append(g.arn)
            e.identity_policies.extend(g.policies)
            e.incomplete.extend(f"group {n}: {p}" for p in g.incomplete)
            managed += [m for m in g.managed_policy_arns if m not in managed]
        e.managed_policy_arns = managed
        for m in managed:
            pol = snap.managed_policies.get(m)
            if pol is None:
                e.incomplete.append(f"attached policy {m} is not in the snapshot's Policies")
            else:
                e.identity_policies.append(pol)
        if boundary_arn:
            e.boundary = snap.managed_policies.get(boundary_arn)
            if e.boundary is None:
                e.incomplete.append(f"permissions boundary {boundary_arn} is not in the snapshot's Policies")
    for e in snap.principals.values():
        for why in e.incomplete:
            snap.problems.append(f"{e.arn}: {why}; answers about it are unknown")
    _add_identity_providers(snap)


def _add_identity_providers(snap: Snapshot) -> None:
    """Identity providers that trust policies name ("Federated"): their users can assume roles
    with AssumeRoleWithSAML / AssumeRoleWithWebIdentity, so they are path origins too. A
    provider ARN keeps its name; a public provider (accounts.google.com) is `federated:NAME`."""
    for e in list(snap.principals.values()):
        if e.kind != "role" or e.trust_policy is None:
            continue
        for st in e.trust_policy.policy.Statement:
            if st.Effect != "Allow" or st.Principal is None:
                continue
            for kind, value in st.Principal.entries():
                if kind != "Federated":
                    continue
                arn = value if value.startswith("arn:") else f"federated:{value}"
                if arn not in snap.principals:
                    snap.principals[arn] = Entity(
                        arn=arn,
                        kind="federated",
                        name=value.rsplit("/", 1)[-1],
                        account=arn_account(value) if value.startswith("arn:") else "",
                    )
