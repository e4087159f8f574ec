"""`reasoner check-access-not-granted` and `reasoner check-no-public-access`, for CI.

Exit codes: 0 the check passes (proved), 1 it fails (a witness is printed), 4 unknown, 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from reasoner.audit.checks import CheckResult
from reasoner.audit.checks import check_access_not_granted as _not_granted
from reasoner.audit.checks import check_no_public_access as _no_public
from reasoner.cli.decide_cmd import named_policy
from reasoner.errors import ExitCode


def _finish(result: CheckResult, as_json: bool, name: str) -> None:
    status = {True: "pass", False: "fail", None: "unknown"}[result.passed]
    if as_json:
        print(
            json.dumps(
                {
                    "check": name,
                    "result": status,
                    "reason": result.reason,
                    "principal": result.principal,
                    "witness": result.answer.witness if result.answer else None,
                    "decide_command": result.answer.decide_command if result.answer else None,
                },
                indent=2,
            )
        )
    else:
        c = Console()
        style = {"pass": "bold green", "fail": "bold red", "unknown": "bold yellow"}[status]
        c.print(f"[{style}]{status}[/] {name}: {result.reason}")
        if result.answer and result.answer.decide_command and result.passed is False:
            c.print(f"witness: {result.answer.decide_command}", soft_wrap=True)
    if result.passed is False:
        raise typer.Exit(ExitCode.DENIED)
    if result.passed is None:
        raise typer.Exit(ExitCode.UNKNOWN)


def check_access_not_granted(
    policy: Path = typer.Argument(..., help="Identity or resource-based policy file."),
    action: str = typer.Option(..., help="Action or action pattern that must not be granted."),
    resource: str = typer.Option("*", help="Resource ARN or pattern (default: any)."),
    account: str = typer.Option("123456789012", help="Account the policy belongs to."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fail (exit 1, with a witness) when the policy grants the action on the resource."""
    _finish(_not_granted(named_policy(policy), action, resource, account), as_json, "check-access-not-granted")


def check_no_public_access(
    policy: Path = typer.Argument(..., help="Resource-based policy file."),
    account: str = typer.Option(..., help="The account that owns the resource."),
    resource: str = typer.Option("*", help="The resource ARN (default: any resource the policy names)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Fail (exit 1, with a witness) when anyone outside the account (or anonymous) gets access."""
    _finish(_no_public(named_policy(policy), account, resource), as_json, "check-no-public-access")
