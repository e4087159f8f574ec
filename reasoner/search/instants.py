"""The time dimension: one searched instant from which aws:CurrentTime and aws:EpochTime are both
derived, never earlier than now, and the issue time of the caller's temporary credentials.

AWS semantics (IAM User Guide, "AWS global condition context keys"):
- aws:CurrentTime ("Date") and aws:EpochTime ("Date, Numeric", epoch seconds) are "always included
  in the request context" and are the date and time of the request: one instant. `can` answers
  "can a request sent from now on get through", so the instant is at least `now` (taken from the
  clock once per query; Query.now overrides it).
- aws:TokenIssueTime ("Date") is "the date and time that temporary security credentials were
  issued", "included in the request context only when the principal uses temporary credentials
  to make the request" (not with access keys). It is at most the request time and no older than
  the longest session AWS allows for those credentials (AWS STS API Reference): AssumeRole*
  sessions last at most 12 hours (DurationSeconds up to 43200), GetFederationToken and
  GetSessionToken sessions at most 36 hours (129600 seconds) for IAM users and 1 hour for the root
  user. A role session or a federated user always carries it; an IAM user or the root user uses
  long-term access keys (key absent) or GetSessionToken credentials (key present).

The regions are the distinct signatures (every condition on the three keys, evaluated on the
derived values) of candidate points: every constant's neighbours, shifted by the session bound
where the issue time's constraints cross the band [t - max age, t].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from reasoner.engine.facts import CondEntry
from reasoner.policy.patterns import fill, literal_text
from reasoner.policy.principals import Principal
from reasoner.policy.values import compare, parse_date, parse_number
from reasoner.search.compilation import Compilation
from reasoner.search.domains import KIND_OF_FAMILY, Domain, Region

CURRENT, EPOCH, ISSUED = "aws:currenttime", "aws:epochtime", "aws:tokenissuetime"
SPELLING = {CURRENT: "aws:CurrentTime", EPOCH: "aws:EpochTime", ISSUED: "aws:TokenIssueTime"}
HOUR = 3600
ROLE_SESSION_MAX_AGE = 12 * HOUR  # AssumeRole DurationSeconds <= 43200
USER_SESSION_MAX_AGE = 36 * HOUR  # GetSessionToken / GetFederationToken <= 129600 for IAM users
ROOT_SESSION_MAX_AGE = 1 * HOUR  # GetSessionToken for the root user <= 3600
LAST_INSTANT = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant ISO 8601 dates write


@dataclass(frozen=True)
class TokenAge:
    """How old the caller's temporary credentials can be, and whether it may use none."""

    max_age: int
    may_be_absent: bool


def token_age(principal: Principal) -> TokenAge | None:
    """The bounds of aws:TokenIssueTime for the caller, or None when they are not modelled
    (service, anonymous and web identity callers: the key is searched as a plain date)."""
    if principal.type == "role_session":
        return TokenAge(ROLE_SESSION_MAX_AGE, False)
    if principal.type == "federated_user":
        return TokenAge(USER_SESSION_MAX_AGE, False)
    if principal.type == "user":
        return TokenAge(USER_SESSION_MAX_AGE, True)
    if principal.type == "root":
        return TokenAge(ROOT_SESSION_MAX_AGE, True)
    return None


