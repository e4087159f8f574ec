"""`aws iam get-account-authorization-details` (GAAD) output, one or several pages/accounts: users,
roles, groups and managed policies. Group memberships, managed policies and boundaries are linked
once every page and file is read (`resolve_links`)."""

from __future__ import annotations

from typing import Any, NamedTuple, TypeGuard

from reasoner.account.model import Entity, Group, Snapshot
from reasoner.account.sources.embedded import arn_account, embedded_policy, first_definition, policy_text
from reasoner.errors import InputError, json_path
from reasoner.policy.document import parse_policy
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
        why = (
            f"{src}: {json_path(prefix + ('IsTruncated',))}: IsTruncated is true: later pages (Marker) are "
            "not in the file; principals, groups or policies on them are missing"
        )
        snap.problems.append(why)
        snap.incomplete.append(why)
    _load_managed_policies(snap, src, doc, prefix)
    _load_groups(snap, src, doc, prefix)
    for kind, key, list_key in (
        ("user", "UserDetailList", "UserPolicyList"),
        ("role", "RoleDetailList", "RolePolicyList"),
    ):
        for i, u in enumerate(entries(snap, src, doc, key, prefix)):
            _load_principal(snap, src, u, kind, list_key, prefix + (key, i), pending)


def entries(snap: Snapshot, src: str, doc: dict, key: str, prefix: tuple) -> list:
    """One of GAAD's lists; any other shape loses what it held: the snapshot is incomplete."""
    raw = doc.get(key)
    if raw is None or isinstance(raw, list):
        return raw or []
    why = f"{src}: {json_path(prefix + (key,))}: not a list; what it holds is missing"
    snap.problems.append(why)
    snap.incomplete.append(why)
    return []


def _tags(raw: Any, incomplete: list[str]) -> dict[str, str]:
    """AWS's [{Key, Value}] list; any other shape makes the tags (aws:PrincipalTag/*) unknown."""
    if raw is None:
        return {}
    ok = isinstance(raw, list) and all(
        isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value", ""), str) for t in raw
    )
    if not ok:
        incomplete.append("Tags is not a list of {Key, Value} strings: its tags are unknown")
        return {}
    return {t["Key"]: t.get("Value", "") for t in raw}


def _managed_list(raw: Any) -> list[Any]:
    # The AWS CLI's own example gives a group's AttachedManagedPolicies as one object.
    if isinstance(raw, dict):
        return [raw]
    return list(raw) if isinstance(raw, list) else [] if raw is None else [raw]


def _managed_arns(raw: Any, incomplete: list[str]) -> list[str]:
    """The attached policies' ARNs; an entry without a PolicyArn string is an unknown policy."""
    arns = []
    for j, m in enumerate(_managed_list(raw)):
        arn = m.get("PolicyArn") if isinstance(m, dict) else None
        if isinstance(arn, str) and arn:
            arns.append(arn)
        else:
            incomplete.append(f"AttachedManagedPolicies[{j}] has no PolicyArn: an attached policy is unknown")
    return arns


def _boundary_arn(raw: Any, incomplete: list[str]) -> str | None:
    if raw is None:
        return None
    arn = raw.get("PermissionsBoundaryArn") if isinstance(raw, dict) else None
    if not isinstance(arn, str) or not arn:
        incomplete.append("PermissionsBoundary has no PermissionsBoundaryArn: its boundary is unknown")
        return None
    return arn


