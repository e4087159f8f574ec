"""The Python API: one documented function per question the reasoner answers.

Every `reasoner` command is a thin layer over these functions (parse the flags, call one of
them, render the answer), so what the CLI prints with `--format json` is the answer of the
function, serialised. Each function takes the existing models as input and returns the existing
answer models:

==================  ===================================================  ==========================
function            input                                                answer
==================  ===================================================  ==========================
decide              DecideInput (a Request and its policy layers)        Decision (list for a list)
can                 Query (fixed parts, constraints, policy layers)      CanAnswer
load_snapshot       files or directories (GAAD, bundles, CloudMapper)    Snapshot
who_can             Snapshot or PathFinder, action, resource, Constraints WhoCanAnswer (paths)
reach               Snapshot or PathFinder, start, action, resource       ReachAnswer (Path list)
privesc             Snapshot, optional start principal                   list[PrincipalPrivesc]
prove               invariants file or InvariantsFile, Snapshot or path  list[Result]
diff                two policy sets (paths or PolicySet) or 2 Snapshots  DiffAnswer / SnapshotDiff
lint                a policy file or a directory of them                 LintReport
==================  ===================================================  ==========================

Many questions in one process share a `PathFinder`'s caches; `with long_lived() as settle:`
around them, calling `settle()` between questions, keeps Python's collector from rescanning those
caches (reasoner.heap).

Bad input raises `reasoner.errors.InputError` (its `one_line()` names the file and JSON path);
a disagreement between two parts of the reasoner raises `reasoner.errors.InternalError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path as FsPath
from typing import overload

from reasoner.account.paths import Constraints, PathFinder, ReachAnswer, WhoCanAnswer
from reasoner.account.privesc import PrincipalPrivesc, Privesc
from reasoner.account.snapshot import Snapshot, SnapshotUnknown
from reasoner.account.snapshot import load_snapshot as load_snapshot_files
from reasoner.audit.checks import check_access_not_granted as access_not_granted
from reasoner.audit.checks import check_no_public_access as no_public_access
from reasoner.audit.diff import MAX_CLASSES, DiffAnswer, PolicySet, load_policy_set
from reasoner.audit.diff import diff as diff_policies
from reasoner.audit.invariants import InvariantsFile, Prover, Result, load_invariants
from reasoner.audit.lint import LintReport
from reasoner.audit.lint import lint as lint_policies
from reasoner.audit.snapshot_diff import SnapshotDiff, diff_snapshots
from reasoner.engine.answers import Decision
from reasoner.engine.decide import decide_many
from reasoner.heap import long_lived
from reasoner.policy import catalogue
from reasoner.policy.document import load_policy as load_policy_file
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.can import CanAnswer, Query
from reasoner.search.can import can as search
from reasoner.search.cover import CheckResult

__all__ = [
    "CanAnswer",
    "CheckResult",
    "Constraints",
    "DecideInput",
    "Decision",
    "DiffAnswer",
    "InvariantsFile",
    "LintReport",
    "NamedPolicy",
    "PathFinder",
    "PolicySet",
    "PrincipalPrivesc",
    "Query",
    "ReachAnswer",
    "Request",
    "Result",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotUnknown",
    "WhoCanAnswer",
    "actions",
    "can",
    "check_access_not_granted",
    "check_no_public_access",
    "decide",
    "diff",
    "lint",
    "load_policy",
    "load_snapshot",
    "long_lived",
    "privesc",
    "prove",
    "reach",
    "snapshot_request",
    "who_can",
]

PathLike = str | os.PathLike[str]
Progress = Callable[[str, int, int], None]  # (what, done, total)


# -- inputs ----------------------------------------------------------------------------------------


def load_policy(path: PathLike, name: str | None = None) -> NamedPolicy:
    """Load a policy file (JSON or YAML) as a named policy for `DecideInput` / `Query` layers.

    The name (default: the path) is how answers refer to the policy."""
    return NamedPolicy(name=name if name is not None else str(path), policy=load_policy_file(FsPath(path)))


def load_snapshot(paths: PathLike | Sequence[PathLike]) -> Snapshot:
    """Load an account snapshot: one or several files or directories (a bundle, bare `aws iam
    get-account-authorization-details` output, resource-policy lists, an organization tree,
    describe-vpc-endpoints output, a CloudMapper dump). Parts that are not valid are skipped and
    listed in `Snapshot.problems`; a file that cannot be read at all raises InputError."""
    if isinstance(paths, (str, os.PathLike)):
        return load_snapshot_files(FsPath(paths))
    return load_snapshot_files([FsPath(p) for p in paths])


def snapshot_request(
    snapshot: Snapshot, principal: str, action: str, resource: str, context: dict | None = None
) -> DecideInput:
    """The request with every policy layer the snapshot gives it (identity policies, boundary,
    tags, the resource's or trust policy, SCPs, RCPs, the endpoint policy when aws:SourceVpce
    names an endpoint of the snapshot): what `decide --snapshot` decides.

    Raises SnapshotUnknown (with the reason) when the snapshot cannot give every layer: the
    principal's permissions or SCPs, the resource's policy, owner or RCPs, or the trust policy of
    a role to assume could not be read: the same principals and resources `who-can` reports as
    unknown."""
    from reasoner.account.matrix import snapshot_input

    return snapshot_input(snapshot, principal, action, resource, context)


# -- questions -------------------------------------------------------------------------------------


@overload
def decide(requests: DecideInput, *, explain: bool = True, source: str | None = None) -> Decision: ...
@overload
def decide(requests: Sequence[DecideInput], *, explain: bool = True, source: str | None = None) -> list[Decision]: ...
def decide(
    requests: DecideInput | Sequence[DecideInput], *, explain: bool = True, source: str | None = None
) -> Decision | list[Decision]:
    """Decide requests exactly as AWS does: `allow`, `explicit_deny` or `implicit_deny`, the layer
    that decided, the determining statements, the layers without an allow, and (with `explain`)
    why each statement that did not apply failed.

    One `DecideInput` gives one `Decision` and raises InputError on a bad request (an unknown
    action, a malformed ARN; `source` names where it came from). A list is decided in one
    grounding and gives one `Decision` per input, a bad input as `Decision.error`."""
    if isinstance(requests, DecideInput):
        return decide_many([requests], explain=explain, source=source, raise_errors=True)[0]
    return decide_many(list(requests), explain=explain, source=source)


def can(query: Query, *, all_witnesses: bool = False) -> CanAnswer:
    """Is there ANY request in the space the query leaves open that AWS would allow?

    `possible` with a re-checked witness (a `decide --batch` object and a ready `reasoner decide`
    command), `impossible` with the scope searched, or `unknown` with the reason. With
    `all_witnesses`, one witness per distinct set of applying statements."""
    return search(query, all_witnesses=all_witnesses)


def _finder(snapshot: Snapshot | PathFinder, progress: Progress | None) -> PathFinder:
    if isinstance(snapshot, PathFinder):
        return snapshot
    return PathFinder(snapshot, progress=progress)


def who_can(
    snapshot: Snapshot | PathFinder,
    action: str,
    resource: str,
    constraints: Constraints | None = None,
    *,
    progress: Progress | None = None,
    outside: bool = True,
) -> WhoCanAnswer:
    """Every principal of the snapshot that can do `action` on `resource` (an ARN or pattern),
    each with its shortest path (role assumption, service chains, endpoints), and those whose
    answer is unknown. Pass a `PathFinder` to reuse its caches across questions. With `outside`,
    also the principals outside the snapshot the resource or trust policies let in
    (`WhoCanAnswer.outside`, reasoner.account.outside), each "if their own account allows"."""
    return _finder(snapshot, progress).who_can(action, resource, constraints or Constraints(), outside=outside)


def reach(
    snapshot: Snapshot | PathFinder,
    start: str,
    action: str,
    resource: str,
    constraints: Constraints | None = None,
    *,
    max_paths: int = 20,
) -> ReachAnswer:
    """Every path from `start` (an ARN or a user/role name) to `action` on `resource`, shortest
    first (at most `max_paths`), or `impossible` with the identities searched."""
    return _finder(snapshot, None).reach(start, action, resource, constraints or Constraints(), max_paths)


def privesc(
    snapshot: Snapshot, start: str | None = None, *, progress: Progress | None = None
) -> list[PrincipalPrivesc]:
    """Which principals can become admin-equivalent (iam:* on *), each with its chains of
    techniques (`admin` is None when unknown); `start` limits it to one principal."""
    return Privesc(snapshot, progress=progress).run(start)


def prove(invariants: PathLike | InvariantsFile, snapshot: Snapshot | PathLike | Sequence[PathLike]) -> list[Result]:
    """Prove each invariant over the snapshot: `proved` (with the scope), `violated` (with a
    minimal counterexample and a `reasoner decide --snapshot` command) or `unknown` (with the
    reason). `invariants` is a file (YAML or JSON) or a loaded `InvariantsFile`; `snapshot` a
    loaded Snapshot, snapshot files, or a case folder whose case.yaml names a snapshot."""
    spec = invariants if isinstance(invariants, InvariantsFile) else load_invariants(FsPath(invariants))
    snap = snapshot if isinstance(snapshot, Snapshot) else _snapshot_or_case(snapshot)
    prover = Prover(snap, max_violators=spec.max_violators)
    results = []
    with long_lived() as settle:  # one session: the invariants share the caches (heap.py)
        for inv in spec.invariants:
            results.append(prover.prove(inv))
            settle()
    return results


def _snapshot_or_case(target: PathLike | Sequence[PathLike]) -> Snapshot:
    if isinstance(target, (str, os.PathLike)):
        p = FsPath(target)
        if p.is_dir() and (p / "case.yaml").exists():
            from reasoner.cases import case_snapshot, load_case

            return case_snapshot(load_case(p))
    return load_snapshot(target)


@overload
def diff(
    old: Snapshot,
    new: Snapshot,
    *,
    kind: str | None = None,
    principal: str | None = None,
    resource_account: str | None = None,
    check: bool = False,
    limit: int = MAX_CLASSES,
) -> SnapshotDiff: ...
@overload
def diff(
    old: PathLike | PolicySet,
    new: PathLike | PolicySet,
    *,
    kind: str | None = None,
    principal: str | None = None,
    resource_account: str | None = None,
    check: bool = False,
    limit: int = MAX_CLASSES,
) -> DiffAnswer: ...
def diff(
    old: PathLike | PolicySet | Snapshot,
    new: PathLike | PolicySet | Snapshot,
    *,
    kind: str | None = None,
    principal: str | None = None,
    resource_account: str | None = None,
    check: bool = False,
    limit: int = MAX_CLASSES,
) -> DiffAnswer | SnapshotDiff:
    """What NEW allows that OLD did not (`added`) and the reverse (`removed`), each `differs`
    (classes of requests with re-checked witnesses), `same` (proved) or `unknown`.

    OLD and NEW are policy sets: a file, a directory, files separated by commas, or a
    `PolicySet`; `kind` is "identity" or "resource" (default: from the Principal elements).
    Two `Snapshot`s are compared principal by principal and policy by policy (SnapshotDiff).
    `check` answers only the added direction (IAM Access Analyzer's CheckNoNewAccess);
    `limit` bounds the classes listed per direction."""
    directions: tuple = ("added",) if check else ("added", "removed")
    if isinstance(old, Snapshot) or isinstance(new, Snapshot):
        if not (isinstance(old, Snapshot) and isinstance(new, Snapshot)):
            raise TypeError("diff: compare two snapshots, or two policy sets")
        return diff_snapshots(old, new, directions=directions, limit=limit)
    old_set = old if isinstance(old, PolicySet) else load_policy_set(str(old))
    new_set = new if isinstance(new, PolicySet) else load_policy_set(str(new))
    return diff_policies(
        old_set,
        new_set,
        kind=kind,
        principal=principal,
        resource_account=resource_account,
        directions=directions,
        limit=limit,
    )


def lint(
    policy: PathLike, *, kind: str | None = None, principal: str | None = None, resource_account: str | None = None
) -> LintReport:
    """Statements that never change a decision (an Allow whose removal allows nothing less, a Deny
    whose removal allows nothing more, proved with the diff search) and Action entries the
    catalogue does not know, for a policy file or every file of a directory."""
    return lint_policies(str(policy), kind=kind, principal=principal, resource_account=resource_account)


def check_access_not_granted(
    policy: NamedPolicy, action: str, resource: str = "*", account: str = "123456789012"
) -> CheckResult:
    """Does the policy grant `action` (a name or pattern) on `resource`? `passed` is True when
    proved not, False with a witness, None when unknown."""
    return access_not_granted(policy, action, resource, account)


def check_no_public_access(policy: NamedPolicy, account: str, resource: str = "*") -> CheckResult:
    """Can anyone outside `account` (or anonymous) do anything through this resource policy?"""
    return no_public_access(policy, account, resource)


def actions(pattern: str) -> list[catalogue.ActionInfo]:
    """The catalogue actions an Action pattern matches (case-insensitive), with resource types and
    condition keys; an empty list when none does."""
    return [info for info in (catalogue.lookup(n) for n in catalogue.expand(pattern)) if info is not None]
