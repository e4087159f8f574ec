"""`reasoner can`: is there any request, in the space left open, that AWS would allow?"""

from __future__ import annotations

from pathlib import Path

import typer

from reasoner import api
from reasoner.cases import can_query, load_case
from reasoner.cli.inputs import exclusions, named_policy, optional_policy, policy_levels, where_values
from reasoner.cli.output import console, format_option, json_option, output_format, print_result
from reasoner.cli.render import can_table
from reasoner.errors import ExitCode, InputError
from reasoner.policy.validate import account_id
from reasoner.search.can import Query


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
    identity_policy: list[str] = typer.Option(
        [], "--identity-policy", "-i", help="Identity policy file (JSON/YAML, '-' for stdin); repeatable."
    ),
    resource_policy: str | None = typer.Option(None, help="Resource-based policy file ('-' for stdin)."),
    boundary: str | None = typer.Option(None, help="Permissions boundary policy file ('-' for stdin)."),
    session_policy: str | None = typer.Option(None, help="Session policy file ('-' for stdin)."),
    scp: list[str] = typer.Option([], "--scp", help="SCP files of one OU level, comma-separated; repeat per level."),
    rcp: list[str] = typer.Option([], "--rcp", help="RCP files of one OU level, comma-separated; repeat per level."),
    vpce_policy: str | None = typer.Option(None, "--vpce-policy", help="VPC endpoint policy file ('-' for stdin)."),
    management_account: str | None = typer.Option(
        None, help="The organization's management account (SCPs/RCPs do not apply to it)."
    ),
    case: Path | None = typer.Option(None, help="A case folder: answer its `can` questions."),
    question: str | None = typer.Option(None, help="With --case: only this question id."),
    all_: bool = typer.Option(False, "--all", help="Every distinct way (one witness per set of applying statements)."),
    fmt: str = format_option(),
    as_json: bool = json_option(),
) -> None:
    """Is there ANY request, in the space left open, that AWS would allow? A witness or a proof."""
    fmt = output_format(fmt, as_json)
    if case is not None:
        _can_case(case, question, all_, fmt)
        return
    missing = [n for n, v in (("--principal", principal), ("--action", action), ("--resource", resource)) if not v]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --case)", source="<command line>")
    assert principal is not None and action is not None and resource is not None
    q = Query(
        principal=principal,
        action=action,
        resource=resource,
        resource_account=resource_account,
        where=where_values(where),
        absent=absent,
        without_via=without_via,
        not_from_vpce=not_from_vpce,
        exclude=exclusions(exclude),
        present=present,
        identity_policies=[named_policy(p) for p in identity_policy],
        resource_policy=optional_policy(resource_policy),
        permission_boundary=optional_policy(boundary),
        session_policy=optional_policy(session_policy),
        scps=policy_levels(scp) if scp else None,
        rcps=policy_levels(rcp) if rcp else None,
        vpc_endpoint_policy=optional_policy(vpce_policy),
        management_account=account_id(management_account, "--management-account"),
    )
    a = api.can(q, all_witnesses=all_)
    if fmt == "json":
        print_result("can", a.model_dump(mode="json"))
    else:
        console().print(can_table(a))


def _can_case(case: Path, question: str | None, all_: bool, fmt: str) -> None:
    c = load_case(case)
    idx = [i for i, q in enumerate(c.spec.can) if question in (None, q.id)]
    if question and not idx:
        raise InputError(f"no can question {question!r}", source=c.source)
    rows = [(c.spec.can[i], api.can(can_query(c, i), all_witnesses=all_)) for i in idx]
    if fmt == "json":
        print_result("can-case", [{"question": q.id, "expect": q.expect, **a.model_dump(mode="json")} for q, a in rows])
    else:
        out = console()
        for q, a in rows:
            mark = "✓" if a.answer == q.expect else "✗"
            out.print(can_table(a, title=f"{mark} {q.id}: {q.description} (expected {q.expect})"))
    if any(a.answer != q.expect for q, a in rows):
        raise typer.Exit(ExitCode.DENIED)
