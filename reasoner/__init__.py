"""Exact AWS IAM policy reasoning on the clingo answer-set solver.

The Python API (documented in `reasoner.api` and the README's "Python API" section)::

    import reasoner

    snap = reasoner.load_snapshot("cases/athena-vpce/snapshot/snapshot.json")
    answer = reasoner.who_can(snap, "s3:GetObject", "arn:aws:s3:::examplecorp-business-data/x")

`decide`, `can`, `who_can`, `reach`, `privesc`, `prove`, `diff`, `lint`, `load_snapshot` and the
models they take and return are loaded on first use, so `import reasoner` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reasoner.api import (
        CanAnswer,
        CheckResult,
        Constraints,
        DecideInput,
        Decision,
        DiffAnswer,
        InvariantsFile,
        LintReport,
        NamedPolicy,
        PathFinder,
        PolicySet,
        PrincipalPrivesc,
        Query,
        ReachAnswer,
        Request,
        Result,
        Snapshot,
        SnapshotDiff,
        WhoCanAnswer,
        actions,
        can,
        check_access_not_granted,
        check_no_public_access,
        decide,
        diff,
        lint,
        load_policy,
        load_snapshot,
        long_lived,
        privesc,
        prove,
        reach,
        snapshot_request,
        who_can,
    )
    from reasoner.errors import InputError, InternalError


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iam-reasoner")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.1.0+unknown"


__all__ = [
    "CanAnswer",
    "CheckResult",
    "Constraints",
    "DecideInput",
    "Decision",
    "DiffAnswer",
    "InputError",
    "InternalError",
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
    "WhoCanAnswer",
    "__version__",
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
_ERRORS = {"InputError", "InternalError"}
_API = set(__all__) - _ERRORS - {"__version__"}


def __getattr__(name: str) -> Any:
    """Load the API on first use (module-level __getattr__, PEP 562); the version too (reading the
    installed metadata costs about as much as the rest of `import reasoner`)."""
    if name == "__version__":
        value: Any = _version()
    elif name in _API:
        from reasoner import api

        value = getattr(api, name)
    elif name in _ERRORS:
        from reasoner import errors

        value = getattr(errors, name)
    else:
        raise AttributeError(f"module 'reasoner' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API | _ERRORS | {"__version__"})
