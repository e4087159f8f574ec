"""`reasoner prove INVARIANTS SNAPSHOT|CASE`: invariants as code, with CI-native output."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reasoner.audit.invariants import Result, json_schema, load_invariants
from reasoner.errors import ExitCode, InputError

FORMATS = ("table", "json", "junit", "sarif")
_STYLE = {"proved": "bold green", "violated": "bold red", "unknown": "bold yellow"}


def _snapshot_of(target: Path):
    from reasoner.account.snapshot import load_snapshot

    if target.is_dir() and (target / "case.yaml").exists():
        from reasoner.cases import case_snapshot, load_case

        return case_snapshot(load_case(target))
    return load_snapshot(target)


def prove_command(
    invariants: Path | None = typer.Argument(None, help="The invariants file (YAML or JSON)."),
    target: Path | None = typer.Argument(None, help="A snapshot (file or directory) or a case folder with a snapshot."),
    fmt: str = typer.Option("table", "--format", help="table | json | junit | sarif"),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema of the invariants file and exit."),
) -> None:
    """Prove each invariant (with the scope), or show a minimal counterexample, or say unknown."""
    if schema:
        print(json.dumps(json_schema(), indent=2))
        return
    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}", source="<command line>")
    if invariants is None or target is None:
        raise InputError("usage: reasoner prove INVARIANTS SNAPSHOT|CASE", source="<command line>")
    spec = load_invariants(invariants)
    from reasoner.audit.invariants import Prover

    prover = Prover(_snapshot_of(target))
    results = [prover.prove(inv) for inv in spec.invariants]
    out = {"table": _table, "json": _json, "junit": _junit, "sarif": _sarif}[fmt](results, str(invariants))
    if out is not None:
        print(out)
    if any(r.status == "violated" for r in results):
        raise typer.Exit(ExitCode.DENIED)
    if any(r.status == "unknown" for r in results):
        raise typer.Exit(ExitCode.UNKNOWN)


def _table(results: list[Result], source: str) -> None:
    console = Console(width=None if sys.stdout.isatty() else 160)
    t = Table(title=f"invariants of {source}", show_lines=True)
    t.add_column("invariant")
    t.add_column("status")
    t.add_column("evidence")
    for r in results:
        if r.status == "violated":
            hops = "\n".join(
                f"  {i}. {h.get('principal', '').rsplit(':', 1)[-1]}: {h.get('action') or h.get('technique')} "
                f"-> {h.get('resource') or h.get('to', '')}"
                for i, h in enumerate(r.path, 1)
            )
            ev = f"{r.reason}\n{hops}" + (f"\ncheck it: {r.decide_command}" if r.decide_command else "")
        elif r.status == "proved":
            ev = f"scope: {r.scope}"
        else:
            ev = f"{r.reason}" + (f"\nscope: {r.scope}" if r.scope else "")
        t.add_row(f"{r.id} ({r.kind})\n{r.description}", f"[{_STYLE[r.status]}]{r.status}[/]", ev)
    console.print(t)
    return None


def _json(results: list[Result], source: str) -> str:
    return json.dumps({"invariants": source, "results": [r.model_dump(mode="json") for r in results]}, indent=2)


def _junit(results: list[Result], source: str) -> str:
    """JUnit XML: one testcase per invariant; violated = failure, unknown = error."""
    suite = ET.Element(
        "testsuite",
        name=f"reasoner prove {source}",
        tests=str(len(results)),
        failures=str(sum(r.status == "violated" for r in results)),
        errors=str(sum(r.status == "unknown" for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"invariants.{r.kind}", name=r.id, time=f"{r.seconds:.3f}")
        if r.status == "violated":
            f = ET.SubElement(case, "failure", message=r.reason or "violated", type="violated")
            f.text = json.dumps(
                {"principal": r.principal, "path": r.path, "decide_command": r.decide_command}, indent=2
            )
        elif r.status == "unknown":
            ET.SubElement(case, "error", message=r.reason or "unknown", type="unknown")
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"proved; scope: {r.scope}"
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True)


def _sarif(results: list[Result], source: str) -> str:
    """SARIF 2.1.0: one rule per invariant; violated = error, unknown = warning, proved = pass."""
    rules = [{"id": r.id, "name": r.kind, "shortDescription": {"text": r.description or r.id}} for r in results]
    level = {"violated": "error", "unknown": "warning", "proved": "none"}
    kind = {"violated": "fail", "unknown": "review", "proved": "pass"}
    sarif_results = []
    for r in results:
        msg = r.reason if r.status != "proved" else f"proved; scope: {r.scope}"
        res = {
            "ruleId": r.id,
            "level": level[r.status],
            "kind": kind[r.status],
            "message": {"text": msg},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": source}}}],
        }
        if r.status == "violated":
            res["properties"] = {"principal": r.principal, "path": r.path, "decide_command": r.decide_command}
        sarif_results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "iam-reasoner", "informationUri": "https://github.com/", "rules": rules}},
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(doc, indent=2)
