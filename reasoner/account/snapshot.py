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

import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reasoner.errors import InputError
from reasoner.policy.document import load_document, parse_policy, validation_to_input_error
from reasoner.policy.patterns import arn_match, plain
from reasoner.policy.request import NamedPolicy

MAX_SNAPSHOT_FILES = 20_000


@dataclass
class Entity:
    """An IAM user or role with everything that decides its requests."""

    arn: str
    kind: str  # user | role | federated (an identity provider a trust policy names)
    name: str
    account: str
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    managed_policy_arns: list[str] = field(default_factory=list)  # attached directly or via groups
    boundary: NamedPolicy | None = None
    tags: dict[str, str] = field(default_factory=dict)
    trust_policy: NamedPolicy | None = None  # roles
    groups: list[str] = field(default_factory=list)  # group ARNs (users)
    incomplete: list[str] = field(default_factory=list)  # problems that make its permissions unknown


@dataclass
class Group:
    arn: str
    name: str
    account: str
    policies: list[NamedPolicy] = field(default_factory=list)
    managed_policy_arns: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)


@dataclass
class ResourcePolicy:
    arn: str
    account: str | None
    policy: NamedPolicy


@dataclass
class Endpoint:
    """A VPC endpoint: requests through it carry aws:SourceVpce = id and meet its policy."""

    id: str
    vpc: str | None
    service: str  # e.g. s3, athena (from com.amazonaws.REGION.SERVICE)
    policy: NamedPolicy | None


@dataclass
class OrgNode:
    id: str
    kind: str  # root | ou | account
    scps: list[NamedPolicy] = field(default_factory=list)
    rcps: list[NamedPolicy] = field(default_factory=list)
    children: list[OrgNode] = field(default_factory=list)


@dataclass
class Snapshot:
    origin: list[str] = field(default_factory=list)  # the paths it was loaded from
    sources: list[str] = field(default_factory=list)
    principals: dict[str, Entity] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    managed_policies: dict[str, NamedPolicy] = field(default_factory=dict)  # ARN -> default version
    resource_policies: dict[str, ResourcePolicy] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    org_root: OrgNode | None = None
    org_id: str | None = None
    management_account: str | None = None
    problems: list[str] = field(default_factory=list)
    # Resources whose policy could not be read: any answer about them would be a guess.
    broken_resources: dict[str, str] = field(default_factory=dict)

    # -- views ------------------------------------------------------------------------------------
    @property
    def accounts(self) -> set[str]:
        return {e.account for e in self.principals.values()}

    def entity(self, ref: str) -> Entity:
        """A principal by ARN, or by user/role name when that is unambiguous."""
        if ref in self.principals:
            return self.principals[ref]
        hits = [e for e in self.principals.values() if e.name == ref or e.arn.lower() == ref.lower()]
        if len(hits) == 1:
            return hits[0]
        known = ", ".join(sorted(e.name for e in self.principals.values())[:12])
        raise InputError(
            f"no single principal {ref!r} in the snapshot"
            + (" (ambiguous name)" if hits else "")
            + f"; it has: {known}{' ...' if len(self.principals) > 12 else ''}",
            path=("from",),
        )

    def resource_policy_for(self, resource: str) -> ResourcePolicy | None:
        """The policy attached to the resource: its own, or its container's (an S3 object's bucket)."""
        if resource in self.resource_policies:
            return self.resource_policies[resource]
        if resource.startswith("arn:aws:s3:::") and "/" in resource:
            return self.resource_policies.get(resource.split("/", 1)[0])
        return None

    def broken_policy_for(self, resource: str) -> str | None:
        """Why the resource's policy is unknown, if it could not be read."""
        for arn, why in self.broken_resources.items():
            if (
                resource == arn
                or (arn.startswith("arn:aws:s3:::") and resource.startswith(arn + "/"))
                or arn_match(plain(resource), arn)
            ):
                return why
        return None

    def resource_policies_covered(self, pattern: str, service: str | None = None) -> list[ResourcePolicy]:
        """Resource policies of resources a pattern can name (their own ARN or objects below it),
        only those of `service` when given (cached: the same patterns come back per principal)."""
        key = (pattern, service)
        cache = self.__dict__.setdefault("_covered_cache", {})
        if key not in cache:
            cache[key] = self._covered(pattern, service)
        return cache[key]

    def _covered(self, pattern: str, service: str | None) -> list[ResourcePolicy]:
        p = plain(pattern)
        out = []
        for rp in self.resource_policies.values():
            if service is not None and rp.arn.split(":")[2].lower() != service:
                continue
            if (
                arn_match(p, rp.arn)
                or (rp.arn.startswith("arn:aws:s3:::") and arn_match(p, rp.arn + "/x"))
                or (not any(c in pattern for c in "*?") and self.resource_policy_for(pattern) is rp)
            ):
                out.append(rp)
        return out

    def levels_for(self, account: str | None, kind: str) -> list[list[NamedPolicy]] | None:
        """SCPs or RCPs per level from the root down to the account (None without an org tree, or
        when the account is not in it)."""
        if self.org_root is None or account is None:
            return None
        path = _org_path(self.org_root, account)
        if path is None:
            return None
        # A policy type no node uses is not enabled in the organization (when it is, AWS keeps
        # FullAWSAccess / RCPFullAWSAccess attached at every level, so a level is never empty).
        if not _uses(self.org_root, kind):
            return None
        return [list(n.scps if kind == "scp" else n.rcps) for n in path]

    def endpoints_for(self, service: str) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.service == service]


