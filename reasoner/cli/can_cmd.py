"""`reasoner can` and the Access-Analyzer-style checks built on the same search."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from reasoner.cases import can_query, load_case
from reasoner.cli.decide_cmd import named_policy, parse_context, policy_levels
from reasoner.errors import ExitCode, InputError
from reasoner.policy.validate import account_id
from reasoner.search.can import CanAnswer, Query, can

_STYLE = {"possible": "bold green", "impossible": "bold red", "unknown": "bold yellow"}


def render(console: Console, a: CanAnswer, title: str | None = None) -> None:
    t = Table(title=title, show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("answer", f"[{_STYLE[a.answer]}]{a.answer}[/]")
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
    console.print(t)


def _where(items: list[str]) -> dict[str, list[str]]:
    ctx = parse_context(items)
    return {k: (v if isinstance(v, list) else [v]) for k, v in ctx.items()}


def _exclude(items: list[str]) -> dict[str, list[tuple[str, str]]]:
    """'aws:SourceIp=IpAddress:10.0.0.0/8' -> {'aws:SourceIp': [('ip_address', '10.0.0.0/8')]}."""
    from reasoner.policy.operators import parse_operator
    from reasoner.policy.values import policy_value_error

    out: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        key, sep, rest = item.partition("=")
        op_name, sep2, value = rest.partition(":")
        if not sep or not sep2:
            raise InputError(f"--exclude {item!r} must be KEY=Operator:VALUE", source="<command line>")
        try:
            op = parse_operator(op_name)
        except ValueError as exc:
            raise InputError(f"--exclude {item!r}: {exc}", source="<command line>") from None
        if op.negated or op.qualifier != "none" or op.if_exists or op.family == "null":
            raise InputError(
                f"--exclude {item!r}: give a plain operator (StringLike, IpAddress, ...)", source="<command line>"
            )
        problem = policy_value_error(op.family, value)
        if problem:
            raise InputError(f"--exclude {item!r}: {problem}", source="<command line>")
        out.setdefault(key, []).append((op.family, value))
    return out


def can_command(
    principal: str | None = typer.Option(None, help="The principal making the request (fixed)."),
    action: str | None = typer.Option(None, help="An action or an action pattern (s3:Get*) to search."),
    resource: str | None = typer.Option(None, help="A resource ARN or ARN pattern to search."),
    resource_account: str | None = typer.Option(None, help="Account owning the resource (S3 ARNs have none)."),
    where: list[str] = typer.Option([], "--where", help="KEY=VALUE: fix a context key (repeat for a multivalued key)."),
    absent: list[str] = typer.Option([], "--absent", help="KEY: the context key is absent."),
    without_via: list[str] = typer.Option([], "--without-via", help="aws:CalledVia must not contain this service."),
    not_from_vpce: list[str] = typer.Option([], "--not-from-vpce", help="aws:SourceVpce must not be this endpoint."),
    exclude: list[str] = typer.Option(
        [],
        "--exclude",
        help="KEY=Operator:VALUE, e.g. aws:SourceIp=IpAddress:10.0.0.0/8: no value of KEY may satisfy it.",
    ),
    present: list[str] = typer.Option([], "--present", help="KEY: the context key must be present."),
    identity_policy: list[Path] = typer.Option([], "--identity-policy", "-i"),
    resource_policy: Path | None = typer.Option(None),
    boundary: Path | None = typer.Option(None),
    session_policy: Path | None = typer.Option(None),
    scp: list[str] = typer.Option([], "--scp", help="SCP files of one OU level, comma-separated; repeat per level."),
    rcp: list[str] = typer.Option([], "--rcp", help="RCP files of one OU level, comma-separated; repeat per level."),
    vpce_policy: Path | None = typer.Option(None, "--vpce-policy"),
    management_account: str | None = typer.Option(None),
    case: Path | None = typer.Option(None, help="A case folder: answer its `can` questions."),
    question: str | None = typer.Option(None, help="With --case: only this question id."),
    all_: bool = typer.Option(False, "--all", help="Every distinct way (one witness per set of applying statements)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Is there ANY request, in the space left open, that AWS would allow? A witness or a proof."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    if case is not None:
        c = load_case(case)
        idx = [i for i, q in enumerate(c.spec.can) if question in (None, q.id)]
        if question and not idx:
            raise InputError(f"no can question {question!r}", source=c.source)
        rows = []
        for i in idx:
            q = c.spec.can[i]
            a = can(can_query(c, i), all_witnesses=all_)
            rows.append((q, a))
        if as_json:
            print(
                json.dumps(
                    [{"question": q.id, "expect": q.expect, **a.model_dump(mode="json")} for q, a in rows], indent=2
                )
            )
        else:
            for q, a in rows:
                mark = "✓" if a.answer == q.expect else "✗"
                render(console, a, title=f"{mark} {q.id}: {q.description} (expected {q.expect})")
        if any(a.answer != q.expect for q, a in rows):
            raise typer.Exit(ExitCode.DENIED)
        return
    missing = [n for n, v in (("--principal", principal), ("--action", action), ("--resource", resource)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case)", source="<command line>")
    q = Query(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=resource_account,
        where=_where(where),
        absent=absent,
        without_via=without_via,
        not_from_vpce=not_from_vpce,
        exclude=_exclude(exclude),
        present=present,
        identity_policies=[named_policy(p) for p in identity_policy],
        resource_policy=named_policy(resource_policy) if resource_policy else None,
        permission_boundary=named_policy(boundary) if boundary else None,
        session_policy=named_policy(session_policy) if session_policy else None,
        scps=policy_levels(scp) if scp else None,
        rcps=policy_levels(rcp) if rcp else None,
        vpc_endpoint_policy=named_policy(vpce_policy) if vpce_policy else None,
        management_account=account_id(management_account, "--management-account"),
    )
    a = can(q, all_witnesses=all_)
    if as_json:
        print(json.dumps(a.model_dump(mode="json"), indent=2))
    else:
        render(console, a)
