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

import bisect
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import caller_class, caller_class_on_pattern
from reasoner.account.hops import ASSUME_ACTION, Constraints, HopCheck, Outcome, assume_action, hop_cache_key
from reasoner.account.model import Entity, Snapshot
from reasoner.account.parallel import search_groups
from reasoner.account.paths import PathFinder
from reasoner.account.preconditions import check_precondition
from reasoner.account.prefilters import allowed_by_patterns, identity_allow_patterns, may_allow_identity
from reasoner.account.session import plain_time_context
from reasoner.account.techniques import Technique, fill
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.coverage import covers_action
from reasoner.search.can import Query, is_pattern


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


class Edges(NamedTuple):
    """The escalation graph of a snapshot, by the ARN of the principal that acts."""

    become: dict[str, list[Step]]
    grants: dict[str, list[Step]]
    joins: dict[str, list[tuple[Step, str | None]]]  # with the group joined
    new_role_admin: dict[str, list[Step]]  # a role it creates and makes admin


@lru_cache(maxsize=1)
def _iam_actions() -> tuple[str, ...]:
    return tuple(a.lower() for a in catalogue.expand("iam:*"))


class Privesc:
    # A grant bounded by existing policy versions counts only when it makes the target admin;
    # path searches (escalation.py) turn this off: a version may still allow a narrower request.
    only_admin_grants = True
    # The witness hops of every usable technique's checks in the authorizer's cache; privesc
    # needs the outcomes only (path searches, escalation.py, turn this on).
    need_hops = False

    def __init__(
        self,
        snap: Snapshot,
        progress: Callable[[str, int, int], None] | None = None,
        now: dt.datetime | None = None,
        finder: PathFinder | None = None,
        by_class: bool = True,
    ):
        self.snap = snap
        self.finder = finder or PathFinder(snap)  # a PathFinder's own, to share its hop caches
        self.auth: Authorizer = self.finder.auth
        self.progress = progress or (lambda what, done, total: None)
        self.now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self.auth.now = self.now  # escalation steps are requests made from now on, as the admin check
        self._admin: dict[str, bool | None] = {}
        self._reasons: dict[str, str] = {}
        self._target_index: dict[tuple, list[Entity]] | None = None
        self._become_graph: tuple[Edges, _BecomeGraph] | None = None
        self._may: dict[tuple[str, str], bool] = {}
        self._req_class: dict[tuple, tuple | None] = {}
        self.merged_pairs = 0  # (caller, technique) pairs answered by their class's representative
        # One request per resource class (classes.py); False asks every check on its own (the
        # reference the tests compare with).
        self.by_class = by_class

    # -- admin-equivalence --------------------------------------------------------------------
    def is_admin(self, e: Entity, extra_policies=()) -> bool | None:
        self.admin_checks([e], extra_policies)
        return self._admin[_admin_key(e, extra_policies)]

    def admin_checks(self, entities: list[Entity], extra_policies=()) -> None:
        """Whether each entity is admin-equivalent (True, False, None: unknown), into the cache; the
        searches left over the search workers (parallel.search_groups)."""
        todo: list[tuple[str, Query]] = []
        for e in entities:
            key = _admin_key(e, extra_policies)
            if key in self._admin:
                continue
            q = self._admin_query(e, key, extra_policies)
            if isinstance(q, Query):
                todo.append((key, q))
        for i, a in search_groups([[(i, q)] for i, (_, q) in enumerate(todo)]):
            key = todo[i][0]
            self.auth.stats.searches += 1
            answer = a if isinstance(a, str) else a.answer
            value = {"impossible": True, "possible": False}.get(answer)
            if value is None:
                self._reasons[key] = a if isinstance(a, str) else a.reason or "the admin check was not complete"
            self._admin[key] = value

    def _admin_query(self, e: Entity, key: str, extra_policies) -> Query | None:
        """The search that proves the entity admin-equivalent (no context denies an iam:* request),
        or None when the answer is known without one (then cached)."""
        if e.incomplete:
            self._reasons[key] = e.incomplete[0]
            self._admin[key] = None
            return None
        policies = list(e.identity_policies) + list(extra_policies)
        # Prefilter (exact for the action dimension): every IAM action must be covered by some
        # Allow statement, else that action is implicitly denied.
        allows = [st for p in policies for st in p.policy.Statement if st.Effect == "Allow"]
        if not all(any(covers_action(st, a) for st in allows) for a in _iam_actions()):
            self._admin[key] = False
            return None
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
        return Query(
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

    # -- techniques ---------------------------------------------------------------------------
    def _targets(self, account: str, kind: str, service: str | None) -> list[Entity]:
        """The principals of one account and kind (trusting `service`, for a role), in snapshot
        order: indexed once, not scanned per caller."""
        if self._target_index is None:
            index: dict[tuple, list[Entity]] = {}
            for e in self.snap.principals.values():
                index.setdefault((e.account, e.kind, None), []).append(e)
                for svc in _trusted_services(e):
                    index.setdefault((e.account, e.kind, svc), []).append(e)
            self._target_index = index
        return self._target_index.get((account, kind, service), [])

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
        needs = _placeholders(t)
        for e in self._targets(caller.account, t.target, t.trusts_service):
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
        return [(step.source, plan.technique.kind, step, plan.group) for plan, step in self.usable(callers, techniques)]

    def usable(self, callers: list[Entity], techniques: list[Technique]) -> list[tuple[TechniquePlan, Step]]:
        """Every technique bound to a target that a caller can use, with its step (the step names
        the caller); the plan's checks are all possible (their witness hops are in the authorizer's
        cache). A caller in a class of callers (below) gets its class representative's plans: the
        plan's caller is the representative, the step's source the caller (whose own hops
        EscalationEdges asks for when it needs them).

        The requirements that do not depend on the target are checked first, once per caller and
        technique; only the techniques they leave open are bound to their targets, whose own
        checks are asked one request per resource class (classes.py)."""
        opened = [(caller, t) for caller in callers for t in techniques if self._may_use(caller, t)]
        # One caller per class asks (below); its plans are every member's.
        rep_of: dict[tuple[str, str], Entity] = {}
        grouped = self.by_class
        asked = self._caller_classes(opened, rep_of) if grouped else opened
        shared = {(c.arn, t.id): self._shared_checks(c, t) for c, t in asked}
        # Outcomes by check object (the plans hold them): each key computed once.
        outcomes = self._outcomes([c for checks in shared.values() for c in checks])
        plans = [
            plan
            for caller, t in asked
            if all(outcomes[id(c)] == "possible" for c in shared[(caller.arn, t.id)])
            for plan in self._plans(caller, t, shared[(caller.arn, t.id)], skip_self=not grouped)
        ]
        outcomes.update(self._outcomes([c for plan in plans for c in plan.specific]))
        vias: dict[int, str] = {}
        found: dict[tuple[str, str], list[tuple[TechniquePlan, list[str]]]] = {}
        for plan in plans:
            if all(outcomes[id(c)] == "possible" for c in plan.specific):
                via = [vias.get(id(c)) or vias.setdefault(id(c), _via(c)) for c in plan.shared + plan.specific]
                found.setdefault((plan.caller.arn, plan.technique.id), []).append((plan, via))
        # Every caller's steps in the order of its own pairs, its representative's plans in theirs.
        out: list[tuple[TechniquePlan, Step]] = []
        for who, t in opened:
            rep = rep_of.get((who.arn, t.id), who)
            for plan, via in found.get((rep.arn, t.id), []):
                if t.kind == "become" and plan.target == who.arn:
                    continue  # nobody becomes itself
                target = plan.target if not t.creates_target else "a new role"
                out.append((plan, Step(t.id, who.arn, target, via, plan.assumes)))
        return out

    def _caller_classes(
        self, opened: list[tuple[Entity, Technique]], rep_of: dict[tuple[str, str], Entity]
    ) -> list[tuple[Entity, Technique]]:
        """The (caller, technique) pairs of one representative per caller class of the technique,
        filling `rep_of` with each member's representative. Callers of one class
        get the same decision on every request the technique makes, whatever the target
        (classes.caller_class_on_pattern), so the same usable bindings; a caller with no class
        is its own."""
        reps: dict[tuple, Entity] = {}
        out = []
        for caller, t in opened:
            key = self._technique_class(caller, t)
            rep = reps.setdefault(key, caller) if key is not None else caller
            if rep is caller:
                out.append((caller, t))
            else:
                rep_of[(caller.arn, t.id)] = rep
        self.merged_pairs += len(rep_of)
        return out

    def _technique_class(self, caller: Entity, t: Technique) -> tuple | None:
        """The caller's class for every request of the technique (None: a class of its own). A
        target-bound request is asked on the pattern of every target ('*' for the target, group or
        policy): its class holds for each target only when no resource policy applies there, so a
        request to STS (a trust policy per target role) has no class."""
        parts = []
        for r in t.requires:
            if r.self_granted:
                continue
            if "caller" in r.placeholders():
                return None  # its request names the caller: each caller's own
            bound = bool(r.placeholders() & _BOUND)
            key = (caller.arn, r.action, r.resource, tuple(r.context.items()))
            if key not in self._req_class:
                self._req_class[key] = self._requirement_class(caller, r, bound)
            cls = self._req_class[key]
            if cls is None:
                return None
            parts.append(cls)
        return (t.id, caller.account, tuple(parts))

    def _requirement_class(self, caller: Entity, r, bound: bool) -> tuple | None:
        if bound and r.action.lower().startswith("sts:"):
            return None
        values = {"caller": caller.arn, "account": caller.account}
        if bound:
            values.update({p: "*" for p in _BOUND})
        try:
            q = self.auth.query(_check(caller, r, values))
        except InputError:
            return None
        return caller_class_on_pattern(q) if bound else caller_class(q)

    def _may_use(self, caller: Entity, t: Technique) -> bool:
        """Sound prefilters: the technique has requests the caller makes, every one of them has
        some Allow statement, and it has a target in the caller's account."""
        reqs = [r for r in t.requires if not r.self_granted]
        # Role assumption along trust policies is its own edge (PathFinder).
        if [r.action for r in t.requires] == [ASSUME_ACTION] or not reqs:
            return False
        if not all(self._may_do(caller, r.action) for r in reqs):
            return False
        return t.creates_target or bool(self._targets(caller.account, t.target, t.trusts_service))

    def _may_do(self, caller: Entity, action: str) -> bool:
        """Cheap sound prefilter: some Allow statement of the caller covers the action (cached:
        the techniques share their actions)."""
        key = (caller.arn, action)
        hit = self._may.get(key)
        if hit is None:
            hit = self._may[key] = _may_do(caller, action)
        return hit

    def _shared_checks(self, caller: Entity, t: Technique) -> list[HopCheck]:
        """The checks of the requirements that do not depend on the target, its group or policy."""
        values = {"caller": caller.arn, "account": caller.account}
        return [_check(caller, r, values) for r in t.requires if not r.self_granted and not r.placeholders() & _BOUND]

    def _plans(
        self, caller: Entity, t: Technique, shared: list[HopCheck], skip_self: bool = True
    ) -> list[TechniquePlan]:
        """The technique bound to each target the caller may use it on, with the checks it needs
        (with `skip_self` off, the caller itself too: a member of its class may become it)."""
        specific_reqs = [r for r in t.requires if not r.self_granted and r.placeholders() & _BOUND]
        # A request on the bound resource itself no Allow statement of the caller can match, with
        # no resource policy there, is impossible (prefilters.may_allow_query): the binding is
        # never usable, and is not built. Not for sts:AssumeRole*: the role's trust policy is its
        # resource policy (Authorizer._resource_layer) and, naming the caller, allows on its own.
        needed = [
            (r.resource[1:-1], identity_allow_patterns(caller, r.action))
            for r in specific_reqs
            if r.resource in _WHOLE_BOUND and not r.action.lower().startswith("sts:assumerole")
        ]
        needed = [(name, pats) for name, pats in needed if pats is not None]
        plans = []
        for target, group, values in self._bindings(t, caller):
            if skip_self and target == caller.arn and t.kind == "become":
                continue
            if needed and not all(
                is_pattern(values[name])  # a role the caller creates: any name
                or allowed_by_patterns(pats, values[name])
                or self.snap.resource_policy_for(values[name]) is not None
                for name, pats in needed
            ):
                continue
            pre = check_precondition(self.snap, t, values, self.is_admin)
            if pre.state == "fails" or (pre.state == "not-admin" and self.only_admin_grants):
                continue  # visible in the snapshot and false: the technique cannot work
            holds = pre.state == "holds" and t.snapshot_check_covers == "all"
            specific = [_check(caller, r, values) for r in specific_reqs]
            assumes = None if holds else _precondition(t, values)
            plans.append(TechniquePlan(caller, t, target, group, shared, specific, assumes))
        return plans

    def _outcomes(self, checks: list[HopCheck]) -> dict[int, Outcome]:
        """Outcome per hop check object (distinct checks asked once, in one call of the authorizer)."""
        keys = [hop_cache_key(c) for c in checks]
        todo: dict[tuple, HopCheck] = {}
        for k, c in zip(keys, checks):
            todo.setdefault(k, c)
        distinct = list(todo.values())
        found = (
            self.auth.check_by_class(distinct, hops=self.need_hops) if self.by_class else self.auth.check_many(distinct)
        )
        by_key = {k: r.outcome for k, r in zip(todo, found)}
        return {id(c): by_key[k] for k, c in zip(keys, checks)}

    def run(self, start: str | None = None) -> list[PrincipalPrivesc]:
        entities = [self.snap.entity(start)] if start else sorted(self.snap.principals.values(), key=lambda e: e.arn)
        edges = self.edges()
        results = []
        for i, e in enumerate(entities):
            self.progress("paths", i, len(entities))
            results.append(self._paths(e, edges))
        return results

    def edges(self) -> Edges:
        """Edges out of every principal that may be on a chain (the whole account: chains can
        pass through anyone)."""
        from reasoner.account.techniques import load_techniques

        techniques = load_techniques().techniques
        everyone = sorted(self.snap.principals.values(), key=lambda e: e.arn)
        become: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        grants: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        joins: dict[str, list[tuple[Step, str | None]]] = {e.arn: [] for e in everyone}
        new_role_admin: dict[str, list[Step]] = {e.arn: [] for e in everyone}
        self.progress("admin checks", 0, len(everyone))
        self.admin_checks(everyone)
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
        # Role assumption along trust policies (every role's edges in one batch).
        self.progress("role assumption", 0, len(everyone))
        roles = [role for role in everyone if role.kind == "role"]
        into = self.finder.trust.assume_edges_into_many(roles, Constraints(), by_class=self.by_class)
        for role in roles:
            for src, r in into[role.arn]:
                if r.outcome == "possible":
                    become[src.arn].append(
                        Step(assume_action(src), src.arn, role.arn, [f"{assume_action(src)} on {role.arn}"])
                    )
        # A breadth-first search takes the first step from one identity to another; the others
        # (more techniques to the same target) are never on a chain shown.
        return Edges({arn: _first_per_target(steps) for arn, steps in become.items()}, grants, joins, new_role_admin)

    def _paths(self, e: Entity, edges: Edges) -> PrincipalPrivesc:
        graph = self._graph(edges)
        tree = _BecomeTree(e.arn, graph)
        # Level by level: once every identity within `expanded + 1` steps is known, so is every
        # path of that length or shorter, in the order a full search finds them; five of them
        # that rest on no precondition are the answer, and the search stops there. From a
        # principal that no path of steps without a precondition leads to an end of one
        # (_BecomeGraph.proved_from), every path rests on one: any five shortest are the answer.
        proved = e.arn in graph.proved_from
        while not tree.done and self._count_upto(tree, edges, graph, tree.expanded + 1, proved) < 5:
            tree.expand()
        # A chain that rests on no precondition first: it is what makes the answer "proved".
        best, unknown = self._candidates(tree, edges, graph, None if tree.done else tree.expanded + 1)
        if best:
            return PrincipalPrivesc(e.arn, True, [tree.build(*c[3]) for c in best])
        if unknown:
            return PrincipalPrivesc(e.arn, None, [], reason="; ".join(unknown[:3]))
        return PrincipalPrivesc(e.arn, False)

    def _graph(self, edges: Edges) -> _BecomeGraph:
        if self._become_graph is None or self._become_graph[0] is not edges:
            self._become_graph = (edges, _BecomeGraph(edges, self.snap.principals, self._admin))
        return self._become_graph[1]

    def _count_upto(self, tree: _BecomeTree, edges: Edges, graph: _BecomeGraph, limit: int, proved: bool) -> int:
        """How many paths of at most `limit` steps the identities found so far give (only those
        resting on no precondition when `proved`), up to five; group grants and joins are not
        counted (fewer paths counted only delays the stop)."""
        n = 0
        for arn in tree.ends_found():
            d = tree.depth[arn]
            if d > limit or (proved and tree.assumes[arn]):
                continue
            n += arn in graph.admins
            if d == limit:
                continue
            for st in edges.grants.get(arn, []) + edges.new_role_admin.get(arn, []):
                if proved and st.assumes:
                    continue
                tail = 0 if st.target in (arn, "a new role") else tree.depth.get(st.target)
                if tail is not None and d + 1 + tail <= limit and not (proved and tree.assumes.get(st.target)):
                    n += 1
            if n >= 5:
                break
        return n

    def _candidates(
        self, tree: _BecomeTree, edges: Edges, graph: _BecomeGraph, limit: int | None
    ) -> tuple[list[tuple[bool, int, int, tuple]], list[str]]:
        """Candidate paths through the identities found so far, as (rests on a precondition,
        length, order found, how to build it), and the unknown admin checks among them; with a
        `limit`, only the paths of at most that many steps. Only the five first by
        (precondition, length, order) are ever built."""
        top = _Best(5)
        unknown = []
        # The identities that end a path or are unknown, in the order found.
        ends = tree.ends_found()
        for arn in ends:
            adm = self._admin.get(arn + "|")
            if adm:
                top.add(tree.assumes[arn], tree.depth[arn], (arn,))
            elif adm is None:
                unknown.append(f"{arn}: {self._reasons.get(arn + '|', 'unknown')}")
        for arn in ends:
            d, flag = tree.depth[arn], tree.assumes[arn]
            # Every path through `arn` is at least as long and as conditional as this.
            if (limit is not None and d >= limit) or not top.may_take(flag, d + 1):
                continue
            for step, tail in self._escalations(tree, arn, edges.grants.get(arn, []), edges.joins.get(arn, [])):
                length = d + 1 + (tree.depth[tail] if tail is not None else 0)
                if limit is None or length <= limit:
                    rests = flag or bool(step.assumes) or (tail is not None and tree.assumes[tail])
                    top.add(rests, length, (arn, step, tail))
            for st in edges.new_role_admin.get(arn, []):
                top.add(flag or bool(st.assumes), d + 1, (arn, st, None))
        return top.items, unknown

    def _escalations(
        self,
        tree: _BecomeTree,
        arn: str,
        grants: list[Step],
        joins: list[tuple[Step, str | None]],
    ) -> list[tuple[Step, str | None]]:
        """Paths through `arn`, an identity the origin can become: its grants and group joins that
        end at an admin, as (the step, the identity become after it, or None)."""
        paths: list[tuple[Step, str | None]] = []
        for g in grants:
            # Grant to someone the origin can become (itself included), then become them.
            if g.target == arn:  # granted to itself
                paths.append((g, None))
            elif g.target in tree.depth:
                paths.append((g, g.target))
            elif g.target in self.snap.groups:  # a group policy reaches its members
                member = tree.first_member(g.target)
                if member is not None:
                    paths.append((g, member))
        for j, group in joins:
            # Add a user the origin can become to a group whose policies make it admin.
            grp = self.snap.groups.get(group) if group else None
            if j.target in tree.depth and grp and self._admin_group(self.snap.principals[j.target], grp):
                paths.append((j, j.target))
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


class _Best:
    """The first `n` candidate paths by (rests on a precondition, length, order added)."""

    def __init__(self, n: int):
        self.n = n
        self.items: list[tuple[bool, int, int, tuple]] = []
        self.added = 0

    def may_take(self, flag: bool, length: int) -> bool:
        """Can a path of at least this length and precondition still be among the first?"""
        return len(self.items) < self.n or (flag, length) < self.items[-1][:2]

    def add(self, flag: bool, length: int, how: tuple) -> None:
        self.added += 1
        if self.may_take(flag, length):
            bisect.insort(self.items, (flag, length, self.added, how))
            del self.items[self.n :]


class _BecomeGraph:
    """The "become" steps of a snapshot for breadth-first searches from every principal: per
    identity the first step to each target (in order) and the set of targets, and the identities
    that end a path (admins, unknown admins, grants, group joins, new roles)."""

    def __init__(self, edges: Edges, principals: dict[str, Entity], admin: dict[str, bool | None]):
        self.principals = principals
        self.steps: dict[str, dict[str, Step]] = {}
        for arn, steps in edges.become.items():
            first: dict[str, Step] = {}
            for st in steps:
                if st.target in principals:
                    first.setdefault(st.target, st)
            if first:
                self.steps[arn] = first
        self.targets = {arn: frozenset(first) for arn, first in self.steps.items()}
        self.position = {arn: {t: i for i, t in enumerate(first)} for arn, first in self.steps.items()}
        self.ends = {a for a in principals if admin.get(a + "|") is not False}
        self.ends |= {a for d in (edges.grants, edges.joins, edges.new_role_admin) for a, v in d.items() if v}
        self.admins = {a for a in self.ends if admin.get(a + "|")}
        self.proved_from = self._proved_from(edges, admin)

    def _proved_from(self, edges: Edges, admin: dict[str, bool | None]) -> set[str]:
        """Identities from which steps without a precondition lead to an admin or to a step
        without one that ends a path (a grant, a group join, a new role): the only origins that
        may have a path resting on no precondition (an over-approximation: breadth-first chains
        are a subset of these steps)."""
        goals = {a for a in self.principals if admin.get(a + "|")}
        for d in (edges.grants, edges.new_role_admin):
            goals |= {a for a, steps in d.items() if any(not st.assumes for st in steps)}
        goals |= {a for a, js in edges.joins.items() if any(not j.assumes for j, _ in js)}
        back: dict[str, list[str]] = {}
        for src, first in self.steps.items():
            for t, st in first.items():
                if not st.assumes:
                    back.setdefault(t, []).append(src)
        out = set(goals)
        todo = list(goals)
        while todo:
            for src in back.get(todo.pop(), []):
                if src not in out:
                    out.add(src)
                    todo.append(src)
        return out


class _BecomeTree:
    """Breadth-first over "become" steps from one principal, one level at a time: the shortest
    chain to every identity, kept as parent links (a chain is built only for the paths reported)."""

    def __init__(self, origin: str, graph: _BecomeGraph):
        self.graph = graph
        self.principals = graph.principals
        self.parent: dict[str, tuple[str, Step] | None] = {origin: None}
        self.depth = {origin: 0}
        self.position = {origin: 0}  # where in `order`
        self.seen = {origin}
        self.assumes = {origin: False}  # some step of the chain rests on a precondition
        self.order = [origin]
        self.expanded = -1  # every identity within expanded + 1 steps is in `order`
        self._next = 0  # where the first identity not expanded yet is in `order`
        self._members: dict[str, str] | None = None
        self._ends: list[str] | None = None

    @property
    def done(self) -> bool:
        return self._next == len(self.order)

    def ends_found(self) -> list[str]:
        """The identities found that end a path or are unknown (_BecomeGraph.ends), in order."""
        if self._ends is None:
            self._ends = sorted((a for a in self.graph.ends if a in self.seen), key=self.position.__getitem__)
        return self._ends

    def expand(self) -> None:
        """Follow the steps out of every identity `expanded + 1` steps away (new targets found
        by set difference, then taken in the order of the steps)."""
        self.expanded += 1
        g = self.graph
        while self._next < len(self.order) and self.depth[self.order[self._next]] == self.expanded:
            cur = self.order[self._next]
            self._next += 1
            targets = g.targets.get(cur)
            if not targets:
                continue
            new = targets - self.seen
            if not new:
                continue
            steps = g.steps[cur]
            found = steps if len(new) == len(targets) else sorted(new, key=g.position[cur].__getitem__)
            for t in found:
                st = steps[t]
                self.parent[t] = (cur, st)
                self.depth[t] = self.expanded + 1
                self.assumes[t] = self.assumes[cur] or bool(st.assumes)
                self.position[t] = len(self.order)
                self.order.append(t)
            self.seen |= new
        self._members = None
        self._ends = None

    def chain(self, arn: str) -> list[Step]:
        out = []
        link = self.parent[arn]
        while link is not None:
            out.append(link[1])
            link = self.parent[link[0]]
        return out[::-1]

    def build(self, arn: str, step: Step | None = None, tail: str | None = None) -> list[Step]:
        """The chain to `arn`, then `step`, then the chain to `tail`."""
        return self.chain(arn) + ([step] if step else []) + (self.chain(tail) if tail else [])

    def first_member(self, group: str) -> str | None:
        """The first identity reached (breadth-first order) that is a member of `group`."""
        if self._members is None:
            self._members = {}
            for arn in self.order:
                for g in self.principals[arn].groups:
                    self._members.setdefault(g, arn)
        return self._members.get(group)


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


def _admin_key(e: Entity, extra_policies) -> str:
    return e.arn + "|" + ",".join(p.name for p in extra_policies)


def _first_per_target(steps: list[Step]) -> list[Step]:
    first: dict[str, Step] = {}
    for st in steps:
        first.setdefault(st.target, st)
    return list(first.values())


def _may_do(e: Entity, action: str) -> bool:
    return may_allow_identity(e, action, "*")


# Placeholders that change with the target: a requirement naming one is checked per binding.
_BOUND = frozenset({"target", "group", "policy"})
_WHOLE_BOUND = frozenset("{" + p + "}" for p in _BOUND)  # a resource that is the bound value itself


def _via(c: HopCheck) -> str:
    """A step's permission as shown: the action on the resource, with the context it fixes."""
    return f"{c.action} on {c.resource}" + (f" with {dict(c.constraints.where)}" if c.constraints.where else "")


def _check(caller: Entity, r, values: dict[str, str]) -> HopCheck:
    """The hop check of requirement `r` bound to `values` (Technique.bind, without the models)."""
    return HopCheck(
        caller,
        r.action,
        fill(r.resource, values),
        constraints=Constraints(where=tuple((k, fill(v, values)) for k, v in r.context.items())),
        target=True,
    )


# Keyed by the technique object (the entry holds it, so its id is not reused while it lives).
_PLACEHOLDERS: dict[int, tuple[Technique, set[str]]] = {}


def _placeholders(t: Technique) -> set[str]:
    hit = _PLACEHOLDERS.get(id(t))
    if hit is None:
        hit = _PLACEHOLDERS[id(t)] = (t, t.placeholders())
    return hit[1]


def _trusted_services(role: Entity) -> set[str]:
    """The service principals a role's trust policy names in an Allow statement."""
    if role.trust_policy is None:
        return set()
    return {
        v
        for st in role.trust_policy.policy.Statement
        if st.Effect == "Allow" and st.Principal is not None
        for k, v in st.Principal.entries()
        if k == "Service"
    }