def _uses(node: OrgNode, kind: str) -> bool:
    return bool(node.scps if kind == "scp" else node.rcps) or any(_uses(c, kind) for c in node.children)


def _org_path(node: OrgNode, account: str) -> list[OrgNode] | None:
    if node.kind == "account" and node.id == account:
        return [node]
    for c in node.children:
        sub = _org_path(c, account)
        if sub is not None:
            return [node] + sub
    return None


# -- loading ---------------------------------------------------------------------------------------


def load_snapshot(paths: str | Path | list) -> Snapshot:
    """Load one or several snapshot files or directories into one Snapshot."""
    snap = Snapshot()
    items = paths if isinstance(paths, list) else [paths]
    snap.origin = [str(x) for x in items]
    pending_groups: list[tuple] = []  # (entity, group names, boundary ARN, file, path)
    for item in items:
        p = Path(item)
        if not p.exists():
            raise InputError("no such file or directory", source=str(p))
        files = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
        if len(files) > MAX_SNAPSHOT_FILES:
            raise InputError(f"{len(files)} files, over the {MAX_SNAPSHOT_FILES}-file limit", source=str(p))
        if p.is_dir() and any(f.name == "iam-get-account-authorization-details.json" for f in files):
            _load_cloudmapper(snap, p, files, pending_groups)
            continue
        for f in files:
            if f.suffix.lower() not in (".json", ".yaml", ".yml"):
                continue
            _load_file(snap, f, load_document(f), pending_groups, strict=not p.is_dir())
    _resolve_groups(snap, pending_groups)
    if not snap.sources:
        raise InputError("no snapshot files found (JSON or YAML)", source=str(items[0]))
    return snap


def _load_file(snap: Snapshot, f: Path, doc: Any, pending, *, strict: bool) -> None:
    src = str(f)
    snap.sources.append(src)
    if isinstance(doc, dict) and "authorization_details" in doc:
        _load_bundle(snap, src, doc, pending)
    elif _is_gaad(doc):
        _load_gaad(snap, src, doc, (), pending)
    elif _is_resource_list(doc):
        _load_resource_list(snap, src, doc, ())
    elif isinstance(doc, dict) and str(doc.get("Id", "")).startswith("r-"):
        _load_org(snap, src, doc, ())
    elif isinstance(doc, dict) and "VpcEndpoints" in doc:
        _load_endpoints(snap, src, doc["VpcEndpoints"], ("VpcEndpoints",))
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


class ResourcePolicyEntry(BaseModel):
    """One resource policy (the IAMSpy shape): the resource, its policy, the owning account."""

    model_config = ConfigDict(extra="forbid")

    Resource: str = Field(description="the resource ARN (an S3 bucket's policy also covers its objects)")
    Policy: dict | str = Field(description="the policy document, or its JSON text")
    Account: str | None = Field(default=None, pattern=r"^\d{12}$", description="owner (S3 ARNs carry none)")


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


def snapshot_schema() -> dict:
    return SnapshotBundle.model_json_schema()


