"""`reasoner collect`: read an account or an organization into a snapshot folder; `--print-policy`
prints the read-only IAM policy the collector needs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn

from reasoner.cli.output import console, format_option, json_option, output_format, print_json, print_result
from reasoner.collect.calls import minimal_policy
from reasoner.collect.run import DEFAULT_ROLE, REPORT_FILE, CollectOptions, CollectResult, collect
from reasoner.errors import ExitCode, InputError


def collect_command(
    out: Path | None = typer.Option(None, "--out", help="The snapshot folder (written, or resumed when it exists)."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile of the caller."),
    regions: list[str] = typer.Option(
        [], "--regions", help="Regions to read (repeatable; default: every enabled one)."
    ),
    accounts: list[str] = typer.Option(
        [], "--accounts", help="Accounts to read, entered with --role-name (repeatable)."
    ),
    org: bool = typer.Option(False, "--org", help="Read every account of the caller's organization."),
    role_name: str = typer.Option(DEFAULT_ROLE, "--role-name", help="The role assumed in member accounts."),
    endpoint_url: str | None = typer.Option(None, "--endpoint-url", help="One endpoint for every service (testing)."),
    workers: int = typer.Option(4, "--workers", min=1, max=16, help="Concurrent reads per account."),
    print_policy: bool = typer.Option(
        False, "--print-policy", help="Print the minimal read-only IAM policy the collector needs and exit."
    ),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Collect IAM, resource policies, the organization and VPC endpoints into a snapshot folder."""
    fmt = output_format(fmt, as_json)
    if print_policy:
        print_json(minimal_policy(role_name))
        return
    if out is None:
        raise InputError("--out DIR is required (or --print-policy)", source="<command line>")
    if org and accounts:
        raise InputError("--org and --accounts exclude each other", source="<command line>")
    opts = CollectOptions(
        out=out,
        profile=profile,
        regions=[r for x in regions for r in x.split(",") if r] or None,
        accounts=[a for x in accounts for a in x.split(",") if a] or None,
        org=org,
        role_name=role_name,
        endpoint_url=endpoint_url,
        workers=workers,
    )
    result = _run(opts, fmt != "json" and sys.stderr.isatty())
    if fmt == "json":
        print_result("collection-report", result.report)
    else:
        _summary(result)
    if not result.complete:
        raise typer.Exit(ExitCode.UNKNOWN)


def _run(opts: CollectOptions, interactive: bool) -> CollectResult:
    if not interactive:
        return collect(opts)
    bar = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=console(stderr=True),
        transient=True,
    )
    task = bar.add_task("collecting", total=1)

    def update(what: str, done: int, total: int) -> None:
        bar.update(task, description=what, completed=done, total=max(total, 1))

    with bar:
        return collect(opts, progress=update)


def _summary(result: CollectResult) -> None:
    out = console()
    report = result.report
    if "error" in report:
        out.print(f"nothing collected: {report['error']}")
        return
    for account, a in report["accounts"].items():
        reads = sum(n for counts in a["reads"].values() for n in counts.values())
        state = "entered" if a["entered"] else f"NOT entered: {a['error']}"
        out.print(f"{account}: {state}; {reads} reads ({a['from_cache']} from an earlier run)")
        for arn in a["marked_unknown"]:
            out.print(f"  unknown policy: {arn}")
        for what in a["unlisted"]:
            out.print(f"  not listed: {what}")
    for p in report["organization"]["problems"]:
        out.print(f"organization: {p}")
    out.print(f"snapshot: {result.snapshot}  ({report['seconds']} s)")
    if not result.complete:
        out.print(f"incomplete: {len(report['unknown'])} read(s) unknown, listed in {REPORT_FILE}")
