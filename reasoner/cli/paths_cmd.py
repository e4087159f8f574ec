"""`reasoner who-can`, `reasoner reach` and `reasoner privesc`: request paths through an account snapshot."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path as FsPath
from typing import TypeVar

import typer

from reasoner import api
from reasoner.account.paths import Constraints, PathFinder
from reasoner.account.snapshot import Snapshot
from reasoner.cli.output import console, format_option, input_paths, json_option, output_format, print_result
from reasoner.cli.render_paths import outside_table, privesc_table, reach_table, who_can_summary, who_can_table
from reasoner.errors import ExitCode, InputError
from reasoner.policy.validate import positive_int

T = TypeVar("T")
SNAPSHOT_HELP = "Snapshot bundle, GAAD file(s) or a directory ('-' for stdin)."


def open_snapshot(paths: list[str], quiet: bool) -> Snapshot:
    """Load the snapshot (`-` is stdin); list the parts skipped on stderr unless quiet."""
    snap = api.load_snapshot(input_paths(paths))
    if snap.problems and not quiet:
        err = console(stderr=True)
        err.print(f"snapshot: {len(snap.problems)} part(s) skipped or incomplete", style="yellow")
        for p in snap.problems[:20]:
            err.print(f"  {p}")
        if len(snap.problems) > 20:
            err.print(f"  ... {len(snap.problems) - 20} more (--json lists them all)")
    return snap


def completeness(snap: Snapshot) -> dict:
    """Every answer over a snapshot says whether the snapshot is complete, and if not, why."""
    return {"complete": snap.complete, "incomplete": snap.incomplete}


def print_incomplete(snap: Snapshot) -> None:
    """The table form: one line per reason the snapshot is incomplete as a whole."""
    for why in snap.incomplete[:5]:
        console().print(f"snapshot incomplete: {why}", markup=False, style="yellow")
    if len(snap.incomplete) > 5:
        console().print(f"snapshot incomplete: ... {len(snap.incomplete) - 5} more (--json lists them all)")


def with_progress(enabled: bool, run: Callable[[Callable[[str, int, int], None] | None], T]) -> T:
    """Run with a progress callback (a rich bar on stderr when interactive) or without."""
    if not enabled:
        return run(None)
    from rich.progress import BarColumn, Progress, TextColumn  # only on a terminal

    prog = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console(stderr=True),
        transient=True,
    )
    task = prog.add_task("searching", total=1)

    def update(what: str, done: int, total: int) -> None:
        prog.update(task, description=what, completed=done, total=max(total, 1))

    with prog:
        return run(update)


def who_can_command(
    snapshot: list[str] = typer.Argument(..., help=SNAPSHOT_HELP),
    action: str = typer.Option(..., help="The action (e.g. s3:GetObject)."),
    resource: str = typer.Option(..., help="The resource ARN (or an ARN pattern)."),
    without_via: list[str] = typer.Option([], "--without-via", help="No hop may go through this service."),
    not_from_vpce: list[str] = typer.Option(
        [], "--not-from-vpce", help="The first call may not come through this endpoint."
    ),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Every principal of the snapshot that can do ACTION on RESOURCE, with its shortest path."""
    fmt = output_format(fmt, as_json)
    snap = open_snapshot(snapshot, fmt == "json")
    cons = Constraints(tuple(without_via), tuple(not_from_vpce))
    a = with_progress(
        fmt != "json" and sys.stderr.isatty(),
        lambda update: api.who_can(snap, action, resource, cons, progress=update),
    )
    if fmt == "json":
        print_result("who-can", {**a.to_json(), **completeness(snap), "snapshot_problems": snap.problems})
    else:
        out = console()
        out.print(who_can_table(a))
        if (outside := outside_table(a)) is not None:
            out.print(outside)
        out.print(who_can_summary(a, len(snap.principals)))
        print_incomplete(snap)
    if a.unknown or (a.outside is not None and a.outside.unknown) or not snap.complete:
        raise typer.Exit(ExitCode.UNKNOWN)