def _load_bundle(snap: Snapshot, src: str, doc: dict, pending) -> None:
    try:
        SnapshotBundle.model_validate(doc)
    except ValidationError as exc:
        raise validation_to_input_error(exc, src) from None
    if isinstance(doc.get("resource_policies"), list):
        doc = {**doc, "resource_policies": [{k: v for k, v in x.items()} for x in doc["resource_policies"]]}
    gaads = doc.get("authorization_details")
    for i, g in enumerate(gaads if isinstance(gaads, list) else [gaads]):
        path = ("authorization_details", i) if isinstance(gaads, list) else ("authorization_details",)
        if not _is_gaad(g):
            raise InputError(
                "expected get-account-authorization-details output (UserDetailList, RoleDetailList, ...)",
                source=src,
                path=path,
            )
        _load_gaad(snap, src, g, path, pending)
    rps = doc.get("resource_policies")
    if isinstance(rps, dict):
        rps = [{"Resource": k, "Policy": v} for k, v in rps.items()]
    if rps is not None:
        if not _is_resource_list(rps):
            raise InputError(
                "expected a list of {Resource, Policy, Account} or an object {ARN: policy}",
                source=src,
                path=("resource_policies",),
            )
        _load_resource_list(snap, src, rps, ("resource_policies",))
    if doc.get("organization") is not None:
        _load_org(snap, src, doc["organization"], ("organization",))
    if doc.get("management_account") is not None:
        snap.management_account = str(doc["management_account"])
    eps = doc.get("vpc_endpoints")
    if isinstance(eps, dict):
        eps = eps.get("VpcEndpoints")
        _load_endpoints(snap, src, eps or [], ("vpc_endpoints", "VpcEndpoints"))
    elif eps is not None:
        _load_endpoints(snap, src, eps, ("vpc_endpoints",))


def _is_gaad(doc: Any) -> bool:
    return isinstance(doc, dict) and any(k in doc for k in ("UserDetailList", "RoleDetailList", "GroupDetailList"))


def _is_resource_list(doc: Any) -> bool:
    return isinstance(doc, list) and all(isinstance(x, dict) and "Resource" in x and "Policy" in x for x in doc)


def _document(obj: Any) -> Any:
    """Policy documents in GAAD are objects (CLI) or URL-encoded JSON strings (raw API)."""
    if isinstance(obj, str):
        text = obj.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        return text
    return obj


def _policy(snap: Snapshot, src: str, obj: Any, path: tuple, name: str) -> NamedPolicy | None:
    try:
        pol = parse_policy(_document(obj), source=src, prefix=path)
    except InputError as exc:
        snap.problems.append(exc.one_line())
        return None
    return NamedPolicy(name=name, policy=pol)


def _tags(raw: Any) -> dict[str, str]:
    if isinstance(raw, list):
        return {str(t.get("Key")): str(t.get("Value", "")) for t in raw if isinstance(t, dict) and "Key" in t}
    return {}


