"""Request paths through an account: `who-can` and `reach`.

A path is principal -> (sts:AssumeRole)* -> first call -> service hop* -> target action
(DESIGN: paths). Every hop is one request authorised by the full evaluation (`can` over the
hop's request space, on top of the decision encodings), with what the hop sets:

* the first call comes from the caller's own network: aws:SourceVpce / SourceIp / SourceVpc are
  free, CalledVia is empty and aws:ViaAWSService false;
* a service hop (forward access session) appends the calling service to aws:CalledVia,
  ViaAWSService is true, and aws:SourceVpce / SourceVpc / VpcSourceIp are absent; aws:SourceIp
  is left free there, since the docs do not say it is absent (reasoner/data/service_chains.json,
  "hop_rules", cites the AWS docs for each key);
* a role session carries the role's policies, boundary and tags (aws:PrincipalTag/*); tags the
  role does not have are absent.

When the snapshot lists VPC endpoints, a first call comes from outside every endpoint or through
one of the listed endpoints of the action's service, and then meets that endpoint's policy.
Without endpoints in the snapshot aws:SourceVpce is searched like any other key.

Exactness: a hop is "possible" only with a witness the concrete decider allows; "impossible"
only when the search was complete; anything else makes the answer "unknown" with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from reasoner.account.authorizer import Authorizer
from reasoner.account.escalation import Escalation, EscalationEdges, after_grant
from reasoner.account.hops import Constraints, Hop, HopCheck, HopResult, Outcome, Stats, assume_action
from reasoner.account.model import Entity, Snapshot
from reasoner.account.outside import OutsideAnswer, who_can_outside
from reasoner.account.routes import Route, RouteFinder
from reasoner.account.trust import TrustGraph
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.search.can import is_pattern

# Path questions are asked with these; callers import them from here.
__all__ = ["Authorizer", "Constraints", "Path", "PathFinder", "PrincipalAnswer", "ReachAnswer", "WhoCanAnswer"]


@dataclass
class Path:
    principal: str
    hops: list[Hop]

    def to_json(self) -> dict:
        return {"principal": self.principal, "length": len(self.hops), "hops": [h.to_json() for h in self.hops]}


@dataclass
class PrincipalAnswer:
    principal: str
    outcome: Outcome
    path: Path | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        out: dict = {"principal": self.principal, "answer": self.outcome}
        if self.path:
            out["path"] = self.path.to_json()
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class WhoCanAnswer:
    action: str
    resource: str
    principals: list[PrincipalAnswer]
    unknown: list[PrincipalAnswer]
    stats: Stats = field(default_factory=Stats)
    outside: OutsideAnswer | None = None  # principals outside the snapshot (reasoner.account.outside)

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "resource": self.resource,
            "principals": [p.to_json() for p in self.principals],
            "unknown": [p.to_json() for p in self.unknown],
            "stats": {
                "searches": self.stats.searches,
                "plain_decisions": self.stats.plain_decisions,
                "seconds": round(self.stats.seconds, 3),
            },
            **({"outside": self.outside.to_json()} if self.outside is not None else {}),
        }


class PathFinder:
    """who-can / reach over one snapshot; one Authorizer (and its caches) for every query."""

    def __init__(self, snap: Snapshot, progress: Callable[[str, int, int], None] | None = None):
        self.snap = snap
        self.auth = Authorizer(snap)
        self.progress = progress or (lambda what, done, total: None)
        self.route_finder = RouteFinder(snap, self.auth)
        self.trust = TrustGraph(snap, self.auth)
        self.escalations = EscalationEdges(snap, self.auth, self)
        self._granted: dict[tuple, list[Hop] | None] = {}
        # The principals as a grant leaves them, and one authorizer per grant (the policies it
        # gives, by name), kept across questions: its answers are the granted principals' and are
        # never mixed with their own (self.auth).
        self._granted_entities: dict[tuple, Entity] = {}
        self._granted_auths: dict[tuple | None, Authorizer] = {}
        self._forward: dict[tuple, tuple[dict[str, list[Hop]], list[str], list[str]]] = {}
        self._assumable: dict[str, list[Entity]] | None = None

    def routes(
        self, who_list: list[Entity], action: str, resource: str, cons: Constraints, *, all_routes: bool = False
    ) -> dict[str, tuple[list[Route], list[str]]]:
        """arn -> (routes found shortest first, reasons for unknown); see RouteFinder.routes."""
        return self.route_finder.routes(who_list, action, resource, cons, all_routes=all_routes)

    def assume_candidates(self, role: Entity) -> list[Entity]:
        return self.trust.assume_candidates(role)

    def assume_edges_into(self, role: Entity, cons: Constraints) -> list[tuple[Entity, HopResult]]:
        return self.trust.assume_edges_into(role, cons)

    def who_can(
        self, action: str, resource: str, cons: Constraints = Constraints(), *, outside: bool = False
    ) -> WhoCanAnswer:
        _check_action(action)
        entities = list(self.snap.principals.values())
        self.progress("direct", 0, len(entities))
        direct = self.routes(entities, action, resource, cons)
        best: dict[str, Path] = {}
        unknown: dict[str, str] = {}
        for arn, (routes, reasons) in direct.items():
            if routes:
                best[arn] = Path(arn, min(routes, key=lambda r: len(r.hops)).hops)
            elif reasons:
                unknown[arn] = reasons[0]
        # Backward search over role assumption: whoever can become a role in `best` can too.
        # Level by level; a principal is checked only when the edge would give it a shorter path,
        # and one edge per principal is enough (the rest are not searched).
        frontier = [a for a in best if self.snap.principals[a].kind == "role"]
        while True:
            self._assume_backward(frontier, best, unknown, len(entities), cons)
            # Escalation edges (escalation.py): a principal that becomes one in `best`, or grants
            # itself everything and then makes the request, can too.
            frontier = self._escalate_backward(best, unknown, action, resource, cons)
            if not frontier:
                break
        self._unknown_through_roles(best, unknown, cons)
        found = sorted(best.values(), key=lambda p: (len(p.hops), p.principal))
        # Principals outside the snapshot: through the resource policy, or assuming a role of `best`.
        roles = {a: p.hops for a, p in best.items()} if outside else {}
        return WhoCanAnswer(
            action,
            resource,
            [PrincipalAnswer(p.principal, "possible", p) for p in found],
            [PrincipalAnswer(a, "unknown", reason=r) for a, r in sorted(unknown.items())],
            self.auth.stats,
            who_can_outside(self.snap, action, resource, cons, roles) if outside else None,
        )

    def _assume_backward(
        self, frontier: list[str], best: dict[str, Path], unknown: dict[str, str], total: int, cons: Constraints
    ) -> None:
        """Whoever can assume a role in `best` can do what it does (level by level)."""
        while frontier:
            self.progress("assume", len(best), total)
            checks: list[HopCheck] = []
            for role_arn in frontier:
                length = 1 + len(best[role_arn].hops)
                for e in self.assume_candidates(self.snap.principals[role_arn]):
                    if e.arn in best and len(best[e.arn].hops) <= length:
                        continue
                    checks += self.auth.first_calls(e, assume_action(e), role_arn, cons)
            nxt = []
            for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
                if r is None:
                    continue
                e = c.who
                if r.outcome == "possible":
                    cand = Path(e.arn, [r.possible_hop] + best[c.resource].hops)
                    if e.arn not in best or len(cand.hops) < len(best[e.arn].hops):
                        best[e.arn] = cand
                        unknown.pop(e.arn, None)
                        if e.kind == "role":
                            nxt.append(e.arn)
                elif r.outcome == "unknown" and e.arn not in best:
                    unknown.setdefault(e.arn, f"assuming {c.resource}: {r.reason}")
            frontier = list(dict.fromkeys(nxt))

    def _escalate_backward(
        self, best: dict[str, Path], unknown: dict[str, str], action: str, resource: str, cons: Constraints
    ) -> list[str]:
        """Principals not in `best` with an escalation edge into it (or a grant after which they
        can make the request) join it; the roles among them (to search assumption into).

        A grant to the granter itself or to a role it creates needs no chain, so those (and the
        become edges) go first. Only the granters they leave out look for a chain to their other
        grants' targets, and only through principals not in `best`: a chain through one in `best`
        already puts the granter in `best` along that principal's path (the assumption and become
        edges into `best` are followed here and in _assume_backward)."""
        # Every principal's edges at once, the first time (cached for the session's later
        # questions, whose `best` differ): one batch shares more of its requests by class.
        every = self.escalations.out_of(list(self.snap.principals.values()))
        edges = {arn: out for arn, out in every.items() if arn not in best}
        become: dict[tuple[str, str], list[Hop]] = {}
        near = [edge for out in edges.values() for edge in out if edge.kind == "grant" and _grant_needs_no_chain(edge)]
        self._granted_routes(near, action, resource, cons)
        new = self._join(edges, become, best, unknown, action, resource, cons)
        far: dict[str, set[str]] = {}
        for arn, out in edges.items():
            for edge in out:
                if arn not in best and edge.kind == "grant" and not _grant_needs_no_chain(edge):
                    if edge.target not in best:  # becoming it is a path already
                        far.setdefault(arn, set()).add(edge.target)
        if far:
            avoid = frozenset(best)
            for arn, targets in far.items():
                chains = self._chains_from(self.snap.principals[arn], cons, avoid=avoid, goals=targets)[0]
                become.update({(arn, t): chains[t] for t in targets if t in chains})
            reachable = [
                edge for arn in far for edge in edges[arn] if edge.kind == "grant" and (arn, edge.target) in become
            ]
            self._granted_routes(reachable, action, resource, cons)
            new += self._join(edges, become, best, unknown, action, resource, cons)
        return [a for a in new if self.snap.principals[a].kind == "role"]

    def _join(
        self,
        edges: dict[str, list[Escalation]],
        become: dict[tuple[str, str], list[Hop]],
        best: dict[str, Path],
        unknown: dict[str, str],
        action: str,
        resource: str,
        cons: Constraints,
    ) -> list[str]:
        """Until nothing changes: the principals with a become edge into `best`, or a grant whose
        target they become ([] for themselves or a new role, else `become`) and whose granted
        route exists, join `best` (their first such edge); the principals that joined."""
        new: list[str] = []
        changed = True
        while changed:
            changed = False
            for arn, out in edges.items():
                if arn in best:
                    continue
                for edge in out:
                    tail = None
                    if edge.kind == "become":
                        tail = best[edge.target].hops if edge.target in best else None
                    else:
                        pre = [] if _grant_needs_no_chain(edge) else become.get((arn, edge.target))
                        after = None if pre is None else self._granted_route(edge, action, resource, cons)
                        tail = None if pre is None or after is None else pre + after
                    if tail is not None and (hops := edge.hops) is not None:
                        best[arn] = Path(arn, hops + tail)
                        unknown.pop(arn, None)
                        new.append(arn)
                        changed = True
                        break
        return new

    def _after_grant(
        self, arn: str, edge: Escalation, action: str, resource: str, cons: Constraints
    ) -> list[Hop] | None:
        """The rest of a path through a grant edge out of `arn`: becoming the target (itself, a
        role it creates, or one it can become along become/assume edges), then the request."""
        become = self._become_after_grant(arn, edge, cons)
        if become is None:
            return None
        tail = self._granted_route(edge, action, resource, cons)
        return None if tail is None else become + tail

    def _become_after_grant(self, arn: str, edge: Escalation, cons: Constraints) -> list[Hop] | None:
        """The hops by which `arn` becomes the grant's target ([] for itself or a role it creates),
        or None when it cannot become it."""
        if edge.target == arn or edge.new_role:
            return []
        chains, _, _ = self._chains(self.snap.principals[arn], cons)
        return chains.get(edge.target)

    def _granted_routes(self, edges: list[Escalation], action: str, resource: str, cons: Constraints) -> None:
        """_granted_route for many grant edges at once: the targets that gain the same policies
        share one authorizer (each target once), their requests asked in one batch."""
        todo: dict[tuple | None, dict[str, Escalation]] = {}
        for edge in edges:
            gains = None if edge.gains is None else tuple(p.name for p in edge.gains)
            if (edge.target, gains, action, resource, cons) not in self._granted:
                todo.setdefault(gains, {}).setdefault(edge.target, edge)
        for gains, by_target in todo.items():
            auth = self._granted_auth(gains)
            granted = [self._granted_entity(edge, gains) for edge in by_target.values()]
            found = RouteFinder(self.snap, auth).routes(granted, action, resource, cons)
            for target in by_target:
                routes, _ = found[target]
                self._granted[(target, gains, action, resource, cons)] = (
                    min(routes, key=lambda r: len(r.hops)).hops if routes else None
                )

    def _granted_auth(self, gains: tuple | None) -> Authorizer:
        auth = self._granted_auths.get(gains)
        if auth is None:
            auth = self._granted_auths[gains] = Authorizer(self.snap, self.auth.now)
        return auth

    def _granted_entity(self, edge: Escalation, gains: tuple | None) -> Entity:
        key = (edge.target, gains)
        e = self._granted_entities.get(key)
        if e is None:
            e = self._granted_entities[key] = after_grant(self.snap, edge)
        return e

    def _after_hops(self, edge: Escalation, gains: tuple | None, hops: list[Hop] | None) -> list[Hop] | None:
        """The granted target's hops, marked with the grant they rest on (this edge's)."""
        # Allowed only once the grant is made (the witness carries the granted policies).
        what = "Allow * on *" if gains is None else ", ".join(gains)
        after = f"{edge.target} has been granted {what} (the previous hops)"
        if edge.target == edge.caller:
            after = f"the principal has granted itself {what} (the previous hops)"
        if edge.new_role:
            after = f"the caller has created {edge.target} allowing * on * (the previous hops)"
        return [dataclasses.replace(h, assumes=after) for h in hops] if hops else None

    def _granted_route(self, edge: Escalation, action: str, resource: str, cons: Constraints) -> list[Hop] | None:
        """The target request of the grant's target once the grant is made (its own authorizer:
        these answers must not be cached as the principal's own)."""
        gains = None if edge.gains is None else tuple(p.name for p in edge.gains)
        key = (edge.target, gains, action, resource, cons)
        if key not in self._granted:
            auth = self._granted_auth(gains)
            granted = self._granted_entity(edge, gains)
            routes, _ = RouteFinder(self.snap, auth).routes([granted], action, resource, cons)[granted.arn]
            self._granted[key] = min(routes, key=lambda r: len(r.hops)).hops if routes else None
        return self._after_hops(edge, gains, self._granted[key])

    def _unknown_through_roles(self, best: dict[str, Path], unknown: dict[str, str], cons: Constraints) -> None:
        """Whoever may become a role whose answer is unknown is unknown too, never impossible."""
        frontier = [a for a in unknown if self.snap.principals[a].kind == "role"]
        while frontier:
            checks = [
                c
                for role_arn in frontier
                for e in self.assume_candidates(self.snap.principals[role_arn])
                if e.arn not in best and e.arn not in unknown
                for c in self.auth.first_calls(e, assume_action(e), role_arn, cons)
            ]
            nxt = []
            for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
                if r is None or r.outcome == "impossible" or c.who.arn in unknown:
                    continue
                unknown[c.who.arn] = f"may assume {c.resource}, whose answer is unknown: {unknown[c.resource]}"
                if c.who.kind == "role":
                    nxt.append(c.who.arn)
            frontier = nxt

    def reach(
        self, start: str, action: str, resource: str, cons: Constraints = Constraints(), max_paths: int = 20
    ) -> ReachAnswer:
        _check_action(action)
        origin = self.snap.entity(start)
        chains, order, unknown = self._chains(origin, cons)
        identities = [self.snap.principals[a] for a in order]
        found = self.routes(identities, action, resource, cons, all_routes=True)
        paths = []
        for arn in order:
            routes, reasons = found[arn]
            for rt in routes:
                paths.append(Path(origin.arn, chains[arn] + rt.hops))
            unknown += [f"{arn}: {r}" for r in reasons]
            for edge in self.escalations.out_of([self.snap.principals[arn]])[arn]:
                if edge.kind == "grant" and (tail := self._after_grant(arn, edge, action, resource, cons)) is not None:
                    if (hops := edge.hops) is not None:
                        paths.append(Path(origin.arn, chains[arn] + hops + tail))
        paths.sort(key=lambda p: len(p.hops))
        # Principals, roles or policies missing from the snapshot: "impossible" would be a guess.
        unknown += [f"the snapshot is incomplete: {why}" for why in self.snap.incomplete]
        return ReachAnswer(
            origin.arn,
            action,
            resource,
            "possible" if paths else ("unknown" if unknown else "impossible"),
            paths[:max_paths],
            identities=[e.arn for e in identities],
            unknown=unknown,
            stats=self.auth.stats,
        )

    def _chains(self, origin: Entity, cons: Constraints) -> tuple[dict[str, list[Hop]], list[str], list[str]]:
        """Forward over role assumption and escalation edges (escalation.py): the shortest chain
        to every identity `origin` can become, in the order found, and the unknown edges."""
        key = (origin.arn, cons)
        if key not in self._forward:
            self._forward[key] = self._chains_from(origin, cons)
        chains, order, unknown = self._forward[key]
        return chains, list(order), list(unknown)

    def _roles_assumable_by(self, arn: str) -> list[Entity]:
        """The roles whose trust policies may let `arn` in (TrustGraph.assume_candidates, indexed
        the other way once), in the snapshot's order."""
        if self._assumable is None:
            index: dict[str, list[Entity]] = {}
            for role in self.snap.principals.values():
                if role.kind == "role":
                    for e in self.assume_candidates(role):
                        index.setdefault(e.arn, []).append(role)
            self._assumable = index
        return self._assumable.get(arn, [])

    def _chains_from(
        self,
        origin: Entity,
        cons: Constraints,
        *,
        avoid: frozenset[str] = frozenset(),
        goals: set[str] | None = None,
    ) -> tuple[dict[str, list[Hop]], list[str], list[str]]:
        """Breadth-first, a level at a time: the escalation edges out of a level and the assumption
        edges into the roles it may assume are asked in one batch each (their searches spread over
        the cores), then the level is walked in order as one identity at a time would be. Never
        through a principal in `avoid`; with `goals`, it stops once it has a chain to each."""
        chains: dict[str, list[Hop]] = {origin.arn: []}
        order = [origin.arn]
        unknown: list[str] = []
        i = 0
        while i < len(order) and not (goals is not None and goals <= chains.keys()):
            level = [self.snap.principals[arn] for arn in order[i:]]
            i = len(order)
            out = self.escalations.out_of(level)
            roles = list(
                {
                    r.arn: r
                    for e in level
                    for r in self._roles_assumable_by(e.arn)
                    if r.arn not in chains and r.arn not in avoid
                }.values()
            )
            self.trust.ask_edges_into(roles, cons)
            for cur in level:
                for edge in out[cur.arn]:
                    if edge.kind == "become" and edge.target not in chains and edge.target not in avoid:
                        if (hops := edge.hops) is None:
                            continue
                        chains[edge.target] = chains[cur.arn] + hops
                        order.append(edge.target)
                for role in self._roles_assumable_by(cur.arn):
                    if role.arn in chains or cur.arn == role.arn or role.arn in avoid:
                        continue
                    r = self.trust.edge(cur, role, cons)
                    if r is None:
                        continue
                    if r.outcome == "possible":
                        chains[role.arn] = chains[cur.arn] + [r.possible_hop]
                        order.append(role.arn)
                    elif r.outcome == "unknown":
                        unknown.append(f"assuming {role.arn} from {cur.arn}: {r.reason}")
        return chains, order, unknown


@dataclass
class ReachAnswer:
    start: str
    action: str
    resource: str
    answer: Outcome
    paths: list[Path]
    identities: list[str]  # every identity reachable by role assumption (the scope searched)
    unknown: list[str]
    stats: Stats

    def to_json(self) -> dict:
        return {
            "from": self.start,
            "action": self.action,
            "resource": self.resource,
            "answer": self.answer,
            "paths": [p.to_json() for p in self.paths],
            "identities_searched": self.identities,
            "unknown": self.unknown,
        }


def _check_action(action: str) -> None:
    if is_pattern(action):
        if not catalogue.expand(action):
            raise InputError(f"no catalogue action matches {action!r}", path=("action",))
    elif catalogue.lookup(action) is None:
        raise InputError(catalogue.unknown_action_message(action), path=("action",))


def _grant_needs_no_chain(edge: Escalation) -> bool:
    """A grant to the granter itself or to a role it creates: it is the target already."""
    return edge.target == edge.caller or edge.new_role
