"""`reasoner diff OLD NEW`: what NEW allows that OLD did not, and the reverse.

Exit codes: 0 answered (plain diff) or no new access (--check no-new-access); 1 --check found
new access (the witness is printed); 4 a direction could not be decided; 2 bad input.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from itertools import groupby

import typer
from rich.console import Console
from rich.markup import escape

from reasoner.audit.diff import MAX_CLASSES, DiffAnswer, DiffClass, DiffDirection, diff, load_policy_set
from reasoner.errors import ExitCode, InputError


class Kind(str, Enum):
    identity = "identity"
    resource = "resource"


class Check(str, Enum):
    no_new_access = "no-new-access"


def action_text(c: DiffClass) -> str:
    a = c.actions
    if a.count == 1:
        return c.action
    else:
        where = f"of {a.services[0]}" if a.service_count == 1 else f"in {a.service_count} services"
        text = f"{c.action} and {a.count - 1:,} more actions {where}"
    if a.matches:
        text += f" — matching {', '.join(a.matches)}"
        if a.not_matches:
            text += f"; not {', '.join(a.not_matches[:6])}{' …' if len(a.not_matches) > 6 else ''}"
    elif a.not_matches:
        text += f" — matching none of {', '.join(a.not_matches[:6])}{' …' if len(a.not_matches) > 6 else ''}"
    else:
        text += " — named by no Action pattern (a NotAction statement covers them)"
    return text


def context_lines(c: DiffClass) -> list[str]:
    out = []
    for k in c.context:
        alts = (["absent"] if k.absent else []) + [f"{v} ({n})" for v, n in zip(k.values, k.notes)]
        out.append(f"{k.key}: " + " or ".join(alts) if alts else f"{k.key}: (no value)")
    return out or ["any (the class does not depend on it)"]


def resource_lines(c: DiffClass) -> list[str]:
    if c.resources_any:
        return ["any"]
    out = []
    for r in c.resources:
        why = (
            "matching "
            + (", ".join(r.matches) or "no Resource pattern")
            + ("; not " + ", ".join(r.not_matches) if r.not_matches else "")
        )
        out.append(f"{r.example}  ({why})")
    return out or [c.resource]


def render_direction(console: Console, title: str, d: DiffDirection) -> None:
    style = {"differs": "bold red", "same": "bold green", "unknown": "bold yellow"}[d.answer]
    head = {
        "differs": f"{len(d.classes)} class(es)" + ("" if d.all_listed else ", more not listed (--limit)"),
        "same": "nothing",
        "unknown": "unknown",
    }[d.answer]
    console.print(f"[bold]{escape(title)}[/]: [{style}]{head}[/]")
    if d.answer != "differs":
        console.print(f"  {escape(d.reason)}")
        return
    for service, group in groupby(d.classes, key=lambda c: c.service):
        console.print(f"  [bold cyan]{escape(service)}[/]")
        # Classes that differ only in their action region are shown together.
        merged: dict[str, list[DiffClass]] = {}
        for c in group:
            key = json.dumps(
                [
                    c.principals,
                    resource_lines(c),
                    context_lines(c),
                    [s.model_dump() for s in c.statements],
                    c.other_side.split(":")[0],
                ]
            )
            merged.setdefault(key, []).append(c)
        for same in merged.values():
            c = same[0]
            for other in same:
                console.print(f"    [bold]{escape(action_text(other))}[/]")
            rows = (
                [] if c.principal.endswith("DiffPlaceholderRole/session") else [("principal", ", ".join(c.principals))]
            )
            rows += [("resource", line) for line in resource_lines(c)]
            rows += [("context", line) for line in context_lines(c)]
            rows.append(
                (
                    "because",
                    ", ".join(f"{s.policy} #{s.index}{' ' + s.sid if s.sid else ''}" for s in c.statements)
                    + f"; {c.other_side}",
                )
            )
            if c.decide_old:
                rows.append(("check", c.decide_new if title.startswith("NEW") else c.decide_old))
            for label, text in rows:
                console.print(f"      [dim]{label:<9}[/] {escape(text)}", soft_wrap=True)


def diff_command(
    old: str = typer.Argument(
        ...,
        help="OLD: a policy file, a directory of them, files separated by commas, "
        "or an account snapshot (then NEW is one too).",
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
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The requests NEW allows and OLD does not, and the reverse, proved exactly (with a witness each)."""
    if resource_account is not None and not (len(resource_account) == 12 and resource_account.isdigit()):
        raise InputError(
            f"--resource-account {resource_account!r} must be a 12-digit account ID", source="<command line>"
        )
    from reasoner.cli.snapshot_diff_cmd import is_snapshot, snapshot_diff

    if is_snapshot(old) and is_snapshot(new):
        snapshot_diff(old, new, check is not None, limit, as_json)
        return
    old_set, new_set = load_policy_set(old), load_policy_set(new)
    directions = ("added",) if check else ("added", "removed")
    a = diff(
        old_set,
        new_set,
        kind=kind.value if kind else None,
        principal=principal,
        resource_account=resource_account,
        directions=directions,
        limit=limit,
    )
    if as_json:
        print(json.dumps(a.model_dump(mode="json", exclude_none=False), indent=2))
    else:
        _render(a, check is not None)
    dirs = [d for d in (a.added, a.removed) if d is not None]
    if check and a.added.answer == "differs":
        raise typer.Exit(ExitCode.DENIED)
    if any(d.answer == "unknown" for d in dirs):
        raise typer.Exit(ExitCode.UNKNOWN)


def _render(a: DiffAnswer, check: bool) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160, emoji=False, highlight=False)
    who = ("principals: " + ", ".join(a.principals)) if a.kind == "resource" else f"principal {a.principals[0]}"
    console.print(
        f"[bold]diff[/] {escape(a.old)} → {escape(a.new)}  [dim]({a.kind} policies; {escape(who)}; "
        f"resources of account {a.resource_account})[/]",
        soft_wrap=True,
    )
    if check:
        status = {"differs": "[bold red]fail[/]", "same": "[bold green]pass[/]", "unknown": "[bold yellow]unknown[/]"}
        console.print(f"{status[a.added.answer]} no-new-access: {escape(a.added.reason)}")
    render_direction(console, "NEW allows, OLD did not", a.added)
    if a.removed is not None:
        render_direction(console, "OLD allowed, NEW does not", a.removed)
    for n in a.notes:
        console.print(f"[dim]note: {escape(n)}[/]")
