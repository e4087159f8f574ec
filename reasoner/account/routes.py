"""Routes of one identity to a target request without role assumption: the target as a first call
(per endpoint option), or service chains (reasoner/data/service_chains.json) whose triggers the
identity calls and whose last service makes the target request."""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import Constraints, Hop, HopCheck, HopResult
from reasoner.account.model import Entity, Snapshot
from reasoner.account.prefilters import may_allow_identity, may_allow_resource, via_matters
from reasoner.policy.coverage import services_overlap
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import is_pattern

MAX_CHAIN_DEPTH = 2


@dataclass
class Route:
    """How one identity does the target itself: hops after any role assumption."""

    hops: list[Hop]


def chains_for(action: str, cons: Constraints) -> list[list]:
    """Service chains that can end in `action`, in call order: lists of catalogue chain entries
    (reasoner/data/service_chains.json), at most MAX_CHAIN_DEPTH services, none of them in
    --without-via, each service at most once."""
    from reasoner.account.chains import load_chains

    chains = load_chains()
    banned = {s.lower() for s in cons.without_via}
    out: list[list] = []
    seen: set[tuple] = set()

    def callers(target: str) -> list:
        if is_pattern(target):  # a pattern target: every chain that may call into it
            return [c for c in chains.chains if any(services_overlap(p, target) for p in c.calls)]
        return chains.callers_of(target)

    def extend(target: str, tail: list) -> None:
        for ch in callers(target):
            if ch.service.lower() in banned or any(ch.service == t.service for t in tail):
                continue
            route = [ch] + tail
            key = tuple(c.id for c in route)
            if key in seen:
                continue
            seen.add(key)
            out.append(route)
            if len(route) < MAX_CHAIN_DEPTH:
                for trig in ch.trigger_actions():
                    extend(trig, route)

    extend(action, [])
    out.sort(key=len)
    return out


def trigger_resource(service_action: str, who: Entity) -> str:
    svc = service_action.split(":", 1)[0]
    return f"arn:aws:{svc}:*:{who.account}:*"


class RouteFinder:
    """Routes of one identity to the target (no role assumption): the direct first call, then
    via service chains."""

    def __init__(self, snap: Snapshot, auth: Authorizer):
        self.snap = snap
        self.auth = auth

    def routes(
        self, who_list: list[Entity], action: str, resource: str, cons: Constraints, *, all_routes: bool = False
    ) -> dict[str, tuple[list[Route], list[str]]]:
        """arn -> (routes found shortest first, reasons for unknown)."""
        result: dict[str, tuple[list[Route], list[str]]] = {e.arn: ([], []) for e in who_list}
        broken = self.snap.broken_policy_for(resource) is not None
        cands = [
            e
            for e in who_list
            if e.incomplete
            or broken
            or may_allow_identity(e, action, resource)
            or may_allow_resource(self._rp(action, resource), e, action)
        ]
        for e in who_list:
            if e.incomplete:
                result[e.arn][1].append(f"{e.incomplete[0]}")
        cands = [e for e in cands if not e.incomplete]
        # 1. the target as a first call (per endpoint option); one way per principal is enough
        #    unless every route is asked for
        checks = [c for e in cands for c in self.auth.first_calls(e, action, resource, cons, target=True)]
        res = self.auth.check_many(checks, None if all_routes else [c.who.arn for c in checks])
        for c, r in zip(checks, res):
            if r is not None:
                self._record(result, c.who, r, [])
        # 2. via service chains. A service hop differs from a direct call without an endpoint only
        #    in aws:CalledVia* / aws:ViaAWSService (its network keys are absent, a choice the direct
        #    call has too), so it can succeed where the direct call failed only when a statement
        #    that can apply reads those keys.
        chain_cands = [
            e
            for e in cands
            if all_routes
            or (
                not result[e.arn][0]
                and via_matters(self.auth.query(HopCheck(e, action, resource, (), None, cons, True)))
            )
        ]
        for route in chains_for(action, cons):
            need = [e for e in chain_cands if all_routes or not result[e.arn][0]]
            if not need:
                break
            self._chain_routes(need, route, action, resource, cons, result)
        return result

    def _rp(self, action: str, resource: str) -> NamedPolicy | None:
        if action.lower().startswith("sts:assumerole") and resource in self.snap.principals:
            return self.snap.principals[resource].trust_policy
        if is_pattern(resource):
            cov = self.snap.resource_policies_covered(resource)
            return cov[0].policy if len(cov) == 1 else None
        rp = self.snap.resource_policy_for(resource)
        return rp.policy if rp else None

    def _record(self, result, who: Entity, r: HopResult, prefix: list[Hop]) -> None:
        routes, unknown = result[who.arn]
        if r.outcome == "possible":
            routes.append(Route(prefix + [r.possible_hop]))
        elif r.outcome == "unknown":
            unknown.append(r.reason or "unknown")

    def _chain_routes(self, who_list, route: list, action, resource, cons, result) -> None:
        """Hop 0: a trigger of the first service from the caller's network; hop k: a trigger of
        the next service that the previous one calls, with CalledVia so far; last: the target.
        Each hop is checked for every principal still on the route in one batch."""
        services = tuple(c.service for c in route)
        alive: dict[str, list[Hop]] = {}
        checks: list[HopCheck] = []
        for e in who_list:
            for trig in route[0].trigger_actions():
                if may_allow_identity(e, trig, trigger_resource(trig, e)):  # else denied (sound)
                    checks += self.auth.first_calls(e, trig, trigger_resource(trig, e), cons)
        for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
            if r is None:
                continue
            if r.outcome == "possible" and c.who.arn not in alive:
                alive[c.who.arn] = [r.possible_hop]
            elif r.outcome == "unknown":
                result[c.who.arn][1].append(r.reason or "unknown")
        for depth in range(1, len(route)):
            checks = []
            for arn in alive:
                e = self.snap.principals[arn]
                checks += [
                    HopCheck(e, trig, trigger_resource(trig, e), services[:depth], None, cons)
                    for trig in route[depth].trigger_actions()
                    if route[depth - 1].calls_action(trig) and may_allow_identity(e, trig, "*")
                ]
            reached: dict[str, Hop] = {}
            for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
                if r is None:
                    continue
                if r.outcome == "possible" and c.who.arn not in reached:
                    reached[c.who.arn] = r.possible_hop
                elif r.outcome == "unknown":
                    result[c.who.arn][1].append(r.reason or "unknown")
            alive = {arn: hops + [reached[arn]] for arn, hops in alive.items() if arn in reached}
        checks = [HopCheck(self.snap.principals[arn], action, resource, services, None, cons, True) for arn in alive]
        for c, r in zip(checks, self.auth.check_many(checks)):
            self._record(result, c.who, r, alive[c.who.arn])
