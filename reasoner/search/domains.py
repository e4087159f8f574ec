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
from reasoner.policy.request import value_has_kind
from reasoner.policy.values import compare, parse_date, parse_network, parse_number

MAX_PRODUCT_STATES = 100_000
# Automaton steps one string search may take (states x characters x patterns): past it the
# dimension is not abstracted and the search answers "unknown" (README, "Input limits").
MAX_AUTOMATON_STEPS = 1_000_000

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
    (numeric, date, bool, ip; catalogue.value_kind): the key only ever holds values of that type
    (IAM User Guide, global condition context keys: each key's data type), so the regions are those
    of well-typed values only (typed_regions)."""
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
    if value_kind is not None:
        candidates = typed_regions(dom, value_kind, kinds, candidates)
    elif len(kinds) > 1:
        dom.complete = False
        dom.note = (
            f"{name} is compared as {' and '.join(sorted(kinds))}: regions of mixed kinds are not proved complete"
        )
    seen: dict[tuple[bool, ...], str] = {}
    for c in candidates:
        sig = dom.signature(c)
        if sig not in seen:
            seen[sig] = c
    dom.regions = [Region(w, s) for s, w in seen.items()]
    return dom


# Comparison kinds whose regions a typed key's own line of witnesses covers: a Date key's values
# are ISO 8601 texts, on which every numeric comparison is false; aws:EpochTime (Date, Numeric)
# holds epoch seconds, which date comparisons read as instants. A Bool key holds "true" or "false"
# only, so its two values are every region whatever it is compared with.
_COVERED_KINDS = {
    "numeric": {"numeric", "date"},
    "date": {"date", "numeric"},
    "ip": {"ip"},
    "bool": set(KIND_OF_FAMILY.values()),
}


def typed_regions(dom: Domain, value_kind: str, kinds: set[str], candidates: list[str]) -> list[str]:
    """The candidates of a key of type `value_kind`: the well-typed ones, then the witnesses of the
    kind's line cut at every constant of the comparisons. A key compared in a way the line does not
    cover (a string pattern on a number) keeps exact witnesses, but the domain is not complete."""
    if value_kind == "bool":
        return ["true", "false"]  # AWS writes booleans lower-case
    line = _kind_line(value_kind, dom.comparisons)
    typed = [c for c in candidates if value_has_kind(value_kind, c)]
    if value_kind == "date":
        typed = [c for c in typed if parse_number(c) is None]  # AWS writes dates in ISO 8601
    uncovered = kinds - _COVERED_KINDS[value_kind]
    if uncovered:
        dom.complete = False
        dom.note = (
            f"{dom.name} holds {value_kind} values but is compared as {' and '.join(sorted(uncovered))}: "
            "its typed regions are not proved complete"
        )
    return line + typed


def _kind_line(value_kind: str, comparisons: list[tuple[str, tuple]]) -> list[str]:
    """Witnesses of every interval of the kind's line cut at the comparisons' constants."""
    texts = [(KIND_OF_FAMILY[f], literal_text(p)) for f, p in comparisons]
    if value_kind == "ip":
        return _ip_witnesses([parse_network(t) for k, t in texts if k == "ip"])
    if value_kind == "date":
        return _date_witnesses([parse_date(t) for k, t in texts if k == "date"])
    return _number_witnesses([parse_number(t) if k == "numeric" else _date_as_number(t) for k, t in texts])


def _date_as_number(text: str) -> Decimal | None:
    stamp = parse_date(text)
    return None if stamp is None else Decimal(repr(stamp))


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
    # Each state keeps its parent and the character that reached it, not its word: words as long as
    # a 100,000-character literal are rebuilt only for the witnesses kept (bounded memory).
    seen: dict = {start: None}
    queue = deque([start])
    sigs = set()
    step_cost = len(letters) * max(1, sum(len(g) for g in groups))
    steps = 0
    while queue:
        state = queue.popleft()
        steps += step_cost
        if steps > MAX_AUTOMATON_STEPS:
            raise AbstractionError(
                f"more than {MAX_AUTOMATON_STEPS:,} automaton steps for {len(autos)} patterns "
                f"over {len(letters)} characters"
            )
        sig = tuple(
            m if isinstance(m, bool) else any(len(autos[i]) in st for i, st in zip(g, m)) for g, m in zip(groups, state)
        )
        if sig not in sigs:
            sigs.add(sig)
            out.append(_word_of(seen, state))
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
                    raise AbstractionError(
                        f"more than {MAX_PRODUCT_STATES:,} automaton states for {len(autos)} patterns"
                    )
                seen[nxt] = (state, ch)
                queue.append(nxt)
    return out


def _word_of(parents: dict, state) -> str:
    """The word the search reached `state` with, read back along the parent links."""
    chars = []
    link = parents[state]
    while link is not None:
        state, ch = link
        chars.append(ch)
        link = parents[state]
    return "".join(reversed(chars))


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
