"""`reasoner decide`: one request from flags, the questions of a case, or a JSONL batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from reasoner.cases import load_case
from reasoner.cli.render import case_table, print_decision
from reasoner.engine.batch import BATCH_CHUNK, MAX_LINE_BYTES, run_batch, run_batch_file  # noqa: F401 (re-exported)
from reasoner.engine.decide import decide_many
from reasoner.errors import ExitCode, InputError
from reasoner.policy.document import load_policy
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.policy.validate import account_id, context_flags, exclusive_flags


def parse_context(items: list[str]) -> dict[str, list[str] | str]:
    """KEY=VALUE flags; a repeated key or a JSON list value makes a multivalued key."""
    return context_flags(items)  # reasoner/policy/validate.py (issue 11)


def named_policy(path: Path) -> NamedPolicy:
    return NamedPolicy(name=str(path), policy=load_policy(path))


def policy_levels(values: list[str]) -> list[list[NamedPolicy]]:
    return [[named_policy(Path(f)) for f in level.split(",") if f] for level in values]


def decide_command(
    principal: str | None = typer.Option(
        None,
        help="Principal ARN (user, role, assumed-role session, root), account ID, service principal or 'anonymous'.",
    ),
    action: str | None = typer.Option(None, help="Action, e.g. s3:GetObject (must exist in the AWS catalogue)."),
    resource: str | None = typer.Option(None, help="Resource ARN, or '*'."),
    resource_account: str | None = typer.Option(
        None, help="Account owning the resource when the ARN has none (S3). Default: the principal's."
    ),
    context: list[str] = typer.Option(
        [], "--context", "-c", help="KEY=VALUE; repeat a key, or give a JSON list, for a multivalued key."
    ),
    identity_policy: list[Path] = typer.Option(
        [], "--identity-policy", "-i", help="Identity policy file (JSON/YAML); repeatable."
    ),
    resource_policy: Path | None = typer.Option(None, help="Resource-based policy file."),
    boundary: Path | None = typer.Option(None, help="Permissions boundary policy file."),
    session_policy: Path | None = typer.Option(None, help="Session policy file."),
    scp: list[str] = typer.Option(
        [], "--scp", help="SCP files of one OU level, comma-separated; repeat per level, root first."
    ),
    rcp: list[str] = typer.Option(
        [], "--rcp", help="RCP files of one OU level, comma-separated; repeat per level, root first."
    ),
    vpce_policy: Path | None = typer.Option(
        None, "--vpce-policy", help="VPC endpoint policy (applies when aws:SourceVpce is given)."
    ),
    management_account: str | None = typer.Option(
        None, help="The organization's management account (SCPs/RCPs do not apply to it)."
    ),
    snapshot: list[Path] = typer.Option(
        [], "--snapshot", help="Take every policy layer from an account snapshot (repeatable for several files)."
    ),
    case: Path | None = typer.Option(
        None, help="A case folder: decide its questions and compare with the expected answers."
    ),
    question: str | None = typer.Option(None, help="With --case: only this question id."),
    batch: str | None = typer.Option(
        None, help="JSONL batch file ('-' for stdin): one request object per line, one JSON answer per line."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    fail_on_deny: bool = typer.Option(False, help="Exit 1 when the decision is a deny (single request)."),
) -> None:
    """Decide requests exactly as AWS does: allow, explicit deny or implicit deny, with reasons."""
    console = Console(width=None if sys.stdout.isatty() else 160)
    if batch is not None:
        exclusive_flags("--batch", {"--case": case, "--principal": principal, "--snapshot": snapshot})
        run_batch_file(batch, sys.stdout)
        return
    if case is not None:
        c = load_case(case)
        indices = [i for i, q in enumerate(c.spec.decide) if question in (None, q.id)]
        if question and not indices:
            raise InputError(
                f"no decide question {question!r} (the case has: {', '.join(q.id for q in c.spec.decide)})",
                source=c.source,
            )
        inputs = [c.decide_input(i) for i in indices]
        results = decide_many(inputs, explain=bool(question))
        rows = [
            (c.spec.decide[i].id, c.spec.decide[i].description, c.spec.decide[i].expect, d)
            for i, d in zip(indices, results)
        ]
        if as_json:
            print(
                json.dumps([{"question": qid, "expect": exp, **d.to_json_obj()} for qid, _, exp, d in rows], indent=2)
            )
        elif question:
            print_decision(console, results[0])
        else:
            console.print(case_table(rows, f"case {c.spec.name}: {len(rows)} questions"))
        if any(d.decision != exp for _, _, exp, d in rows):
            raise typer.Exit(ExitCode.DENIED)
        return
    missing = [n for n, v in (("--principal", principal), ("--action", action), ("--resource", resource)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case or --batch)", source="<command line>")
    if snapshot:
        given = [
            n
            for n, v in (
                ("--identity-policy", identity_policy),
                ("--resource-policy", resource_policy),
                ("--boundary", boundary),
                ("--session-policy", session_policy),
                ("--scp", scp),
                ("--rcp", rcp),
                ("--vpce-policy", vpce_policy),
            )
            if v
        ]
        if given:
            raise InputError(f"--snapshot gives every policy layer; drop {', '.join(given)}", source="<command line>")
        from reasoner.account.paths import Authorizer
        from reasoner.account.snapshot import load_snapshot

        inp = Authorizer(load_snapshot(list(snapshot))).decide_input(
            principal, action, resource, parse_context(context)
        )
        _print_single(console, inp, as_json, fail_on_deny)
        return
    req = Request(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=resource_account,
        context=parse_context(context),
    )
    inp = DecideInput(
        id=None,
        request=req,
        identity_policies=[named_policy(p) for p in identity_policy],
        resource_policy=named_policy(resource_policy) if resource_policy else None,
        permission_boundary=named_policy(boundary) if boundary else None,
        session_policy=named_policy(session_policy) if session_policy else None,
        scps=policy_levels(scp) if scp else None,
        rcps=policy_levels(rcp) if rcp else None,
        vpc_endpoint_policy=named_policy(vpce_policy) if vpce_policy else None,
        management_account=account_id(management_account, "--management-account"),
    )
    _print_single(console, inp, as_json, fail_on_deny)


def _print_single(console: Console, inp: DecideInput, as_json: bool, fail_on_deny: bool) -> None:
    d = decide_many([inp], explain=True, source="<command line>")[0]
    if d.error:
        print(f"error: {d.error}", file=sys.stderr)
        raise typer.Exit(ExitCode.BAD_INPUT)
    if as_json:
        print(json.dumps(d.to_json_obj(), indent=2))
    else:
        print_decision(console, d)
    if fail_on_deny and d.decision != "allow":
        raise typer.Exit(ExitCode.DENIED)
