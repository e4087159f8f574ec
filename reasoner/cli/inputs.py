"""Flags to models: context values, policy files (`-` is standard input), exclusions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasoner.api import load_policy
from reasoner.cli.output import STDIN_LABEL, input_path, is_stdin
from reasoner.errors import InputError
from reasoner.policy.request import NamedPolicy
from reasoner.policy.validate import context_flags

COMMAND_LINE = "<command line>"


def parse_context(items: list[str], flag: str = "--context") -> dict[str, Any]:
    """KEY=VALUE flags; a repeated key or a JSON list value makes a multivalued key
    (checked by reasoner.policy.validate.context_flags)."""
    return context_flags(items, flag)


def named_policy(path: str | Path) -> NamedPolicy:
    """A policy file (JSON or YAML) named by its path; `-` reads standard input."""
    return load_policy(input_path(path), name=STDIN_LABEL if is_stdin(path) else str(path))


def optional_policy(path: str | Path | None) -> NamedPolicy | None:
    return named_policy(path) if path is not None else None


def policy_levels(values: list[str]) -> list[list[NamedPolicy]]:
    """One flag per OU level, files separated by commas."""
    return [[named_policy(f) for f in level.split(",") if f] for level in values]


def where_values(items: list[str]) -> dict[str, list[str]]:
    ctx = parse_context(items)
    return {k: (v if isinstance(v, list) else [v]) for k, v in ctx.items()}


def exclusions(items: list[str]) -> dict[str, list[tuple[str, str]]]:
    """'aws:SourceIp=IpAddress:10.0.0.0/8' -> {'aws:SourceIp': [('ip_address', '10.0.0.0/8')]}."""
    from reasoner.policy.operators import parse_operator
    from reasoner.policy.values import policy_value_error

    out: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        key, sep, rest = item.partition("=")
        op_name, sep2, value = rest.partition(":")
        if not sep or not sep2:
            raise InputError(f"--exclude {item!r} must be KEY=Operator:VALUE", source=COMMAND_LINE)
        try:
            op = parse_operator(op_name)
        except ValueError as exc:
            raise InputError(f"--exclude {item!r}: {exc}", source=COMMAND_LINE) from None
        if op.negated or op.qualifier != "none" or op.if_exists or op.family == "null":
            raise InputError(
                f"--exclude {item!r}: give a plain operator (StringLike, IpAddress, ...)", source=COMMAND_LINE
            )
        problem = policy_value_error(op.family, value)
        if problem:
            raise InputError(f"--exclude {item!r}: {problem}", source=COMMAND_LINE)
        out.setdefault(key, []).append((op.family, value))
    return out
