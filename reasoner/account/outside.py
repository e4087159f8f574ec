"""Outside principals: who beyond the snapshot's own principals a resource policy or a role trust
policy lets in, as IAM Access Analyzer defines public and external access. The one home of this
search: the audit's `external-access` rule and `who-can` both use it.

The candidates are the principal cover of the policy (reasoner.search.cover: anonymous, a
principal of an account nobody names, each named outside principal and account, each region of
its aws:PrincipalArn patterns, each service and identity provider); members inside the zone of
trust are left out. Each category is reported once, with its first allowed request:

- anonymous (`"Principal": "*"` reaching unauthenticated callers) and *any AWS account* are public
  access; *organization* (only the accounts of an aws:PrincipalOrgID / PrincipalOrgPaths), a
  named *outside account*, a *federated* identity (a SAML / OIDC provider, cognito-identity,
  accounts.google.com, www.amazon.com, ...) and a *service* are external access (IAM User Guide,
  "IAM Access Analyzer findings": "Access Analyzer ... identifies resources that are shared with
  an external entity", public = "anyone" or "any AWS account");
- a service is searched twice: with aws:SourceAccount / aws:SourceArn / aws:SourceOrgID /
  aws:SourceOrgPaths absent (`service-no-source`: any account's use of the service reaches the
  resource, the confused deputy), then with them free (`service`: only on behalf of the accounts
  or resources those keys name).

An outside principal's own account is not in the snapshot: its identity policies (and SCPs) are
taken to allow the request, as Access Analyzer does. For a cross-account request AWS needs both
the resource policy and the caller's own identity policy (IAM User Guide, "Cross-account policy
evaluation logic"), so every grant here holds only *if their own account allows*; only the
resource policy and the resource account's RCPs are checked. Anonymous callers and services
need the resource policy alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from reasoner.account.hops import Constraints, Hop
from reasoner.account.model import Entity, Snapshot
from reasoner.account.trust import trust_entry
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.coverage import action_matches
from reasoner.policy.patterns import arn_match, plain
from reasoner.policy.principals import has_identity_policies, parse_principal
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can
from reasoner.search.cover import (
    OUTSIDE_ACCOUNT,
    UNNAMED_IDP,
    UNNAMED_SERVICE,
    candidate_principals,
    search_principals,
)
from reasoner.search.domains import AbstractionError

SOURCE_KEYS = ["aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths"]
Category = Literal[
    "anonymous", "any-account", "organization", "outside-account", "federated", "service", "service-no-source"
]
PUBLIC: frozenset[str] = frozenset({"anonymous", "any-account"})
# Said of every outside grant: the caller's own account is not in the snapshot.
IF_THEIR_ACCOUNT_ALLOWS = "if their own account allows (its identity policies and SCPs are not in the snapshot)"


def category_of(cand: str, access: str | None = None) -> tuple[Category, str | None]:
    """The category of a cover member (and the named account): public (anonymous, any account) or
    external (a named account, an organization, a service, a provider), as the principal cover
    classifies the grant (reasoner.search.cover.access_of gives `access`)."""
    p = parse_principal(cand)
    if p.type == "anonymous":
        return "anonymous", None
    if p.type == "service":
        return "service", None
    if p.type == "web_identity":
        return "federated", None
    if p.account == OUTSIDE_ACCOUNT:
        # Any account, unless only an organization's accounts get in (aws:PrincipalOrgID).
        return ("organization" if access == "external" else "any-account"), None
    return "outside-account", p.account


def label(category: str, principal: str, account: str | None) -> str:
    return {
        "anonymous": "anyone (anonymous)",
        "any-account": "any AWS account",
        "organization": "the accounts of an organization",
        "outside-account": f"account {account}",
        "federated": "any federated identity (a provider the policy does not name)"
        if principal == UNNAMED_IDP
        else f"the identities of {principal.removeprefix('federated:')}",
        "service-no-source": ("any AWS service" if principal == UNNAMED_SERVICE else principal)
        + " on behalf of any account",
        "service": f"{principal} on behalf of the accounts its source conditions name",
    }[category]


@dataclass
class OutsideGrant:
    """An outside principal the policy lets in, with the allowed request (`witness`, a
    `decide --batch` line) or, for an identity provider of a trust policy, the assumption hop.
    `path`: for who-can through a role, the role's path after the assumption."""

    category: Category
    principal: str
    account: str | None
    policy: str  # the name of the policy that lets it in
    target: str  # the resource (or role) the policy is of
    witness: dict[str, Any] | None = None
    hop: Hop | None = None
    path: list[Hop] = field(default_factory=list)

    @property
    def access(self) -> str:
        """Public: anyone, any account, any service or provider nobody names (the cover's split)."""
        unnamed = self.principal in (UNNAMED_SERVICE, UNNAMED_IDP)
        return "public" if self.category in PUBLIC or unnamed else "external"

    @property
    def label(self) -> str:
        return label(self.category, self.principal, self.account)

    @property
    def request(self) -> dict[str, Any]:
        if self.witness is not None:
            return self.witness["request"]
        assert self.hop is not None
        return {"action": self.hop.action, "resource": self.hop.resource, "context": dict(self.hop.context)}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "principal": self.principal,
            "category": self.category,
            "access": self.access,
            "who": self.label,
            "account": self.account,
            "policy": self.policy,
            "resource": self.target,
            "request": self.request,
            "holds": IF_THEIR_ACCOUNT_ALLOWS if self.needs_their_account else "through the resource policy alone",
        }
        if self.witness is not None:
            out["witness"] = self.witness
        if self.hop is not None or self.path:
            out["path"] = [h.to_json() for h in ([self.hop] if self.hop else []) + self.path]
        return out

    @property
    def needs_their_account(self) -> bool:
        """Anonymous callers and services have no account of their own whose policies apply."""
        return self.category not in ("anonymous", "service", "service-no-source")


