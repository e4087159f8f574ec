"""`reasoner lint POLICY`: statements that never change a decision; unknown actions.

Exit codes: 0 clean; 1 findings; 4 no findings but some statement could not be decided; 2 bad input.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reasoner.audit.lint import lint
from reasoner.cli.diff_cmd import Kind
from reasoner.errors import ExitCode, InputError


def lint_command(
    policy: str = typer.Argument(..., help="A policy file (JSON or YAML) or a directory of them (each linted alone)."),
    kind: Kind | None = typer.Option(None, help="identity or resource (default: from the Principal elements)."),
    principal: str | None = typer.Option(
        None,
        help="Identity policies: the holder (default a placeholder role); "
        "resource policies: judge for this principal only.",
    ),
    resource_account: str | None = typer.Option(None, help="Account owning the resources."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Statements that never change a decision (proved with the diff search) and actions the
    catalogue does not know. Exit 1 when there are findings."""
    if resource_account is not None and not (len(resource_account) == 12 and resource_account.isdigit()):
        raise InputError(
            f"--resource-account {resource_account!r} must be a 12-digit account ID", source="<command line>"
        )
    report = lint(policy, kind=kind.value if kind else None, principal=principal, resource_account=resource_account)
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        console = Console(width=None if sys.stdout.isatty() else 160, emoji=False, highlight=False)
        if report.findings:
            t = Table(title=f"{len(report.findings)} finding(s) in {len(report.files)} file(s)")
            t.add_column("file")
            t.add_column("statement")
            t.add_column("finding")
            t.add_column("why")
            for f in report.findings:
                t.add_row(
                    escape(f.file),
                    f"#{f.statement}" + (f" {escape(f.sid)}" if f.sid else ""),
                    f.kind,
                    escape(f.message),
                )
            console.print(t)
        else:
            console.print(f"[bold green]clean[/]: {len(report.files)} file(s), no finding")
        for u in report.undecided:
            console.print(f"[bold yellow]undecided[/] {escape(u.file)} #{u.statement}: {escape(u.reason)}")
        for n in report.notes:
            console.print(f"[dim]note: {escape(n)}[/]")
    if report.findings:
        raise typer.Exit(ExitCode.DENIED)
    if report.undecided:
        raise typer.Exit(ExitCode.UNKNOWN)
