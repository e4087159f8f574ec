"""`reasoner prove INVARIANTS SNAPSHOT|CASE`: invariants as code, with CI-native output (table,
json, junit, sarif). Every format carries every violator of a violated invariant (up to the
file's max_violators, with the total) and the patterns of a vacuous one."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import typer
from rich.table import Table

from reasoner import api
from reasoner.audit.invariants import Result, json_schema
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
    print_result,
    styled,
)
from reasoner.envelope import PROJECT_URL
from reasoner.errors import ExitCode, InputError

PROVE_FORMATS = ("junit", "sarif")
_STYLE = {"proved": "bold green", "violated": "bold red", "unknown": "bold yellow", "vacuous": "bold yellow"}


def _violators_text(r: Result) -> str:
    """Every violator listed, one line each, with how many there are."""
    if r.violators_total <= 1:
        return ""
    shown = "\n".join(f"  - {v.reason}" for v in r.violators)
    more = r.violators_total - len(r.violators)
    return f"\nviolators ({r.violators_total}):\n{shown}" + (f"\n  ... and {more} more" if more else "")


def _evidence(r: Result) -> str:
    if r.status == "violated":
        hops = "\n".join(
            f"  {i}. {h.get('principal', '').rsplit(':', 1)[-1]}: {h.get('action') or h.get('technique')} "
            f"-> {h.get('resource') or h.get('to', '')}"
            for i, h in enumerate(r.path, 1)
        )
        check = f"\ncheck it: {r.decide_command}" if r.decide_command else ""
        return f"{r.reason}\n{hops}{check}{_violators_text(r)}"
    if r.status == "proved":
        return f"scope: {r.scope}"
    if r.status == "vacuous":
        return f"{r.reason}\nmatched nothing: {', '.join(r.unmatched)}"
    return f"{r.reason}" + (f"\nscope: {r.scope}" if r.scope else "")


def prove_table(results: list[Result], source: str) -> Table:
    t = Table(title=f"invariants of {source}", show_lines=True)
    t.add_column("invariant")
    t.add_column("status")
    t.add_column("evidence")
    for r in results:
        t.add_row(f"{r.id} ({r.kind})\n{r.description}", styled(r.status, _STYLE[r.status]), _evidence(r))
    return t


def prove_json(results: list[Result], source: str) -> dict:
    return {"invariants": source, "results": [r.model_dump(mode="json") for r in results]}


def _counterexample(r: Result) -> dict:
    return {
        "principal": r.principal,
        "path": r.path,
        "decide_command": r.decide_command,
        "violators": [v.model_dump(mode="json") for v in r.violators],
        "violators_total": r.violators_total,
    }


def prove_junit(results: list[Result], source: str) -> str:
    """JUnit XML: one testcase per invariant; violated = failure, unknown or vacuous = error."""
    suite = ET.Element(
        "testsuite",
        name=f"reasoner prove {source}",
        tests=str(len(results)),
        failures=str(sum(r.status == "violated" for r in results)),
        errors=str(sum(r.status in ("unknown", "vacuous") for r in results)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"invariants.{r.kind}", name=r.id, time=f"{r.seconds:.3f}")
        if r.status == "violated":
            f = ET.SubElement(case, "failure", message=r.reason or "violated", type="violated")
            f.text = json.dumps(_counterexample(r), indent=2)
        elif r.status in ("unknown", "vacuous"):
            e = ET.SubElement(case, "error", message=r.reason or r.status, type=r.status)
            if r.unmatched:
                e.text = json.dumps({"unmatched": r.unmatched}, indent=2)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"proved; scope: {r.scope}"
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def prove_sarif(results: list[Result], source: str) -> str:
    """SARIF 2.1.0: one rule per invariant; violated = error, unknown or vacuous = warning,
    proved = pass."""
    rules = [{"id": r.id, "name": r.kind, "shortDescription": {"text": r.description or r.id}} for r in results]
    level = {"violated": "error", "unknown": "warning", "vacuous": "warning", "proved": "none"}
    kind = {"violated": "fail", "unknown": "review", "vacuous": "review", "proved": "pass"}
    sarif_results = []
    for r in results:
        msg = r.reason if r.status != "proved" else f"proved; scope: {r.scope}"
        res: dict = {
            "ruleId": r.id,
            "level": level[r.status],
            "kind": kind[r.status],
            "message": {"text": msg},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": source}}}],
        }
        if r.status == "violated":
            res["properties"] = _counterexample(r)
        elif r.status == "vacuous":
            res["properties"] = {"unmatched": r.unmatched}
        sarif_results.append(res)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "iam-reasoner", "informationUri": PROJECT_URL, "rules": rules}},
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(doc, indent=2)


def prove_command(
    invariants: str | None = typer.Argument(None, help="The invariants file (YAML or JSON; '-' for stdin)."),
    target: str | None = typer.Argument(
        None, help="A snapshot (a file or a directory; '-' for stdin) or a case folder with a snapshot."
    ),
    fmt: str = format_option(PROVE_FORMATS),
    as_json: bool = json_option(),
    schema: bool = typer.Option(False, "--schema", help="Print the JSON schema of the invariants file and exit."),
) -> None:
    """Prove each invariant (with the scope), or list its violators, or say unknown or vacuous."""
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
        print_result("prove", prove_json(results, source))
    else:
        # Machine formats carry data too: control characters are shown escaped, never raw.
        print(clean({"junit": prove_junit, "sarif": prove_sarif}[fmt](results, source)))
    if any(r.status == "violated" for r in results):
        raise typer.Exit(ExitCode.DENIED)
    if any(r.status in ("unknown", "vacuous") for r in results):
        raise typer.Exit(ExitCode.UNKNOWN)
