"""`privesc`: which principals can become admin-equivalent, and by which chain of techniques.

Admin-equivalent (the definition every answer uses): the principal is allowed every IAM action
on every resource ("iam:*" on "*"), which lets it grant itself anything; an allow of "*" on "*"
implies it. This is proved, not read from policy text: the search looks for an IAM action and
a resource that the principal is NOT allowed (goal "deny", reasoner/search/can.py) and answers
"admin" only when no such request exists. The context is the principal's plain one: its own
keys and tags, aws:SecureTransport true, aws:CurrentTime fixed to the evaluation time (and a role's
session issued then; an IAM user's long-term keys carry no aws:TokenIssueTime: session.py), every
other key absent (so an admin grant that needs MFA or a source IP does not count).

Escalation steps (reasoner/data/privesc_techniques.json, with sources):
* sts:AssumeRole along trust policies, authorised by the full evaluation (reasoner/account/paths.py);
* "become": the caller gains the target's permissions (credentials of a user, a role through
  a service it passes the role to, a rewritten trust policy);
* "grant": the caller can give the target arbitrary permissions;
* "join-group": the caller can add a user it can become to a group.
Every required permission is checked with its exact conditions against the target resource.
A principal P is admin-equivalent when it can become (zero or more steps) some principal that is
admin, or that some principal P can become can grant to, or that can join an admin group.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import ASSUME_ACTION, Constraints, HopCheck, Outcome, assume_action, hop_cache_key
from reasoner.account.model import Entity, Snapshot
from reasoner.account.paths import PathFinder
from reasoner.account.preconditions import check_precondition
from reasoner.account.prefilters import may_allow_identity
from reasoner.account.session import plain_time_context
from reasoner.account.techniques import Technique
from reasoner.policy import catalogue
from reasoner.policy.coverage import covers_action
from reasoner.search.can import Query, can


@dataclass
class Step:
    technique: str
    source: str  # who acts
    target: str  # whom it affects (principal or group ARN)
    via: list[str]  # the permissions used, "action on resource"
    assumes: str | None = None  # what must exist that the snapshot cannot show

    def to_json(self) -> dict:
        out = {"technique": self.technique, "from": self.source, "to": self.target, "via": self.via}
        if self.assumes:
            out["assumes"] = self.assumes
        return out


@dataclass
class PrincipalPrivesc:
    principal: str
    admin: bool | None  # None: unknown
    paths: list[list[Step]] = field(default_factory=list)
    reason: str | None = None

    @property
    def status(self) -> str:
        """proved: admin-equivalent itself or along a chain whose every precondition the snapshot
        shows; conditional: every chain rests on a precondition outside the snapshot (a step's
        `assumes`, in plain words); no; unknown."""
        if self.admin is None:
            return "unknown"
        if not self.admin:
            return "no"
        return "proved" if any(not any(s.assumes for s in p) for p in self.paths) else "conditional"

    def to_json(self) -> dict:
        out = {
            "principal": self.principal,
            "admin": self.admin,
            "status": self.status,
            "paths": [[s.to_json() for s in p] for p in self.paths],
        }
        if self.reason:
            out["reason"] = self.reason
        return out


class TechniquePlan(NamedTuple):
    """A technique bound to one target, with the checks shared by every target and its own."""

    caller: Entity
    technique: Technique
    target: str
    group: str | None
    shared: list[HopCheck]
    specific: list[HopCheck]
    assumes: str | None  # the technique's precondition in plain words, bound to this target


def _iam_actions() -> list[str]:
    return catalogue.expand("iam:*")


class Privesc:
    # A grant bounded by existing policy versions counts only when it makes the target admin;
    # path searches (escalation.py) turn this off: a version may still allow a narrower request.
    only_admin_grants = True

    def __init__(
        self,
        snap: Snapshot,
        progress: Callable[[str, int, int], None] | None = None,
        now: dt.datetime | None = None,
        finder: PathFinder | None = None,
    ):
        self.snap = snap
        self.finder = finder or PathFinder(snap)  # a PathFinder's own, to share its hop caches
        self.auth: Authorizer = self.finder.auth
        self.progress = progress or (lambda what, done, total: None)
        self.now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self.auth.now = self.now  # escalation steps are requests made from now on, as the admin check
        self._admin: dict[str, bool | None] = {}
        self._reasons: dict[str, str] = {}

    # -- admin-equivalence --------------------------------------------------------------------
    def is_admin(self, e: Entity, extra_policies=()) -> bool | None:
        key = e.arn + "|" + ",".join(p.name for p in extra_policies)
        if key in self._admin:
            return self._admin[key]
        if e.incomplete:
            self._reasons[key] = e.incomplete[0]
            self._admin[key] = None
            return None
        policies = list(e.identity_policies) + list(extra_policies)
        # Prefilter (exact for the action dimension): every IAM action must be covered by some
        # Allow statement, else that action is implicitly denied.
        allows = [st for p in policies for st in p.policy.Statement if st.Effect == "Allow"]
        if not all(any(covers_action(st, a.lower()) for st in allows) for a in _iam_actions()):
            self._admin[key] = False
            return False
        where = {f"aws:PrincipalTag/{k}": [v] for k, v in e.tags.items()}
        where["aws:SecureTransport"] = ["true"]
        where.update(plain_time_context(e.arn, self.now))  # the same time keys as every hop (session.py)
        where["aws:ViaAWSService"] = ["false"]
        keys = {
            c
            for p in policies + ([e.boundary] if e.boundary else [])
            for st in p.policy.Statement
            for _, k, _ in st.operators()
            for c in [k]
        }
        for levels in self.snap.levels_for(e.account, "scp") or []:
            keys |= {k for p in levels for st in p.policy.Statement for _, k, _ in st.operators()}
        fixed = {k.lower() for k in where} | {
            "aws:principalarn",
            "aws:principalaccount",
            "aws:principaltype",
            "aws:username",
            "aws:calledviafirst",
            "aws:calledvialast",
        }
        absent = sorted({k for k in keys if k.lower() not in fixed and not k.lower().startswith("aws:principaltag/")})
        q = Query(
            principal=e.arn,
            action="iam:*",
            resource="*",
            resource_account=e.account,
            where=where,
            absent=absent,
            identity_policies=policies,
            permission_boundary=e.boundary,
            scps=self.snap.levels_for(e.account, "scp"),
            management_account=self.snap.management_account,
            absent_prefixes=("aws:principaltag/",),
            goal="deny",
        )
        a = can(q)
        self.auth.stats.searches += 1
        value = {"impossible": True, "possible": False}.get(a.answer)
        if value is None:
            self._reasons[key] = a.reason or "the admin check was not complete"
        self._admin[key] = value
        return value

    # -- techniques ---------------------------------------------------------------------------
    def _bindings(self, t: Technique, caller: Entity) -> list[tuple[str, str | None, dict[str, str]]]:
        """(target ARN, group ARN or None, placeholder values) for a technique, in the caller's account."""
        base = {"caller": caller.arn, "account": caller.account}
        if t.creates_target:  # a role the caller creates: any name in its account
            return [
                (
                    f"arn:aws:iam::{caller.account}:role/*",
                    None,
                    {**base, "target": f"arn:aws:iam::{caller.account}:role/*"},
                )
            ]
        out: list[tuple[str, str | None, dict[str, str]]] = []
        needs = t.placeholders()
        for e in self.snap.principals.values():
            if e.account != caller.account or e.kind != t.target:
                continue
            if t.trusts_service and not _trusts_service(e, t.trusts_service):
                continue
            vals = {**base, "target": e.arn}
            if "policy" in needs:
                for m in e.managed_policy_arns:
                    if ":aws:policy/" not in m:  # AWS managed policies cannot be changed
                        out.append((e.arn, None, {**vals, "policy": m}))
            elif "group" in needs and t.kind == "join-group":
                for grp in self.snap.groups.values():
                    if grp.account == caller.account and grp.arn not in e.groups:
                        out.append((e.arn, grp.arn, {**vals, "group": grp.arn}))
            elif "group" in needs:
                for g in e.groups:
                    out.append((e.arn, g, {**vals, "group": g}))
            else:
                out.append((e.arn, None, vals))
        return out

    def steps_from(self, caller: Entity, techniques: list[Technique]) -> list[tuple[str, Step, str | None]]:
        return [(k, st, g) for _, k, st, g in self.steps_for([caller], techniques)]

    def steps_for(self, callers: list[Entity], techniques: list[Technique]) -> list[tuple[str, str, Step, str | None]]:
        """(caller, kind, step, group joined) for every technique a caller can use; each required
        request is checked with its exact conditions against the bound resource. Batched: the
        requirements that do not depend on the target are checked first (once per caller and
        technique), then the target-specific ones of the techniques still open, each round in
        one call of the authorizer."""
        return [
            (plan.caller.arn, plan.technique.kind, step, plan.group) for plan, step in self.usable(callers, techniques)
        ]

    def usable(self, callers: list[Entity], techniques: list[Technique]) -> list[tuple[TechniquePlan, Step]]:
        """Every technique bound to a target that a caller can use, with its step; the plan's
        checks are all possible (their witness hops are in the authorizer's cache)."""
        plans = [plan for caller in callers for t in techniques for plan in self._plans(caller, t)]
        outcomes = self._check_plans(plans)
        out: list[tuple[TechniquePlan, Step]] = []
        for plan in plans:
            checks = plan.shared + plan.specific
            if all(outcomes.get(hop_cache_key(c)) == "possible" for c in checks):
                via = [
                    f"{c.action} on {c.resource}"
                    + (f" with {dict(c.constraints.where)}" if c.constraints.where else "")
                    for c in checks
                ]
                t = plan.technique
                target = plan.target if not t.creates_target else "a new role"
                out.append((plan, Step(t.id, plan.caller.arn, target, via, plan.assumes)))
        return out

    def _plans(self, caller: Entity, t: Technique) -> list[TechniquePlan]:
        """The technique bound to each target the caller may use it on, with the checks it needs."""
        reqs = [r for r in t.requires if not r.self_granted]
        # Role assumption along trust policies is its own edge (PathFinder).
        if [r.action for r in t.requires] == [ASSUME_ACTION] or not reqs:
            return []
        # Cheap sound prefilter: every required action needs some Allow statement.
        if not all(_may_do(caller, r.action) for r in reqs):
            return []
        specific_idx = {i for i, r in enumerate(t.requires) if r.placeholders() & {"target", "group", "policy"}}
        plans = []
        for target, group, values in self._bindings(t, caller):
            if target == caller.arn and t.kind == "become":
                continue
            pre = check_precondition(self.snap, t, values, self.is_admin)
            if pre.state == "fails" or (pre.state == "not-admin" and self.only_admin_grants):
                continue  # visible in the snapshot and false: the technique cannot work
            holds = pre.state == "holds" and t.snapshot_check_covers == "all"
            bound = t.bind(**{k: v for k, v in values.items() if k in t.placeholders()})
            shared: list[HopCheck] = []
            specific: list[HopCheck] = []
            for i, r in enumerate(bound):
                if r.self_granted:
                    continue
                c = HopCheck(
                    caller,
                    r.action,
                    r.resource,
                    constraints=Constraints(where=tuple(r.context.items())),
                    target=True,
                )
                (specific if i in specific_idx else shared).append(c)
            assumes = None if holds else _precondition(t, values)
            plans.append(TechniquePlan(caller, t, target, group, shared, specific, assumes))
        return plans

    def _check_plans(self, plans: list[TechniquePlan]) -> dict[tuple, Outcome]:
        """Outcome per hop check: the shared checks, then the specific ones of plans still open."""
        outcomes: dict[tuple, Outcome] = {}
        for phase in ("shared", "specific"):
            todo: dict[tuple, HopCheck] = {}
            for plan in plans:
                if phase == "shared" or all(outcomes.get(hop_cache_key(c)) == "possible" for c in plan.shared):
                    for c in plan.shared if phase == "shared" else plan.specific:
                        todo.setdefault(hop_cache_key(c), c)
            todo = {k: c for k, c in todo.items() if k not in outcomes}
            for k, r in zip(todo, self.auth.check_many(list(todo.values()))):
                outcomes[k] = r.outcome
        return outcomes

    def run(self, start: str | None = None) -> list[PrincipalPrivesc]:
        from reasoner.account.techniques import load_techniques

        techniques = load_techniques().techniques
        entities = [self.snap.entity(start)] if start else sorted(self.snap.principals.values(), key=lambda e: e.arn)
        everyone = sorted(self.snap.principals.values(), key=lambda e: e.arn)
        # Edges out of every principal that may be on a chain (the whole account: chains can
        # pass through anyone).
        become: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        grants: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        joins: dict[str, list[tuple[Step, str | None]]] = {e.arn: [] for e in everyone}
        new_role_admin: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        for i, e in enumerate(everyone):
            self.progress("admin checks", i, len(everyone))
            self.is_admin(e)
        # An admin needs no escalation; an incomplete principal is unknown.
        callers = [e for e in everyone if not e.incomplete and not self._admin.get(e.arn + "|")]
        self.progress("escalation steps", 0, len(callers))
        for arn, kind, step, group in self.steps_for(callers, techniques):
            if step.target == "a new role":
                # A role the caller creates, writes the policy of and assumes: admin at once.
                new_role_admin[arn].append(step)
            elif kind == "join-group":
                joins[arn].append((step, group))
            else:
                {"become": become, "grant": grants}[kind][arn].append(step)
        # Role assumption along trust policies.
        for role in everyone:
            if role.kind != "role":
                continue
            for src, r in self.finder.assume_edges_into(role, Constraints()):
                if r.outcome == "possible":
                    become[src.arn].append(
                        Step(assume_action(src), src.arn, role.arn, [f"{assume_action(src)} on {role.arn}"])
                    )
        results = []
        for i, e in enumerate(entities):
            self.progress("paths", i, len(entities))
            results.append(self._paths(e, become, grants, joins, new_role_admin))
        return results

    def _paths(
        self,
        e: Entity,
        become: dict[str, list[Step]],
        grants: dict[str, list[Step]],
        joins: dict[str, list[tuple[Step, str | None]]],
        new_role_admin: dict[str, list[Step]],
    ) -> PrincipalPrivesc:
        chain = self._become_chains(e, become)
        paths: list[list[Step]] = []
        unknown = []
        for arn, steps in chain.items():
            adm = self._admin.get(arn + "|")
            if adm:
                paths.append(steps)
            elif adm is None:
                unknown.append(f"{arn}: {self._reasons.get(arn + '|', 'unknown')}")
        for arn, steps in chain.items():
            paths += self._escalations(chain, arn, grants.get(arn, []), joins.get(arn, []))
            for st in new_role_admin.get(arn, []):
                paths.append(steps + [st])
        # A chain that rests on no precondition first: it is what makes the answer "proved".
        paths.sort(key=lambda p: (any(s.assumes for s in p), len(p)))
        if paths:
            return PrincipalPrivesc(e.arn, True, paths[:5])
        if unknown:
            return PrincipalPrivesc(e.arn, None, [], reason="; ".join(unknown[:3]))
        return PrincipalPrivesc(e.arn, False)

    def _become_chains(self, e: Entity, become: dict[str, list[Step]]) -> dict[str, list[Step]]:
        """Breadth-first over "become" steps: the shortest chain to every identity."""
        chain: dict[str, list[Step]] = {e.arn: []}
        queue = deque([e.arn])
        while queue:
            cur = queue.popleft()
            for st in become.get(cur, []):
                if st.target not in chain and st.target in self.snap.principals:
                    chain[st.target] = chain[cur] + [st]
                    queue.append(st.target)
        return chain

    def _escalations(
        self,
        chain: dict[str, list[Step]],
        arn: str,
        grants: list[Step],
        joins: list[tuple[Step, str | None]],
    ) -> list[list[Step]]:
        """Paths through `arn`, an identity the origin can become: its grants and group joins that
        end at an admin."""
        steps = chain[arn]
        paths = []
        for g in grants:
            # Grant to someone the origin can become (itself included), then become them.
            if g.target == arn:  # granted to itself
                paths.append(steps + [g])
            elif g.target in chain:
                paths.append(steps + [g] + chain[g.target])
            elif g.target in self.snap.groups:  # a group policy reaches its members
                members = [u for u in chain if g.target in self.snap.principals[u].groups]
                if members:
                    paths.append(steps + [g] + chain[members[0]])
        for j, group in joins:
            # Add a user the origin can become to a group whose policies make it admin.
            grp = self.snap.groups.get(group) if group else None
            if j.target in chain and grp and self._admin_group(self.snap.principals[j.target], grp):
                paths.append(steps + [j] + chain[j.target])
        return paths

    def _admin_group(self, member: Entity, grp) -> bool:
        if member.kind != "user":
            return False
        return bool(
            self.is_admin(
                member,
                extra_policies=tuple(grp.policies)
                + tuple(
                    self.snap.managed_policies[m] for m in grp.managed_policy_arns if m in self.snap.managed_policies
                ),
            )
        )


def _precondition(t: Technique, values: dict[str, str]) -> str | None:
    """The technique's precondition with its placeholders named: the target, its policy or group."""
    if t.assumes is None or t.snapshot_shows_precondition:
        return None
    names = {
        "target": "the target",
        "caller": "the caller",
        "account": values.get("account", "the account"),
        "policy": f"the policy {values['policy']}" if "policy" in values else "the policy",
        "group": f"the group {values['group']}" if "group" in values else "the group",
    }
    return re.sub(r"\{([a-z]+)\}", lambda m: names.get(m.group(1), m.group(1)), t.assumes)


def _may_do(e: Entity, action: str) -> bool:
    return may_allow_identity(e, action, "*")


def _trusts_service(role: Entity, service: str) -> bool:
    if role.trust_policy is None:
        return False
    for st in role.trust_policy.policy.Statement:
        if st.Effect == "Allow" and st.Principal is not None:
            if any(k == "Service" and v == service for k, v in st.Principal.entries()):
                return True
    return False
