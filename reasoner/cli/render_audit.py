"""Human renderings of diff, snapshot diff, lint and prove answers (data printed as data), and
prove's CI formats (JSON, JUnit XML, SARIF 2.1.0)."""

from __future__ import annotations

import json
from itertools import groupby

from rich.console import Console
from rich.table import Table

from reasoner.audit.diff import DiffAnswer, DiffClass, DiffDirection
from reasoner.audit.lint import LintReport
from reasoner.audit.snapshot_diff import SnapshotDiff
from reasoner.cli.output import line, styled

# -- diff ----------------------------------------------------------------------------------------


def action_text(c: DiffClass) -> str:
    a = c.actions
    if a.count == 1:
        return c.action
    else:
        where = f"of {a.services[0]}" if a.service_count == 1 else f"in {a.service_count} services"
        text = f"{c.action} and {a.count - 1:,} more actions {where}"
    if a.matches:
        text += f" — matching {', '.join(a.matches)}"
        if a.not_matches:
            text += f"; not {', '.join(a.not_matches[:6])}{' …' if len(a.not_matches) > 6 else ''}"
    elif a.not_matches:
        text += f" — matching none of {', '.join(a.not_matches[:6])}{' …' if len(a.not_matches) > 6 else ''}"
    else:
        text += " — named by no Action pattern (a NotAction statement covers them)"
    return text


def context_lines(c: DiffClass) -> list[str]:
    out = []
    for k in c.context:
        alts = (["absent"] if k.absent else []) + [f"{v} ({n})" for v, n in zip(k.values, k.notes)]
        out.append(f"{k.key}: " + " or ".join(alts) if alts else f"{k.key}: (no value)")
    return out or ["any (the class does not depend on it)"]


def resource_lines(c: DiffClass) -> list[str]:
    if c.resources_any:
        return ["any"]
    out = []
    for r in c.resources:
        why = (
            "matching "
            + (", ".join(r.matches) or "no Resource pattern")
            + ("; not " + ", ".join(r.not_matches) if r.not_matches else "")
        )
        out.append(f"{r.example}  ({why})")
    return out or [c.resource]


_DIFF_STYLE = {"differs": "bold red", "same": "bold green", "unknown": "bold yellow"}


def render_direction(console: Console, title: str, d: DiffDirection) -> None:
    head = {
        "differs": f"{len(d.classes)} class(es)" + ("" if d.all_listed else ", more not listed (--limit)"),
        "same": "nothing",
        "unknown": "unknown",
    }[d.answer]
    console.print(line((title, "bold"), ": ", (head, _DIFF_STYLE[d.answer])))
    if d.answer != "differs":
        console.print(line(f"  {d.reason}"))
        return
    for service, group in groupby(d.classes, key=lambda c: c.service):
        console.print(line("  ", (service, "bold cyan")))
        # Classes that differ only in their action region are shown together.
        merged: dict[str, list[DiffClass]] = {}
        for c in group:
            key = json.dumps(
                [
                    c.principals,
                    resource_lines(c),
                    context_lines(c),
                    [s.model_dump() for s in c.statements],
                    c.other_side.split(":")[0],
                ]
            )
            merged.setdefault(key, []).append(c)
        for same in merged.values():
            _render_classes(console, title, same)


def _render_classes(console: Console, title: str, same: list[DiffClass]) -> None:
    c = same[0]
    for other in same:
        console.print(line("    ", (action_text(other), "bold")))
    rows = [] if c.principal.endswith("DiffPlaceholderRole/session") else [("principal", ", ".join(c.principals))]
    rows += [("resource", text) for text in resource_lines(c)]
    rows += [("context", text) for text in context_lines(c)]
    rows.append(
        (
            "because",
            ", ".join(f"{s.policy} #{s.index}{' ' + s.sid if s.sid else ''}" for s in c.statements)
            + f"; {c.other_side}",
        )
    )
    if c.decide_old:
        rows.append(("check", (c.decide_new if title.startswith("NEW") else c.decide_old) or ""))
    for label, text in rows:
        console.print(line("      ", (f"{label:<9}", "dim"), f" {text}"), soft_wrap=True)


def render_diff(console: Console, a: DiffAnswer, check: bool) -> None:
    who = ("principals: " + ", ".join(a.principals)) if a.kind == "resource" else f"principal {a.principals[0]}"
    console.print(
        line(
            ("diff", "bold"),
            f" {a.old} → {a.new}  ",
            (f"({a.kind} policies; {who}; resources of account {a.resource_account})", "dim"),
        ),
        soft_wrap=True,
    )
    if check and a.added is not None:
        status = {
            "differs": ("fail", "bold red"),
            "same": ("pass", "bold green"),
            "unknown": ("unknown", "bold yellow"),
        }
        console.print(line(status[a.added.answer], f" no-new-access: {a.added.reason}"))
    if a.added is not None:
        render_direction(console, "NEW allows, OLD did not", a.added)
    if a.removed is not None:
        render_direction(console, "OLD allowed, NEW does not", a.removed)
    for n in a.notes:
        console.print(styled(f"note: {n}", "dim"))


def snapshot_diff_json(d: SnapshotDiff) -> dict:
    return {
        "old": d.old,
        "new": d.new,
        "new_access": d.new_access,
        "changes": [c.model_dump(mode="json") for c in d.changes],
    }


def render_snapshot_diff(console: Console, d: SnapshotDiff, check: bool) -> None:
    console.print(
        line(
            ("diff", "bold"),
            f" {d.old} → {d.new}: {len(d.changes)} changed "
            f"principal, resource or trust polic{'y' if len(d.changes) == 1 else 'ies'}",
        )
    )
    if check:
        status = {"yes": ("fail", "bold red"), "no": ("pass", "bold green"), "unknown": ("unknown", "bold yellow")}
        console.print(line(status[d.new_access], " no-new-access"))
    for c in d.changes:
        console.print(line("\n", (c.subject, "bold"), f" ({c.what}, {c.change})"))
        if c.unknown:
            console.print(line("  ", ("unknown", "bold yellow"), f": {c.unknown}"))
            continue
        if c.answer is None:
            continue
        if c.answer.added is not None:
            render_direction(console, "NEW allows, OLD did not", c.answer.added)
        if c.answer.removed is not None:
            render_direction(console, "OLD allowed, NEW does not", c.answer.removed)


# -- lint ----------------------------------------------------------------------------------------


def render_lint(console: Console, report: LintReport) -> None:
    if report.findings:
        t = Table(title=f"{len(report.findings)} finding(s) in {len(report.files)} file(s)")
        t.add_column("file")
        t.add_column("statement")
        t.add_column("finding")
        t.add_column("why")
        for f in report.findings:
            t.add_row(f.file, f"#{f.statement}" + (f" {f.sid}" if f.sid else ""), f.kind, f.message)
        console.print(t)
    else:
        console.print(line(("clean", "bold green"), f": {len(report.files)} file(s), no finding"))
    for u in report.undecided:
        console.print(line(("undecided", "bold yellow"), f" {u.file} #{u.statement}: {u.reason}"))
    for n in report.notes:
        console.print(styled(f"note: {n}", "dim"))