def _load_managed_policies(snap: Snapshot, src: str, doc: dict, prefix: tuple) -> None:
    for i, pol in enumerate(entries(snap, src, doc, "Policies", prefix)):
        path = prefix + ("Policies", i)
        arn = pol.get("Arn") if isinstance(pol, dict) else None
        if not isinstance(arn, str) or not arn:
            snap.problems.append(f"{src}: {json_path(path)}: managed policy without Arn; skipped")
            continue
        if arn in snap.broken_managed or not first_definition(snap, arn, pol, f"{src}: {json_path(path)}"):
            snap.broken_managed[arn] = f"defined twice differently ({src}: {json_path(path)})"
            snap.managed_policies.pop(arn, None)
            continue
        versions = pol.get("PolicyVersionList")
        versions = [v for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []
        defaults = [j for j, v in enumerate(versions) if v.get("IsDefaultVersion") is True]
        if len(defaults) != 1:
            why = f"{len(defaults)} default versions (AWS has exactly one)"
            snap.problems.append(f"{src}: {json_path(path + ('PolicyVersionList',))}: {why}; the policy is unknown")
            snap.broken_managed[arn] = f"{src}: {json_path(path)}: {why}"
            continue
        j = defaults[0]
        named = embedded_policy(
            snap, src, versions[j].get("Document"), path + ("PolicyVersionList", j, "Document"), arn
        )
        if named is None:
            snap.broken_managed[arn] = snap.problems[-1]
        else:
            snap.managed_policies[arn] = named
            snap.policy_versions[arn] = _other_versions(versions, j, arn)


def _other_versions(versions: list[dict], default: int, arn: str) -> dict[str, NamedPolicy | None]:
    """The non-default versions (SetDefaultPolicyVersion can make any of them the default). One
    that does not parse is kept as None, not dropped: what it grants is unknown, not nothing."""
    out: dict[str, NamedPolicy | None] = {}
    for k, v in enumerate(versions):
        if k == default:
            continue
        raw_id = v.get("VersionId")
        vid = raw_id if isinstance(raw_id, str) else f"#{k}"
        try:
            pol = parse_policy(policy_text(v.get("Document")), source=arn, prefix=("PolicyVersionList", k))
        except InputError:
            out[vid] = None
            continue
        out[vid] = NamedPolicy(name=f"{arn} (version {vid})", policy=pol)
    return out


def _inline_policies(snap: Snapshot, src: str, raw: Any, path: tuple, arn: str) -> tuple[list[NamedPolicy], list[str]]:
    """A principal's or group's inline policies, and a problem per policy that is not valid."""
    policies: list[NamedPolicy] = []
    incomplete: list[str] = []
    if raw is not None and not isinstance(raw, list):
        return policies, [f"{json_path(path)} is not a list: its inline policies are unknown"]
    for j, ip in enumerate(raw or []):
        if not isinstance(ip, dict):
            incomplete.append(f"inline policy {j} is not an object")
            continue
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
    for i, g in enumerate(entries(snap, src, doc, "GroupDetailList", prefix)):
        path = prefix + ("GroupDetailList", i)
        arn = g.get("Arn") if isinstance(g, dict) else None
        if not isinstance(arn, str) or not arn:
            why = f"{src}: {json_path(path)}: group without Arn; its members' permissions are unknown"
            snap.problems.append(why)
            snap.incomplete.append(why)
            continue
        grp = Group(arn=arn, name=g.get("GroupName", arn), account=arn_account(arn))
        grp.policies, grp.incomplete = _inline_policies(
            snap, src, g.get("GroupPolicyList"), path + ("GroupPolicyList",), arn
        )
        grp.managed_policy_arns = _managed_arns(g.get("AttachedManagedPolicies"), grp.incomplete)
        if not first_definition(snap, arn, g, f"{src}: {json_path(path)}"):
            grp.incomplete.append("the group is defined twice, differently")
            grp.incomplete += snap.groups[arn].incomplete if arn in snap.groups else []
        snap.groups[arn] = grp


def _load_principal(
    snap: Snapshot, src: str, u: dict, kind: str, list_key: str, path: tuple, pending: list[PendingLinks]
) -> None:
    arn = u.get("Arn") if isinstance(u, dict) else None
    if not arn or not isinstance(arn, str):
        why = f"{src}: {json_path(path)}: entry without Arn; skipped"
        snap.problems.append(why)
        snap.incomplete.append(why)
        return
    e = Entity(
        arn=arn,
        kind=kind,
        name=u.get("UserName") or u.get("RoleName") or arn.rsplit("/", 1)[-1],
        account=arn_account(arn),
    )
    e.identity_policies, e.incomplete = _inline_policies(snap, src, u.get(list_key), path + (list_key,), arn)
    # AWS writes these as lists (or omits them): an explicit null is a damaged entry, not "none".
    e.incomplete += [
        f"{key} is null: what it lists is unknown"
        for key in (list_key, "AttachedManagedPolicies", "GroupList", "Tags", "PermissionsBoundary")
        if key in u and u[key] is None
    ]
    e.tags = _tags(u.get("Tags"), e.incomplete)
    e.managed_policy_arns = _managed_arns(u.get("AttachedManagedPolicies"), e.incomplete)
    boundary_arn = _boundary_arn(u.get("PermissionsBoundary"), e.incomplete)
    if kind == "role":
        trust = embedded_policy(
            snap, src, u.get("AssumeRolePolicyDocument"), path + ("AssumeRolePolicyDocument",), f"{arn}#trust"
        )
        if trust is None:
            # Its own permissions are still known; who may assume it is not.
            e.trust_unknown = snap.problems[-1]
        e.trust_policy = trust
        profiles = u.get("InstanceProfileList")
        if isinstance(profiles, list):
            e.instance_profiles = [p["Arn"] for p in profiles if isinstance(p, dict) and isinstance(p.get("Arn"), str)]
    raw_groups = u.get("GroupList")
    if raw_groups is not None and not (isinstance(raw_groups, list) and all(isinstance(n, str) for n in raw_groups)):
        e.incomplete.append("GroupList is not a list of group names: its groups are unknown")
    groups = [n for n in raw_groups if isinstance(n, str)] if isinstance(raw_groups, list) else []
    if not first_definition(snap, arn, u, f"{src}: {json_path(path)}"):
        e.incomplete.append("the principal is defined twice, differently")
        if kind == "role" and e.trust_unknown is None:
            e.trust_unknown = "the role is defined twice, differently"
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
            if m in snap.broken_managed:
                e.incomplete.append(f"attached policy {m} could not be read: {snap.broken_managed[m]}")
            elif pol is None:
                e.incomplete.append(f"attached policy {m} is not in the snapshot's Policies")
            else:
                e.identity_policies.append(pol)
        if boundary_arn:
            e.boundary = snap.managed_policies.get(boundary_arn)
            if boundary_arn in snap.broken_managed:
                e.incomplete.append(f"permissions boundary {boundary_arn}: {snap.broken_managed[boundary_arn]}")
            elif e.boundary is None:
                e.incomplete.append(f"permissions boundary {boundary_arn} is not in the snapshot's Policies")
    for e in snap.principals.values():
        for why in e.incomplete:
            snap.problems.append(f"{e.arn}: {why}; answers about it are unknown")
        if e.trust_unknown is not None:
            snap.problems.append(f"{e.arn}: its trust policy is unknown; answers that assume it are unknown")
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
