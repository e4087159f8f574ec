"""`reasoner matrix`: the access matrix of a snapshot, principals x actions x resources."""

from __future__ import annotations

import typer

from reasoner.account.matrix import Matrix, access_matrix, expand_names
from reasoner.cli.inputs import parse_context
from reasoner.cli.output import console, format_option, json_option, output_format, print_result
from reasoner.cli.paths_cmd import SNAPSHOT_HELP, completeness, open_snapshot, print_incomplete
from reasoner.policy.validate import positive_int

AXIS_HELP = "comma-separated; each item a name, a glob (* ?) or @FILE (one item per line)"
SHOWN_ROWS = 200


def matrix_command(
    snapshot: list[str] = typer.Argument(..., help=SNAPSHOT_HELP),
    principals: str = typer.Option(
        ..., "--principals", "-p", help=f"Principals: ARNs or names, or globs over the snapshot's ARNs; {AXIS_HELP}."
    ),
    actions: str = typer.Option(
        ..., "--actions", "-a", help=f"Actions: catalogue names, or globs over the catalogue; {AXIS_HELP}."
    ),
    resources: str = typer.Option(
        ...,
        "--resources",
        "-r",
        help=f"Resources: ARNs or the literal '*', or globs over the snapshot's resources; {AXIS_HELP}.",
    ),
    context: list[str] = typer.Option(
        [], "--context", "-c", help="KEY=VALUE sent with every request; repeat a key, or give a JSON list."
    ),
    workers: int | None = typer.Option(None, help="Processes deciding chunks of principals (default: up to 2)."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not list the snapshot parts that were skipped."),
) -> None:
    """The access matrix: every principal x action x resource of a snapshot, each as `decide --snapshot`.

    Principals with the same policy stack are grounded together, once per chunk. The table lists
    the cells that are allowed, unknown or in error, after the counts; --json gives every cell:
    cells[p][a][r] indexes the distinct answers (each a `decide --batch` answer, or
    {"decision": null, "unknown": reason})."""
    fmt = output_format(fmt, as_json)
    n_workers = positive_int(workers, "--workers") if workers is not None else None
    snap = open_snapshot(snapshot, quiet or fmt == "json")
    m = access_matrix(
        snap,
        expand_names(snap, principals, "principals"),
        expand_names(snap, actions, "actions"),
        expand_names(snap, resources, "resources"),
        parse_context(context),
        workers=n_workers,
    )
    if fmt == "json":
        print_result("matrix", _json(m) | completeness(snap))
        return
    _print_table(m)
    print_incomplete(snap)


def _json(m: Matrix) -> dict:
    return {
        "principals": m.principals,
        "actions": m.actions,
        "resources": m.resources,
        "answers": m.answers,
        "cells": [[list(row) for row in rows] for rows in m.cells],
        "counts": m.counts(),
        "requests_decided": m.requests_decided,
    }


def _print_table(m: Matrix) -> None:
    from rich.table import Table

    out = console()
    cells = len(m.principals) * len(m.actions) * len(m.resources)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(m.counts().items()))
    out.print(
        f"{len(m.principals)} principals x {len(m.actions)} actions x {len(m.resources)} resources = "
        f"{cells:,} cells: {counts} ({m.requests_decided:,} distinct requests decided)",
        markup=False,
    )
    table = Table("principal", "action", "resource", "answer", "by")
    shown = 0
    hidden = 0
    for principal, action, resource, answer in m.rows():
        if answer["decision"] not in ("allow", None):
            continue
        if shown >= SHOWN_ROWS:
            hidden += 1
            continue
        shown += 1
        what = answer["decision"] or ("unknown" if "unknown" in answer else "error")
        by = answer.get("decided_by") or answer.get("unknown") or answer.get("error") or ""
        table.add_row(principal, action, resource, what, by)
    if shown:
        out.print(table)
    if hidden:
        out.print(f"... {hidden:,} more (--json lists every cell)")
