"""`reasoner check-access-not-granted` and `reasoner check-no-public-access`, for CI.

Exit codes: 0 the check passes (proved), 1 it fails (a witness is printed), 4 unknown, 2 bad input.
"""

from __future__ import annotations

import typer

from reasoner import api
from reasoner.audit.checks import CheckResult
from reasoner.cli.inputs import named_policy
from reasoner.cli.output import console, format_option, json_option, output_format, print_result
from reasoner.cli.render import check_json, print_check
from reasoner.errors import ExitCode


def _finish(result: CheckResult, fmt: str, name: str) -> None:
    if fmt == "json":
        print_result("check", check_json(result, name))
    else:
        print_check(console(), result, name)
    if result.passed is False:
        raise typer.Exit(ExitCode.DENIED)
    if result.passed is None:
        raise typer.Exit(ExitCode.UNKNOWN)


def check_access_not_granted(
    policy: str = typer.Argument(..., help="Identity or resource-based policy file ('-' for stdin)."),
    action: str = typer.Option(..., help="Action or action pattern that must not be granted."),
    resource: str = typer.Option("*", help="Resource ARN or pattern (default: any)."),
    account: str = typer.Option("123456789012", help="Account the policy belongs to."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Fail (exit 1, with a witness) when the policy grants the action on the resource."""
    fmt = output_format(fmt, as_json)
    result = api.check_access_not_granted(named_policy(policy), action, resource, account)
    _finish(result, fmt, "check-access-not-granted")


def check_no_public_access(
    policy: str = typer.Argument(..., help="Resource-based policy file ('-' for stdin)."),
    account: str = typer.Option(..., help="The account that owns the resource."),
    resource: str = typer.Option("*", help="The resource ARN (default: any resource the policy names)."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Fail (exit 1, with a witness) when anyone outside the account (or anonymous) gets access."""
    fmt = output_format(fmt, as_json)
    _finish(api.check_no_public_access(named_policy(policy), account, resource), fmt, "check-no-public-access")
