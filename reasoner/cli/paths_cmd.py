"""`reasoner who-can` and `reasoner reach`: request paths through an account snapshot."""

from __future__ import annotations

import json
import sys
from pathlib import Path as FsPath

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from reasoner.account.paths import Constraints, Path, PathFinder
from reasoner.account.snapshot import Snapshot, load_snapshot
from reasoner.errors import ExitCode, InputError
from reasoner.policy.validate import positive_int

_STYLE = {"possible": "bold green", "impossible": "bold red", "unknown": "bold yellow"}


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def open_snapshot(paths: list[FsPath], console: Console, quiet: bool) -> Snapshot:
    snap = load_snapshot(list(paths))
    if snap.problems and not quiet:
        err = Console(stderr=True, width=160)
        err.print(f"[yellow]snapshot: {len(snap.problems)} part(s) skipped or incomplete[/]")
        for p in snap.problems[:20]:
            err.print(f"  {p}", markup=False, highlight=False)
        if len(snap.problems) > 20:
            err.print(f"  ... {len(snap.problems) - 20} more (--json lists them all)")
    return snap


def _with_progress(enabled: bool, make, run):
    """Build the worker with a progress callback (a rich bar on stderr when interactive) and run it."""
    if not enabled:
        return run(make(None))
    prog = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=Console(stderr=True),
        transient=True,
    )
    task = prog.add_task("searching", total=1)

    def update(what: str, done: int, total: int) -> None:
        prog.update(task, description=what, completed=done, total=max(total, 1))

    with prog:
        return run(make(update))


def path_text(p: Path) -> str:
    lines = []
    for i, h in enumerate(p.hops, 1):
        via = f" via {' -> '.join(h.called_via)}" if h.called_via else ""
        who = h.principal.rsplit(":", 1)[-1]
        # Keys the hop model fixes (tags, org, ViaAWSService) are not conditions that remain.
        ctx = {
            k: v
            for k, v in h.context.items()
            if not k.lower().startswith("aws:principaltag/")
            and k.lower() not in ("aws:principalorgid", "aws:viaawsservice")
        }
        lines.append(
            f"{i}. {who}: {h.kind} {h.action} on {h.resource}{via}" + (f"\n   context {json.dumps(ctx)}" if ctx else "")
        )
    return "\n".join(lines)


