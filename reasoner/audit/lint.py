"""`lint`: statements that never change a decision, and actions the catalogue does not know.

A statement is redundant when the policy without it decides every request the same way. That is
proved with the diff search (reasoner/audit/differ.py), the policy against itself with the statement left
out of one request's scope:

- an Allow statement is redundant when no request is allowed by the policy and not by the
  policy without it (removing it allows nothing less: the rest of the policy allows the same, or
  a Deny removes it anyway);
- a Deny statement is redundant when no request is allowed by the policy without it and not by
  the policy (removing it allows nothing more: it only denies what the policy does not allow).
  This holds for the policy on its own: another policy of the principal (or a resource policy)
  may allow what it denies, so the output says so.

Every witness that a statement matters is re-decided by the concrete decider against the real
policy and the real policy without the statement. A statement the search cannot settle (a domain
outside the abstraction) is reported as undecided, never as redundant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from reasoner.audit.differ import PLACEHOLDER_PRINCIPAL, PLACEHOLDER_USER, Differ, DirectionResult
from reasoner.audit.policy_sets import POLICY_SUFFIXES
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError, InternalError
from reasoner.policy import catalogue
from reasoner.policy.document import load_policy
from reasoner.policy.request import DecideInput, NamedPolicy
from reasoner.search.cover import is_resource_policy

FindingKind = Literal[
    "redundant-allow", "redundant-deny", "unknown-service", "unknown-action", "action-matches-nothing"
]

DENY_NOTE = (
    "a Deny is judged against this policy alone: another policy of the principal (or a "
    "resource policy) may allow what it denies, so keep it if it guards against those"
)


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    statement: int
    sid: str | None = None
    kind: FindingKind
    message: str


class Undecided(BaseModel):
    model_config = ConfigDict(frozen=True)

    file: str
    statement: int
    sid: str | None = None
    reason: str


class LintReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    files: list[str]
    findings: list[Finding] = []
    undecided: list[Undecided] = []
    notes: list[str] = []


def lint_files(spec: str) -> list[Path]:
    p = Path(spec)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in POLICY_SUFFIXES)
        if not files:
            raise InputError("directory holds no .json or .yaml policy file", source=str(p))
        return files
    return [p]


def lint(
    spec: str, *, kind: str | None = None, principal: str | None = None, resource_account: str | None = None
) -> LintReport:
    files = lint_files(spec)
    policies = [NamedPolicy(str(f), load_policy(f)) for f in files]  # every file parses before any search
    findings: list[Finding] = []
    undecided: list[Undecided] = []
    for named in policies:
        findings += action_findings(named)
        redundant, not_decided = redundant_statements(
            named, kind=kind, principal=principal, resource_account=resource_account
        )
        findings += redundant
        undecided += not_decided
    notes = []
    if any(f.kind == "redundant-deny" for f in findings):
        notes.append(DENY_NOTE)
    by_file: dict[tuple[str, str], int] = {}
    for f in findings:
        if f.kind in ("redundant-allow", "redundant-deny"):
            by_file[(f.file, f.kind)] = by_file.get((f.file, f.kind), 0) + 1
    if any(n > 1 for n in by_file.values()):
        notes.append(
            "each statement is judged with every other one in place: of two statements that "
            "cover each other both are reported, and removing both may change decisions"
        )
    findings.sort(key=lambda f: (f.file, f.statement, f.kind))
    return LintReport(files=[p.name for p in policies], findings=findings, undecided=undecided, notes=notes)


# ---- actions ----------------------------------------------------------------------------------------
def action_findings(named: NamedPolicy) -> list[Finding]:
    """Action / NotAction entries naming a service or an action the catalogue does not have, and
    patterns that match no catalogue action (AWS accepts them: they just never match)."""
    out = []
    for i, st in enumerate(named.policy.Statement):
        element = "Action" if st.Action is not None else "NotAction"
        for text in st.Action or st.NotAction or []:
            wild = "*" in text or "?" in text
            if text == "*":
                continue
            if ":" not in text:
                out.append(
                    Finding(
                        file=named.name,
                        statement=i,
                        sid=st.Sid,
                        kind="unknown-action",
                        message=f"{element} {text!r} is not service:Action",
                    )
                )
                continue
            service = text.split(":", 1)[0]
            if not ("*" in service or "?" in service) and service.lower() not in catalogue.services():
                out.append(
                    Finding(
                        file=named.name,
                        statement=i,
                        sid=st.Sid,
                        kind="unknown-service",
                        message=f"{element}: {catalogue.unknown_action_message(text)}",
                    )
                )
            elif not wild and catalogue.lookup(text) is None:
                out.append(
                    Finding(
                        file=named.name,
                        statement=i,
                        sid=st.Sid,
                        kind="unknown-action",
                        message=f"{element}: {catalogue.unknown_action_message(text)}",
                    )
                )
            elif wild and not catalogue.expand(text):
                out.append(
                    Finding(
                        file=named.name,
                        statement=i,
                        sid=st.Sid,
                        kind="action-matches-nothing",
                        message=f"{element} pattern {text!r} matches no catalogue action "
                        f"(catalogue {catalogue.data_version()})",
                    )
                )
    return out


# ---- redundant statements -----------------------------------------------------------------------------
def redundant_statements(
    named: NamedPolicy, *, kind: str | None = None, principal: str | None = None, resource_account: str | None = None
) -> tuple[list[Finding], list[Undecided]]:
    policy = named.policy
    kind = kind or ("resource" if is_resource_policy(policy) else "identity")
    # An identity policy is judged for a role session and an IAM user: a statement that only
    # matters for users (${aws:username}, aws:PrincipalType User) is not redundant.
    d = Differ(
        [named],
        [named],
        kind,
        principal=principal,
        resource_account=resource_account,
        holders=(PLACEHOLDER_PRINCIPAL, PLACEHOLDER_USER),
    )
    cp = d.program.policy(policy, named.name)
    who = (
        "every principal of the cover)"
        if kind == "resource" and not principal
        else f"for {principal})"
        if principal
        else "for a role session and an IAM user holding it)"
    )
    findings: list[Finding] = []
    undecided: list[Undecided] = []
    for st, info in zip(policy.Statement, cp.statements):
        i = info.index
        without = NamedPolicy(
            f"{named.name} without statement #{i}",
            policy.model_copy(update={"Statement": [s for j, s in enumerate(policy.Statement) if j != i]}),
        )
        result = DirectionResult()
        if d.cover_error:
            result.unknown.append(d.cover_error)
        for cand in [] if d.cover_error else d.principals:
            reg = d.regions_for(cand)
            if isinstance(reg, str):
                result.unknown.append(reg)
                continue
            if info.sid_global not in reg.scope:
                continue  # its Action / NotAction covers no catalogue action: it never applies
            layers = d.side_layers(d.sides["OLD"], reg.principal)
            rest = [s for s in reg.scope if s != info.sid_global]
            if info.effect == "allow":  # some request allowed with it and not without it?
                d.run_direction(reg, layers, layers, {info.sid_global}, reg.scope, rest, result, 1, False)
            else:  # some request allowed without it and not with it?
                d.run_direction(reg, layers, layers, set(), rest, reg.scope, result, 1, False)
            if result.found:
                _confirm(result.found[0], named, without, info.effect)
                break
        if result.found:
            continue
        if result.unknown:
            undecided.append(
                Undecided(file=named.name, statement=i, sid=st.Sid, reason="; ".join(dict.fromkeys(result.unknown)))
            )
        elif info.effect == "allow":
            findings.append(
                Finding(
                    file=named.name,
                    statement=i,
                    sid=st.Sid,
                    kind="redundant-allow",
                    message="never changes a decision: the policy without it allows the "
                    "same requests (proved over every region, " + who,
                )
            )
        else:
            findings.append(
                Finding(
                    file=named.name,
                    statement=i,
                    sid=st.Sid,
                    kind="redundant-deny",
                    message="never changes a decision of this policy: it only denies what the "
                    "policy does not allow anyway (relative to this policy only)",
                )
            )
    return findings, undecided


def _confirm(found, named: NamedPolicy, without: NamedPolicy, effect: str) -> None:
    """The witness, decided concretely: allowed by the side that gains, not by the other."""

    def swap(inp: DecideInput, by: NamedPolicy) -> DecideInput:
        return DecideInput(
            request=inp.request,
            identity_policies=[by if p is named else p for p in inp.identity_policies],
            resource_policy=by if inp.resource_policy is named else inp.resource_policy,
        )

    with_it, without_it = swap(found.gain_input, named), swap(found.gain_input, without)
    gain, lose = (with_it, without_it) if effect == "allow" else (without_it, with_it)
    dg, dl = decide_many([gain, lose])
    if dg.decision != "allow" or dl.decision in ("allow", None):
        raise InternalError(
            f"lint: the witness that statement matters is not confirmed by the concrete decider "
            f"({dg.decision}, {dl.decision} {dl.error or ''}): {found.gain_input.request.model_dump()}"
        )
