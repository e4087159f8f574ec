"""Technique preconditions the snapshot can show (issue: privesc says *proved* only when every
precondition is visible and holds, *conditional* when one is outside the snapshot, *no* when a
visible one fails).

Two checks, named by a technique's `snapshot_check` (reasoner/data/CATALOGUES.md):
* "instance-profile": EC2 hands a role to an instance only through an instance profile that
  contains it (IAM User Guide, "Use an IAM role to grant permissions to applications running on
  Amazon EC2 instances"). GAAD lists each role's InstanceProfileList: an empty list means no
  instance profile, so the technique cannot be used.
* "non-default-version": SetDefaultPolicyVersion makes one of the policy's existing versions the
  default (IAM API reference, SetDefaultPolicyVersion); the target gains exactly that version's
  permissions in place of the default's, nothing arbitrary. GAAD lists every version in
  PolicyVersionList: the step counts only when some version makes the target admin.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal, NamedTuple

from reasoner.account.model import Entity, Snapshot
from reasoner.account.techniques import Technique
from reasoner.policy.request import NamedPolicy

__all__ = ["Precondition", "check_precondition"]

# is_admin(entity, extra_policies) -> True / False / None (unknown), as Privesc.is_admin.
AdminCheck = Callable[..., "bool | None"]


class Precondition(NamedTuple):
    # visible and true / visible and false / not shown / "not-admin": the policy has versions,
    # none of which makes the target admin (false for privesc; a path to a narrower request may
    # still use one, so path searches keep the step as conditional)
    state: Literal["holds", "fails", "outside", "not-admin"]
    shown: str | None = None  # what the snapshot shows, in plain words (for the step's via)


def check_precondition(snap: Snapshot, t: Technique, values: dict[str, str], is_admin: AdminCheck) -> Precondition:
    """The state of the technique's snapshot-checkable precondition bound to `values`; "outside"
    when the technique has none or the snapshot does not show it."""
    target = snap.principals.get(values.get("target", ""))
    if t.snapshot_check is None or target is None:
        return Precondition("outside")
    if t.snapshot_check == "instance-profile":
        return _instance_profile(target)
    return _non_default_version(snap, target, values["policy"], is_admin)


def _instance_profile(role: Entity) -> Precondition:
    if role.instance_profiles is None:
        return Precondition("outside")
    if not role.instance_profiles:
        return Precondition("fails")
    return Precondition("holds", f"instance profile {role.instance_profiles[0]}")


def _non_default_version(snap: Snapshot, target: Entity, policy: str, is_admin: AdminCheck) -> Precondition:
    versions = snap.policy_versions.get(policy)
    default = snap.managed_policies.get(policy)
    if versions is None or default is None:
        return Precondition("outside")
    unknown = False
    for vid, doc in sorted(versions.items()):
        if doc is None:
            unknown = True
            continue
        verdict = is_admin(*_with_version(target, default, doc))
        if verdict:
            return Precondition("holds", f"version {vid} of {policy}")
        unknown = unknown or verdict is None
    if unknown:
        return Precondition("outside")
    return Precondition("not-admin" if versions else "fails")


def _with_version(target: Entity, default: NamedPolicy, version: NamedPolicy) -> tuple[Entity, tuple[NamedPolicy]]:
    """The target as it would be with `version` as the default: the default document removed
    and the version added. The version's own name keeps the admin cache's key distinct."""
    kept = [p for p in target.identity_policies if p is not default and p.name != default.name]
    return dataclasses.replace(target, identity_policies=kept), (version,)