def who_can_command(
    snapshot: list[FsPath] = typer.Argument(..., help="Snapshot bundle, GAAD file(s) or a directory."),
    action: str = typer.Option(..., help="The action (e.g. s3:GetObject)."),
    resource: str = typer.Option(..., help="The resource ARN (or an ARN pattern)."),
    without_via: list[str] = typer.Option([], "--without-via", help="No hop may go through this service."),
    not_from_vpce: list[str] = typer.Option(
        [], "--not-from-vpce", help="The first call may not come through this endpoint."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every principal of the snapshot that can do ACTION on RESOURCE, with its shortest path."""
    console = _console()
    snap = open_snapshot(snapshot, console, as_json)
    cons = Constraints(tuple(without_via), tuple(not_from_vpce))
    a = _with_progress(
        not as_json and sys.stderr.isatty(),
        lambda update: PathFinder(snap, progress=update),
        lambda finder: finder.who_can(action, resource, cons),
    )
    if as_json:
        print(json.dumps({**a.to_json(), "snapshot_problems": snap.problems}, indent=2))
    else:
        t = Table(title=f"who can {action} on {resource}", show_lines=True)
        t.add_column("principal")
        t.add_column("answer")
        t.add_column("shortest path (the context is what remains to hold)")
        for p in a.principals:
            t.add_row(p.principal, f"[{_STYLE[p.outcome]}]{p.outcome}[/]", path_text(p.path))
        for p in a.unknown:
            t.add_row(p.principal, f"[{_STYLE['unknown']}]unknown[/]", p.reason or "")
        console.print(t)
        console.print(
            f"{len(a.principals)} can, {len(a.unknown)} unknown, of {len(snap.principals)} principals "
            f"({a.stats.plain_decisions} concrete decisions, {a.stats.searches} searches, "
            f"{a.stats.seconds:.2f} s)"
        )
    if a.unknown:
        raise typer.Exit(ExitCode.UNKNOWN)


def reach_command(
    snapshot: list[FsPath] = typer.Argument(None, help="Snapshot bundle, GAAD file(s) or a directory."),
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
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every path from a principal to ACTION on RESOURCE (shortest first), or `impossible` with the scope."""
    console = _console()
    if case is not None:
        from reasoner.cases import load_case, reach_questions

        c = load_case(case)
        rows = reach_questions(c)
        if as_json:
            print(json.dumps([{"question": q.id, "expect": q.expect, **a.to_json()} for q, a, _ in rows], indent=2))
        else:
            for q, a, ok in rows:
                mark = "✓" if ok else "✗"
                _render_reach(console, a, f"{mark} {q.id}: {q.description} (expected {q.expect})")
        if not all(ok for _, _, ok in rows):
            raise typer.Exit(ExitCode.DENIED)
        return
    missing = [
        n
        for n, v in (("SNAPSHOT", snapshot), ("--from", from_), ("--action", action), ("--resource", resource))
        if not v
    ]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case)", source="<command line>")
    snap = open_snapshot(snapshot, console, as_json)
    finder = PathFinder(snap)
    a = finder.reach(from_, action, resource, Constraints(tuple(without_via), tuple(not_from_vpce)), max_paths)
    if as_json:
        print(json.dumps({**a.to_json(), "snapshot_problems": snap.problems}, indent=2))
    else:
        _render_reach(console, a)
    if a.answer == "unknown":
        raise typer.Exit(ExitCode.UNKNOWN)


def _render_reach(console: Console, a, title: str | None = None) -> None:
    t = Table(title=title or f"{a.start} -> {a.action} on {a.resource}", show_header=False, box=None)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("answer", f"[{_STYLE[a.answer]}]{a.answer}[/]")
    for i, p in enumerate(a.paths, 1):
        t.add_row(f"path {i}", path_text(p))
        t.add_row("", f"check the last hop: {p.hops[-1].decide_command}")
    t.add_row(
        "searched",
        f"{len(a.identities)} identities reachable by role assumption: "
        + ", ".join(x.rsplit(":", 1)[-1] for x in a.identities),
    )
    for u in a.unknown[:10]:
        t.add_row("unknown", u)
    console.print(t)


def privesc_command(
    snapshot: list[FsPath] = typer.Argument(..., help="Snapshot bundle, GAAD file(s) or a directory."),
    from_: str | None = typer.Option(None, "--from", help="Only this principal (ARN or name)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Which principals can become admin-equivalent (iam:* on *), by which chain of techniques."""
    from reasoner.account.privesc import Privesc

    console = _console()
    snap = open_snapshot(snapshot, console, as_json)
    rows = _with_progress(
        not as_json and sys.stderr.isatty(),
        lambda update: Privesc(snap, progress=update),
        lambda finder: finder.run(from_),
    )
    if as_json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
    else:
        t = Table(title="privilege escalation to admin-equivalent (iam:* on *)", show_lines=True)
        t.add_column("principal")
        t.add_column("admin")
        t.add_column("shortest chain")
        for r in rows:
            mark = {True: "[bold red]yes[/]", False: "[green]no[/]", None: "[bold yellow]unknown[/]"}[r.admin]
            if r.admin and not r.paths[0]:
                chain = "admin itself"
            elif r.paths:
                chain = "\n".join(
                    f"{i}. {s.technique}: {s.source.rsplit(':', 1)[-1]} -> {s.target.rsplit(':', 1)[-1]}"
                    f" ({'; '.join(s.via)})"
                    for i, s in enumerate(r.paths[0], 1)
                )
            else:
                chain = r.reason or ""
            t.add_row(r.principal, mark, chain)
        console.print(t)
    if any(r.admin is None for r in rows):
        raise typer.Exit(ExitCode.UNKNOWN)
