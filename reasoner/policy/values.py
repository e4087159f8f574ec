"""Comparisons of one context value against one policy value, per operator family.

Negation, IfExists, set operators and absent keys are the encodings' business
(encodings/conditions/); this module only says whether two values compare equal / less /
inside. AWS: IAM User Guide, "IAM JSON policy elements: Condition operators".
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from reasoner.policy.patterns import arn_match, glob_match, literal_text

FAMILIES = (
    "string_equals",
    "string_equals_ic",
    "string_like",
    "arn_like",
    "numeric_eq",
    "numeric_lt",
    "numeric_le",
    "numeric_gt",
    "numeric_ge",
    "date_eq",
    "date_lt",
    "date_le",
    "date_gt",
    "date_ge",
    "bool",
    "binary_equals",
    "ip_address",
)


@lru_cache(maxsize=100_000)
def parse_number(text: str) -> Decimal | None:
    try:
        n = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return n if n.is_finite() else None


@lru_cache(maxsize=100_000)
def parse_date(text: str) -> float | None:
    """ISO 8601 (date, date-time, with Z or an offset; naive means UTC) or epoch seconds."""
    t = text.strip()
    if not t:
        return None
    n = parse_number(t)
    if n is not None and "-" not in t[1:]:
        seconds = float(n)
        return seconds if math.isfinite(seconds) else None  # '1e400' seconds is no date
    try:
        d = datetime.fromisoformat(t.replace("z", "Z"))
        if d.tzinfo is None:
            d = d.replace(tzinfo=UTC)
        return d.timestamp()
    except (ValueError, OverflowError):  # also 9999-12-31T23:59:59-01:00, past year 9999 in UTC
        return None


@lru_cache(maxsize=100_000)
def parse_network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=100_000)
def parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def policy_value_error(family: str, text: str) -> str | None:
    """Why a policy value is not valid for its operator, or None (checked at load time)."""
    if "${" in text:
        return None  # filled per request
    if family.startswith("numeric") and parse_number(text) is None:
        return f"{text!r:.80} is not a number"
    if family.startswith("date") and parse_date(text) is None:
        return f"{text!r:.80} is not a date (ISO 8601 or epoch seconds)"
    if family == "ip_address" and parse_network(text) is None:
        return f"{text!r:.80} is not an IP address or CIDR block"
    if family == "bool" and text.lower() not in ("true", "false"):
        return f"{text!r:.80} is not true or false"
    if family == "binary_equals" and parse_binary(text) is None:
        return f"{text!r:.80} is not base64"
    return None


def compare(family: str, pattern: tuple[tuple[str, bool], ...], value: str) -> bool:
    """Does context value `value` match policy value `pattern` under `family` (never negated)?"""
    if family == "string_like":
        return glob_match(pattern, value)
    if family == "arn_like":
        return arn_match(pattern, value)
    text = literal_text(pattern)
    if family == "string_equals":
        return text == value
    if family == "string_equals_ic":
        return text.casefold() == value.casefold()
    if family.startswith("numeric"):
        return _ordered(family[8:], parse_number(value), parse_number(text))
    if family.startswith("date"):
        return _ordered(family[5:], parse_date(value), parse_date(text))
    if family == "bool":
        return value.lower() in ("true", "false") and value.lower() == text.lower()
    if family == "binary_equals":
        a, b = parse_binary(value), parse_binary(text)
        return a is not None and a == b
    if family == "ip_address":
        net = parse_network(text)
        ip = parse_network(value)
        return net is not None and ip is not None and ip.version == net.version and ip.subnet_of(net)
    raise ValueError(f"unknown comparison family {family}")


def _ordered(rel: str, left, right) -> bool:
    """left REL right, where left is the request's value; unparsable values never compare."""
    if left is None or right is None:
        return False
    if rel == "eq":
        return left == right
    if rel == "lt":
        return left < right
    if rel == "le":
        return left <= right
    if rel == "gt":
        return left > right
    return left >= right