@dataclass
class OutsideScan:
    grants: list[OutsideGrant]
    unknown: list[str]  # "principal: reason" of the searches that came out unknown
    candidates: int  # outside cover members searched
    searches: int


def allow_actions(policy: NamedPolicy) -> list[str]:
    """What an outside principal can get through the policy: the actions its Allow statements name
    (IAM cross-account evaluation needs the resource policy's own allow)."""
    pats: list[str] = []
    for st in policy.policy.Statement:
        if st.Effect != "Allow":
            continue
        if st.Action is None:
            return ["*"]
        pats += [a for a in st.Action if a == "*" or "*" in a or "?" in a or catalogue.lookup(a)]
    return list(dict.fromkeys(pats))


def policy_resources(arn: str) -> list[str]:
    """The requests' resources for a policy of `arn`: a bucket's policy also governs its objects."""
    return [arn, arn + "/*"] if arn.startswith("arn:aws:s3:::") and "/" not in arn else [arn]


@dataclass
class Target:
    """A policy to scan: a resource policy, or a role's trust policy (`trust_of`)."""

    arn: str
    owner: str
    policy: NamedPolicy
    trust_of: Entity | None = None


def scan(
    snap: Snapshot,
    t: Target,
    inside: Callable[[str | None], bool],
    actions: list[str] | None = None,
    resources: list[str] | None = None,
    *,
    service_with_source: bool = False,
) -> OutsideScan:
    """The outside principals the target's policy lets in (one grant per category and account),
    for `actions` on `resources` (default: what its Allow statements name, on the target). A trust
    policy is scanned for sts:AssumeRole by AWS principals only (identity providers: federated_grants).
    A service is searched on behalf of any account (the source keys absent) and, with
    `service_with_source`, then with them free. Raises AbstractionError when the policy names a
    principal the cover cannot search."""
    cands = candidate_principals(t.policy.policy, t.owner, outside_only=True)
    cands = [c for c in cands if not inside(parse_principal(c).account)]
    if t.trust_of is not None:
        cands = [c for c in cands if has_identity_policies(parse_principal(c))]
        actions = actions or ["sts:AssumeRole"]
    actions = actions if actions is not None else allow_actions(t.policy)
    res = resources or policy_resources(t.arn)
    rcps = snap.levels_for(t.owner or None, "rcp")
    out = OutsideScan([], [], len(cands), 0)
    seen: set[tuple[str, str | None]] = set()
    for cand in cands:
        cat, acct = category_of(cand)
        key = (cat, acct or (cand if cat in ("service", "federated") else None))
        if key in seen:  # one grant per category and account (the first principal found)
            continue
        grant = _first_grant(snap, t, cand, actions, res, rcps, out, service_with_source)
        if grant is not None:
            out.grants.append(grant)
            seen.add(key)
    return out


