"""Escalation edges of a path (issue 10 item 13): a principal that can become another principal or
rewrite its own permissions can do whatever that principal can, as PMapper's graph has it.

From the technique catalogue (reasoner/data/privesc_techniques.json, checked by privesc.Privesc,
each required request with its exact conditions):

* *become* an existing principal (create its access keys or login profile, update a role's trust
  policy and assume it, pass a role to a service): the path continues as the target;
* *grant* to itself (put, attach or rewrite a policy of its own, or of a group it is in): the
  principal can add an Allow of everything to its identity policies, so the target request is
  checked with that Allow added (its boundary, SCPs, RCPs and the resource policy still apply).

* *grant* to another principal it can become (a policy of that user or role, or of a group that
  user is in): the same Allow of everything, for the target, once the caller becomes it;
* *join-group*: the caller adds a user it can become (itself included) to a group: that user
  gains the group's policies (inline and attached);
* *create a role* (CreateRole with PutRolePolicy or AttachRolePolicy, then AssumeRole): the
  caller becomes a new role of its account that allows everything. Its name is the caller's to
  choose: a fresh name, or that of a role a policy names but the snapshot does not have
  (`new_role_names`), so a resource policy naming a deleted role can be met.

Each edge is shown as the hops of its required requests (kind "escalate"), marked with the
technique's precondition when it rests on one the snapshot cannot show. The hops are built when a
path takes the edge (most edges never show): a caller that shares its class of callers for the
technique with another (privesc.Privesc.usable) has its edges found from that one's, and its own
requests are then answered from the other's witnesses, each allowed by the concrete decider for
the caller or else asked on its own (Authorizer.check_as).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import Hop, HopCheck, HopResult, hop_cache_key
from reasoner.account.model import Entity, Snapshot
from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy
from reasoner.resources import data_file

NEW_ROLE = "reasoner-new-role"  # the fresh name of a role the caller creates


@dataclass
class Escalation:
    kind: str  # "become" | "grant"
    caller: str
    target: str  # the principal become, or the one granted to (the caller, or one it becomes)
    technique: str
    # For a grant: what the target gains; None: anything (an Allow of everything).
    gains: tuple[NamedPolicy, ...] | None = None
    new_role: bool = False  # the target is a role the caller creates (not in the snapshot)
    # The hops, built on first use (None then: a request of the edge is not possible after all).
    _make_hops: Callable[[], list[Hop] | None] | None = field(default=None, repr=False, compare=False)
    _hops: list[Hop] | None = field(default=None, repr=False, compare=False)

    @property
    def hops(self) -> list[Hop] | None:
        """The hops of the edge's requests, each with its witness; None when one of them turns out
        not to be possible (the edge does not exist)."""
        if self._make_hops is not None:
            self._hops, self._make_hops = self._make_hops(), None
        return self._hops


def allow_everything() -> NamedPolicy:
    """The policy a principal that rewrites its own permissions can give itself."""
    doc = json.loads(data_file("allow-all.json").read_text())
    return NamedPolicy(name="escalation: Allow * on * (written by the principal itself)", policy=parse_policy(doc))


def with_everything_allowed(e: Entity) -> Entity:
    """The principal after it granted itself everything (its other layers unchanged)."""
    return dataclasses.replace(e, identity_policies=[*e.identity_policies, allow_everything()])


def after_grant(snap: Snapshot, edge: Escalation) -> Entity:
    """The grant's target as it is once the grant is made."""
    if edge.new_role:  # created by the caller: no policies but the one it writes, no boundary
        name = edge.target.rsplit("/", 1)[-1]
        bare = Entity(arn=edge.target, kind="role", name=name, account=edge.target.split(":")[4])
        return with_everything_allowed(bare)
    target = snap.principals[edge.target]
    if edge.gains is None:
        return with_everything_allowed(target)
    return dataclasses.replace(target, identity_policies=[*target.identity_policies, *edge.gains])


def new_role_names(snap: Snapshot, account: str) -> list[str]:
    """Role ARNs of `account` a role creator may pick: a fresh one, and every role ARN of the
    account that a policy in the snapshot names but the snapshot does not hold."""
    prefix = f"arn:aws:iam::{account}:role/"
    named = {
        v
        for doc in _principal_policies(snap)
        for st in doc.policy.Statement
        if st.Principal is not None
        for _, v in st.Principal.entries()
        if v.startswith(prefix) and "*" not in v and "?" not in v and v not in snap.principals
    }
    return [prefix + NEW_ROLE, *sorted(named)]


