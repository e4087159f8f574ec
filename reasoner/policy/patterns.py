"""Wildcard patterns with policy variables, matched without backtracking.

A pattern is a sequence of (char, wild) pairs: `wild` marks a `*` or `?` that is a wildcard, so
that `${*}` / `${?}` escapes and the values substituted for variables stay literal.

AWS: IAM User Guide, "IAM policy elements: Variables and tags" (`${key}`, `${key, 'default'}`,
`${*}`, `${?}`, `${$}`; only under Version 2012-10-17), and "Amazon Resource Names": ARNs are
matched component by component, `*` and `?` inside each of the six colon-delimited components.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True)
class Template:
    """A policy string with its variables: parts are ('text', s) or ('var', key_lower, default)."""

    source: str
    parts: tuple
    keys: tuple[str, ...]  # lower-cased keys needed without a default

    @property
    def has_vars(self) -> bool:
        return any(p[0] == "var" for p in self.parts)


@lru_cache(maxsize=200_000)
def parse_template(text: str, variables: bool) -> Template:
    """Split a Resource or Condition value into literal text and variables."""
    if not variables or "${" not in text:
        return Template(text, (("text", text),), ())
    parts: list = []
    keys: list[str] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > pos:
            parts.append(("text", text[pos : m.start()]))
        body = m.group(1)
        if body in _ESCAPES:
            parts.append(("lit", _ESCAPES[body]))
        else:
            d = _DEFAULT.match(body)
            if d:
                parts.append(("var", d.group(1).strip().lower(), d.group(2)))
            else:
                key = body.strip().lower()
                parts.append(("var", key, None))
                keys.append(key)
        pos = m.end()
    if pos < len(text):
        parts.append(("text", text[pos:]))
    return Template(text, tuple(parts), tuple(dict.fromkeys(keys)))


def fill(template: Template, single_values: dict[str, str]) -> tuple[tuple[str, bool], ...] | None:
    """The pattern as (char, wild) pairs, or None when a needed variable has no single value."""
    out: list[tuple[str, bool]] = []
    for part in template.parts:
        kind = part[0]
        if kind == "text":
            out.extend((c, c in "*?") for c in part[1])
        elif kind == "lit":
            out.append((part[1], False))
        else:
            value = single_values.get(part[1])
            if value is None:
                value = part[2]
            if value is None:
                return None
            out.extend((c, False) for c in value)
    return tuple(out)


def literal_text(pattern: tuple[tuple[str, bool], ...]) -> str:
    return "".join(c for c, _ in pattern)


def plain(text: str) -> tuple[tuple[str, bool], ...]:
    """A pattern with no variables (Action elements, 2008-10-17 documents)."""
    return tuple((c, c in "*?") for c in text)


@lru_cache(maxsize=200_000)
def _segments(pattern: tuple[tuple[str, bool], ...], ignore_case: bool) -> tuple[tuple[re.Pattern, int], ...]:
    """The pattern cut at its wildcard `*`s: each piece (literal characters and `?`) as a
    regular expression with no repetition, and its length (a piece always spans that many
    characters)."""
    pieces: list[list[tuple[str, bool]]] = [[]]
    for c, wild in pattern:
        if wild and c == "*":
            pieces.append([])
        else:
            pieces[-1].append((c, wild))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return tuple(
        (re.compile("".join("." if wild and c == "?" else re.escape(c) for c, wild in piece), flags), len(piece))
        for piece in pieces
    )


def glob_match(pattern: tuple[tuple[str, bool], ...], value: str, ignore_case: bool = False) -> bool:
    """`*` any run of characters (also '/', ':'), `?` exactly one character.

    No backtracking: the pieces between the stars are matched left to right, each at its
    leftmost place (the first piece at the start, the last one at the end), which is exact for
    globs and takes O(len(pattern) * len(value)) at worst (a regular expression with n stars
    can take O(len(value) ** n), e.g. `*a*a...*b` against a run of `a`s)."""
    segs = _segments(pattern, ignore_case)
    head, head_len = segs[0]
    if len(segs) == 1:
        return len(value) == head_len and head.fullmatch(value) is not None
    tail, tail_len = segs[-1]
    end = len(value) - tail_len
    if end < head_len or head.match(value) is None or tail.fullmatch(value, end) is None:
        return False
    pos = head_len
    for rx, _ in segs[1:-1]:
        m = rx.search(value, pos, end)
        if m is None:
            return False
        pos = m.end()
    return True


def plain_glob_match(pattern: str, value: str) -> bool:
    """glob_match for a pattern with no variables, with fast paths for the common shapes
    (a literal, a prefix followed by one `*`); same answers as glob_match(plain(pattern), value)."""
    star = pattern.find("*")
    if "?" not in pattern:
        if star < 0:
            return pattern == value
        if star == len(pattern) - 1:
            return value.startswith(pattern[:-1])
    return glob_match(plain(pattern), value)


def _split_arn(pattern: tuple[tuple[str, bool], ...]) -> list[tuple[tuple[str, bool], ...]]:
    parts: list[list[tuple[str, bool]]] = [[]]
    for c, wild in pattern:
        if c == ":" and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append((c, wild))
    return [tuple(p) for p in parts]


@lru_cache(maxsize=200_000)
def _arn_parts(pattern: tuple[tuple[str, bool], ...]) -> tuple[tuple[tuple[str, bool], ...], ...] | None:
    parts = _split_arn(pattern)
    if len(parts) != 6:
        return None
    return tuple(parts)


def arn_match(pattern: tuple[tuple[str, bool], ...], value: str) -> bool:
    """ArnLike / ArnEquals and the Resource element: component-wise glob on the six components.

    A pattern that is a lone `*` matches everything. A pattern that is not a six-component ARN is
    matched as a plain glob against the whole value (Resource "*", S3 "arn:aws:s3:::b*" style
    patterns always have six components). A value that is not an ARN only matches such globs.
    """
    compiled = _arn_parts(pattern)
    if compiled is None:
        return glob_match(pattern, value)
    pieces = value.split(":", 5)
    if len(pieces) != 6:
        return False
    return all(glob_match(part, piece) for part, piece in zip(compiled, pieces))


def globs_meet(a: tuple[tuple[str, bool], ...], b: tuple[tuple[str, bool], ...]) -> bool:
    """Some string matches both globs (`*` any run, `?` one character): a search over pairs of
    positions, reading the literal characters of either glob and one character of neither."""

    def closure(g: tuple[tuple[str, bool], ...], k: int) -> set[int]:
        out = {k}
        while k < len(g) and g[k] == ("*", True):
            k += 1
            out.add(k)
        return out

    def step(g: tuple[tuple[str, bool], ...], k: int, c: str) -> set[int]:
        if k == len(g):
            return set()
        ch, wild = g[k]
        if wild and ch == "*":
            return closure(g, k)
        if wild or ch == c:
            return closure(g, k + 1)
        return set()

    letters = {c for c, wild in a + b if not wild}
    letters.add(next(chr(i) for i in range(0x21, 0x7F) if chr(i) not in letters))
    start = {(i, j) for i in closure(a, 0) for j in closure(b, 0)}
    seen, todo = set(start), list(start)
    while todo:
        i, j = todo.pop()
        if i == len(a) and j == len(b):
            return True
        for c in letters:
            for pair in {(x, y) for x in step(a, i, c) for y in step(b, j, c)} - seen:
                seen.add(pair)
                todo.append(pair)
    return False