def _first_grant(
    snap: Snapshot,
    t: Target,
    cand: str,
    actions: list[str],
    resources: list[str],
    rcps: Any,
    out: OutsideScan,
    service_with_source: bool,
) -> OutsideGrant | None:
    """The first action and resource the cover member gets through the policy."""
    cat, _ = category_of(cand)
    for action in actions:
        for res in resources:
            out.searches += 1
            if cat == "service":
                grant = _service(snap, t, cand, action, res, rcps, out, service_with_source)
                if grant is not None:
                    return grant
                continue
            r = search_principals(t.policy, t.owner, action, res, [cand], rcps, snap.management_account)
            if r.passed is False and r.answer is not None and r.answer.witness:
                found, acct = category_of(cand, r.access)
                return OutsideGrant(found, cand, acct, t.policy.name, t.arn, r.answer.witness)
            if r.passed is None:
                out.unknown.append(f"{cand}: {r.reason}")
    return None


def _service(
    snap: Snapshot, t: Target, svc: str, action: str, res: str, rcps: Any, out: OutsideScan, with_source: bool
) -> OutsideGrant | None:
    """A service principal: on behalf of any account (the source keys absent), else (with_source)
    on behalf of the accounts or resources its source conditions name."""
    tries: list[tuple[list[str], Category]] = [(list(SOURCE_KEYS), "service-no-source")]
    if with_source:
        tries.append(([], "service"))
    for absent, cat in tries:
        q = Query(
            principal=svc,
            action=action,
            resource=res,
            resource_account=t.owner,
            resource_policy=t.policy,
            rcps=rcps,
            management_account=snap.management_account,
            absent=absent,
        )
        a = can(q)
        if a.answer == "possible" and a.witness:
            return OutsideGrant(cat, svc, None, t.policy.name, t.arn, a.witness)
        if a.answer == "unknown":
            out.unknown.append(f"{svc}: {a.reason}")
            return None
    return None


def federated_grants(finder: Any, role: Entity, policy: str, unknown: list[str]) -> list[OutsideGrant]:
    """Identity providers (SAML, OIDC) a role's trust policy lets assume it: the snapshot's path
    finder decides the AssumeRoleWithSAML / WithWebIdentity edge (`finder.assume_edges_into`)."""
    out = []
    for src, r in finder.assume_edges_into(role, Constraints()):
        if src.kind != "federated":
            continue
        if r.outcome == "unknown":
            unknown.append(f"{src.arn}: {r.reason}")
        if r.outcome == "possible" and r.hop is not None:
            out.append(OutsideGrant("federated", src.arn, None, policy, role.arn, hop=r.hop))
    return out


# -- who-can ---------------------------------------------------------------------------------------


@dataclass
class OutsideAnswer:
    """who-can's outside principals: grants through the resource's own policy, and through the
    trust policy of a role that can (the assumption, then the role's path)."""

    grants: list[OutsideGrant]
    unknown: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "note": "principals outside the snapshot; each holds "
            + IF_THEIR_ACCOUNT_ALLOWS
            + " unless it says otherwise",
            "principals": [g.to_json() for g in self.grants],
            "unknown": self.unknown,
        }


def who_can_outside(
    snap: Snapshot, action: str, resource: str, cons: Constraints, role_paths: dict[str, list[Hop]]
) -> OutsideAnswer:
    """Outside principals that can do `action` on `resource`: the resource's policy lets them in
    directly, or a role in `role_paths` (ARN -> its path to the request, from who-can) lets them
    assume it. Principals of the snapshot's own accounts are who-can's; every other account is
    outside (its policies are unknown)."""
    ours = snap.accounts

    def inside(account: str | None) -> bool:
        return account is not None and account in ours

    answer = OutsideAnswer([], [])
    for rp in _governing_policies(snap, resource):
        owner = rp.account or (rp.arn.split(":")[4] if rp.arn.count(":") >= 5 else "") or ""
        _add(answer, snap, Target(rp.arn, owner, rp.policy), inside, [action], [resource], [], cons)
    # The question is itself a role assumption: the trust policy of each role it names.
    asked: dict[str, list[Hop]] = {r.arn: [] for r in _assumed_roles(snap, action, resource)}
    for arn, hops in sorted({**role_paths, **asked}.items()):
        role = snap.principals.get(arn)
        if role is None or role.kind != "role" or role.trust_policy is None or not _trusts_outside(role, inside):
            continue
        _add(answer, snap, Target(arn, role.account, role.trust_policy, role), inside, None, None, hops, cons)
    return answer


