"""`reasoner prove INVARIANTS SNAPSHOT|CASE`: invariants as code, with CI-native output."""

from __future__ import annotations

import typer

from reasoner import api
from reasoner.audit.invariants import json_schema
from reasoner.cli.output import (
    STDIN_LABEL,
    clean,
    console,
    format_option,
    input_path,
    is_stdin,
    json_option,
    output_format,
    print_json,
)
from reasoner.cli.render_audit import PROVE_FORMATS, prove_json, prove_junit, prove_sarif, prove_table
from reasoner.errors import ExitCode, InputError


def prove_command(
    invariants: str | None = typer.Argument(None, help="The invariants file (YAML or JSON; '-' for stdin)."),
    target: str | None = typer.Argument(
        None, help="A snapshot (a file or a directory; '-' for stdin) or a case folder with a snapshot."
    ),
    fmt: str = format_option(PROVE_FORMATS),
    as_json: bool = json_option(),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema of the invariants file and exit."),
) -> None:
    """Prove each invariant (with the scope), or show a minimal counterexample, or say unknown."""
    if schema:
        print_json(json_schema())
        return
    fmt = output_format(fmt, as_json, PROVE_FORMATS)
    if invariants is None or target is None:
        raise InputError("usage: reasoner prove INVARIANTS SNAPSHOT|CASE", source="<command line>")
    if is_stdin(invariants) and is_stdin(target):
        raise InputError("only one of INVARIANTS and SNAPSHOT can be read from stdin", source="<command line>")
    results = api.prove(input_path(invariants), input_path(target))
    source = STDIN_LABEL if is_stdin(invariants) else invariants
    if fmt == "table":
        console().print(prove_table(results, source))
    elif fmt == "json":
        print_json(prove_json(results, source))
    else:
        # Machine formats carry data too: control characters are shown escaped, never raw.
        print(clean({"junit": prove_junit, "sarif": prove_sarif}[fmt](results, source)))
    if any(r.status == "violated" for r in results):
        raise typer.Exit(ExitCode.DENIED)
    if any(r.status == "unknown" for r in results):
        raise typer.Exit(ExitCode.UNKNOWN)
