"""`reasoner lint POLICY`: statements that never change a decision; unknown actions.

Exit codes: 0 clean; 1 findings; 4 no findings but some statement could not be decided; 2 bad input.
"""

from __future__ import annotations

import typer

from reasoner import api
from reasoner.cli.diff_cmd import Kind
from reasoner.cli.output import console, format_option, input_path, json_option, output_format, print_result
from reasoner.cli.render_audit import render_lint
from reasoner.errors import ExitCode
from reasoner.policy.validate import account_id


def lint_command(
    policy: str = typer.Argument(
        ..., help="A policy file (JSON or YAML; '-' for stdin) or a directory of them (each linted alone)."
    ),
    kind: Kind | None = typer.Option(None, help="identity or resource (default: from the Principal elements)."),
    principal: str | None = typer.Option(
        None,
        help="Identity policies: the holder (default a placeholder role); "
        "resource policies: judge for this principal only.",
    ),
    resource_account: str | None = typer.Option(None, help="Account owning the resources."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Statements that never change a decision (proved with the diff search) and actions the
    catalogue does not know. Exit 1 when there are findings."""
    fmt = output_format(fmt, as_json)
    account_id(resource_account, "--resource-account")
    report = api.lint(
        input_path(policy), kind=kind.value if kind else None, principal=principal, resource_account=resource_account
    )
    if fmt == "json":
        print_result("lint", report.model_dump(mode="json"))
    else:
        render_lint(console(), report)
    if report.findings:
        raise typer.Exit(ExitCode.DENIED)
    if report.undecided:
        raise typer.Exit(ExitCode.UNKNOWN)
