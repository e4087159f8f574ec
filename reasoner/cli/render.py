"""Human renderings of answer objects (the JSON rendering is the model itself)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from reasoner.engine.answers import Decision, StatementRef

_STYLE = {"allow": "bold green", "explicit_deny": "bold red", "implicit_deny": "bold yellow"}


def stmt_text(ref: StatementRef) -> str:
    sid = f" {ref.sid}" if ref.sid else ""
    return f"{ref.layer}: {ref.policy} #{ref.index}{sid} ({ref.effect})"


def decision_table(d: Decision, title: str | None = None) -> Table:
    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    if d.error:
        t.add_row("error", d.error)
        return t
    t.add_row("decision", f"[{_STYLE[d.decision]}]{d.decision}[/]")
    t.add_row("decided by", d.decided_by or "-")
    if d.determining_statements:
        t.add_row("statements", "\n".join(stmt_text(s) for s in d.determining_statements))
    if d.missing_allow:
        t.add_row("no allow in", ", ".join(d.missing_allow))
    if d.mismatches and d.decision != "allow":
        grouped: dict[StatementRef, list[str]] = {}
        for m in d.mismatches:
            grouped.setdefault(m.statement, []).append(m.element + (f" ({m.detail})" if m.detail else ""))
        t.add_row("did not apply", "\n".join(f"{stmt_text(s)}: {', '.join(why)}" for s, why in grouped.items()))
    return t


def print_decision(console: Console, d: Decision) -> None:
    console.print(decision_table(d))


def case_table(rows: list[tuple[str, str, str, Decision]], title: str) -> Table:
    t = Table(title=title)
    t.add_column("question")
    t.add_column("expected")
    t.add_column("decision")
    t.add_column("decided by / statements")
    for qid, desc, expected, d in rows:
        got = d.decision or "error"
        mark = "[green]✓[/]" if got == expected else "[red]✗[/]"
        why = d.error or ", ".join(
            [f"{s.layer}:{s.sid or s.policy + '#' + str(s.index)}" for s in d.determining_statements]
            or [f"no allow in {', '.join(d.missing_allow)}"]
        )
        t.add_row(f"{qid}\n[dim]{desc}[/]", expected, f"{mark} [{_STYLE.get(got, 'red')}]{got}[/]", why)
    return t
