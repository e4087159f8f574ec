"""Invariants as code: the YAML file `reasoner prove` checks against a snapshot or a case.

Each invariant is proved (with the scope of the proof), violated (with a minimal counterexample:
the principal, the path, and the witness request as a ready `reasoner decide` command) or
unknown (with the reason). Kinds:

- never: no principal matching `principals` can do `actions` on `resources` (under the
  context constraints), along any path (role assumption, service chains) of the snapshot;
- only: only the listed principals can (everyone else: never);
- always: `principal` can do `action` on `resource` in EVERY context that satisfies `where`
  (proved by searching for a denied context, goal "deny" in reasoner/search/can.py);
- no-public: no anonymous caller or principal of an unrelated account can use the resource
  policies of `resources` (within the resource account's RCPs);
- no-cross-account: no principal of another account (except `except_accounts`) can use the
  resource policies or role trust policies of `resources`;
- no-privesc: no principal outside `allowed` is, or can become, admin-equivalent.

The scope of every answer is the snapshot's principals (users, roles, identity providers) and
its resource policies; `no-public` / `no-cross-account` also cover principals outside it.
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


class Result(BaseModel):
    id: str
    kind: str
    description: str = ""
    status: Literal["proved", "violated", "unknown"]
    scope: str = ""  # what the proof covered
    reason: str | None = None
    principal: str | None = None  # the counterexample
    path: list[dict] = []  # hops of the counterexample (principal, action, resource, context, ...)
    decide_command: str | None = None
    seconds: float = 0.0


def _where(w: dict) -> tuple[tuple[str, str], ...]:
    out = []
    for k, v in w.items():
        for item in v if isinstance(v, list) else [v]:
            out.append((k, str(item).lower() if isinstance(item, bool) else str(item)))
    return tuple(out)


class Prover:
    def __init__(self, snap: Snapshot):
        from reasoner.account.paths import PathFinder

        self.snap = snap
        self.finder = PathFinder(snap)
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
        try:
            r = handlers[inv.kind](inv.body)
        except InputError as exc:
            r = dict(status="unknown", reason=exc.message)
        if r["status"] == "proved" and self.snap.incomplete:
            # Something in scope may be missing from the snapshot: not proved (issue 11).
            r = {**r, "status": "unknown", "reason": f"the snapshot is incomplete: {self.snap.incomplete[0]}"}
        return Result(
            id=inv.id, kind=inv.kind, description=inv.description, seconds=round(time.perf_counter() - t0, 3), **r
        )

    # never / only ------------------------------------------------------------------------------
    def _resources(self, patterns: list[str]) -> list[str]:
        return patterns

    def _never_over(self, body, members) -> dict:
        from reasoner.account.hops import Constraints

        cons = Constraints(tuple(body.without_via), tuple(body.not_from_vpce), _where(body.where))
        actions = [a for p in body.actions for a in _expand(p)]
        in_scope = [e for e in self.snap.principals.values() if members(e)]
        unknown = []
        searched = 0
        for resource in body.resources:
            for action in actions:
                a = self.finder.who_can(action, resource, cons)
                searched += 1
                for p in a.principals:
                    e = self.snap.principals[p.principal]
                    if members(e) and p.path is not None:  # a possible answer has its path
                        return dict(
                            status="violated",
                            principal=p.principal,
                            path=[h.to_json() for h in p.path.hops],
                            decide_command=p.path.hops[-1].decide_command,
                            reason=f"{p.principal} can {action} on {p.path.hops[-1].resource} "
                            f"({len(p.path.hops)} hop{'s' if len(p.path.hops) > 1 else ''})",
                        )
                unknown += [
                    f"{u.principal}: {u.reason}" for u in a.unknown if members(self.snap.principals[u.principal])
                ]
        scope = (
            f"{len(in_scope)} principals in scope of {len(self.snap.principals)}; {len(actions)} action(s) x "
            f"{len(body.resources)} resource pattern(s); every path by role assumption and service chains "
            f"(up to 2 services), every context the constraints leave open"
        )
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
    def _resource_policies(self, patterns: list[str]):
        out = []
        for rp in self.snap.resource_policies.values():
            if any(arn_match(plain(p), rp.arn) for p in patterns):
                out.append((rp.arn, rp.account or "", rp.policy))
        return out

    def _outside(self, body, candidates_for) -> dict:
        from reasoner.search.cover import search_principals

        targets = self._resource_policies(body.resources)
        broken = [a for a in self.snap.broken_resources if any(arn_match(plain(p), a) for p in body.resources)]
        unknown = []
        n = 0
        for arn, owner, policy in targets:
            resource = arn + "/*" if arn.startswith("arn:aws:s3:::") else arn
            for action in _outside_actions(body.actions, policy):
                try:
                    cands = candidates_for(policy, owner)
                except Exception as exc:  # AbstractionError: a principal pattern we cannot cover
                    unknown.append(f"{arn}: {exc}")
                    continue
                for res in [resource, arn] if resource != arn else [arn]:
                    n += 1
                    r = search_principals(
                        policy,
                        owner,
                        action,
                        res,
                        cands,
                        rcps=self.snap.levels_for(owner or None, "rcp"),
                        management_account=self.snap.management_account,
                    )
                    if r.passed is False:
                        return dict(
                            status="violated",
                            principal=r.principal,
                            decide_command=r.decide_command,
                            path=[{"principal": r.principal, **r.witness_request}],
                            reason=f"{r.reason} (through the policy of {arn})",
                        )
                    if r.passed is None:
                        unknown.append(f"{arn}: {r.reason}")
        scope = f"{len(targets)} resource policies, {n} searches over every principal region they distinguish"
        if broken:
            unknown += [f"{a}: its policy could not be read" for a in broken]
        if unknown:
            return dict(status="unknown", scope=scope, reason="; ".join(unknown[:3]))
        return dict(status="proved", scope=scope)

    def _no_public(self, body: NoPublic) -> dict:
        from reasoner.search.cover import OUTSIDE_ACCOUNT

        # Public: anonymous callers and any principal of an account the policy does not name.
        def cands(policy, owner):
            return [
                "anonymous",
                f"arn:aws:sts::{OUTSIDE_ACCOUNT}:assumed-role/outsider/session",
                f"arn:aws:iam::{OUTSIDE_ACCOUNT}:user/outsider",
                f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root",
            ]

        return self._outside(body, cands)

    def _no_cross_account(self, body: NoCrossAccount) -> dict:
        from reasoner.policy.principals import parse_principal
        from reasoner.search.cover import candidate_principals

        exempt = set(body.except_accounts)

        def cands(policy, owner):
            out = []
            for c in candidate_principals(policy.policy, owner, outside_only=True):
                p = parse_principal(c)
                if p.account is None or p.account not in exempt:
                    out.append(c)
            return out

        res = self._outside(body, cands)
        if res["status"] != "proved":
            return res
        # Role trust policies are resource policies too: an outside account that may assume a
        # role of the snapshot reaches everything the role can.
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
        for role in roles:
            trust = role.trust_policy
            if trust is None:  # filtered above
                continue
            cands_r = [c for c in cands(trust, role.account) if parse_principal(c).type not in ("anonymous", "service")]
            r = search_principals(trust, role.account, "sts:AssumeRole", role.arn, cands_r)
            if r.passed is False:
                return dict(
                    status="violated",
                    principal=r.principal,
                    decide_command=r.decide_command,
                    path=[{"principal": r.principal, **r.witness_request}],
                    reason=f"{r.principal} can assume {role.arn}",
                )
            if r.passed is None:
                return dict(status="unknown", reason=f"{role.arn}: {r.reason}")
        res["scope"] += f"; {len(roles)} role trust policies"
        return res

    # privesc ----------------------------------------------------------------------------------------
    def _no_privesc(self, body: NoPrivesc) -> dict:
        from reasoner.account.privesc import Privesc

        if self._privesc is None:
            self._privesc = Privesc(self.snap, now=None).run()
        results = self._privesc
        allowed = PrincipalSet(match=body.allowed or ["-none-"])
        unknown = []
        for r in results:
            e = self.snap.principals[r.principal]
            if allowed.contains(e):
                continue
            if r.admin:
                steps = r.paths[0]
                return dict(
                    status="violated",
                    principal=r.principal,
                    path=[s.to_json() for s in steps],
                    reason=f"{r.principal} "
                    + (
                        "is admin-equivalent itself"
                        if not steps
                        else f"becomes admin in {len(steps)} step(s): " + " -> ".join(s.technique for s in steps)
                    ),
                )
            if r.admin is None:
                unknown.append(f"{r.principal}: {r.reason}")
        scope = f"{len(results)} principals, role assumption and every technique of the catalogue"
        if unknown:
            return dict(status="unknown", scope=scope, reason="; ".join(unknown[:3]))
        return dict(status="proved", scope=scope)


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
