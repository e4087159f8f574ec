"""Invariants as code: the YAML file `reasoner prove` checks against a snapshot or a case.

Each invariant is proved (with the scope of the proof), violated (with a minimal counterexample:
the principal, the path, and the witness request as a ready `reasoner decide` command) or
unknown (with the reason). Kinds:

- never: no principal matching `principals` can do `actions` on `resources` (under the
  context constraints), along any path (role assumption, service chains) of the snapshot;
- only: only the listed principals can (everyone else: never);
- always: `principal` can do `action` on `resource` in EVERY context that satisfies `where`
  (proved by searching for a denied context, goal "deny" in reasoner/search/can.py);
- no-public: nothing gets public access (IAM Access Analyzer's meaning: anonymous callers, any
  AWS account, any user of a public identity provider) through the resource policies that govern
  `resources` (reasoner.account.governing: a bucket's policy governs its objects) or the trust
  policies of the roles they name (within the resource account's RCPs);
- no-cross-account: no principal outside the account (except `except_accounts`) gets public or
  external access (a named account, organization, service or identity provider) through them;
- no-privesc: no principal outside `allowed` is, or can become, admin-equivalent.

A violated invariant lists every violator (up to the file's `max_violators`, with the total); an
invariant whose principal or resource pattern names nothing in the snapshot is `vacuous`, never
proved (reasoner.audit.invariant_scope). The scope of every answer is the snapshot's principals
(users, roles, identity providers) and its resource policies; `no-public` / `no-cross-account`
also cover principals outside it (the principal cover, reasoner.search.cover).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reasoner.account.model import Entity, Snapshot
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import ElementError, load_document, validation_to_input_error
from reasoner.policy.patterns import arn_match, plain, plain_glob_match
from reasoner.policy.principals import Principal, has_identity_policies
from reasoner.policy.request import NamedPolicy

if TYPE_CHECKING:
    from reasoner.account.privesc import PrincipalPrivesc

Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PrincipalSet(_Strict):
    """Principals by ARN pattern, user/role name pattern, or tags; minus `except`."""

    match: list[str] = Field(default=["*"], description="ARN or name patterns (* and ?); any one matches")
    tags: dict[str, str] = Field(default={}, description="every tag must be present with this value (* and ? allowed)")
    except_: list[str] = Field(default=[], alias="except", description="ARN or name patterns to leave out")

    def contains(self, e: Entity) -> bool:
        def hit(pats: list[str]) -> bool:
            return any(plain_glob_match(p, e.arn) or plain_glob_match(p, e.name) for p in pats)

        if not hit(self.match) or hit(self.except_):
            return False
        return all(k in e.tags and plain_glob_match(v, e.tags[k]) for k, v in self.tags.items())


class Constraint(_Strict):
    without_via: list[str] = Field(default=[], description="no hop may go through these services (aws:CalledVia)")
    not_from_vpce: list[str] = Field(default=[], description="the first call may not come through these endpoints")
    where: dict[str, Scalar | list[Scalar]] = Field(default={}, description="context keys fixed on the target request")


class Never(Constraint):
    principals: PrincipalSet = PrincipalSet()
    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)


class Only(Constraint):
    principals: list[str] = Field(description="ARN or name patterns of the principals that may")
    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)


class Always(_Strict):
    principal: str
    action: str
    resource: str
    where: dict[str, Scalar | list[Scalar]] = Field(
        default={}, description="the contexts: every request with these keys"
    )


class NoPublic(_Strict):
    resources: list[str] = Field(default=["*"], description="ARN patterns of the resources checked")
    actions: list[str] = Field(default=["*"])


class NoCrossAccount(NoPublic):
    except_accounts: list[str] = []


class NoPrivesc(_Strict):
    allowed: list[str] = Field(default=[], description="ARN or name patterns of principals that may be admin")


KINDS = ("never", "only", "always", "no-public", "no-cross-account", "no-privesc")
MAX_VIOLATORS = 20


class Invariant(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    never: Never | None = None
    only: Only | None = None
    always: Always | None = None
    no_public: NoPublic | None = Field(default=None, alias="no-public")
    no_cross_account: NoCrossAccount | None = Field(default=None, alias="no-cross-account")
    no_privesc: NoPrivesc | None = Field(default=None, alias="no-privesc")

    @model_validator(mode="after")
    def _one_kind(self) -> Invariant:
        given = [k for k in KINDS if getattr(self, k.replace("-", "_")) is not None]
        if len(given) != 1:
            raise ValueError(f"an invariant has exactly one of {', '.join(KINDS)} (got {', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k.replace("-", "_")) is not None)

    @property
    def body(self):
        return getattr(self, self.kind.replace("-", "_"))


class InvariantsFile(_Strict):
    """reasoner prove INVARIANTS SNAPSHOT|CASE: the invariants file (YAML or JSON)."""

    description: str = ""
    invariants: list[Invariant] = Field(min_length=1)
    max_violators: int = Field(
        default=MAX_VIOLATORS,
        ge=1,
        description="a violated invariant lists every violator up to this many (and says how many there are)",
    )

    @model_validator(mode="after")
    def _unique(self) -> InvariantsFile:
        first: dict[str, int] = {}
        for k, inv in enumerate(self.invariants):
            if inv.id in first:  # reported at the repeated id's JSON path, not at '$'
                message = f"duplicate invariant id {inv.id!r} (first at invariants[{first[inv.id]}])"
                raise ElementError(message, ("invariants", k, "id"))
            first[inv.id] = k
        return self


def json_schema() -> dict:
    return InvariantsFile.model_json_schema(by_alias=True)


def load_invariants(path: str | Path) -> InvariantsFile:
    raw = load_document(path)
    try:
        spec = InvariantsFile.model_validate(raw)
    except ValidationError as exc:
        raise validation_to_input_error(exc, str(path)) from None
    for i, inv in enumerate(spec.invariants):
        body = inv.body
        for j, a in enumerate(getattr(body, "actions", None) or [getattr(body, "action", None)]):
            if a is None or a == "*":
                continue
            if ("*" in a or "?" in a) and not catalogue.expand(a):
                raise InputError(
                    f"no catalogue action matches {a!r}",
                    source=str(path),
                    path=("invariants", i, inv.kind, "actions", j),
                )
            if "*" not in a and "?" not in a and catalogue.lookup(a) is None:
                raise InputError(
                    catalogue.unknown_action_message(a),
                    source=str(path),
                    path=("invariants", i, inv.kind, "actions", j),
                )
    return spec


# -- results -------------------------------------------------------------------------------------


class Violator(BaseModel):
    """One principal that breaks the invariant, with its counterexample."""

    principal: str
    reason: str
    path: list[dict] = []
    decide_command: str | None = None
    # no-public / no-cross-account: "public" (anyone, any account, any federated identity) or
    # "external" (a named outside account, organization, service or identity provider).
    access: str | None = None


class Result(BaseModel):
    id: str
    kind: str
    description: str = ""
    # vacuous: a principal or resource pattern names nothing in the snapshot (`unmatched`).
    status: Literal["proved", "violated", "unknown", "vacuous"]
    scope: str = ""  # what the proof covered
    reason: str | None = None
    principal: str | None = None  # the counterexample (the first violator)
    path: list[dict] = []  # hops of the counterexample (principal, action, resource, context, ...)
    decide_command: str | None = None
    access: str | None = None  # the first violator's access (no-public / no-cross-account)
    violators: list[Violator] = []  # every violator, up to the file's max_violators
    violators_total: int = 0  # how many there are
    unmatched: list[str] = []  # vacuous: the patterns that name nothing
    seconds: float = 0.0


def _where(w: dict) -> tuple[tuple[str, str], ...]:
    out = []
    for k, v in w.items():
        for item in v if isinstance(v, list) else [v]:
            out.append((k, str(item).lower() if isinstance(item, bool) else str(item)))
    return tuple(out)


def _violated(violators: list[Violator], limit: int, scope: str = "") -> dict:
    """A violated answer: the first violator is the counterexample; every one is listed (up to
    `limit`, with the total)."""
    first = violators[0]
    more = f" (and {len(violators) - 1} more violator(s))" if len(violators) > 1 else ""
    return dict(
        status="violated",
        principal=first.principal,
        path=first.path,
        decide_command=first.decide_command,
        access=first.access,
        reason=first.reason + more,
        violators=violators[:limit],
        violators_total=len(violators),
        scope=scope,
    )


class Prover:
    def __init__(self, snap: Snapshot, max_violators: int = MAX_VIOLATORS):
        from reasoner.account.paths import PathFinder

        self.snap = snap
        self.finder = PathFinder(snap)
        self.max_violators = max_violators
        self._privesc: list[PrincipalPrivesc] | None = None

    def prove(self, inv: Invariant) -> Result:
        t0 = time.perf_counter()
        handlers: dict[str, Callable[[Any], dict]] = {
            "never": self._never,
            "only": self._only,
            "always": self._always,
            "no-public": self._no_public,
            "no-cross-account": self._no_cross_account,
            "no-privesc": self._no_privesc,
        }
        unmatched = self._unmatched(inv)
        try:
            r = self._vacuous(unmatched) if unmatched else handlers[inv.kind](inv.body)
        except InputError as exc:
            r = dict(status="unknown", reason=exc.message)
        if r["status"] == "proved" and self.snap.incomplete:
            # Something in scope may be missing from the snapshot: not proved (issue 11).
            r = {**r, "status": "unknown", "reason": f"the snapshot is incomplete: {self.snap.incomplete[0]}"}
        return Result(
            id=inv.id, kind=inv.kind, description=inv.description, seconds=round(time.perf_counter() - t0, 3), **r
        )

    # vacuity ---------------------------------------------------------------------------------------
    def _unmatched(self, inv: Invariant) -> list[str]:
        """The principal and resource patterns of the invariant that name nothing in the snapshot."""
        from reasoner.audit.invariant_scope import unmatched_principals, unmatched_resources

        body = inv.body
        out: list[str] = []
        if isinstance(body, Never):
            out += [f"principal {p}" for p in unmatched_principals(self.snap, body.principals.match)]
            if not out and not any(body.principals.contains(e) for e in self.snap.principals.values()):
                # Each pattern names someone, but with the tags and exceptions nobody is left.
                out.append(f"principals {body.principals.model_dump(by_alias=True)}")
        if isinstance(body, (Never, Only, NoPublic)):
            out += [f"resource {p}" for p in unmatched_resources(self.snap, body.resources)]
        if isinstance(body, Always):
            out += [f"principal {p}" for p in unmatched_principals(self.snap, [body.principal])]
            out += [f"resource {p}" for p in unmatched_resources(self.snap, [body.resource])]
        if isinstance(body, (Only, NoPrivesc)):
            # Everyone is an allowed exception: the invariant constrains nobody.
            allowed = PrincipalSet(match=(body.principals if isinstance(body, Only) else body.allowed) or ["-none-"])
            if all(allowed.contains(e) for e in self.snap.principals.values()):
                out.append("a principal outside the allowed ones")
        return out

    @staticmethod
    def _vacuous(unmatched: list[str]) -> dict:
        return dict(
            status="vacuous",
            unmatched=unmatched,
            reason="nothing in the snapshot matches "
            + "; ".join(unmatched)
            + " (a typo or a renamed resource?): the invariant would hold vacuously",
        )

    # never / only ------------------------------------------------------------------------------

    def _never_over(self, body, members) -> dict:
        from reasoner.account.hops import Constraints

        cons = Constraints(tuple(body.without_via), tuple(body.not_from_vpce), _where(body.where))
        actions = [a for p in body.actions for a in _expand(p)]
        in_scope = [e for e in self.snap.principals.values() if members(e)]
        unknown = []
        found: dict[str, Violator] = {}  # the first path found per principal
        for resource in body.resources:
            for action in actions:
                a = self.finder.who_can(action, resource, cons)
                for p in a.principals:
                    e = self.snap.principals[p.principal]
                    if members(e) and p.path is not None and p.principal not in found:  # possible: has its path
                        hops = p.path.hops
                        found[p.principal] = Violator(
                            principal=p.principal,
                            path=[h.to_json() for h in hops],
                            decide_command=hops[-1].decide_command,
                            reason=f"{p.principal} can {action} on {hops[-1].resource} "
                            f"({len(hops)} hop{'s' if len(hops) > 1 else ''})",
                        )
                unknown += [
                    f"{u.principal}: {u.reason}" for u in a.unknown if members(self.snap.principals[u.principal])
                ]
        scope = (
            f"{len(in_scope)} principals in scope of {len(self.snap.principals)}; {len(actions)} action(s) x "
            f"{len(body.resources)} resource pattern(s); every path by role assumption and service chains "
            f"(up to 2 services), every context the constraints leave open"
        )
        if found:
            return _violated(sorted(found.values(), key=lambda v: len(v.path)), self.max_violators, scope)
        if unknown:
            return dict(status="unknown", scope=scope, reason="; ".join(unknown[:3]))
        return dict(status="proved", scope=scope)

    def _never(self, body: Never) -> dict:
        return self._never_over(body, body.principals.contains)

    def _only(self, body: Only) -> dict:
        allowed = PrincipalSet(match=body.principals)
        return self._never_over(body, lambda e: not allowed.contains(e))

    # always -------------------------------------------------------------------------------------
    def _always(self, body: Always) -> dict:
        from reasoner.account.hops import Constraints, HopCheck
        from reasoner.search.can import can

        e = self.snap.entity(body.principal)
        if e.incomplete:
            return dict(status="unknown", reason=e.incomplete[0])
        where = _where(body.where)
        vpce = next((v for k, v in where if k.lower() == "aws:sourcevpce"), None)
        via = tuple(v for k, v in where if k.lower() == "aws:calledvia")
        endpoint = vpce if vpce in self.snap.endpoints else None
        q = self.finder.auth.query(
            HopCheck(
                e,
                body.action,
                body.resource,
                via,
                endpoint,
                Constraints(where=tuple((k, v) for k, v in where if k.lower() != "aws:calledvia")),
                True,
            )
        )
        q.goal = "deny"
        if not endpoint and vpce is None and self.snap.endpoints:
            q.absent = [k for k in q.absent if k.lower() != "aws:sourcevpce"]
        a = can(q)
        scope = "; ".join(f"{d.name}: {d.regions} regions" for d in a.scope) or "the fixed request"
        if a.answer == "impossible":
            return dict(status="proved", scope=f"every context with {dict(body.where)}: {scope}")
        if a.answer == "possible" and a.witness is not None:  # a possible answer carries its witness
            req = a.witness["request"]
            return dict(
                status="violated",
                principal=e.arn,
                scope=scope,
                decide_command=a.decide_command,
                path=[
                    {
                        "principal": e.arn,
                        "action": req["action"],
                        "resource": req["resource"],
                        "context": req.get("context", {}),
                    }
                ],
                reason=f"denied in the context {json.dumps(req.get('context', {}))}",
            )
        return dict(status="unknown", reason=a.reason, scope=scope)

    # resource policies ------------------------------------------------------------------------------
    def _resource_policies(self, patterns: list[str]) -> list[tuple[str, str, NamedPolicy, list[tuple[str, bool]]]]:
        """The resource policies that govern something the patterns name (reasoner.account.governing),
        each with the resources to search it over."""
        from reasoner.account.governing import search_scopes

        out = []
        for rp in self.snap.resource_policies.values():
            scopes = [sc for p in patterns for sc in search_scopes(p, rp.arn)]
            if scopes:
                owner = rp.account or (rp.arn.split(":") + [""] * 5)[4]
                out.append((rp.arn, owner, rp.policy, list(dict.fromkeys(scopes))))
        return out

    def _outside(self, body, candidates_for: Callable[[NamedPolicy, str], list[str]], access: tuple) -> dict:
        from reasoner.account.governing import reaches
        from reasoner.search.cover import search_principals
        from reasoner.search.domains import AbstractionError

        targets = self._resource_policies(body.resources)
        broken = [a for a in self.snap.broken_resources if any(reaches(p, a) for p in body.resources)]
        unknown: list[str] = []
        found: dict[str, Violator] = {}
        n = 0
        for arn, owner, policy, scopes in targets:
            try:
                cands = candidates_for(policy, owner)
            except AbstractionError as exc:  # a principal pattern the cover cannot take
                unknown.append(f"{arn}: {exc}")
                continue
            for action in _outside_actions(body.actions, policy):
                for res, exact in scopes:
                    n += 1
                    r = search_principals(
                        policy,
                        owner,
                        action,
                        res,
                        cands,
                        rcps=self.snap.levels_for(owner or None, "rcp"),
                        management_account=self.snap.management_account,
                        access=access,
                        first_only=False,
                    )
                    for v in r.violators:
                        if not exact and not any(_names(p, v.witness_request["resource"]) for p in body.resources):
                            unknown.append(
                                f"{arn}: a witness on {v.witness_request['resource']} is outside the patterns"
                            )
                            continue
                        if v.principal is not None and v.principal not in found:
                            found[v.principal] = Violator(
                                principal=v.principal,
                                decide_command=v.decide_command,
                                path=[{"principal": v.principal, **v.witness_request}],
                                reason=f"{v.reason} (through the policy of {arn}; {v.access} access)",
                                access=v.access,
                            )
                    if r.passed is None:
                        unknown.append(f"{arn}: {r.reason}")
        scope = (
            f"{len(targets)} resource policies governing the patterns, {n} searches over every principal "
            "region they distinguish"
        )
        if found:
            return _violated(list(found.values()), self.max_violators, scope)
        unknown += [f"{a}: its policy could not be read" for a in broken]
        if unknown:
            return dict(status="unknown", scope=scope, reason="; ".join(unknown[:3]))
        return dict(status="proved", scope=scope)

    def _no_public(self, body: NoPublic) -> dict:
        from reasoner.search.cover import candidate_principals

        # Public (IAM Access Analyzer): anyone, any AWS account, any federated identity.
        def cands(policy: NamedPolicy, owner: str) -> list[str]:
            return candidate_principals(policy.policy, owner, outside_only=True)

        return self._with_trust(body, cands, ("public",))

    def _no_cross_account(self, body: NoCrossAccount) -> dict:
        from reasoner.policy.principals import parse_principal
        from reasoner.search.cover import candidate_principals

        exempt = set(body.except_accounts)

        def cands(policy: NamedPolicy, owner: str) -> list[str]:
            out = []
            for c in candidate_principals(policy.policy, owner, outside_only=True):
                p = parse_principal(c)
                if p.account is None or p.account not in exempt:
                    out.append(c)
            return out

        return self._with_trust(body, cands, ("public", "external"))

    def _with_trust(self, body: NoPublic, cands: Callable[[NamedPolicy, str], list[str]], access: tuple) -> dict:
        """The resource policies, then the role trust policies the patterns name."""
        res = self._outside(body, cands, access)
        if res["status"] not in ("proved", "violated"):
            return res
        trust = self._trust_policies(body, cands, access)
        if trust["status"] == "unknown" and res["status"] == "proved":
            return trust
        violators = (res.get("violators") or []) + trust.get("violators", [])
        total = res.get("violators_total", 0) + len(trust.get("violators", []))
        scope = res["scope"] + f"; {trust['roles']} role trust policies"
        if violators:
            out = _violated(violators, self.max_violators, scope)
            out["violators_total"] = total
            return out
        return dict(status="proved", scope=scope)

    def _trust_policies(self, body: NoPublic, cands: Callable[[NamedPolicy, str], list[str]], access: tuple) -> dict:
        """Role trust policies are resource policies too: an outside account (or a federated
        identity) that may assume a role of the snapshot reaches everything the role can. Every
        sts:AssumeRole* action is searched (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity)."""
        from reasoner.policy.principals import parse_principal
        from reasoner.search.cover import search_principals

        roles = [
            e
            for e in self.snap.principals.values()
            if e.kind == "role"
            and e.trust_policy is not None
            and any(arn_match(plain(p), e.arn) for p in body.resources)
        ]
        unread = [
            e
            for e in self.snap.principals.values()
            if e.trust_unknown is not None and any(arn_match(plain(p), e.arn) for p in body.resources)
        ]
        if unread:  # a trust policy that could not be read may let any account in
            return dict(
                status="unknown", reason=f"the trust policy of {unread[0].arn} is unknown: {unread[0].trust_unknown}"
            )
        violators: list[Violator] = []
        for role in roles:
            trust = role.trust_policy
            if trust is None:  # filtered above
                continue
            # Identity providers' users assume roles too (AssumeRoleWithSAML / WithWebIdentity).
            cands_r = [c for c in cands(trust, role.account) if _may_assume(parse_principal(c))]
            r = search_principals(
                trust, role.account, "sts:AssumeRole*", role.arn, cands_r, access=access, first_only=False
            )
            for v in r.violators:
                violators.append(
                    Violator(
                        principal=v.principal or "",
                        decide_command=v.decide_command,
                        path=[{"principal": v.principal, **v.witness_request}],
                        reason=f"{v.principal} can assume {role.arn} ({v.access} access)",
                        access=v.access,
                    )
                )
            if r.passed is None:
                return dict(status="unknown", reason=f"{role.arn}: {r.reason}")
        return dict(status="violated" if violators else "proved", violators=violators, roles=len(roles))

    # privesc ----------------------------------------------------------------------------------------
    def _no_privesc(self, body: NoPrivesc) -> dict:
        from reasoner.account.privesc import Privesc

        if self._privesc is None:
            self._privesc = Privesc(self.snap, now=None).run()
        results = self._privesc
        allowed = PrincipalSet(match=body.allowed or ["-none-"])
        unknown = []
        violators: list[Violator] = []
        for r in results:
            e = self.snap.principals[r.principal]
            if allowed.contains(e):
                continue
            if r.admin:
                steps = r.paths[0]
                violators.append(
                    Violator(
                        principal=r.principal,
                        path=[s.to_json() for s in steps],
                        reason=f"{r.principal} "
                        + (
                            "is admin-equivalent itself"
                            if not steps
                            else f"becomes admin in {len(steps)} step(s): " + " -> ".join(s.technique for s in steps)
                        ),
                    )
                )
            if r.admin is None:
                unknown.append(f"{r.principal}: {r.reason}")
        scope = f"{len(results)} principals, role assumption and every technique of the catalogue"
        if violators:
            return _violated(violators, self.max_violators, scope)
        if unknown:
            return dict(status="unknown", scope=scope, reason="; ".join(unknown[:3]))
        return dict(status="proved", scope=scope)


def _names(pattern: str, resource: str) -> bool:
    return arn_match(plain(pattern), resource)


def _expand(pattern: str) -> list[str]:
    """An action pattern stays a pattern (searched as one region set); a name is looked up."""
    if pattern == "*" or "*" in pattern or "?" in pattern:
        return [pattern]
    info = catalogue.lookup(pattern)
    if info is None:  # checked when the invariants file is read
        raise InputError(catalogue.unknown_action_message(pattern), path=("actions",))
    return [info.full_name]


def _outside_actions(actions: list[str], policy) -> list[str]:
    """A principal outside the account (or anonymous) needs the resource policy's own allow
    (IAM cross-account evaluation), so "*" is narrowed to what its Allow statements name."""
    if actions != ["*"]:
        return actions
    pats = []
    for st in policy.policy.Statement:
        if st.Effect == "Allow":
            if st.Action is None:
                return ["*"]
            pats += [a for a in st.Action if a == "*" or "*" in a or "?" in a or catalogue.lookup(a)]
    return list(dict.fromkeys(pats)) or ["*"]


def _may_assume(p: Principal) -> bool:
    """Who a trust policy can let assume its role, for the outside-access invariants: the principals
    with identity policies (sts:AssumeRole) and identity providers' users (AssumeRoleWithSAML /
    AssumeRoleWithWebIdentity); anonymous callers cannot, and a service is neither public nor
    external access to the role (it acts for the account that configures it)."""
    return has_identity_policies(p) or p.type == "web_identity"