def joint_keys(searched: list[str], fixed: dict[str, list[str]], absent: set[str], principal: Principal) -> set[str]:
    """The searched keys the time dimension takes over; empty when the query fixes or removes the
    request time itself (the keys are then searched one by one)."""
    if not {CURRENT, EPOCH, ISSUED} & set(searched):
        return set()
    if {CURRENT, EPOCH} & (set(fixed) | absent):
        return set()
    keys = {CURRENT, EPOCH}
    if ISSUED in searched and token_age(principal) is not None:
        keys.add(ISSUED)
    return keys


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def time_facts(
    c: Compilation,
    keys: set[str],
    by_key: dict[str, list[CondEntry]],
    exclude: dict[str, list[tuple[str, str]]],
    principal: Principal,
    now: int,
) -> None:
    """One dimension (on aws:CurrentTime's key id) whose regions carry all three values."""
    age = token_age(principal) if ISSUED in keys else None
    conds = [(k, cond) for k in sorted(keys) for cond in by_key.get(k, [])]
    excluded = [(k, f, v) for k in sorted(keys) for f, v in exclude.get(k, [])]
    constants = {k: _constants([cond for key, cond in conds if key == k]) for k in keys}
    regions: dict[tuple, dict[str, str]] = {}
    for t in _instants(constants, age, now):
        for s in _issue_times(t, constants.get(ISSUED, []), age):
            values = {CURRENT: iso(t), EPOCH: str(t)} | ({ISSUED: iso(s)} if s is not None else {})
            if any(k in values and compare(f, _plain(v), values[k]) for k, f, v in excluded):
                continue  # --exclude: no value may match
            sig = tuple(k in values and c.program.value_matches(cond, values[k], c.singles) for k, cond in conds)
            regions.setdefault(sig + (ISSUED in values,), values)
    _emit(c, conds, regions)
    dom = Domain(f"time ({', '.join(SPELLING[k] for k in sorted(keys))}, from {iso(now)})", [])
    dom.regions = [Region(" ".join(f"{SPELLING[k]}={v}" for k, v in vals.items()), ()) for vals in regions.values()]
    odd = sorted({cond.family for _, cond in conds if KIND_OF_FAMILY.get(cond.family) not in ("date", "numeric")})
    if odd:
        dom.complete = False
        dom.note = f"the request time is compared as {', '.join(odd)}: its regions are not proved complete"
    c.domains.append(dom)


def _emit(c: Compilation, conds: list[tuple[str, CondEntry]], regions: dict[tuple, dict[str, str]]) -> None:
    k = c.key_id(CURRENT)
    out = c.facts
    out.append(f"dim({k}).")
    out.append(f"dim_always_present({k}).")
    for values in regions.values():
        joint = c.program.intern("v:time:" + "|".join(values.values()))
        c.value_names[joint] = values[CURRENT]
        c.derived_context[joint] = {SPELLING[key]: v for key, v in values.items() if key != CURRENT}
        out.append(f"region({k},{joint}).")
        ids = {CURRENT: joint}
        for key, v in values.items():
            if key != CURRENT:
                ids[key] = c.program.intern("v:" + v)
                out.append(f"derived_value({k},{joint},{c.key_id(key)},{ids[key]}).")
        for key, cond in conds:
            if key in values and c.program.value_matches(cond, values[key], c.singles):
                out.append(f"value_match(1,{cond.cid},{ids[key]}).")


def _plain(v: str) -> tuple[tuple[str, bool], ...]:
    return tuple((ch, False) for ch in v)


def _constants(conds: list[CondEntry]) -> list[int]:
    """The instants the conditions compare with, as the whole seconds around each (numbers are
    epoch seconds, dates parsed)."""
    out: set[int] = set()
    for cond in conds:
        for t in cond.templates:
            p = fill(t, {})
            for stamp in _stamps(cond.family, "" if p is None else literal_text(p)):
                out.update({math.floor(stamp) + d for d in (-1, 0, 1, 2)})
    return sorted(out)


def _stamps(family: str, text: str) -> list[float]:
    kind = KIND_OF_FAMILY.get(family)
    if kind == "date":
        d = parse_date(text)
        return [] if d is None else [d]
    if kind == "numeric":
        n = parse_number(text)
        return [] if n is None or not n.is_finite() else [float(n)]
    return []


def _instants(constants: dict[str, list[int]], age: TokenAge | None, now: int) -> list[int]:
    """Candidate request times (>= now): the constants of the time keys, the issue-time constants
    and the same shifted by the session bound (where the band [t - max age, t] meets them)."""
    points = {now, now + 1}
    points.update(constants.get(CURRENT, []))
    points.update(constants.get(EPOCH, []))
    if age is not None:
        for d in constants.get(ISSUED, []):
            points.update({d, d + age.max_age, d + age.max_age + 1, d - 1})
        points.add(now + age.max_age + 1)
    return sorted(p for p in points if now <= p <= LAST_INSTANT)


def _issue_times(t: int, constants: list[int], age: TokenAge | None) -> list[int | None]:
    """Candidate issue times for request time t: inside [t - max age, t], or none at all."""
    if age is None:
        return [None]
    lo = t - age.max_age
    out: list[int | None] = [*sorted({lo, lo + 1, t - 1, t} | {d for d in constants if lo <= d <= t})]
    if age.may_be_absent:
        out.append(None)
    return out
