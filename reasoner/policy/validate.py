"""Command-line values checked before use: each validator returns the value or raises the
one-line InputError (source `<command line>`), so a CLI calls them in one line."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from reasoner.errors import InputError
from reasoner.policy.document import scalar_text
from reasoner.policy.request import MAX_CONTEXT_VALUES

COMMAND_LINE = "<command line>"
_ACCOUNT = re.compile(r"^\d{12}$")


def _bad(message: str) -> InputError:
    return InputError(message, source=COMMAND_LINE)


def exclusive_flags(flag: str, others: dict[str, Any]) -> None:
    """`flag` was given: none of `others` (flag name -> value; empty means not given) may be."""
    given = [name for name, value in others.items() if value not in (None, "", [], (), False)]
    if given:
        raise _bad(f"{flag} cannot be combined with {', '.join(given)}")


def account_id(value: str | None, flag: str) -> str | None:
    """An AWS account ID is exactly 12 digits (AWS General Reference, "Your AWS account ID")."""
    if value is not None and not _ACCOUNT.match(value):
        raise _bad(f"{flag} must be a 12-digit account ID, not {value!r:.40}")
    return value


def positive_int(value: int, flag: str) -> int:
    """A count such as --max-paths: 1 or more."""
    if value < 1:
        raise _bad(f"{flag} must be 1 or more, not {value}")
    return value


def path_text(value: str, flag: str = "a path") -> str:
    """A file or folder name: never empty (Path('') is the current folder, silently)."""
    if not str(value):
        raise _bad(f"{flag} is empty: give a file name ('.' for the current folder, '-' for stdin)")
    return value


def context_flags(items: list[str], flag: str = "--context") -> dict[str, list[str] | str]:
    """KEY=VALUE flags; a repeated key or a JSON list value makes a multivalued key.

    The key is not empty; a JSON list holds strings, numbers or booleans (the scalars a request
    context carries, written the way AWS compares them: true -> 'true'), at most
    MAX_CONTEXT_VALUES of them.
    """
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise _bad(f"{flag} {item!r:.60} must be KEY=VALUE")
        if not key.strip():
            raise _bad(f"{flag} {item!r:.60}: the key is empty")
        if value.startswith("["):
            try:
                values = json.loads(value, parse_constant=float)
            except json.JSONDecodeError as exc:
                raise _bad(f"{flag} {key:.60}: malformed JSON list: {exc.msg}") from None
            except RecursionError:
                raise _bad(f"{flag} {key:.60}: JSON list nested too deep") from None
            if not isinstance(values, list):
                raise _bad(f"{flag} {key:.60}: expected a JSON list")
            for v in values:
                if not isinstance(v, (str, int, float, bool)) or (isinstance(v, float) and not math.isfinite(v)):
                    raise _bad(f"{flag} {key:.60}: a JSON list holds strings, numbers or booleans, not {_kind(v)}")
            out.setdefault(key, []).extend(scalar_text(v) for v in values)
        else:
            out.setdefault(key, []).append(value)
        if len(out[key]) > MAX_CONTEXT_VALUES:
            raise _bad(f"{flag} {key:.60}: over {MAX_CONTEXT_VALUES} values")
    return {k: (v[0] if len(v) == 1 else v) for k, v in out.items()}


def _kind(v: Any) -> str:
    if isinstance(v, float):
        return "NaN or Infinity"
    return {dict: "an object", list: "a list", type(None): "null"}.get(type(v), type(v).__name__)