def _managed_list(raw: Any) -> list[dict]:
    # The AWS CLI's own example gives a group's AttachedManagedPolicies as one object.
    if isinstance(raw, dict):
        return [raw]
    return [x for x in raw or [] if isinstance(x, dict)]


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _load_gaad(snap: Snapshot, src: str, doc: dict, prefix: tuple, pending) -> None:
    if doc.get("IsTruncated"):
        snap.problems.append(
            f"{src}: $: IsTruncated is true: later pages (Marker) are not in the file; "
            "principals, groups or policies on them are missing"
        )
    for i, pol in enumerate(doc.get("Policies") or []):
        path = prefix + ("Policies", i)
        arn = pol.get("Arn")
        versions = pol.get("PolicyVersionList") or []
        default = next((v for v in versions if v.get("IsDefaultVersion")), None)
        if not arn or default is None:
            snap.problems.append(f"{src}: {_jp(path)}: managed policy without Arn or default version; skipped")
            continue
        j = versions.index(default)
        named = _policy(snap, src, default.get("Document"), path + ("PolicyVersionList", j, "Document"), arn)
        if named is not None:
            snap.managed_policies[arn] = named
    for i, g in enumerate(doc.get("GroupDetailList") or []):
        path = prefix + ("GroupDetailList", i)
        arn = g.get("Arn") or ""
        grp = Group(arn=arn, name=g.get("GroupName", arn), account=_account(arn))
        for j, ip in enumerate(g.get("GroupPolicyList") or []):
            named = _policy(
                snap,
                src,
                ip.get("PolicyDocument"),
                path + ("GroupPolicyList", j, "PolicyDocument"),
                f"{arn}#inline/{ip.get('PolicyName', j)}",
            )
            if named is None:
                grp.incomplete.append(f"inline policy {ip.get('PolicyName', j)} is not valid")
            else:
                grp.policies.append(named)
        grp.managed_policy_arns = [
            m.get("PolicyArn") for m in _managed_list(g.get("AttachedManagedPolicies")) if m.get("PolicyArn")
        ]
        snap.groups[arn] = grp
    for kind, key, list_key in (
        ("user", "UserDetailList", "UserPolicyList"),
        ("role", "RoleDetailList", "RolePolicyList"),
    ):
        for i, u in enumerate(doc.get(key) or []):
            path = prefix + (key, i)
            arn = u.get("Arn")
            if not arn or not isinstance(arn, str):
                snap.problems.append(f"{src}: {_jp(path)}: entry without Arn; skipped")
                continue
            e = Entity(
                arn=arn,
                kind=kind,
                name=u.get("UserName") or u.get("RoleName") or arn.rsplit("/", 1)[-1],
                account=_account(arn),
                tags=_tags(u.get("Tags")),
            )
            for j, ip in enumerate(u.get(list_key) or []):
                named = _policy(
                    snap,
                    src,
                    ip.get("PolicyDocument"),
                    path + (list_key, j, "PolicyDocument"),
                    f"{arn}#inline/{ip.get('PolicyName', j)}",
                )
                if named is None:
                    e.incomplete.append(f"inline policy {ip.get('PolicyName', j)} is not valid")
                else:
                    e.identity_policies.append(named)
            e.managed_policy_arns = [
                m.get("PolicyArn") for m in _managed_list(u.get("AttachedManagedPolicies")) if m.get("PolicyArn")
            ]
            pb = u.get("PermissionsBoundary")
            boundary_arn = pb.get("PermissionsBoundaryArn") if isinstance(pb, dict) else None
            if kind == "role":
                trust = _policy(
                    snap, src, u.get("AssumeRolePolicyDocument"), path + ("AssumeRolePolicyDocument",), f"{arn}#trust"
                )
                if trust is None:
                    e.incomplete.append("trust policy is not valid")
                e.trust_policy = trust
            groups = [str(n) for n in u.get("GroupList") or []]
            pending.append((e, groups, boundary_arn, src, path))
            snap.principals[arn] = e


def _resolve_groups(snap: Snapshot, pending) -> None:
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
                        account=_account(value) if value.startswith("arn:") else "",
                    )


def _load_resource_list(snap: Snapshot, src: str, items: list, prefix: tuple) -> None:
    for i, it in enumerate(items):
        path = prefix + (i,)
        arn = it.get("Resource")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            snap.problems.append(f"{src}: {_jp(path + ('Resource',))}: not an ARN; skipped")
            continue
        named = _policy(snap, src, it.get("Policy"), path + ("Policy",), f"{arn}#policy")
        if named is None:
            snap.broken_resources[arn] = snap.problems[-1]
            continue
        acct = it.get("Account") or _account(arn) or None
        snap.resource_policies[arn] = ResourcePolicy(arn=arn, account=str(acct) if acct else None, policy=named)


