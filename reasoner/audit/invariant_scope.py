"""What an invariant's patterns name in a snapshot, so that a proof is never vacuous: a principal
or resource pattern that names nothing (a typo, a renamed bucket) makes the invariant `vacuous`
instead of `proved`.

A resource pattern names something when it reaches a resource policy the snapshot holds (or one
it could not read), an IAM user or role, or a resource ARN named in any policy of the snapshot
(reasoner.account.governing: a bucket also names its objects, a Data Catalog its tables, ...).
A principal pattern names something when it matches a user, role or identity provider by ARN or
name."""

from __future__ import annotations

from reasoner.account.governing import reaches
from reasoner.account.model import Entity, Snapshot
from reasoner.policy.patterns import plain_glob_match
from reasoner.policy.request import NamedPolicy


def _policies(snap: Snapshot) -> list[NamedPolicy]:
    out: list[NamedPolicy] = list(snap.managed_policies.values())
    out += [rp.policy for rp in snap.resource_policies.values()]
    for e in snap.principals.values():
        out += e.identity_policies
        out += [p for p in (e.boundary, e.trust_policy) if p is not None]
    for g in snap.groups.values():
        out += g.policies
    out += [ep.policy for ep in snap.endpoints.values() if ep.policy is not None]
    return out


def named_resources(snap: Snapshot) -> list[str]:
    """Every Resource / NotResource entry of the snapshot's policies, and every holder of a
    resource policy (read or not), every user and role ARN (cached on the snapshot)."""
    cache = snap.__dict__.get("_named_resources")
    if cache is None:
        names: dict[str, None] = {}
        for named in _policies(snap):
            for st in named.policy.Statement:
                for r in (st.Resource or []) + (st.NotResource or []):
                    if r != "*":
                        names[r] = None
        for arn in [*snap.resource_policies, *snap.broken_resources, *snap.principals]:
            names[arn] = None
        cache = snap.__dict__["_named_resources"] = list(names)
    return cache


def names_a_resource(snap: Snapshot, pattern: str) -> bool:
    """Does the pattern name some resource of the snapshot? A named ARN without wildcards counts
    with everything its policy governs; a named pattern counts when the pattern covers its text."""
    for name in named_resources(snap):
        if "*" in name or "?" in name:
            if plain_glob_match(pattern, name):
                return True
        elif reaches(pattern, name):
            return True
    return False


def unmatched_resources(snap: Snapshot, patterns: list[str]) -> list[str]:
    return [p for p in patterns if not names_a_resource(snap, p)]


def matches_principal(pattern: str, e: Entity) -> bool:
    return plain_glob_match(pattern, e.arn) or plain_glob_match(pattern, e.name)


def unmatched_principals(snap: Snapshot, patterns: list[str]) -> list[str]:
    return [p for p in patterns if not any(matches_principal(p, e) for e in snap.principals.values())]