def reach_command(
    snapshot: list[str] = typer.Argument(None, help=SNAPSHOT_HELP),
    from_: str | None = typer.Option(None, "--from", help="The starting principal (ARN or user/role name)."),
    action: str | None = typer.Option(None, help="The target action."),
    resource: str | None = typer.Option(None, help="The target resource ARN (or pattern)."),
    without_via: list[str] = typer.Option([], "--without-via", help="No hop may go through this service."),
    not_from_vpce: list[str] = typer.Option(
        [], "--not-from-vpce", help="The first call may not come through this endpoint."
    ),
    max_paths: int = typer.Option(
        20, help="Show at most this many paths.", callback=lambda n: positive_int(n, "--max-paths")
    ),
    case: FsPath | None = typer.Option(None, help="A case folder: answer its `reach` questions."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Every path from a principal to ACTION on RESOURCE (shortest first), or `impossible` with the scope."""
    fmt = output_format(fmt, as_json)
    if case is not None:
        _reach_case(case, fmt)
        return
    missing = [
        n
        for n, v in (("SNAPSHOT", snapshot), ("--from", from_), ("--action", action), ("--resource", resource))
        if not v
    ]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case)", source="<command line>")
    assert from_ is not None and action is not None and resource is not None
    snap = open_snapshot(snapshot, fmt == "json")
    cons = Constraints(tuple(without_via), tuple(not_from_vpce))
    a = api.reach(snap, from_, action, resource, cons, max_paths=max_paths)
    if fmt == "json":
        print_result("reach", {**a.to_json(), **completeness(snap), "snapshot_problems": snap.problems})
    else:
        console().print(reach_table(a))
        print_incomplete(snap)
    if a.answer == "unknown":
        raise typer.Exit(ExitCode.UNKNOWN)


def _reach_case(case: FsPath, fmt: str) -> None:
    """The case's reach questions, each answered by api.reach over one PathFinder (shared caches)."""
    from reasoner.cases import case_snapshot, hop_label, load_case

    c = load_case(case)
    finder = PathFinder(case_snapshot(c))
    rows = []
    for q in c.spec.reach:
        a = api.reach(finder, q.from_, q.action, q.resource, Constraints(tuple(q.without_via), tuple(q.not_from_vpce)))
        ok = a.answer == q.expect
        if ok and q.expect_shortest_path is not None:
            ok = bool(a.paths) and [hop_label(h) for h in a.paths[0].hops] == q.expect_shortest_path
        rows.append((q, a, ok))
    if fmt == "json":
        print_result("reach-case", [{"question": q.id, "expect": q.expect, **a.to_json()} for q, a, _ in rows])
    else:
        out = console()
        for q, a, ok in rows:
            mark = "✓" if ok else "✗"
            out.print(reach_table(a, f"{mark} {q.id}: {q.description} (expected {q.expect})"))
    if not all(ok for _, _, ok in rows):
        raise typer.Exit(ExitCode.DENIED)


def privesc_command(
    snapshot: list[str] = typer.Argument(..., help=SNAPSHOT_HELP),
    from_: str | None = typer.Option(None, "--from", help="Only this principal (ARN or name)."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Which principals can become admin-equivalent (iam:* on *), by which chain of techniques."""
    fmt = output_format(fmt, as_json)
    snap = open_snapshot(snapshot, fmt == "json")
    rows = with_progress(
        fmt != "json" and sys.stderr.isatty(),
        lambda update: api.privesc(snap, from_, progress=update),
    )
    if fmt == "json":
        print_result("privesc", [r.to_json() for r in rows])
    else:
        console().print(privesc_table(rows))
        print_incomplete(snap)
    if any(r.admin is None for r in rows) or not snap.complete:
        raise typer.Exit(ExitCode.UNKNOWN)
