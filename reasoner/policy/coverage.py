"""Statement coverage of an action: the one Python home of "Action / NotAction covers this action".

Over-approximates the encoding rule `stmt_action_match` (encodings/: a statement applies to a
request only when some Action pattern matches the action, or, with NotAction, none does; the
match ignores case, IAM User Guide, "IAM JSON policy elements: Action" and "NotAction"). For an
action name the test is exact; for an action pattern (a search over many actions) any overlap of
the service parts counts, so "does not cover" is only ever said when no action the pattern names
can be covered. Callers use it as a sound shortcut: a statement that does not cover the action
cannot apply to it. tests/engine/test_coverage.py checks it against the encodings.

The pieces of the rule are here too, for callers that hold compiled statements (interned pattern
ids) rather than documents: `action_matches` (one pattern against one action name: the facts of
action_match/2), `statement_covers` (Action: some pattern matches; NotAction: none does: the rule
stmt_action_match) and `service_may_match` (a pattern's service part can match a service: a sound
prefilter, never decisive).
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
    return statement_covers(any(action_matches(p, action) for p in pats or []), st.Action is None)


def action_matches(pattern: str, action: str) -> bool:
    """An Action / NotAction pattern matches an action name: a glob (`*` any run, `?` one
    character) that ignores case ("the action name is case insensitive", IAM User Guide, Action)."""
    return plain_glob_match(pattern.lower(), action.lower())


def statement_covers(matched: bool, not_action: bool) -> bool:
    """The statement covers the action: with Action, some pattern matched it; with NotAction, none
    did (encodings/match/action.lp)."""
    return matched != not_action


def service_may_match(pattern: str, service: str) -> bool:
    """Can the pattern match some action of the service? Its service part (the text before the
    first ':') must match the service; a pattern without ':' may match any action ('*', 's3*')."""
    if ":" not in pattern:
        return True
    return plain_glob_match(pattern.split(":", 1)[0].lower(), service.lower())


def services_overlap(p: str, q: str) -> bool:
    """Can two action patterns name actions of the same service (their service parts overlap)?"""
    a, b = p.lower().split(":", 1)[0], q.lower().split(":", 1)[0]
    return "*" in a or "*" in b or "?" in a or "?" in b or a == b
