"""`reasoner actions PATTERN`: expand an Action pattern against the AWS catalogue."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from reasoner.errors import InputError
from reasoner.policy import catalogue


def actions_command(
    pattern: str = typer.Argument(..., help="An Action pattern such as 's3:Get*' or 'athena:*Query*'."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the catalogue actions a pattern matches (case-insensitive), with resource types."""
    names = catalogue.expand(pattern)
    if not names:
        raise InputError(f"no catalogue action matches {pattern!r}", source="<command line>")
    infos = [catalogue.lookup(n) for n in names]
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "action": i.full_name,
                        "access_level": i.access_level,
                        "resource_types": [{"name": n, "arn": a, "required": r} for n, a, r in i.resource_types],
                        "condition_keys": list(i.condition_keys),
                    }
                    for i in infos
                ],
                indent=2,
            )
        )
        return
    t = Table(title=f"{len(infos)} actions match {pattern} (catalogue {catalogue.data_version()})")
    t.add_column("action")
    t.add_column("access")
    t.add_column("resource types")
    for i in infos:
        t.add_row(i.full_name, i.access_level, ", ".join(n for n, _, _ in i.resource_types) or "*")
    Console().print(t)
