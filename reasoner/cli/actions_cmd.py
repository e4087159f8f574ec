"""`reasoner actions PATTERN`: expand an Action pattern against the AWS catalogue."""

from __future__ import annotations

import typer

from reasoner import api
from reasoner.cli.output import console, format_option, json_option, output_format, print_result
from reasoner.cli.render import actions_json, actions_table
from reasoner.errors import InputError
from reasoner.policy import catalogue


def actions_command(
    pattern: str = typer.Argument(..., help="An Action pattern such as 's3:Get*' or 'athena:*Query*'."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """List the catalogue actions a pattern matches (case-insensitive), with resource types."""
    fmt = output_format(fmt, as_json)
    infos = api.actions(pattern)
    if not infos:
        raise InputError(f"no catalogue action matches {pattern!r}", source="<command line>")
    if fmt == "json":
        print_result("actions", actions_json(infos))
        return
    console().print(
        actions_table(infos, f"{len(infos)} actions match {pattern} (catalogue {catalogue.data_version()})")
    )
