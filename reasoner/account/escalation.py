"""Escalation edges of a path (issue 10 item 13): a principal that can become another principal or
rewrite its own permissions can do whatever that principal can, as PMapper's graph has it.

From the technique catalogue (reasoner/data/privesc_techniques.json, checked by privesc.Privesc,
each required request with its exact conditions):

* *become* an existing principal (create its access keys or login profile, update a role's trust
  policy and assume it, pass a role to a service): the path continues as the target;
* *grant* to itself (put, attach or rewrite a policy of its own, or of a group it is in): the
  principal can add an Allow of everything to its identity policies, so the target request is
  checked with that Allow added (its boundary, SCPs, RCPs and the resource policy still apply).

Each edge is shown as the hops of its required requests (kind "escalate"), marked with the
technique's precondition when it rests on one the snapshot cannot show. Techniques that create a
new role or join a group are not followed here (privesc reports them).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import Hop, hop_cache_key
from reasoner.account.model import Entity, Snapshot
from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy
from reasoner.resources import data_file


@dataclass
class Escalation:
    kind: str  # "become" | "grant"
    caller: str
    target: str  # the principal become, or the caller itself for a grant
    technique: str
    hops: list[Hop]


def allow_everything() -> NamedPolicy:
    """The policy a principal that rewrites its own permissions can give itself."""
    doc = json.loads(data_file("allow-all.json").read_text())
    return NamedPolicy(name="escalation: Allow * on * (written by the principal itself)", policy=parse_policy(doc))


def with_everything_allowed(e: Entity) -> Entity:
    """The principal after it granted itself everything (its other layers unchanged)."""
    return dataclasses.replace(e, identity_policies=[*e.identity_policies, allow_everything()])


class EscalationEdges:
    """Escalation edges out of principals, computed once per principal and cached."""

    def __init__(self, snap: Snapshot, auth: Authorizer, finder):
        self.snap = snap
        self.auth = auth
        self.finder = finder
        self._edges: dict[str, list[Escalation]] = {}

    def out_of(self, callers: list[Entity]) -> dict[str, list[Escalation]]:
        from reasoner.account.privesc import Privesc
        from reasoner.account.techniques import load_techniques

        todo = [e for e in callers if e.arn not in self._edges and not e.incomplete and e.kind != "federated"]
        for e in todo:
            self._edges[e.arn] = []
        if todo:
            pv = Privesc(self.snap, finder=self.finder, now=self.auth.now)
            pv.only_admin_grants = False  # a non-admin policy version may still allow the request
            for plan, step in pv.usable(todo, load_techniques().techniques):
                edge = self._edge(plan, step)
                if edge is not None:
                    self._edges[plan.caller.arn].append(edge)
        return {e.arn: self._edges.get(e.arn, []) for e in callers}

    def _edge(self, plan, step) -> Escalation | None:
        t = plan.technique
        caller = plan.caller
        if t.creates_target or t.kind == "join-group":
            return None
        if t.kind == "become":
            if plan.target not in self.snap.principals or plan.target == caller.arn:
                return None
            kind = "become"
        elif plan.target == caller.arn or plan.target in caller.groups:
            kind = "grant"
        else:
            return None
        hops = []
        for c in plan.shared + plan.specific:
            r = self.auth.cache.get(hop_cache_key(c))
            if r is None or r.hop is None:
                return None
            hops.append(dataclasses.replace(r.hop, kind="escalate", assumes=step.assumes))
        return Escalation(kind, caller.arn, plan.target if kind == "become" else caller.arn, t.id, hops)
