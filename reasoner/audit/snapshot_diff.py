"""`reasoner diff OLD NEW` for two account snapshots: the access each change adds or removes.

A snapshot's access is decided by its policies; a change of access is a change of one of them.
Every principal, resource policy and trust policy that differs between the two snapshots is
compared with the policy diff (reasoner/audit/diff.py), which searches exactly what the NEW side
allows and the OLD side does not, and the reverse:

- a user or role: its identity policies (inline, attached, through groups), as that principal;
  a principal only in NEW gains everything its policies allow, one only in OLD loses it;
- a resource policy (bucket, key, queue...): over every principal it distinguishes;
- a role's trust policy: who may assume it (a new trust is new access to all the role can do).

Changes the policy diff cannot compare exactly make that entry "unknown" with the reason: a
changed permissions boundary (the effective permissions are an intersection), changed SCPs or
RCPs, or a policy that could not be read.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reasoner.account.model import Entity, Snapshot
from reasoner.audit.diff import DiffAnswer, PolicySet, diff
from reasoner.audit.differ import Direction
from reasoner.audit.policy_sets import PolicyKind
from reasoner.policy.request import NamedPolicy

EMPTY_NAME = "(none)"


class SnapshotChange(BaseModel):
    subject: str  # a principal ARN or a resource ARN
    what: Literal["identity", "resource", "trust", "organization", "snapshot"]
    change: Literal["added", "removed", "changed"]
    answer: DiffAnswer | None = None
    unknown: str | None = None  # why this change was not compared

    @property
    def new_access(self) -> Literal["yes", "no", "unknown"]:
        # Without `unknown` the change was compared (answer holds the added direction).
        if self.unknown or self.answer is None or self.answer.added is None:
            return "unknown"
        found = self.answer.added.answer
        return "yes" if found == "differs" else "no" if found == "same" else "unknown"


class SnapshotDiff(BaseModel):
    old: str
    new: str
    changes: list[SnapshotChange]

    @property
    def new_access(self) -> Literal["yes", "no", "unknown"]:
        flags = {c.new_access for c in self.changes}
        return "yes" if "yes" in flags else "unknown" if "unknown" in flags else "no"


def _docs(policies: list[NamedPolicy]) -> list[str]:
    return sorted(p.policy.model_dump_json(exclude_none=True) for p in policies)


def _set(label: str, policies: list[NamedPolicy]) -> PolicySet:
    return PolicySet(label, list(policies))


def diff_snapshots(
    old: Snapshot, new: Snapshot, *, directions: tuple[Direction, ...] = ("added", "removed"), limit: int = 20
) -> SnapshotDiff:
    changes: list[SnapshotChange] = []
    # A side that is incomplete (principals or resources may be missing): no "no new access" (issue 11).
    for side, snap in (("old", old), ("new", new)):
        if snap.incomplete:
            changes.append(
                SnapshotChange(
                    subject=", ".join(snap.origin),
                    what="snapshot",
                    change="changed",
                    unknown=f"the {side} snapshot is incomplete: {snap.incomplete[0]}",
                )
            )
    # Organization policies: compared as text; a change is reported, not searched.
    for kind in ("scp", "rcp"):
        accts = old.accounts | new.accounts
        for acct in sorted(accts):
            a, b = old.levels_for(acct, kind), new.levels_for(acct, kind)
            ta = None if a is None else [_docs(level) for level in a]
            tb = None if b is None else [_docs(level) for level in b]
            if ta != tb:
                changes.append(
                    SnapshotChange(
                        subject=acct,
                        what="organization",
                        change="changed",
                        unknown=f"the {kind.upper()}s that apply to account {acct} changed; "
                        "compare them with `reasoner diff` on the policy files",
                    )
                )
    for arn in sorted(set(old.principals) | set(new.principals)):
        e_old, e_new = old.principals.get(arn), new.principals.get(arn)
        either = e_old or e_new
        if either is None or either.kind == "federated":  # never None: the ARN is in one of them
            continue
        changes += _principal_changes(arn, e_old, e_new, directions, limit)
    for arn in sorted(
        set(old.resource_policies) | set(new.resource_policies) | set(old.broken_resources) | set(new.broken_resources)
    ):
        if arn in old.broken_resources or arn in new.broken_resources:
            changes.append(
                SnapshotChange(
                    subject=arn, what="resource", change="changed", unknown="its policy could not be read on one side"
                )
            )
            continue
        rp_old, rp_new = old.resource_policies.get(arn), new.resource_policies.get(arn)
        if rp_old and rp_new and _docs([rp_old.policy]) == _docs([rp_new.policy]):
            continue
        owner = rp_new.account if rp_new else rp_old.account if rp_old else None
        changes.append(
            _compare(
                arn,
                "resource",
                rp_old.policy if rp_old else None,
                rp_new.policy if rp_new else None,
                kind="resource",
                resource_account=owner,
                directions=directions,
                limit=limit,
            )
        )
    return SnapshotDiff(old=", ".join(old.origin), new=", ".join(new.origin), changes=changes)


def _principal_changes(
    arn: str, e_old: Entity | None, e_new: Entity | None, directions: tuple[Direction, ...], limit: int
) -> list[SnapshotChange]:
    out = []
    for e in (e_old, e_new):
        if e is not None and e.incomplete:
            return [
                SnapshotChange(
                    subject=arn,
                    what="identity",
                    change="changed",
                    unknown=f"its permissions could not be read completely: {e.incomplete[0]}",
                )
            ]
    ident_old = e_old.identity_policies if e_old else []
    ident_new = e_new.identity_policies if e_new else []
    b_old = _docs([e_old.boundary]) if e_old and e_old.boundary else None
    b_new = _docs([e_new.boundary]) if e_new and e_new.boundary else None
    if e_old and e_new and b_old != b_new:
        out.append(
            SnapshotChange(
                subject=arn,
                what="identity",
                change="changed",
                unknown="its permissions boundary changed (effective permissions are the "
                "intersection with the boundary, which the policy diff does not search)",
            )
        )
    elif _docs(ident_old) != _docs(ident_new) or (e_old is None) != (e_new is None):
        principal = arn if ":role/" in arn or ":user/" in arn else None
        out.append(
            _compare(
                arn,
                "identity",
                ident_old,
                ident_new,
                kind="identity",
                principal=principal,
                directions=directions,
                limit=limit,
                added=e_old is None,
                removed=e_new is None,
            )
        )
    t_old = e_old.trust_policy if e_old else None
    t_new = e_new.trust_policy if e_new else None
    if any(e is not None and e.trust_unknown for e in (e_old, e_new)):
        # An unreadable trust policy is not "no trust policy": who may assume the role is unknown.
        why = "its trust policy could not be read on one side"
        out.append(SnapshotChange(subject=arn, what="trust", change="changed", unknown=why))
    elif (t_old or t_new) and _docs([t for t in (t_old,) if t]) != _docs([t for t in (t_new,) if t]):
        out.append(
            _compare(
                arn,
                "trust",
                t_old,
                t_new,
                kind="resource",
                resource_account=arn.split(":")[4],
                directions=directions,
                limit=limit,
            )
        )
    return out


def _compare(
    subject: str,
    what: Literal["identity", "resource", "trust"],
    old: NamedPolicy | list[NamedPolicy] | None,
    new: NamedPolicy | list[NamedPolicy] | None,
    *,
    kind: PolicyKind,
    principal: str | None = None,
    resource_account: str | None = None,
    directions: tuple[Direction, ...],
    limit: int,
    added: bool = False,
    removed: bool = False,
) -> SnapshotChange:
    def as_list(x: NamedPolicy | list[NamedPolicy] | None) -> list[NamedPolicy]:
        if x is None:
            return []
        return list(x) if isinstance(x, list) else [x]

    old_l, new_l = as_list(old), as_list(new)
    change: Literal["added", "removed", "changed"] = (
        "added" if (added or not old_l) else "removed" if (removed or not new_l) else "changed"
    )
    empty = NamedPolicy(EMPTY_NAME, _EMPTY[kind])
    a = diff(
        _set(f"OLD {subject}", old_l or [empty]),
        _set(f"NEW {subject}", new_l or [empty]),
        kind=kind,
        principal=principal if kind == "identity" else None,
        resource_account=resource_account,
        directions=directions,
        limit=limit,
    )
    return SnapshotChange(subject=subject, what=what, change=change, answer=a)


def _empty_policy(kind: str):
    from reasoner.policy.document import parse_policy

    # A policy that allows and denies nothing stands for "no policy" on one side.
    st = {"Effect": "Deny", "NotAction": "*", "Resource": "*"}
    if kind == "resource":
        st["Principal"] = "*"
    return parse_policy({"Version": "2012-10-17", "Statement": [st]})


_EMPTY = {"identity": _empty_policy("identity"), "resource": _empty_policy("resource")}
