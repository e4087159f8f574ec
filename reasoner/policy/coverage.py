"""Statement coverage of an action: the one Python home of "Action / NotAction covers this action".

Over-approximates the encoding rule `stmt_action_match` (encodings/: a statement applies to a
request only when some Action pattern matches the action, or, with NotAction, none does; the
match ignores case, IAM User Guide, "IAM JSON policy elements: Action" and "NotAction"). For an
action name the test is exact; for an action pattern (a search over many actions) any overlap of
the service parts counts, so "does not cover" is only ever said when no action the pattern names
can be covered. Callers use it as a sound shortcut: a statement that does not cover the action
cannot apply to it. tests/engine/test_coverage.py checks it against the encodings.
"""

from __future__ import annotations

from typing import Any

from reasoner.policy.patterns import plain_glob_match

_COVERS: dict[tuple[int, str], tuple[object, bool]] = {}


def is_action_pattern(action: str) -> bool:
    return "*" in action or "?" in action


def covers_action(st: Any, action: str) -> bool:
    """Can the statement's Action / NotAction cover `action` (a lower-case name, or a pattern:
    then conservatively, any overlap of service parts counts)? Cached per statement object (kept
    alive by the entry, so its id is not reused)."""
    key = (id(st), action)
    hit = _COVERS.get(key)
    if hit is None:
        if len(_COVERS) > 1_000_000:
            _COVERS.clear()
        hit = _COVERS[key] = (st, _covers_action_uncached(st, action))
    return hit[1]


def _covers_action_uncached(st: Any, action: str) -> bool:
    if is_action_pattern(action):
        if st.Action is None:
            return True
        return any(services_overlap(p, action) for p in st.Action)
    pats = st.Action if st.Action is not None else st.NotAction
    hit = any(plain_glob_match(p.lower(), action.lower()) for p in pats or [])
    return hit != (st.Action is None)


def services_overlap(p: str, q: str) -> bool:
    """Can two action patterns name actions of the same service (their service parts overlap)?"""
    a, b = p.lower().split(":", 1)[0], q.lower().split(":", 1)[0]
    return "*" in a or "*" in b or "?" in a or "?" in b or a == b
