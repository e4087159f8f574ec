"""The Differ: both sides of a policy diff compiled once, and the search for requests one side
allows and the other does not, per principal and direction, enumerated as classes.

Same machinery as `can`: the request's free dimensions are split into regions built from the
statements of BOTH sides; encodings/search.lp chooses one region per dimension and asks for an
allow by the gaining side (request 1), encodings/diff.lp decides the same request against the
other side (request 2) and forbids an allow there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import clingo

from reasoner.audit.diff_actions import action_table, describe_actions
from reasoner.audit.diff_answers import (
    ContextConstraint,
    DiffClass,
    DiffDirection,
    ResourceRegion,
    StatementText,
    merge_principals,
)
from reasoner.audit.diff_regions import arn_candidates, class_summary, resource_text, typed_resource
from reasoner.engine.answers import Decision
from reasoner.engine.decide import decide_many
from reasoner.engine.facts import CompiledPolicy, CondEntry, FactProgram, StmtInfo, needs_resource_policy
from reasoner.engine.solve import load_encodings
from reasoner.errors import InputError, InternalError
from reasoner.policy import catalogue
from reasoner.policy.document import parse_policy
from reasoner.policy.principals import Principal, derived_context, has_identity_policies, parse_principal
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.cover import ALLOW_ALL, ALLOW_ALL_FILE, candidate_principals
from reasoner.search.domains import AbstractionError, Domain
from reasoner.search.program import Decoder, search_facts
from reasoner.search.query import Dimension, Query
from reasoner.search.witness import decide_command_for

DEFAULT_ACCOUNT = "111122223333"


PLACEHOLDER_PRINCIPAL = f"arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/DiffPlaceholderRole/session"


PLACEHOLDER_USER = f"arn:aws:iam::{DEFAULT_ACCOUNT}:user/DiffPlaceholderUser"


MAX_CLASSES = 20


Direction = Literal["added", "removed"]


@dataclass
class _Side:
    name: str  # "OLD" / "NEW"
    policies: list[NamedPolicy]


@dataclass
class _Found:
    principal: str
    key: tuple
    gain_input: DecideInput
    lose_input: DecideInput
    action: str
    resource: str
    context: list[ContextConstraint]
    resources: list[ResourceRegion]
    resources_any: bool


@dataclass
class _Regions:
    cand: str
    principal: Principal
    facts: str
    scope: list[int]  # statements whose Action / NotAction covers some searched action
    domains: list[Domain]
    decode: Decoder
    singles: dict[str, str]
    statements: list[StmtInfo]
    regions_of: dict[str, list[str]]
    conds_by_key: dict[str, list[CondEntry]]


@dataclass
class DirectionResult:
    found: list[_Found] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    cut: bool = False


class Differ:
    """Both sides compiled once; searches per principal and direction."""

    def __init__(
        self,
        old: list[NamedPolicy],
        new: list[NamedPolicy],
        kind: str,
        *,
        principal: str | None = None,
        resource_account: str | None = None,
        holders: tuple[str, ...] = (PLACEHOLDER_PRINCIPAL,),
    ):
        """holders: the default principals holding identity policies (when no --principal)."""
        self.kind = kind
        self.sides = {"OLD": _Side("OLD", old), "NEW": _Side("NEW", new)}
        self.program = FactProgram()
        self.compiled: dict[int, CompiledPolicy] = {}
        layer_kind = "resource" if kind == "resource" else "identity"
        for side in self.sides.values():
            if kind == "resource" and len(side.policies) != 1:
                raise InputError(
                    f"a resource has one resource-based policy: {side.name} holds {len(side.policies)} "
                    "(give one file per side, or --kind identity)",
                    source=side.policies[0].name if side.policies else None,
                )
            for p in side.policies:
                cp = self.program.policy(p.policy, p.name)
                self.program.check_layer(cp, p, layer_kind, None, ())
                self.compiled[id(p)] = cp
        self.diffed = list(
            {
                st.sid_global: st
                for side in self.sides.values()
                for p in side.policies
                for st in self.compiled[id(p)].statements
            }.values()
        )
        self.owner: str
        if kind == "identity":
            self.principals = [principal] if principal else list(holders)
            for holder in self.principals:
                parsed = parse_principal(holder, path=("principal",))
                if not has_identity_policies(parsed):
                    raise InputError(f"a {parsed.type} principal has no identity policies", path=("principal",))
            parsed = parse_principal(self.principals[0])
            self.owner = resource_account or parsed.account or DEFAULT_ACCOUNT
            self.cover_error = None
            self.helper = _delegating_resource_policy(parsed.account)
        else:
            self.owner = resource_account or DEFAULT_ACCOUNT
            self.cover_error = None
            if principal:
                parse_principal(principal, path=("principal",))
                self.principals = [principal]
            else:
                self.principals, self.cover_error = self._principal_cover()
            # Callers of other accounts are allowed by their own identity policies (checks.py).
            self.helper = NamedPolicy(str(ALLOW_ALL_FILE), ALLOW_ALL)
        self.helper_cp = self.program.policy(self.helper.policy, self.helper.name)
        others = self.helper_cp.statements
        written = [
            a
            for side in self.sides.values()
            for p in side.policies
            for st in p.policy.Statement
            for a in (st.Action or st.NotAction or [])
        ]
        self.actions = action_table(self.diffed, others, self.program, written)
        self.scope: list[Dimension] = []
        self._region_cache: dict[str, _Regions | str] = {}

    def _principal_cover(self) -> tuple[list[str], str | None]:
        """The principals the resource policies of both sides tell apart; the reason when a
        principal pattern cannot be covered."""
        cover: list[str] = []
        try:
            for side in self.sides.values():
                for p in side.policies:
                    cover += candidate_principals(p.policy, self.owner, outside_only=False)
        except AbstractionError as exc:
            return list(dict.fromkeys(cover)), str(exc)
        return list(dict.fromkeys(cover)), None

    # -- layers -------------------------------------------------------------------------------------
    def side_layers(self, side: _Side, principal) -> list[tuple[str, str, NamedPolicy]]:
        if self.kind == "identity":
            return [("identity", "identity", p) for p in side.policies] + [("resource", "resource", self.helper)]
        out = [("resource", "resource", side.policies[0])]
        # Callers of other accounts are taken to be allowed by their own identity policies (as
        # Access Analyzer does); callers of the owner account carry no identity policy, so what
        # the resource policy itself grants them is compared.
        if has_identity_policies(principal) and principal.account != self.owner:
            out.append(("identity", "identity", self.helper))
        return out

    def _input(self, layers, request) -> DecideInput:
        ident = [p for atom, _, p in layers if atom == "identity"]
        res = next((p for atom, _, p in layers if atom == "resource"), None)
        return DecideInput(request=request, identity_policies=ident, resource_policy=res)

    # -- one direction --------------------------------------------------------------------------------
    def search(
        self,
        directions: tuple[Direction, ...] = ("added", "removed"),
        *,
        limit: int = MAX_CLASSES,
        summarise: bool = True,
    ) -> dict[str, DiffDirection]:
        """Each direction: up to `limit` classes of requests one side allows and the other does not."""
        sides = {"added": (self.sides["NEW"], self.sides["OLD"]), "removed": (self.sides["OLD"], self.sides["NEW"])}
        results = {d: DirectionResult() for d in directions}
        if self.cover_error:
            for r in results.values():
                r.unknown.append(self.cover_error)
        elif self.actions.representatives:
            for cand in self.principals:
                self._search_principal(cand, {d: (*sides[d], results[d]) for d in directions}, limit, summarise)
        return {d: self._answer(*sides[d], results[d]) for d in directions}

    def _search_principal(self, cand: str, todo: dict, limit: int, summarise: bool) -> None:
        reg = self.regions_for(cand)
        if isinstance(reg, str):
            for _, _, result in todo.values():
                result.unknown.append(reg)
            return
        for gain, lose, result in todo.values():
            gain_layers, lose_layers = self.side_layers(gain, reg.principal), self.side_layers(lose, reg.principal)
            gain_stmts = {
                st.sid_global for p in gain.policies for st in self.program.policy(p.policy, p.name).statements
            }
            self.run_direction(
                reg, gain_layers, lose_layers, gain_stmts, reg.scope, reg.scope, result, limit, summarise
            )

    def regions_for(self, cand: str) -> _Regions | str:
        """The regions for one principal (request 1's facts, without its policies and statement
        scope), shared by both directions and every statement of a lint; a reason when unknown."""
        hit = self._region_cache.get(cand)
        if hit is not None:
            return hit
        principal = parse_principal(cand, path=("principal",))
        # As in can(): the context AWS derives from the principal is fixed, ViaAWSService searched.
        fixed_ctx = derived_context(principal, {})
        fixed_ctx.pop("aws:viaawsservice", None)
        anonymous_keys = not has_identity_policies(principal)
        statements = self.diffed + self.helper_cp.statements
        # aws:username "is always included in the request context for IAM users"; requests by roles,
        # the root user and anonymous callers do not include it (IAM User Guide, global condition
        # keys), so for them it is absent rather than searched.
        absent = set() if principal.type == "user" else {"aws:username"}
        singles = {k: v[0] for k, v in fixed_ctx.items() if len(v) == 1 and not catalogue.is_multivalued(k)}
        q = Query(principal=cand, action="*", resource="*", resource_account=self.owner)
        try:
            facts, domains, decode = search_facts(
                self.program,
                q,
                principal,
                fixed_ctx,
                absent,
                self.actions.representatives,
                self.owner,
                [],
                statements,
                anonymous_keys,
                extra_resources=arn_candidates(self.program, statements, singles),
            )
        except AbstractionError as exc:
            hit = self._region_cache[cand] = f"{cand}: {exc}" if self.kind == "resource" else str(exc)
            return hit
        if not self.scope:
            self.scope = [
                Dimension(
                    name=d.name,
                    regions=len(d.regions),
                    examples=[r.witness for r in d.regions[:6]],
                    complete=d.complete,
                )
                for d in domains
            ]
        scope = [
            int(line[len("req_stmt_in_scope(1,") : -2]) for line in facts if line.startswith("req_stmt_in_scope(1,")
        ]
        facts = [line for line in facts if not line.startswith(("req_stmt_in_scope(1,", "req_stmt_scope(1)"))]
        conds_by_key: dict[str, list] = {}
        for st in statements:
            for c in st.conds:
                conds_by_key.setdefault(c.key_text, []).append(c)
        hit = self._region_cache[cand] = _Regions(
            cand,
            principal,
            "\n".join(facts),
            scope,
            domains,
            decode,
            singles,
            statements,
            {d.name: [r.witness for r in d.regions] for d in domains},
            conds_by_key,
        )
        return hit

    def run_direction(
        self,
        reg: _Regions,
        gain_layers,
        lose_layers,
        gain_stmts: set[int],
        scope1: list[int],
        scope2: list[int],
        result: DirectionResult,
        limit: int,
        summarise: bool,
    ) -> None:
        """Classes of requests request 1 (gain layers, statements scope1) allows and request 2
        (lose layers, statements scope2) does not, appended to result until it holds `limit`."""
        program = self.program
        side_facts = [
            f"req_policy({r},{atom},{program.policy(p.policy, p.name).pid})."
            for r, layers in ((1, gain_layers), (2, lose_layers))
            for atom, _, p in layers
        ]
        side_facts += ["req_stmt_scope(1).", "req_stmt_scope(2)."]
        side_facts += [f"req_stmt_in_scope(1,{s})." for s in scope1] + [f"req_stmt_in_scope(2,{s})." for s in scope2]
        ctl = clingo.Control(["--warn=none", "0"])
        load_encodings(ctl, ("decide.lp", "search.lp", "diff.lp"))
        ctl.add("base", [], program.text() + "\n" + reg.facts + "\nminimal_witness.\n" + "\n".join(side_facts))
        ctl.ground([("base", [])])
        names = {v: k for k, v in program.string_ids.items()}
        scoped_gain = sorted(
            s
            for s in gain_stmts
            if ctl.symbolic_atoms[clingo.Function("stmt_applies", [clingo.Number(1), clingo.Number(s)])] is not None
        )
        found_any = False
        block = 0
        while len(result.found) < limit:
            models: list[Sequence[clingo.Symbol]] = []
            ctl.solve(on_model=lambda m: models.__setitem__(slice(None), [m.symbols(shown=True)]))  # noqa: B023 (solved here, synchronously)
            if not models:
                break
            found_any = True
            syms = models[0]
            act = next(s.arguments[0].number for s in syms if s.name == "pick_action")
            res = next((s.arguments[0].number for s in syms if s.name == "pick_resource"), None)
            applies = frozenset(
                s.arguments[1].number
                for s in syms
                if s.name == "stmt_applies" and s.arguments[0].number == 1 and s.arguments[1].number in gain_stmts
            )
            request = reg.decode(syms)[0].request
            typed = self._typed(reg, request.action, request.resource)
            assumptions = [(clingo.Function("pick_action", [clingo.Number(act)]), True)]
            for s in scoped_gain:
                assumptions.append(
                    (clingo.Function("stmt_applies", [clingo.Number(1), clingo.Number(s)]), s in applies)
                )
            resources = [names[res][2:]] if res is not None else []
            context: list[ContextConstraint] = []
            if summarise:
                context, resources = class_summary(
                    self.program, ctl, assumptions, names, reg.regions_of, reg.conds_by_key, reg.singles
                )
                info = catalogue.lookup(request.action)
                if typed == request.resource and info is not None and info.resource_types:
                    request, typed = self._typed_witness(ctl, reg, assumptions, resources, request, typed)
            request = request.model_copy(update={"resource": typed})
            every = reg.regions_of.get("resource (*)", [])
            regions = [
                ResourceRegion(
                    example=self._typed(reg, request.action, r),
                    **dict(
                        zip(
                            ("matches", "not_matches"),
                            resource_text(self.program, r, self._diffed_statements(reg.statements), reg.singles),
                        )
                    ),
                )
                for r in sorted(resources)
            ]
            result.found.append(
                _Found(
                    reg.cand,
                    (reg.cand, act, applies),
                    self._input(gain_layers, request),
                    self._input(lose_layers, request),
                    request.action,
                    request.resource,
                    context,
                    regions,
                    summarise and set(resources) >= set(every),
                )
            )
            # The next class: not this (action region, applying statements).
            body = [f"pick_action({act})"]
            body += [("" if s in applies else "not ") + f"stmt_applies(1,{s})" for s in scoped_gain]
            block += 1
            ctl.add(f"block{block}", [], ":- " + ", ".join(body) + ".")
            ctl.ground([(f"block{block}", [])])
        else:
            # One more class after the limit: the enumeration was cut.
            result.cut = result.cut or _has_model(ctl)
        if not found_any:
            incomplete = [d for d in reg.domains if not d.complete]
            if incomplete:
                why = "; ".join(d.note for d in incomplete)
                result.unknown.append(f"{reg.cand}: {why}" if self.kind == "resource" else why)

    def _typed(self, reg: _Regions, action: str, resource: str) -> str:
        return typed_resource(self.program, self.owner, action, resource, reg.statements, reg.singles)

    def _typed_witness(
        self,
        ctl: clingo.Control,
        reg: _Regions,
        assumptions: list[tuple[clingo.Symbol, bool]],
        resources: list[str],
        request: Request,
        typed: str,
    ) -> tuple[Request, str]:
        """Prefer a witness on the action's own resource type, from another region of the class."""
        for r in sorted(resources):
            if self._typed(reg, request.action, r) != r:
                pick = (clingo.Function("pick_resource", [clingo.Number(self.program.intern("r:" + r))]), True)
                again: list[Sequence[clingo.Symbol]] = []
                ctl.solve(
                    assumptions=assumptions + [pick],
                    on_model=lambda m: again.__setitem__(slice(None), [m.symbols(shown=True)]),  # noqa: B023
                )
                if again:
                    request = reg.decode(again[0])[0].request
                    return request, self._typed(reg, request.action, request.resource)
        return request, typed

    def _diffed_statements(self, statements: list[StmtInfo]) -> list[StmtInfo]:
        """The statements of the diffed sides (not the helper policy's)."""
        return [st for st in statements if st not in self.helper_cp.statements]

    def _commands(self, old_in: DecideInput, new_in: DecideInput) -> tuple[str | None, str | None]:
        """Ready `reasoner decide` commands, when every policy involved is a file."""
        if not all(Path(p.name).is_file() for side in self.sides.values() for p in side.policies):
            return None, None
        if self.kind == "identity":
            r = old_in.request
            if (
                needs_resource_policy(r.action, r.resource)
                or r.resource_account != parse_principal(r.principal).account
            ):
                return None, None  # the decision needs the delegating resource policy, which is no file
            # Same account, no key or trust policy needed: the account grant changes nothing.
            old_in = DecideInput(request=r, identity_policies=old_in.identity_policies)
            new_in = DecideInput(request=r, identity_policies=new_in.identity_policies)
        return decide_command_for(old_in), decide_command_for(new_in)

    # -- answers --------------------------------------------------------------------------------------
    def _answer(self, gain: _Side, lose: _Side, result: DirectionResult) -> DiffDirection:
        what = f"{gain.name} allows and {lose.name} does not"
        if not result.found:
            if not self.actions.representatives:
                return DiffDirection(
                    answer="same", reason="no catalogue action is covered by a statement of either side"
                )
            if result.unknown:
                return DiffDirection(
                    answer="unknown",
                    reason=f"no request that {what} was found, but " + "; ".join(dict.fromkeys(result.unknown)),
                )
            return DiffDirection(
                answer="same",
                reason=f"no request that {what}: every region of every dimension "
                f"was searched{' for every principal of the cover' if self.kind == 'resource' else ''}",
            )
        checks = decide_many([x for f in result.found for x in (f.gain_input, f.lose_input)])
        classes = [self._class(f, checks[2 * i], checks[2 * i + 1], gain, lose) for i, f in enumerate(result.found)]
        classes = merge_principals(classes)
        classes.sort(key=lambda c: (c.service, c.action, c.resource, c.principal))
        note = f" (also: {'; '.join(dict.fromkeys(result.unknown))})" if result.unknown else ""
        more = ", more not listed (raise --limit)" if result.cut else ""
        return DiffDirection(
            answer="differs",
            reason=f"{len(classes)} class(es) of requests that {what}{more}{note}",
            classes=classes,
            all_listed=not result.cut,
        )

    def _class(self, f: _Found, dg: Decision, dl: Decision, gain: _Side, lose: _Side) -> DiffClass:
        """One class of differences, after the concrete decider confirmed its witness (dg: the
        gaining side allows it, dl: the losing side does not)."""
        if dg.decision != "allow" or dl.decision in ("allow", None):
            raise InternalError(
                f"the diff search found a witness the concrete decider does not confirm "
                f"({gain.name}: {dg.decision} {dg.error or ''}, {lose.name}: {dl.decision} "
                f"{dl.error or ''}): {f.gain_input.request.model_dump()}"
            )
        stmts = [
            StatementText(policy=s.policy, index=s.index, sid=s.sid, effect=s.effect)
            for s in dg.determining_statements
            if s.policy != self.helper.name
        ]
        if dl.decision == "explicit_deny":
            other = f"{lose.name} denies it: " + ", ".join(
                f"{s.policy} #{s.index}{' ' + s.sid if s.sid else ''}" for s in dl.determining_statements
            )
        else:
            other = f"no statement of {lose.name} allows it"
        rep = next(r for r in self.actions.representatives if r.lower() == f.action.lower())
        gi, li = (f.gain_input, f.lose_input)
        new_in, old_in = (gi, li) if gain.name == "NEW" else (li, gi)
        old_cmd, new_cmd = self._commands(old_in, new_in)
        return DiffClass(
            principal=f.principal,
            principals=[f.principal],
            service=f.action.split(":")[0],
            action=f.action,
            actions=describe_actions(self.actions, rep),
            resource=f.resource,
            resources=f.resources,
            resources_any=f.resources_any,
            context=f.context,
            statements=stmts,
            other_side=other,
            witness=f.gain_input.request.model_dump(mode="json", exclude_none=True),
            decide_old=old_cmd,
            decide_new=new_cmd,
        )


def _has_model(ctl: clingo.Control) -> bool:
    found: list[bool] = []

    def stop_at_first(m: clingo.Model) -> bool:
        found.append(True)
        return False

    ctl.solve(on_model=stop_at_first)
    return bool(found)


def _delegating_resource_policy(account: str | None) -> NamedPolicy:
    """Identity policies are compared as if the resource side delegated to IAM (as the default
    KMS key policy does: "Principal": {"AWS": "arn:aws:iam::ACCOUNT:root"}): so KMS keys, role
    trust policies ("must explicitly allow", Policy evaluation logic) and resources of another
    account ("both sides", Cross-account policy evaluation) leave the decision to the identity
    policies, and nothing is granted by the helper itself (an account grant only delegates)."""
    return NamedPolicy(
        f"<resource policy delegating to account {account}>",
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ResourceSideDelegatesToIAM",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                        "Action": "*",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
