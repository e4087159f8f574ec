"""`diff`: the requests one policy (set) allows and the other does not, in both directions.

Same machinery as `can` (reasoner/search/can.py): the request's free dimensions (action, resource,
context keys) are split into regions built from the statements of BOTH sides, so that every
region behaves uniformly for both; encodings/search.lp chooses one region per dimension and asks
for an allow by the gaining side (request 1), encodings/diff.lp decides the same request against
the other side (request 2) and forbids an allow there. For resource-based policies the principal
is searched too, over the finite cover of reasoner/search/cover.py (one solve per principal).

Every witness is re-decided by the concrete decider (allowed by the gaining side, not allowed by
the other) before it is reported. "No difference" is answered only when every domain is complete;
otherwise "unknown" with the reason. Differences are enumerated as classes (an action region and
the set of the gaining side's statements that apply), one minimal witness each, with the resource
regions and context regions the class takes (brave consequences: each one occurs in some
difference of the class; not every combination of them does).
"""

from __future__ import annotations

from reasoner.audit.diff_answers import DiffAnswer, DiffClass, DiffDirection
from reasoner.audit.differ import MAX_CLASSES, PLACEHOLDER_PRINCIPAL, PLACEHOLDER_USER, Differ, Direction
from reasoner.audit.policy_sets import POLICY_SUFFIXES, PolicyKind, PolicySet, load_policy_set, policy_kind
from reasoner.errors import InputError

# Callers read diffs with these.
__all__ = [
    "MAX_CLASSES",
    "PLACEHOLDER_PRINCIPAL",
    "PLACEHOLDER_USER",
    "POLICY_SUFFIXES",
    "DiffAnswer",
    "DiffClass",
    "DiffDirection",
    "PolicySet",
    "diff",
    "load_policy_set",
    "policy_kind",
]


def diff(
    old: PolicySet,
    new: PolicySet,
    *,
    kind: str | None = None,
    principal: str | None = None,
    resource_account: str | None = None,
    directions: tuple[Direction, ...] = ("added", "removed"),
    limit: int = MAX_CLASSES,
    summarise: bool = True,
) -> DiffAnswer:
    kind = _known_kind(kind) if kind else policy_kind([old, new])
    d = Differ(old.policies, new.policies, kind, principal=principal, resource_account=resource_account)
    out = d.search(directions, limit=limit, summarise=summarise)
    notes = []
    reads = {k for st in d.diffed for c in st.conds for k in (c.key_text, *(k for t in c.templates for k in t.keys))}
    reads |= {k for st in d.diffed for x in st.resources for k in d.program.resource_by_id[x].keys}
    if kind == "identity" and principal is None and "aws:username" in reads:
        notes.append(
            "the policies read aws:username, which only IAM users have: give --principal "
            f"arn:aws:iam::{d.owner}:user/NAME to compare what they grant a user"
        )
    return DiffAnswer(
        kind=kind,
        old=old.label,
        new=new.label,
        principals=d.principals,
        resource_account=d.owner,
        notes=notes,
        scope=d.scope,
        **out,
    )


def _known_kind(kind: str) -> PolicyKind:
    if kind == "identity":
        return "identity"
    if kind == "resource":
        return "resource"
    raise InputError(f"unknown policy kind {kind!r}: identity or resource", path=("kind",))