def _principal_policies(snap: Snapshot) -> list[NamedPolicy]:
    docs = [rp.policy for rp in snap.resource_policies.values()]
    return docs + [e.trust_policy for e in snap.principals.values() if e.trust_policy is not None]


class EscalationEdges:
    """Escalation edges out of principals, computed once per principal and cached."""

    def __init__(self, snap: Snapshot, auth: Authorizer, finder, by_class: bool = True):
        self.snap = snap
        self.auth = auth
        self.finder = finder
        self._edges: dict[str, list[Escalation]] = {}
        # Callers found by class (privesc.Privesc.usable); False finds every caller's own edges
        # (the reference the tests compare with).
        self.by_class = by_class
        self.from_class = 0  # edges of a caller found from another of its class

    def out_of(self, callers: list[Entity]) -> dict[str, list[Escalation]]:
        from reasoner.account.privesc import Privesc
        from reasoner.account.techniques import load_techniques

        todo = [e for e in callers if e.arn not in self._edges and not e.incomplete and e.kind != "federated"]
        for e in todo:
            self._edges[e.arn] = []
        if todo:
            pv = Privesc(self.snap, finder=self.finder, now=self.auth.now, by_class=self.by_class)
            pv.only_admin_grants = False  # a non-admin policy version may still allow the request
            pv.need_hops = True  # the edges show the hops of their requests
            for plan, step in pv.usable(todo, load_techniques().techniques):
                edges = self._edges_of(plan, step)
                self._edges[step.source] += edges
                if step.source != plan.caller.arn:
                    self.from_class += len(edges)
        return {e.arn: self._edges.get(e.arn, []) for e in callers}

    def _edges_of(self, plan, step) -> list[Escalation]:
        t = plan.technique
        caller = self.snap.principals[step.source]  # the plan's caller, or one of its class
        checks = plan.shared + plan.specific
        # One builder per plan and caller: the edges of a created role share it.
        hops_of = _Once(lambda: self._hops(caller, checks, step.assumes))

        def edge(kind: str, target: str, **kw) -> Escalation:
            return Escalation(kind, caller.arn, target, t.id, _make_hops=hops_of, **kw)

        if t.creates_target:
            return [edge("grant", arn, new_role=True) for arn in new_role_names(self.snap, caller.account)]
        if plan.target not in self.snap.principals:
            return []
        if t.kind == "join-group":
            grp = self.snap.groups.get(plan.group or "")
            if grp is None or grp.incomplete:
                return []
            gains = [*grp.policies, *(self.snap.managed_policies.get(m) for m in grp.managed_policy_arns)]
            if any(p is None for p in gains):
                return []  # an attached policy the snapshot lacks: what the group gives is unknown
            return [edge("grant", plan.target, gains=tuple(p for p in gains if p))]
        if t.kind == "become":
            return [] if plan.target == caller.arn else [edge("become", plan.target)]
        return [edge("grant", plan.target)]

    def _hops(self, caller: Entity, checks: list[HopCheck], assumes: str | None) -> list[Hop] | None:
        """The edge's hops for `caller`: its plan's checks, answered already (the cache) when the
        caller is the plan's, else made by `caller` (Authorizer.check_as); None unless all are
        possible."""
        own = [c if c.who.arn == caller.arn else dataclasses.replace(c, who=caller) for c in checks]
        cached = [self.auth.cache.get(hop_cache_key(c)) for c in own]
        results: Sequence[HopResult | None] = cached
        if any(r is None for r in cached):
            results = self.auth.check_as(own, checks)
        hops = []
        for r in results:
            if r is None or r.outcome != "possible" or r.hop is None:
                return None
            hops.append(dataclasses.replace(r.hop, kind="escalate", assumes=assumes))
        return hops


class _Once:
    """A function's result, computed on the first call."""

    def __init__(self, fn: Callable[[], list[Hop] | None]):
        self._fn: Callable[[], list[Hop] | None] | None = fn
        self._value: list[Hop] | None = None

    def __call__(self) -> list[Hop] | None:
        if self._fn is not None:
            self._value, self._fn = self._fn(), None
        return self._value
