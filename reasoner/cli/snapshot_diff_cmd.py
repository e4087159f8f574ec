"""`reasoner diff OLD NEW` when both sides are account snapshots (reasoner/snapshot_diff.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from reasoner.errors import ExitCode


def is_snapshot(spec: str) -> bool:
    """A snapshot bundle, a bare GAAD file, or a directory holding one (not a policy file)."""
    p = Path(spec)
    if p.is_dir():
        return any(f.name == "iam-get-account-authorization-details.json" for f in p.rglob("*.json")) or any(
            _snapshot_file(f) for f in p.glob("*.json")
        )
    return p.is_file() and _snapshot_file(p)


def _snapshot_file(p: Path) -> bool:
    try:
        head = p.read_text(errors="replace")[:4096]
    except OSError:
        return False
    return any(k in head for k in ('"authorization_details"', '"UserDetailList"', '"RoleDetailList"'))


def snapshot_diff(old: str, new: str, check: bool, limit: int, as_json: bool) -> None:
    from reasoner.account.snapshot import load_snapshot
    from reasoner.audit.snapshot_diff import diff_snapshots
    from reasoner.cli.diff_cmd import render_direction

    directions = ("added",) if check else ("added", "removed")
    d = diff_snapshots(load_snapshot(old), load_snapshot(new), directions=directions, limit=limit)
    if as_json:
        print(
            json.dumps(
                {
                    "old": d.old,
                    "new": d.new,
                    "new_access": d.new_access,
                    "changes": [c.model_dump(mode="json") for c in d.changes],
                },
                indent=2,
            )
        )
    else:
        console = Console(width=None if sys.stdout.isatty() else 160, emoji=False, highlight=False)
        console.print(
            f"[bold]diff[/] {escape(d.old)} → {escape(d.new)}: {len(d.changes)} changed "
            f"principal, resource or trust polic{'y' if len(d.changes) == 1 else 'ies'}"
        )
        if check:
            status = {"yes": "[bold red]fail[/]", "no": "[bold green]pass[/]", "unknown": "[bold yellow]unknown[/]"}
            console.print(f"{status[d.new_access]} no-new-access")
        for c in d.changes:
            console.print(f"\n[bold]{escape(c.subject)}[/] ({c.what}, {c.change})")
            if c.unknown:
                console.print(f"  [bold yellow]unknown[/]: {escape(c.unknown)}")
                continue
            render_direction(console, "NEW allows, OLD did not", c.answer.added)
            if c.answer.removed is not None:
                render_direction(console, "OLD allowed, NEW does not", c.answer.removed)
    if check and d.new_access == "yes":
        raise typer.Exit(ExitCode.DENIED)
    if d.new_access == "unknown" or any(
        c.answer and c.answer.removed and c.answer.removed.answer == "unknown" for c in d.changes
    ):
        raise typer.Exit(ExitCode.UNKNOWN)
