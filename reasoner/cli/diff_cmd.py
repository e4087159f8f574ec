"""`reasoner diff OLD NEW`: what NEW allows that OLD did not, and the reverse.

Exit codes: 0 answered (plain diff) or no new access (--check no-new-access); 1 --check found
new access (the witness is printed); 4 a direction could not be decided; 2 bad input.
"""

from __future__ import annotations

from enum import Enum

import typer

from reasoner import api
from reasoner.audit.diff import MAX_CLASSES, PolicySet
from reasoner.cli.inputs import named_policy
from reasoner.cli.output import (
    STDIN_LABEL,
    console,
    format_option,
    input_path,
    is_stdin,
    json_option,
    output_format,
    print_result,
)
from reasoner.cli.render_audit import render_diff, render_snapshot_diff, snapshot_diff_json
from reasoner.cli.snapshot_diff_cmd import is_snapshot
from reasoner.errors import ExitCode
from reasoner.policy.validate import account_id


class Kind(str, Enum):
    identity = "identity"
    resource = "resource"


class Check(str, Enum):
    no_new_access = "no-new-access"


def policy_set(spec: str) -> str | PolicySet:
    """A policy set as the API takes it; `-` is one policy read from standard input."""
    return PolicySet(STDIN_LABEL, [named_policy(spec)]) if is_stdin(spec) else spec


def diff_command(
    old: str = typer.Argument(
        ...,
        help="OLD: a policy file, a directory of them, files separated by commas, "
        "or an account snapshot (then NEW is one too); '-' for stdin.",
    ),
    new: str = typer.Argument(..., help="NEW: the same."),
    kind: Kind | None = typer.Option(
        None, help="identity or resource (default: resource when the policies have Principal, identity otherwise)."
    ),
    principal: str | None = typer.Option(
        None,
        help="Identity policies: the principal that holds them (default "
        "a placeholder role session in 111122223333). Resource "
        "policies: search this principal only.",
    ),
    resource_account: str | None = typer.Option(
        None, help="Account owning the resources (default: the principal's; 111122223333 for resource policies)."
    ),
    check: Check | None = typer.Option(None, help="no-new-access: exit 1 when NEW allows anything OLD did not."),
    limit: int = typer.Option(MAX_CLASSES, min=1, help="Classes listed per direction."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """The requests NEW allows and OLD does not, and the reverse, proved exactly (with a witness each)."""
    fmt = output_format(fmt, as_json)
    account_id(resource_account, "--resource-account")
    old_path, new_path = str(input_path(old)), str(input_path(new))
    if is_snapshot(old_path) and is_snapshot(new_path):
        _snapshot_diff(old_path, new_path, check is not None, limit, fmt)
        return
    a = api.diff(
        policy_set(old),
        policy_set(new),
        kind=kind.value if kind else None,
        principal=principal,
        resource_account=resource_account,
        check=check is not None,
        limit=limit,
    )
    if fmt == "json":
        print_result("diff", a.model_dump(mode="json", exclude_none=False))
    else:
        render_diff(console(), a, check is not None)
    dirs = [d for d in (a.added, a.removed) if d is not None]
    if check and a.added is not None and a.added.answer == "differs":
        raise typer.Exit(ExitCode.DENIED)
    if any(d.answer == "unknown" for d in dirs):
        raise typer.Exit(ExitCode.UNKNOWN)


def _snapshot_diff(old: str, new: str, check: bool, limit: int, fmt: str) -> None:
    d = api.diff(api.load_snapshot(old), api.load_snapshot(new), check=check, limit=limit)
    if fmt == "json":
        print_result("snapshot-diff", snapshot_diff_json(d))
    else:
        render_snapshot_diff(console(), d, check)
    if check and d.new_access == "yes":
        raise typer.Exit(ExitCode.DENIED)
    if d.new_access == "unknown" or any(
        c.answer and c.answer.removed and c.answer.removed.answer == "unknown" for c in d.changes
    ):
        raise typer.Exit(ExitCode.UNKNOWN)