def _assumed_roles(snap: Snapshot, action: str, resource: str) -> list[Entity]:
    """The snapshot's roles `resource` names when `action` covers sts:AssumeRole."""
    if not action_matches(action, "sts:AssumeRole"):
        return []
    pattern = plain(resource)
    return [e for e in snap.principals.values() if e.kind == "role" and arn_match(pattern, e.arn)]


def _governing_policies(snap: Snapshot, resource: str) -> list[Any]:
    if "*" in resource or "?" in resource:
        return snap.resource_policies_covered(resource)
    rp = snap.resource_policy_for(resource)
    return [rp] if rp is not None else []


def _trusts_outside(role: Entity, inside: Callable[[str | None], bool]) -> bool:
    """A sound prefilter: the trust policy names anyone, an account or a principal outside."""
    assert role.trust_policy is not None
    arns, accounts, anyone = trust_entry(role.trust_policy)
    named = [a.split(":")[4] for a in arns if a.startswith("arn:") and a.count(":") >= 5]
    return anyone or any(not inside(a) for a in [*accounts, *named] if a) or _mentions_principal_keys(role)


def _mentions_principal_keys(role: Entity) -> bool:
    """aws:PrincipalArn / PrincipalAccount / PrincipalOrgID conditions can open a trust policy too."""
    assert role.trust_policy is not None
    return any(
        key.lower() in ("aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths")
        for st in role.trust_policy.policy.Statement
        for _, key, _ in st.operators()
    )


def _add(
    answer: OutsideAnswer,
    snap: Snapshot,
    t: Target,
    inside: Callable[[str | None], bool],
    actions: list[str] | None,
    resources: list[str] | None,
    tail: list[Hop],
    cons: Constraints,
) -> None:
    s = _scan_once(snap, t, inside, actions, resources)
    if isinstance(s, str):
        answer.unknown.append(f"{t.policy.name}: {s}")
        return
    answer.unknown += [f"{t.policy.name}: {u}" for u in s.unknown]
    for g in s.grants:
        why = _breaks(g, cons)
        if why is not None:
            answer.unknown.append(f"{g.label} through {t.policy.name}: {why}")
            continue
        answer.grants.append(dataclasses.replace(g, path=tail))


def _scan_once(
    snap: Snapshot,
    t: Target,
    inside: Callable[[str | None], bool],
    actions: list[str] | None,
    resources: list[str] | None,
) -> OutsideScan | str:
    """scan(), or why it cannot search the policy; cached per snapshot for trust policies (the
    same roles come back in every who-can), whose scan does not depend on the question."""
    cache = snap.__dict__.setdefault("_outside_trust_cache", {}) if t.trust_of is not None else {}
    key = (t.arn, t.policy.name)
    if key not in cache:
        try:
            cache[key] = scan(snap, t, inside, actions, resources, service_with_source=True)
        except (AbstractionError, ValueError, InputError) as exc:
            cache[key] = str(exc)
    return cache[key]


def _breaks(g: OutsideGrant, cons: Constraints) -> str | None:
    """Why the grant's witness may not meet the path constraints (then it is unknown, never
    dropped): the outside search does not take them."""
    if cons.where or cons.strict:
        return "the outside search does not fix context keys (--where / strict)"
    ctx = g.request.get("context", {})
    via = ctx.get("aws:CalledVia", [])
    via = [via] if isinstance(via, str) else via
    if any(s in via for s in cons.without_via):
        return f"its request goes via {', '.join(via)}"
    if ctx.get("aws:SourceVpce") in cons.not_from_vpce:
        return f"its request comes through {ctx.get('aws:SourceVpce')}"
    return None
