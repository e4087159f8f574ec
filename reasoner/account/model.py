"""The account snapshot's model: principals, groups, managed and resource policies, VPC endpoints,
the organization tree, and the views `who-can`, `reach` and `privesc` ask of them. Loading lives in
`reasoner.account.snapshot` and `reasoner.account.sources`."""

from __future__ import annotations

from dataclasses import dataclass, field

from reasoner.account.governing import governing_holder, reaches
from reasoner.errors import InputError
from reasoner.policy.patterns import arn_match, plain, plain_glob_match
from reasoner.policy.request import NamedPolicy


class SnapshotUnknown(Exception):
    """A question about the snapshot whose answer would be a guess: something it depends on could
    not be read. Carries the reason; `decide --snapshot` answers `unknown` (exit 4) with it."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


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
    # Roles whose trust policy could not be read: who may assume them is unknown (not "nobody").
    trust_unknown: str | None = None
    # Roles: the instance profiles that contain it (GAAD's InstanceProfileList); None when the
    # source does not say, so a precondition on them stays outside the snapshot.
    instance_profiles: list[str] | None = None


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
    # Per level, what could not be read: "scp" / "rcp" (a policy of that type), "children" (the
    # OUs and accounts below it) -> the reason. Answers that depend on it are unknown.
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass
class Snapshot:
    origin: list[str] = field(default_factory=list)  # the paths it was loaded from
    sources: list[str] = field(default_factory=list)
    principals: dict[str, Entity] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    managed_policies: dict[str, NamedPolicy] = field(default_factory=dict)  # ARN -> default version
    # ARN -> its non-default versions (version id -> document; None: the version is not valid
    # here) when the source lists PolicyVersionList; a policy absent here: versions not shown.
    policy_versions: dict[str, dict[str, NamedPolicy | None]] = field(default_factory=dict)
    resource_policies: dict[str, ResourcePolicy] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    org_root: OrgNode | None = None
    org_id: str | None = None
    management_account: str | None = None
    problems: list[str] = field(default_factory=list)
    # Resources whose policy could not be read: any answer about them would be a guess.
    broken_resources: dict[str, str] = field(default_factory=dict)
    # Managed policies that could not be read (ARN -> why): principals they are attached to are unknown.
    broken_managed: dict[str, str] = field(default_factory=dict)
    # Accounts that could not be entered or whose authorization details could not be read.
    unknown_accounts: dict[str, str] = field(default_factory=dict)
    # Resources a failed listing could not name: (ARN pattern, why). Answers about them are unknown.
    unknown_resources: list[tuple[str, str]] = field(default_factory=list)
    # Why the snapshot as a whole is incomplete (principals or resources may be missing from it).
    incomplete: list[str] = field(default_factory=list)
    # Raw definitions seen per ARN (duplicates that differ make the ARN unknown), while loading.
    definitions: dict[str, object] = field(default_factory=dict, repr=False)

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
        """The policy that governs the resource: its own, or its container's (reasoner.account.governing)."""
        holder = governing_holder(resource, self.resource_policies)
        return self.resource_policies[holder] if holder is not None else None

    @property
    def complete(self) -> bool:
        return not self.incomplete

    def unknown_reason_for(self, who: Entity | None, resource: str) -> str | None:
        """Why an answer about `who` acting on `resource` would be a guess, or None: exactly what
        the authorizer asks before every hop (so `decide --snapshot` refuses what `who-can` reports
        unknown): the principal's permissions or SCPs, or `broken_policy_for(resource)`."""
        if who is not None and who.incomplete:
            return f"{who.arn}: {who.incomplete[0]}"
        if (broken := self.broken_policy_for(resource)) is not None:
            return f"the resource policy is unknown: {broken}"
        return None

    def resource_unknown_reason(self, resource: str, caller_account: str | None = None) -> str | None:
        """Why answers about `resource` (an ARN or pattern) are unknown, or None. Without the
        caller's account, an S3 resource with no known owner may be in any account (cached: asked
        per hop, once the snapshot is loaded)."""
        cache = self.__dict__.setdefault("_unknown_cache", {})
        key = (resource, caller_account)
        if key not in cache:
            cache[key] = self._resource_unknown(resource, caller_account)
        return cache[key]

    def _resource_unknown(self, resource: str, caller_account: str | None) -> str | None:
        if (broken := self._unreadable_policy(resource)) is not None:
            return f"the resource policy is unknown: {broken}"
        for pattern, why in self.unknown_resources:
            if arn_match(plain(resource), pattern) or arn_match(plain(pattern), resource):
                return f"{resource} may be a resource the snapshot could not list ({pattern}): {why}"
        owner = self.resource_account(resource)
        if owner is None and (unread := self._maybe_in_unknown_account(resource)) is not None:
            return unread
        for acct in [owner] if owner is not None else [caller_account] if caller_account else sorted(self.accounts):
            if acct in self.unknown_accounts:
                return f"account {acct} owns {resource} and could not be read: {self.unknown_accounts[acct]}"
            if (rcps := self.org_unknown(acct, "rcp")) is not None:
                return f"the RCPs of account {acct} are unknown: {rcps}"
        return None

    def _maybe_in_unknown_account(self, resource: str) -> str | None:
        """S3 ARNs carry no account, and a pattern's account may be a wildcard: such a resource the
        snapshot has no policy for may be in an account that could not be read."""
        parts = resource.split(":")
        account_field = parts[4] if len(parts) > 4 else ""
        for acct, why in self.unknown_accounts.items():
            if resource.startswith("arn:aws:s3:::") or (
                any(c in account_field for c in "*?") and plain_glob_match(account_field, acct)
            ):
                return f"{resource} may be in account {acct}, which could not be read: {why}"
        return None

    def resource_account(self, resource: str) -> str | None:
        """The resource's owner when the snapshot says: its policy's Account, else its ARN's."""
        rp = self.resource_policy_for(resource)
        if rp is not None and rp.account:
            return rp.account
        parts = resource.split(":")
        return parts[4] if len(parts) > 4 and parts[4].isdigit() else None

    def org_unknown(self, account: str | None, kind: str) -> str | None:
        """Why the SCPs or RCPs (kind) that govern the account are unknown, or None: a level on
        its path could not be read, or the account is missing from a tree with an unlisted level."""
        if self.org_root is None or account is None or account == self.management_account:
            return None
        path = _org_path(self.org_root, account)
        if path is None:
            return next((n.unknown["children"] for n in _nodes(self.org_root) if "children" in n.unknown), None)
        return next((f"{n.id}: {n.unknown[kind]}" for n in path if kind in n.unknown), None)

    def broken_policy_for(self, resource: str) -> str | None:
        """Why answers about the resource are unknown (the hook the authorizer and route finder ask
        before deciding): its policy, owner or RCPs could not be read, a failed listing may hide
        it, or (a role) its trust policy could not be read. None when they can be answered."""
        role = self.principals.get(resource)
        if role is not None and role.trust_unknown is not None:
            return f"the trust policy of {resource} is unknown: {role.trust_unknown}"
        if (broken := self._unreadable_policy(resource)) is not None:
            return broken
        return self.resource_unknown_reason(resource)

    def _unreadable_policy(self, resource: str) -> str | None:
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
                or reaches(pattern, rp.arn)
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


def _nodes(node: OrgNode) -> list[OrgNode]:
    return [node] + [n for c in node.children for n in _nodes(c)]


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
