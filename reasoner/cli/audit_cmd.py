"""`reasoner audit SNAPSHOT...`: every audit rule over an account, as one report (HTML, Markdown,
JSON, SARIF or CSV). A progress bar on stderr when it is a terminal, nothing otherwise."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from reasoner.audit.findings import FINDINGS_KIND, AuditReport
from reasoner.audit.report_formats import render_csv, render_markdown
from reasoner.audit.report_html import render_html
from reasoner.audit.report_sarif import render_sarif
from reasoner.audit.rulebase import DEFAULT_BUDGET_SECONDS
from reasoner.audit.run import run_audit
from reasoner.cli.output import UsageProblem, console, input_path, input_paths, json_option, result_document, unstdin
from reasoner.errors import ExitCode, InputError
from reasoner.policy.validate import positive_int

AUDIT_FORMATS = ("html", "markdown", "json", "sarif", "csv")


def render(report: AuditReport, fmt: str) -> str:
    if fmt == "html":
        return render_html(report)
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "sarif":
        return json.dumps(render_sarif(report), indent=1) + "\n"
    if fmt == "csv":
        return render_csv(report)
    # The JSON report is the command's result document, made as every --json output is.
    return json.dumps(result_document(FINDINGS_KIND, report.model_dump(mode="json")), indent=1) + "\n"


def audit_command(
    snapshot: list[str] = typer.Argument(..., help="Snapshot files or directories ('-' for stdin)."),
    invariants: str | None = typer.Option(
        None, "--invariants", help="An invariants file to prove (YAML or JSON; '-' for stdin)."
    ),
    zone: str = typer.Option(
        "account", "--zone-of-trust", help="Access from outside this zone is external: account | organization."
    ),
    suppress: str | None = typer.Option(None, "--suppress", help="A suppressions file (YAML or JSON; '-' for stdin)."),
    fmt: str = typer.Option("markdown", "--format", help=f"Output format: {' | '.join(AUDIT_FORMATS)}."),
    out: str | None = typer.Option(None, "--out", help="Write the report to this file (default: stdout)."),
    budget: float = typer.Option(
        DEFAULT_BUDGET_SECONDS, "--budget", help="Seconds per rule; what a rule did not reach is reported unknown."
    ),
    rules: list[str] = typer.Option([], "--rule", help="Run only these rules (repeatable)."),
    workers: int = typer.Option(
        1, "--workers", help="Run the rules as independent tasks on this many workers (1: in this process)."
    ),
    executor: str = typer.Option(
        "process", "--executor", help="Where the tasks run: process (a local pool) | dask | serial."
    ),
    dask_scheduler: str | None = typer.Option(
        None, "--dask-scheduler", help="A Dask scheduler address (tcp://host:8786); implies --executor dask."
    ),
    as_json: bool = json_option(),
) -> None:
    """Audit an account: findings with evidence (paths, statements, witnesses), never a guess."""
    if fmt not in AUDIT_FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(AUDIT_FORMATS)}", source="<command line>")
    if as_json:
        if fmt not in ("markdown", "json"):  # markdown: the default, i.e. no --format given
            raise UsageProblem(f"--json and --format {fmt} contradict each other")
        fmt = "json"
    if zone not in ("account", "organization"):
        raise InputError(f"--zone-of-trust {zone!r}: expected account or organization", source="<command line>")
    paths = [str(p) for p in input_paths(snapshot)]
    invariants = str(input_path(invariants)) if invariants is not None else None
    suppress = str(input_path(suppress)) if suppress is not None else None
    err = console(stderr=True)

    def go(update: Callable[[str, int, int], None] | None) -> AuditReport:
        return run_audit(
            paths,
            invariants=invariants,
            zone=zone,
            suppress=suppress,
            budget=budget,
            only=rules or None,
            progress=update,
            executor=executor,
            workers=positive_int(workers, "--workers"),
            dask_scheduler=dask_scheduler,
        )

    if sys.stderr.isatty():
        bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        task = bar.add_task("audit", total=1)

        def update(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=max(total, 1))

        with bar:
            report = go(update)
    else:
        report = go(None)
    text = unstdin(render(report, fmt))  # standard input is named <stdin>, never its temporary file
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for w in report.warnings:
        if w.startswith("WARNING"):
            err.print(w, style="bold red")
    s = report.summary.by_status
    if out:
        err.print(
            f"{len(report.findings)} findings: {s['fail']} failing, {s['unknown']} unknown, "
            f"{s['suppressed']} suppressed, {s['pass']} passed; written to {out}"
        )
    if s["fail"]:
        raise typer.Exit(ExitCode.DENIED)
    if s["unknown"]:
        raise typer.Exit(ExitCode.UNKNOWN)
