"""Human renderings of answer objects (the JSON rendering is the model itself).

Every string that comes from data (a Sid, an ARN, a file name, a reason) is data: the cells are
plain strings or `Text` objects printed through `reasoner.cli.output.console()`, which never reads
markup or emoji codes and escapes control characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from reasoner.cli.output import line, styled
from reasoner.engine.answers import Decision, StatementRef
from reasoner.search.can import CanAnswer
from reasoner.search.cover import CheckResult

_STYLE = {"allow": "bold green", "explicit_deny": "bold red", "implicit_deny": "bold yellow"}
OUTCOME_STYLE = {"possible": "bold green", "impossible": "bold red", "unknown": "bold yellow"}


def key_value_table(title: str | None = None) -> Table:
    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    return t


# -- decide --------------------------------------------------------------------------------------


def stmt_text(ref: StatementRef) -> str:
    sid = f" {ref.sid}" if ref.sid else ""
    return f"{ref.layer}: {ref.policy} #{ref.index}{sid} ({ref.effect})"


def decision_table(d: Decision, title: str | None = None) -> Table:
    t = key_value_table(title)
    if d.error:
        t.add_row("error", d.error)
        return t
    t.add_row("decision", styled(d.decision or "", _STYLE.get(d.decision or "", "")))
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


def case_table(rows: Sequence[tuple[str, str, str, Decision]], title: str) -> Table:
    t = Table(title=title)
    t.add_column("question")
    t.add_column("expected")
    t.add_column("decision")
    t.add_column("decided by / statements")
    for qid, desc, expected, d in rows:
        got = d.decision or "error"
        mark = ("✓", "green") if got == expected else ("✗", "red")
        why = d.error or ", ".join(
            [f"{s.layer}:{s.sid or s.policy + '#' + str(s.index)}" for s in d.determining_statements]
            or [f"no allow in {', '.join(d.missing_allow)}"]
        )
        t.add_row(line(qid, "\n", (desc, "dim")), expected, line(mark, " ", (got, _STYLE.get(got, "red"))), why)
    return t


# -- can and the checks --------------------------------------------------------------------------


def can_table(a: CanAnswer, title: str | None = None) -> Table:
    t = key_value_table(title)
    t.add_row("answer", styled(a.answer, OUTCOME_STYLE[a.answer]))
    if a.reason:
        t.add_row("reason", a.reason)
    if a.witness:
        req = a.witness["request"]
        t.add_row("witness", f"{req['action']} on {req['resource']}\ncontext {json.dumps(req.get('context', {}))}")
        t.add_row("check it", a.decide_command or "")
    for w in a.witnesses[1:]:
        t.add_row(
            "also",
            f"{w['request']['action']} on {w['request']['resource']} "
            f"context {json.dumps(w['request'].get('context', {}))}",
        )
    if a.scope:
        t.add_row(
            "searched",
            "\n".join(
                f"{d.name}: {d.regions} regions, e.g. {', '.join(repr(x) for x in d.examples[:3])}"
                + ("" if d.complete else " (not proved complete)")
                for d in a.scope
            ),
        )
    return t


CHECK_STATUS = {True: "pass", False: "fail", None: "unknown"}


def check_json(result: CheckResult, name: str) -> dict:
    return {
        "check": name,
        "result": CHECK_STATUS[result.passed],
        "reason": result.reason,
        "principal": result.principal,
        "access": result.access,  # public, or external (a named outside account, org, service, provider)
        "witness": result.answer.witness if result.answer else None,
        "decide_command": result.answer.decide_command if result.answer else None,
    }


def print_check(console: Console, result: CheckResult, name: str) -> None:
    status = CHECK_STATUS[result.passed]
    style = {"pass": "bold green", "fail": "bold red", "unknown": "bold yellow"}[status]
    console.print(line((status, style), f" {name}: {result.reason}"))
    if result.answer and result.answer.decide_command and result.passed is False:
        console.print(line(f"witness: {result.answer.decide_command}"), soft_wrap=True)


# -- actions -------------------------------------------------------------------------------------


def actions_json(infos: list) -> list[dict]:
    return [
        {
            "action": i.full_name,
            "access_level": i.access_level,
            "resource_types": [{"name": n, "arn": a, "required": r} for n, a, r in i.resource_types],
            "condition_keys": list(i.condition_keys),
        }
        for i in infos
    ]


def actions_table(infos: list, title: str) -> Table:
    t = Table(title=title)
    t.add_column("action")
    t.add_column("access")
    t.add_column("resource types")
    for i in infos:
        t.add_row(i.full_name, i.access_level, ", ".join(n for n, _, _ in i.resource_types) or "*")
    return t
