"""Policies embedded in AWS output: parsed leniently, a policy AWS would reject is reported as a
problem with its file and JSON path instead of stopping the load."""

from __future__ import annotations

import urllib.parse
from typing import Any

from reasoner.account.model import Snapshot
from reasoner.errors import InputError
from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy


def policy_text(obj: Any) -> Any:
    """Policy documents in GAAD are objects (CLI) or URL-encoded JSON strings (raw API)."""
    if isinstance(obj, str):
        text = obj.strip()
        if text.startswith("%7B") or text.startswith("%7b"):
            text = urllib.parse.unquote(text)
        return text
    return obj


UNREADABLE_PREFIX = "UNREADABLE:"


def unreadable_reason(entry: Any, key: str) -> str | None:
    """Why a policy could not be read, when its entry says so: the explicit `Unreadable` field, or
    the collector's older form, a `key` string "UNREADABLE: <call> failed: <error>"."""
    if not isinstance(entry, dict):
        return None
    why = entry.get("Unreadable")
    if isinstance(why, str) and why:
        return why
    text = entry.get(key)
    if isinstance(text, str) and text.startswith(UNREADABLE_PREFIX):
        return text[len(UNREADABLE_PREFIX) :].strip()
    return None


def embedded_policy(snap: Snapshot, src: str, obj: Any, path: tuple, name: str) -> NamedPolicy | None:
    """The policy, or None with the reason appended to the snapshot's problems."""
    try:
        pol = parse_policy(policy_text(obj), source=src, prefix=path)
    except InputError as exc:
        snap.problems.append(exc.one_line())
        return None
    return NamedPolicy(name=name, policy=pol)


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def first_definition(snap: Snapshot, arn: str, raw: Any, where: str) -> bool:
    """True the first time an ARN is defined (or again identically); a different second definition
    is reported and False: which one AWS holds cannot be told."""
    seen = snap.definitions.get(arn)
    if seen is None:
        snap.definitions[arn] = (raw, where)
        return True
    if isinstance(seen, tuple) and seen[0] == raw:
        return True
    snap.problems.append(
        f"{where}: {arn} is defined again, differently (first at {seen[1] if isinstance(seen, tuple) else '?'})"
    )
    return False
