"""Role assumption edges: which principals a role's trust policy names (principals, accounts,
anyone, identity providers) and whether each of them may assume it."""

from __future__ import annotations

from reasoner.account.authorizer import Authorizer
from reasoner.account.hops import ASSUME_ACTION, Constraints, HopResult, assume_action
from reasoner.account.model import Entity, Snapshot
from reasoner.account.prefilters import allowed_by_patterns, covers_action, identity_allow_patterns, may_allow_identity
from reasoner.policy.request import NamedPolicy

# Principal ARNs a trust policy names, accounts it names, whether it is open to anyone.
TrustEntry = tuple[set[str], set[str], bool]

_FEDERATED_ASSUME = ("sts:assumerolewithsaml", "sts:assumerolewithwebidentity")


def trust_entry(trust: NamedPolicy) -> TrustEntry:
    """Who a trust policy lets call sts:AssumeRole (and, for identity providers, the SAML / web
    identity calls)."""
    arns: set[str] = set()
    accounts: set[str] = set()
    anyone = False
    for st in trust.policy.Statement:
        if st.Effect != "Allow":
            continue
        if st.Principal is not None and any(covers_action(st, a) for a in _FEDERATED_ASSUME):
            arns |= {
                (v if v.startswith("arn:") else f"federated:{v}") for k, v in st.Principal.entries() if k == "Federated"
            }
        if not covers_action(st, ASSUME_ACTION.lower()):
            continue
        if st.NotPrincipal is not None:
            anyone = True
            continue
        for kind, v in st.Principal.entries() if st.Principal is not None else []:
            if kind != "AWS":
                continue
            if v == "*":
                anyone = True
            elif v.isdigit():
                accounts.add(v)
            elif v.endswith(":root"):
                accounts.add(v.split(":")[4])
            else:
                arns.add(v)
    return arns, accounts, anyone


class TrustGraph:
    """Role assumption edges of one snapshot: who a trust policy can let in (a sound prefilter),
    and the exact answer per edge (cached per constraints)."""

    def __init__(self, snap: Snapshot, auth: Authorizer):
        self.snap = snap
        self.auth = auth
        self._assume_cache: dict[tuple, HopResult] = {}
        self._trust: dict[str, TrustEntry] | None = None
        self._candidates: dict[str, list[Entity]] = {}
        self._may_assume_by_account: dict[str, list[Entity]] = {}

    def _trust_index(self) -> dict[str, TrustEntry]:
        """role ARN -> (principal ARNs its trust policy names, accounts it names, open to anyone)."""
        if self._trust is None:
            self._trust = {
                role.arn: trust_entry(role.trust_policy)
                for role in self.snap.principals.values()
                if role.kind == "role" and role.trust_policy is not None
            }
            # A trust policy that could not be read may let anyone in: every hop into the role
            # is asked, and the authorizer answers it unknown (Snapshot.broken_policy_for).
            self._trust.update(
                {r.arn: (set(), set(), True) for r in self.snap.principals.values() if r.trust_unknown is not None}
            )
            may_assume = {e.arn for e in self.snap.principals.values() if may_allow_identity(e, ASSUME_ACTION, "*")}
            for arn in sorted(may_assume):
                e = self.snap.principals[arn]
                if e.kind != "federated":
                    self._may_assume_by_account.setdefault(e.account, []).append(e)
        return self._trust

    def assume_candidates(self, role: Entity) -> list[Entity]:
        """Principals a trust policy can let in (sound prefilter): named directly, or of a named
        account with an identity policy that may allow sts:AssumeRole, or anyone."""
        hit = self._candidates.get(role.arn)
        if hit is None:
            hit = self._candidates[role.arn] = self._assume_candidates(role)
        return hit

    def _assume_candidates(self, role: Entity) -> list[Entity]:
        arns, accounts, anyone = self._trust_index().get(role.arn, (set(), set(), False))
        if not arns and not accounts and not anyone:
            return []
        if anyone:
            pool = [e for e in self.snap.principals.values() if e.kind != "federated" or e.arn in arns]
        else:
            # Named principals, and in named accounts only those whose identity policies may
            # allow sts:AssumeRole at all (indexed by account: no scan of the whole snapshot).
            pool = [self.snap.principals[a] for a in arns if a in self.snap.principals]
            pool += [
                e
                for acct in accounts
                for e in self._may_assume_by_account.get(acct, [])
                if e.arn not in arns and allowed_by_patterns(identity_allow_patterns(e, ASSUME_ACTION), role.arn)
            ]
        unique = {e.arn: e for e in pool}
        return [e for e in unique.values() if e.arn != role.arn and not e.incomplete]

    def assume_edges_into(self, role: Entity, cons: Constraints) -> list[tuple[Entity, HopResult]]:
        """Principals that may assume `role`, each with the exact answer."""
        return self.assume_edges_into_many([role], cons)[role.arn]

    def assume_edges_into_many(
        self, roles: list[Entity], cons: Constraints, *, by_class: bool = False
    ) -> dict[str, list[tuple[Entity, HopResult]]]:
        """assume_edges_into for several roles, their checks in one call of the authorizer (with
        `by_class`, one request per resource class: Authorizer.check_by_class)."""
        assumable = self.ask_edges_into(roles, cons, by_class=by_class)
        out: dict[str, list[tuple[Entity, HopResult]]] = {role.arn: [] for role in roles}
        for role in assumable:
            out[role.arn] = [(e, self._assume_cache[(e.arn, role.arn, cons)]) for e in self.assume_candidates(role)]
        return out

    def edge(self, e: Entity, role: Entity, cons: Constraints) -> HopResult | None:
        """The answer for `e` assuming `role` once ask_edges_into asked it (None: `e` is not a
        candidate, or the role cannot be assumed)."""
        return self._assume_cache.get((e.arn, role.arn, cons))

    def ask_edges_into(self, roles: list[Entity], cons: Constraints, *, by_class: bool = False) -> list[Entity]:
        """Ask (once, cached) every candidate's assumption of each role; the roles that can be assumed."""
        assumable = [
            role
            for role in roles
            if role.kind == "role" and (role.trust_policy is not None or role.trust_unknown is not None)
        ]
        checks = [
            c
            for role in assumable
            for e in self.assume_candidates(role)
            if (e.arn, role.arn, cons) not in self._assume_cache
            for c in self.auth.first_calls(e, assume_action(e), role.arn, cons)
        ]
        res = self.auth.check_by_class(checks) if by_class else self.auth.check_many(checks)
        best: dict[tuple[str, str], HopResult] = {}
        for c, r in zip(checks, res):
            k = (c.who.arn, c.resource)
            prev = best.get(k)
            if (
                prev is None
                or (r.outcome == "possible" and prev.outcome != "possible")
                or (r.outcome == "unknown" and prev.outcome == "impossible")
            ):
                best[k] = r
        for (arn, role_arn), r in best.items():
            self._assume_cache[(arn, role_arn, cons)] = r
        return assumable
