"""Finite abstraction of value spaces: regions of values no pattern in scope can tell apart,
each with one concrete witness.

A condition only looks at a context value through the patterns and constants written in the
policies. For one key, the *signature* of a value is the vector "does it match pattern i"; two
values with the same signature are interchangeable in every decision. The regions are the
realisable signatures, and a witness is one value per region.

- Strings and ARNs: a breadth-first search over the product of the patterns' automata, on the
  characters that occur in the patterns (both cases where a pattern ignores case) plus one fresh
  character, finds every realisable signature with a shortest witness. Any other character
  behaves like the fresh one in every automaton, so no signature is missed.
- Numbers and dates: the constants cut the line; the constants and a point in every gap.
- IP addresses: every CIDR's first and last address and their neighbours cut both lines.
- Booleans: true, false. Binary: the policy values and one other.

`complete` is False when a key mixes comparison kinds (say StringLike and IpAddress): then the
candidates are still exact witnesses, but a region may be missed, and "impossible" must not be
reported.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from reasoner.policy.patterns import literal_text
from reasoner.policy.values import compare, parse_date, parse_network, parse_number

MAX_PRODUCT_STATES = 100_000

KIND_OF_FAMILY = {
    "string_equals": "string",
    "string_equals_ic": "string",
    "string_like": "string",
    "arn_like": "string",
    "numeric_eq": "numeric",
    "numeric_lt": "numeric",
    "numeric_le": "numeric",
    "numeric_gt": "numeric",
    "numeric_ge": "numeric",
    "date_eq": "date",
    "date_lt": "date",
    "date_le": "date",
    "date_gt": "date",
    "date_ge": "date",
    "bool": "bool",
    "binary_equals": "binary",
    "ip_address": "ip",
}


class AbstractionError(Exception):
    """The abstraction cannot cover a pattern in scope: the search answers 'unknown'."""


@dataclass(frozen=True)
class Region:
    witness: str
    signature: tuple[bool, ...]


@dataclass
class Domain:
    """The regions of one dimension, for the comparisons (family, pattern) in scope."""

    name: str
    comparisons: list[tuple[str, tuple]]  # (family, filled pattern as (char, wild) pairs)
    regions: list[Region] = field(default_factory=list)
    complete: bool = True
    note: str = ""
    groups: list[list[int]] = field(default_factory=list)  # OR-groups of indices into comparisons

    def signature(self, value: str) -> tuple[bool, ...]:
        """One bit per OR-group (the entries of one Resource element, the values of one condition):
        a decision only depends on whether some member of each group matches."""
        return tuple(any(compare(*self.comparisons[i], value) for i in g) for g in self.groups)


_TYPED = {
    "numeric": lambda v: parse_number(v) is not None,
    "date": lambda v: parse_date(v) is not None,
    "bool": lambda v: v.lower() in ("true", "false"),
    "ip": lambda v: parse_network(v) is not None,
}


def signature(comparisons: list[tuple[str, tuple]], value: str) -> tuple[bool, ...]:
    return tuple(compare(fam, pat, value) for fam, pat in comparisons)


# Readable values tried first for well-known keys, so witnesses look like real requests.
HINTS = {
    "aws:calledvia": ["glue.amazonaws.com", "cloudformation.amazonaws.com"],
    "aws:sourcevpce": ["vpce-1111111111example"],
    "aws:sourcevpc": ["vpc-11111111"],
    "aws:principalorgid": ["o-exampleorgid"],
    "aws:requestedregion": ["us-east-1"],
}


def build_domain(
    name: str,
    comparisons: list[tuple[str, tuple]],
    extra_candidates: Sequence[str] = (),
    groups: list[list[tuple[str, tuple]]] | None = None,
    value_kind: str | None = None,
) -> Domain:
    """Regions of one dimension: every realisable signature, one witness each.

    `groups` (lists of comparisons, each ORed) default to one group per comparison. `value_kind`
    (numeric, date, bool, ip): the key only ever holds values of that type; when every comparison
    is of that kind, the regions are those of well-typed values only (the kind's own witnesses
    cover its whole line, so none is missed)."""
    comparisons = list(dict.fromkeys(list(comparisons) + [c for g in groups or [] for c in g]))
    index = {c: i for i, c in enumerate(comparisons)}
    group_ix = (
        [sorted({index[c] for c in g}) for g in groups]
        if groups is not None
        else [[i] for i in range(len(comparisons))]
    )
    group_ix = [g for g in group_ix if g]
    kinds = {KIND_OF_FAMILY[f] for f, _ in comparisons}
    dom = Domain(name, comparisons, groups=group_ix)
    candidates: list[str] = list(extra_candidates) + HINTS.get(name, []) + ["example"]
    if not comparisons:
        candidates.append("x")
    if "string" in kinds:
        string_comps = [(f, p) for f, p in comparisons if KIND_OF_FAMILY[f] == "string"]
        candidates.extend(_string_witnesses(comparisons, group_ix, {index[c] for c in string_comps}))
    if "numeric" in kinds:
        candidates.extend(
            _number_witnesses([parse_number(literal_text(p)) for f, p in comparisons if KIND_OF_FAMILY[f] == "numeric"])
        )
    if "date" in kinds:
        candidates.extend(
            _date_witnesses([parse_date(literal_text(p)) for f, p in comparisons if KIND_OF_FAMILY[f] == "date"])
        )
    if "ip" in kinds:
        candidates.extend(
            _ip_witnesses([parse_network(literal_text(p)) for f, p in comparisons if KIND_OF_FAMILY[f] == "ip"])
        )
    if "bool" in kinds:
        candidates.extend(["true", "false"])
    if "binary" in kinds:
        candidates.extend([literal_text(p) for f, p in comparisons if f == "binary_equals"] + ["AAAA"])
    if len(kinds) > 1:
        dom.complete = False
        dom.note = (
            f"{name} is compared as {' and '.join(sorted(kinds))}: regions of mixed kinds are not proved complete"
        )
    if value_kind is not None and kinds == {value_kind}:
        candidates = [c for c in candidates if _TYPED[value_kind](c)]
    seen: dict[tuple[bool, ...], str] = {}
    for c in candidates:
        sig = dom.signature(c)
        if sig not in seen:
            seen[sig] = c
    dom.regions = [Region(w, s) for s, w in seen.items()]
    return dom


# ---- strings: product of glob automata ----------------------------------------------------------
def _tokens(family: str, pattern: tuple) -> list[tuple[str, str, bool]]:
    """Pattern -> automaton tokens (kind, char, colon_ok): kind is lit, lit_ic, one or star."""
    if family == "string_equals":
        return [("lit", c, True) for c, _ in pattern]
    if family == "string_equals_ic":
        return [("lit_ic", c.lower(), True) for c, _ in pattern]
    parts = [c for c, _ in pattern]
    colons = [i for i, (c, _) in enumerate(pattern) if c == ":"][:5]
    arn = family == "arn_like" and len(colons) == 5
    out = []
    for i, (c, wild) in enumerate(pattern):
        # In an ARN, wildcards of the first five components stop at ':'; the last takes anything.
        colon_ok = not arn or i > colons[-1]
        if wild and c == "*":
            out.append(("star", "", colon_ok))
        elif wild and c == "?":
            out.append(("one", "", colon_ok))
        else:
            out.append(("lit", c, True))
    del parts
    return out


def _closure(tokens, states: frozenset[int]) -> frozenset[int]:
    out = set(states)
    stack = list(states)
    while stack:
        p = stack.pop()
        if p < len(tokens) and tokens[p][0] == "star" and p + 1 not in out:
            out.add(p + 1)
            stack.append(p + 1)
    return frozenset(out)


def _step(tokens, states: frozenset[int], ch: str) -> frozenset[int]:
    nxt = set()
    for p in states:
        if p >= len(tokens):
            continue
        kind, c, colon_ok = tokens[p]
        if kind == "lit" and ch == c:
            nxt.add(p + 1)
        elif kind == "lit_ic" and ch.lower() == c:
            nxt.add(p + 1)
        elif kind in ("one", "star") and (colon_ok or ch != ":"):
            nxt.add(p + 1 if kind == "one" else p)
    return _closure(tokens, frozenset(nxt))


_STRING_MEMO: dict[tuple, tuple[str, ...]] = {}


def _string_witnesses(comparisons: list[tuple[str, tuple]], groups: list[list[int]], strings: set[int]) -> list[str]:
    """The witnesses of _search_strings, memoised: the same patterns come back for every principal
    and direction of a diff, and every statement of a lint."""
    key = (tuple(comparisons), tuple(tuple(g) for g in groups), frozenset(strings))
    hit = _STRING_MEMO.get(key)
    if hit is None:
        if len(_STRING_MEMO) > 512:
            _STRING_MEMO.clear()
        hit = _STRING_MEMO[key] = tuple(_search_strings(comparisons, groups, strings))
    return list(hit)


def _alphabet(comparisons: list[tuple[str, tuple]], strings: set[int]) -> tuple[list[str], str]:
    """The patterns' literal characters (both cases for case-insensitive ones) and a fresh
    character none of them uses, which stands for every other character."""
    alphabet = set()
    for i in strings:
        f, p = comparisons[i]
        for c, wild in p:
            if not wild:
                alphabet.add(c)
                if f == "string_equals_ic":
                    alphabet.update({c.lower(), c.upper()})
    alphabet.discard("")
    fresh = next(c for c in "xqz0_~#" if c not in alphabet and c.lower() not in alphabet)
    alphabet.add(fresh)
    return sorted(alphabet), fresh


def _search_strings(comparisons: list[tuple[str, tuple]], groups: list[list[int]], strings: set[int]) -> list[str]:
    """Shortest witnesses of every realisable group signature (plus the literals, for readability).

    The state of the search is, per OR-group, either settled (True: a member accepts every
    continuation; False: every member is dead) or the members' automaton states. A word whose
    groups are all settled cannot reach a new signature by growing, so it is not extended:
    exact pruning, which keeps overlapping wildcard patterns (API Gateway's forty paths) small.
    """
    autos = {i: _tokens(*comparisons[i]) for i in strings}
    groups = [[i for i in g if i in strings] for g in groups]
    groups = [g for g in groups if g]
    letters, fresh = _alphabet(comparisons, strings)
    # universal[i][p]: from position p automaton i accepts every continuation: p is a star (it
    # stays in the state) and only colon-free stars follow. The end position is not universal:
    # it accepts the empty continuation only.
    universal = {
        i: [p < len(t) and all(tok[0] == "star" and tok[2] for tok in t[p:]) for p in range(len(t) + 1)]
        for i, t in autos.items()
    }
    # Readable candidates first: each pattern with its wildcards filled by the fresh character.
    out = ["".join(fresh if w else c for c, w in comparisons[i][1]) for i in sorted(strings)]

    def settle(state):
        norm = []
        for g, members in zip(groups, state):
            if isinstance(members, bool):
                norm.append(members)
            elif any(any(universal[i][p] for p in st) for i, st in zip(g, members)):
                norm.append(True)
            elif all(not st for st in members):
                norm.append(False)
            else:
                norm.append(members)
        return tuple(norm)

    start = settle(tuple(tuple(_closure(autos[i], frozenset({0})) for i in g) for g in groups))
    seen = {start: ""}
    queue = deque([start])
    sigs = set()
    while queue:
        state = queue.popleft()
        word = seen[state]
        sig = tuple(
            m if isinstance(m, bool) else any(len(autos[i]) in st for i, st in zip(g, m)) for g, m in zip(groups, state)
        )
        if sig not in sigs:
            sigs.add(sig)
            out.append(word)
        if all(isinstance(m, bool) for m in state):
            continue
        for ch in letters:
            nxt = settle(
                tuple(
                    m if isinstance(m, bool) else tuple(_step(autos[i], st, ch) for i, st in zip(g, m))
                    for g, m in zip(groups, state)
                )
            )
            if nxt not in seen:
                if len(seen) >= MAX_PRODUCT_STATES:
                    raise AbstractionError(f"more than {MAX_PRODUCT_STATES} automaton states for {len(autos)} patterns")
                seen[nxt] = word + ch
                queue.append(nxt)
    return out


# ---- numbers, dates, IPs --------------------------------------------------------------------------
def _number_witnesses(constants: list[Decimal | None]) -> list[str]:
    cs = sorted({c for c in constants if c is not None})
    if not cs:
        return ["0"]
    out = [str(cs[0] - 1)]
    for a, b in zip(cs, cs[1:]):
        out += [str(a), str((a + b) / 2)]
    out += [str(cs[-1]), str(cs[-1] + 1)]
    return out


def _date_witnesses(stamps: list[float | None]) -> list[str]:
    cs = sorted({s for s in stamps if s is not None})

    def iso(t: float) -> str:
        # A cut next to a valid far date (9999-12-31T23:59:59Z, 0001-01-01) lies outside what
        # datetime can write: such a point is written as epoch seconds, which dates accept too.
        try:
            return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")
        except (OverflowError, ValueError, OSError):
            return str(int(t)) if t == int(t) else repr(t)

    if not cs:
        return [iso(0)]
    out = [iso(cs[0] - 1)]
    for a, b in zip(cs, cs[1:]):
        out += [iso(a), iso((a + b) / 2)]
    out += [iso(cs[-1]), iso(cs[-1] + 1)]
    return out


def _ip_witnesses(nets: list) -> list[str]:
    out = ["192.0.2.1", "2001:db8::1"]
    for net in nets:
        if net is None:
            continue
        cls = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
        top = 2 ** (32 if net.version == 4 else 128) - 1
        lo, hi = int(net.network_address), int(net.broadcast_address)
        for n in (lo - 1, lo, hi, hi + 1):
            if 0 <= n <= top:
                out.append(str(cls(n)))
    return out
