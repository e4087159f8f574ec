"""The account snapshot's model: principals, groups, managed and resource policies, VPC endpoints,
the organization tree, and the views `who-can`, `reach` and `privesc` ask of them. Loading lives in
`reasoner.account.snapshot` and `reasoner.account.sources`."""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.errors import InputError
from reasoner.policy.patterns import arn_match, plain
from reasoner.policy.request import NamedPolicy


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
