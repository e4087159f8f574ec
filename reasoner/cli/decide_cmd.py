"""`reasoner decide`: one request from flags, the questions of a case, or a JSONL batch."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from reasoner import api
from reasoner.cases import load_case
from reasoner.cli.inputs import named_policy, optional_policy, parse_context, policy_levels
from reasoner.cli.output import (
    console,
    enveloped_lines,
    format_option,
    input_paths,
    json_option,
    output_format,
    print_result,
)
from reasoner.cli.render import case_table, print_decision
from reasoner.engine.batch import BATCH_CHUNK, MAX_LINE_BYTES, run_batch, run_batch_file  # noqa: F401 (re-exported)
from reasoner.errors import ExitCode, InputError
from reasoner.policy.request import DecideInput, Request
from reasoner.policy.validate import account_id, exclusive_flags


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
    identity_policy: list[str] = typer.Option(
        [], "--identity-policy", "-i", help="Identity policy file (JSON/YAML, '-' for stdin); repeatable."
    ),
    resource_policy: str | None = typer.Option(None, help="Resource-based policy file ('-' for stdin)."),
    boundary: str | None = typer.Option(None, help="Permissions boundary policy file ('-' for stdin)."),
    session_policy: str | None = typer.Option(None, help="Session policy file ('-' for stdin)."),
    scp: list[str] = typer.Option(
        [], "--scp", help="SCP files of one OU level, comma-separated; repeat per level, root first."
    ),
    rcp: list[str] = typer.Option(
        [], "--rcp", help="RCP files of one OU level, comma-separated; repeat per level, root first."
    ),
    vpce_policy: str | None = typer.Option(
        None, "--vpce-policy", help="VPC endpoint policy (applies when aws:SourceVpce is given)."
    ),
    management_account: str | None = typer.Option(
        None, help="The organization's management account (SCPs/RCPs do not apply to it)."
    ),
    snapshot: list[str] = typer.Option(
        [],
        "--snapshot",
        help="Take every policy layer from an account snapshot ('-' for stdin; repeatable for several files).",
    ),
    case: Path | None = typer.Option(
        None, help="A case folder: decide its questions and compare with the expected answers."
    ),
    question: str | None = typer.Option(None, help="With --case: only this question id."),
    batch: str | None = typer.Option(
        None,
        help="JSONL batch file ('-' for stdin): one request object per line; one answer per line, each enveloped.",
    ),
    fmt: str = format_option(),
    as_json: bool = json_option(),
    fail_on_deny: bool = typer.Option(False, help="Exit 1 when the decision is a deny (single request)."),
) -> None:
    """Decide requests exactly as AWS does: allow, explicit deny or implicit deny, with reasons."""
    fmt = output_format(fmt, as_json)
    layer_flags = {
        "--identity-policy": identity_policy,
        "--resource-policy": resource_policy,
        "--boundary": boundary,
        "--session-policy": session_policy,
        "--scp": scp,
        "--rcp": rcp,
        "--vpce-policy": vpce_policy,
    }
    if batch is not None:
        exclusive_flags(
            "--batch", {"--case": case, "--principal": principal, "--action": action, "--resource": resource}
        )
        if snapshot:
            _snapshot_batch(snapshot, batch, layer_flags, parse_context(context))
            return
        run_batch_file(batch, enveloped_lines(sys.stdout, "decide"))
        return
    if case is not None:
        _decide_case(case, question, fmt)
        return
    missing = [n for n, v in (("--principal", principal), ("--action", action), ("--resource", resource)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case or --batch)", source="<command line>")
    assert principal is not None and action is not None and resource is not None
    if snapshot:
        _no_layer_flags(layer_flags)
        snap = api.load_snapshot(input_paths(snapshot))
        try:
            inp = api.snapshot_request(snap, principal, action, resource, parse_context(context))
        except api.SnapshotUnknown as exc:
            _print_unknown(exc.reason, snap, fmt)
            raise typer.Exit(ExitCode.UNKNOWN) from None
        _print_single(inp, fmt, fail_on_deny)
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
        resource_policy=optional_policy(resource_policy),
        permission_boundary=optional_policy(boundary),
        session_policy=optional_policy(session_policy),
        scps=policy_levels(scp) if scp else None,
        rcps=policy_levels(rcp) if rcp else None,
        vpc_endpoint_policy=optional_policy(vpce_policy),
        management_account=account_id(management_account, "--management-account"),
    )
    _print_single(inp, fmt, fail_on_deny)


def _no_layer_flags(layer_flags: dict) -> None:
    given = [n for n, v in layer_flags.items() if v]
    if given:
        raise InputError(f"--snapshot gives every policy layer; drop {', '.join(given)}", source="<command line>")


def _snapshot_batch(snapshot: list[str], batch: str, layer_flags: dict, context: dict) -> None:
    """`decide --snapshot S --batch F`: each line names only the request; every layer comes from
    the snapshot (reasoner/account/matrix.py snapshot_input, as a single `decide --snapshot`)."""
    from reasoner.account.matrix import run_snapshot_batch

    _no_layer_flags(layer_flags)
    if context:
        raise InputError("with --batch each line carries its own context; drop --context", source="<command line>")
    if batch == "-" and "-" in snapshot:
        raise InputError("--snapshot and --batch cannot both read standard input", source="<command line>")
    snap = api.load_snapshot(input_paths(snapshot))
    run_snapshot_batch(snap, batch, enveloped_lines(sys.stdout, "decide"))


def _decide_case(case: Path, question: str | None, fmt: str) -> None:
    c = load_case(case)
    indices = [i for i, q in enumerate(c.spec.decide) if question in (None, q.id)]
    if question and not indices:
        raise InputError(
            f"no decide question {question!r} (the case has: {', '.join(q.id for q in c.spec.decide)})",
            source=c.source,
        )
    results = api.decide([c.decide_input(i) for i in indices], explain=bool(question))
    rows = [
        (c.spec.decide[i].id, c.spec.decide[i].description, c.spec.decide[i].expect, d)
        for i, d in zip(indices, results)
    ]
    if fmt == "json":
        print_result("decide-case", [{"question": qid, "expect": exp, **d.to_json_obj()} for qid, _, exp, d in rows])
    elif question:
        print_decision(console(), results[0])
    else:
        console().print(case_table(rows, f"case {c.spec.name}: {len(rows)} questions"))
    if any(d.decision != exp for _, _, exp, d in rows):
        raise typer.Exit(ExitCode.DENIED)


def _print_unknown(reason: str, snap: api.Snapshot, fmt: str) -> None:
    """A request the snapshot cannot give every layer of: unknown, never a decision."""
    if fmt == "json":
        print_result(
            "decide",
            {
                "decision": None,
                "answer": "unknown",
                "reason": reason,
                "complete": snap.complete,
                "incomplete": snap.incomplete,
            },
        )
    else:
        console().print(f"unknown: {reason}", markup=False)


def _print_single(inp: DecideInput, fmt: str, fail_on_deny: bool) -> None:
    d = api.decide(inp, explain=True, source="<command line>")
    if fmt == "json":
        print_result("decide", d.to_json_obj())
    else:
        print_decision(console(), d)
    if fail_on_deny and d.decision != "allow":
        raise typer.Exit(ExitCode.DENIED)