def _load_org(snap: Snapshot, src: str, node: dict, path: tuple) -> None:
    def walk(n: dict, p: tuple, depth: int) -> OrgNode:
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
            named = _policy(
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
            out.children.append(walk(c, p + ("Children", j), depth + 1))
        return out

    snap.org_root = walk(node, path, 0)
    arn = str(node.get("Arn", ""))
    if arn.startswith("arn:aws:organizations::"):
        bits = arn.split(":")
        snap.management_account = snap.management_account or bits[4] or None
        if "/o-" in arn:
            snap.org_id = "o-" + arn.split("/o-", 1)[1].split("/", 1)[0]


def _load_endpoints(snap: Snapshot, src: str, items: Any, prefix: tuple) -> None:
    if not isinstance(items, list):
        raise InputError("expected a list of VPC endpoints", source=src, path=prefix)
    for i, ep in enumerate(items):
        path = prefix + (i,)
        eid = ep.get("VpcEndpointId") if isinstance(ep, dict) else None
        if not eid:
            raise InputError("VPC endpoint without VpcEndpointId", source=src, path=path)
        svc = str(ep.get("ServiceName", "")).rsplit(".", 1)[-1]
        pol = None
        if ep.get("PolicyDocument") is not None:
            pol = _policy(snap, src, ep["PolicyDocument"], path + ("PolicyDocument",), f"{eid}#policy")
            if pol is None:
                raise InputError(f"the policy of {eid} is not valid", source=src, path=path + ("PolicyDocument",))
        snap.endpoints[eid] = Endpoint(id=eid, vpc=ep.get("VpcId"), service=svc, policy=pol)


_CLOUDMAPPER_POLICY_DIRS = {
    "s3-get-bucket-policy",
    "sqs-get-queue-attributes",
    "sns-get-topic-attributes",
    "lambda-get-policy",
    "secretsmanager-get-resource-policy",
    "ecr-get-repository-policy",
}


def _load_cloudmapper(snap: Snapshot, root: Path, files: list[Path], pending) -> None:
    """A CloudMapper `collect` dump: REGION/iam-get-account-authorization-details.json plus
    per-resource policy files named by URL-encoded ARN or name."""
    gaads = [f for f in files if f.name == "iam-get-account-authorization-details.json"]
    account = None
    for f in gaads:
        doc = load_document(f)
        snap.sources.append(str(f))
        _load_gaad(snap, str(f), doc, (), pending)
        account = account or next((e.account for e in snap.principals.values()), None)
    for f in files:
        parent = f.parent.name
        region = f.parent.parent.name
        name = urllib.parse.unquote(f.name)
        try:
            doc = json.loads(f.read_text())
        except (OSError, ValueError) as exc:
            if parent in _CLOUDMAPPER_POLICY_DIRS:
                # A policy file we cannot read: the resource's policy is unknown, not absent.
                snap.problems.append(f"{f}: $: cannot read ({exc}); the resource's policy is unknown")
                if parent == "s3-get-bucket-policy":
                    snap.broken_resources[f"arn:aws:s3:::{name}"] = snap.problems[-1]
            continue
        if parent == "s3-get-bucket-policy" and isinstance(doc, dict) and "Policy" in doc:
            _load_resource_list(
                snap, str(f), [{"Resource": f"arn:aws:s3:::{name}", "Policy": doc["Policy"], "Account": account}], ()
            )
        elif parent == "sqs-get-queue-attributes" and isinstance(doc, dict):
            pol = (doc.get("Attributes") or {}).get("Policy")
            arn = (doc.get("Attributes") or {}).get("QueueArn")
            if pol and arn:
                _load_resource_list(snap, str(f), [{"Resource": arn, "Policy": pol}], ("Attributes",))
        elif parent == "sns-get-topic-attributes" and isinstance(doc, dict):
            attrs = doc.get("Attributes") or {}
            if attrs.get("Policy") and attrs.get("TopicArn"):
                _load_resource_list(
                    snap, str(f), [{"Resource": attrs["TopicArn"], "Policy": attrs["Policy"]}], ("Attributes",)
                )
        elif parent == "lambda-get-policy" and isinstance(doc, dict) and doc.get("Policy"):
            arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
            _load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["Policy"]}], ())
        elif parent == "secretsmanager-get-resource-policy" and isinstance(doc, dict) and doc.get("ResourcePolicy"):
            arn = doc.get("ARN") or name
            _load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["ResourcePolicy"]}], ())
        elif parent == "ecr-get-repository-policy" and isinstance(doc, dict) and doc.get("policyText"):
            arn = f"arn:aws:ecr:{region}:{doc.get('registryId', account)}:repository/{doc.get('repositoryName', name)}"
            _load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["policyText"]}], ())
        elif f.name == "ec2-describe-vpc-endpoints.json" and isinstance(doc, dict):
            _load_endpoints(snap, str(f), doc.get("VpcEndpoints") or [], ("VpcEndpoints",))


def _jp(path: tuple) -> str:
    from reasoner.errors import json_path

    return json_path(path)
