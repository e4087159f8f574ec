"""Issue 11, class 8: glob matching never backtracks. `*` is any run of characters (the empty
one too), `?` exactly one character (IAM User Guide, "IAM JSON policy elements: Condition
operators", StringLike; "Resource": wildcards within each ARN component)."""

from __future__ import annotations

import re
import time
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.policy.patterns import arn_match, glob_match, plain, plain_glob_match


def reference(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """fnmatch-style semantics by dynamic programming: the definition, not an optimisation."""
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()

    @cache
    def m(i: int, j: int) -> bool:
        if i == len(pattern):
            return j == len(value)
        if pattern[i] == "*":
            return m(i + 1, j) or (j < len(value) and m(i, j + 1))
        return j < len(value) and (pattern[i] == "?" or pattern[i] == value[j]) and m(i + 1, j + 1)

    return m(0, 0)


def old_regex(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """The regular-expression matcher this replaces (same answers, exponential on `*a*a*...b`)."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


PATTERNS = st.text(alphabet="ab*?A:/", max_size=10)
VALUES = st.text(alphabet="abAB:/\n", max_size=12)


@settings(max_examples=600, deadline=None)
@given(PATTERNS, VALUES, st.booleans())
def test_glob_match_agrees_with_the_reference(pattern, value, ignore_case):
    want = reference(pattern, value, ignore_case)
    assert glob_match(plain(pattern), value, ignore_case) == want
    assert old_regex(pattern, value, ignore_case) == want
    if not ignore_case:
        assert plain_glob_match(pattern, value) == want


@settings(max_examples=300, deadline=None)
@given(st.lists(PATTERNS, min_size=6, max_size=6), st.lists(VALUES, min_size=6, max_size=6))
def test_arn_match_is_the_reference_per_component(parts, pieces):
    parts = [p.replace(":", "") for p in parts]
    pieces = [p.replace(":", "") for p in pieces[:5]] + [pieces[5]]  # the resource part may hold ':'
    want = all(reference(p, v) for p, v in zip(parts, pieces))
    assert arn_match(plain(":".join(parts)), ":".join(pieces)) == want


def test_escaped_wildcards_stay_literal():
    pattern = (("a", False), ("*", False), ("*", True))  # 'a${*}*'
    assert glob_match(pattern, "a*xyz") and not glob_match(pattern, "abxyz")


def test_many_stars_do_not_backtrack():
    """102 characters, 50 stars: a regular expression takes hours on a run of 'a's."""
    pattern = "*a" * 50 + "*b"
    start = time.perf_counter()
    for value in ("a" * 102, "a" * 100_000, "a" * 5000 + "b"):
        assert glob_match(plain(pattern), value) == value.endswith("b")
        assert plain_glob_match(pattern, value) == value.endswith("b")
        assert arn_match(plain("arn:aws:s3:::" + pattern), "arn:aws:s3:::" + value) == value.endswith("b")
    assert time.perf_counter() - start < 5
