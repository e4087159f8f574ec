"""Is a `reasoner diff` argument an account snapshot (then both sides are compared with
`reasoner.audit.snapshot_diff`) rather than a policy set?"""

from __future__ import annotations

from pathlib import Path

from reasoner.errors import InputError
from reasoner.policy.document import open_input


def is_snapshot(spec: str) -> bool:
    """A snapshot bundle, a bare GAAD file, or a directory holding one (not a policy file)."""
    p = Path(spec)
    if p.is_dir():
        return any(f.name == "iam-get-account-authorization-details.json" for f in p.rglob("*.json")) or any(
            _snapshot_file(f) for f in p.glob("*.json")
        )
    return p.is_file() and _snapshot_file(p)


def _snapshot_file(p: Path) -> bool:
    try:
        # Only the head, through the bounded reader (a regular file, checked before reading).
        with open_input(p) as fh:
            head = fh.read(4096).decode("utf-8", errors="replace")
    except (OSError, InputError):
        return False
    return any(k in head for k in ('"authorization_details"', '"UserDetailList"', '"RoleDetailList"'))
