"""`can`: is there any request, in the space the query leaves open, that AWS would allow?

The free dimensions (action, resource, context keys) are abstracted into regions
(reasoner/search/domains.py); encodings/search.lp chooses one region per dimension (a set for
multivalued keys) on top of the same decision encodings as `decide`. A model is a witness:
it is turned into a concrete request and re-decided by the concrete decider before it is
reported. No model proves "impossible" when every domain is complete; otherwise the answer is
"unknown" with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import clingo

from reasoner.engine.facts import FactProgram, role_refs
from reasoner.engine.solve import load_encodings
from reasoner.errors import InputError
from reasoner.policy.coverage import covers_action
from reasoner.policy.principals import (
    Principal,
    derived_context,
    has_identity_policies,
    parse_principal,
    role_path_ambiguity,
    with_principal_arn,
)
from reasoner.search.actions import allowable_actions, query_actions
from reasoner.search.compilation import searched_variable
from reasoner.search.domains import AbstractionError, Domain
from reasoner.search.principals import Layer, compile_layers, query_layers
from reasoner.search.program import Decoder, search_facts
from reasoner.search.query import CanAnswer, Dimension, Query, is_pattern
from reasoner.search.relax import relax_variables, variable_sample
from reasoner.search.resources import AccountDimension, account_dimension, resource_account_of, with_account
from reasoner.search.witness import batch_line, decide_command_for, recheck, witness_size

# Callers ask and read `can` with these.
__all__ = ["CanAnswer", "Dimension", "Query", "batch_line", "can", "decide_command_for", "is_pattern"]

MAX_WITNESSES = 50


def can(query: Query, *, all_witnesses: bool = False) -> CanAnswer:
    """Is some request in the query's space allowed (goal deny: not allowed)? When a policy
    variable's value would have to be searched, the answer is unknown unless the relaxed policies
    (search/relax.py: every statement using a variable made to allow more) allow no request."""
    answer = _can(query, all_witnesses)
    if answer.answer != "unknown" or query.goal != "allow" or searched_variable(answer.reason) is None:
        return answer
    witnessed = _with_variables_fixed(query, answer, all_witnesses)
    if witnessed is not None:
        return witnessed
    relaxed = relax_variables(query)
    if relaxed is None:
        return answer
    proof = _can(relaxed, all_witnesses)
    if proof.answer != "impossible":
        return answer
    return CanAnswer(
        answer="impossible",
        scope=proof.scope,
        reason="no request in scope is allowed even with every condition or Resource entry that uses a "
        "searched policy variable taken as met in Allow statements and unmet in Deny statements",
    )


def _with_variables_fixed(query: Query, answer: CanAnswer, all_witnesses: bool) -> CanAnswer | None:
    """A possible answer of the query with the searched variables' keys fixed to a sample value
    (a smaller request space, so its witness, checked by the decider, is one of the query's), or
    None. Up to MAX_FIXED_VARIABLES keys, one sample value each."""
    where = dict(query.where)
    for _ in range(MAX_FIXED_VARIABLES):
        key = searched_variable(answer.reason)
        if key is None or key in {k.lower() for k in where}:
            return None
        where[key] = [variable_sample(key)]
        answer = _can(replace(query, where=dict(where)), all_witnesses)
        if answer.answer == "possible":
            return answer
        if answer.answer != "unknown":
            return None
    return None


MAX_FIXED_VARIABLES = 3


def _can(query: Query, all_witnesses: bool) -> CanAnswer:
    """`can` without the relaxation for searched policy variables. A resource pattern
    that leaves its account open is asked once per account of its finite abstraction
    (resources.account_dimension), the account written into the ARN (or, for a wildcard that spans
    it, only the ARNs of that account searched: resources.resource_facts)."""
    principal = parse_principal(query.principal, path=("principal",))
    dimension = account_dimension(query, principal)
    if dimension is None:
        return _can_in_account(query, principal, all_witnesses)
    answers = [
        (
            account,
            _can_in_account(
                replace(
                    query,
                    resource=query.resource if arn_account is None else with_account(query.resource, arn_account),
                    resource_account=account,
                ),
                principal,
                all_witnesses,
            ),
        )
        for arn_account, account in dimension.accounts
    ]
    return _over_accounts(query, dimension, answers, all_witnesses)


def _over_accounts(
    query: Query, dimension: AccountDimension, answers: list[tuple[str | None, CanAnswer]], all_witnesses: bool
) -> CanAnswer:
    """Some account's request gets through: possible (its witness names the account in the ARN and
    as the resource account); else unknown when some account is unknown or the accounts are not
    proved complete; else impossible over every account."""
    merged: dict[str, Dimension] = {}
    for _, a in answers:
        for d in a.scope:
            old = merged.get(d.name)
            merged[d.name] = (
                d
                if old is None
                else old.model_copy(
                    update={"regions": max(old.regions, d.regions), "complete": old.complete and d.complete}
                )
            )
    accounts = [arn or str(account) for arn, account in dimension.accounts]
    scope = [
        Dimension(
            name=f"resource account ({dimension.field})",
            regions=len(accounts),
            examples=accounts[:6],
            complete=dimension.complete,
        ),
        *merged.values(),
    ]
    found = [a for _, a in answers if a.answer == "possible"]
    if found:
        witnesses: list[dict] = []
        for a in found:
            witnesses += a.witnesses or ([a.witness] if a.witness is not None else [])
        return found[0].model_copy(
            update={"scope": scope, "witnesses": witnesses[:MAX_WITNESSES] if all_witnesses else []}
        )
    unknown = [(acct, a) for acct, a in answers if a.answer == "unknown"]
    if unknown:
        acct, a = unknown[0]
        return CanAnswer(answer="unknown", scope=scope, reason=f"resource account {acct}: {a.reason}")
    if not dimension.complete:
        return CanAnswer(
            answer="unknown", scope=scope, reason="no allowed request among the regions, but " + dimension.note
        )
    what = "allowed" if query.goal == "allow" else "denied"
    return CanAnswer(
        answer="impossible",
        scope=scope,
        reason=f"no request in scope is {what}: every region of every dimension was searched, in each of "
        f"{len(accounts)} resource accounts",
    )


def _can_in_account(query: Query, principal: Principal, all_witnesses: bool) -> CanAnswer:
    fixed_ctx, absent = _fixed_and_absent(query, principal)
    # Anonymous and service callers carry no principal keys (org, tags, user id).
    anonymous_keys = not has_identity_policies(principal)
    actions = query_actions(query)
    try:
        resource_account = resource_account_of(query, principal)
    except AbstractionError as exc:
        return CanAnswer(answer="unknown", reason=str(exc))

    principal = with_principal_arn(principal, {k.lower(): v for k, v in query.where.items()}, path=("where",))
    program = FactProgram()
    layers = query_layers(query, principal)
    ambiguous = _role_path_ambiguity(principal, layers, actions)
    if ambiguous is not None:
        return CanAnswer(answer="unknown", reason=ambiguous)
    if query.goal == "allow":
        actions = allowable_actions(actions, layers)
    compiled = compile_layers(program, layers)
    statements = [st for _, _, cp in compiled for st in cp.statements]
    if query.absent_prefixes:
        absent |= _prefixed_keys(query, program, statements, fixed_ctx)

    try:
        facts, domains, decode = search_facts(
            program,
            query,
            principal,
            fixed_ctx,
            absent,
            actions,
            resource_account,
            compiled,
            statements,
            anonymous_keys,
        )
    except AbstractionError as exc:
        return CanAnswer(answer="unknown", reason=str(exc))

    scope = [
        Dimension(name=d.name, regions=len(d.regions), examples=[r.witness for r in d.regions[:6]], complete=d.complete)
        for d in domains
    ]
    models = _solve(program, facts, query, all_witnesses)
    if not models:
        return _no_witness(query, domains, scope)
    return _witnessed(query, models, decode, scope, all_witnesses)


def _role_path_ambiguity(principal: Principal, layers: list[Layer], actions: list[str]) -> str | None:
    """A session whose role path is unknown, searched against a statement that names its role with
    a path: decide refuses such a request (facts.py, _check_role_path), so every request of the
    search is undecidable: 'unknown', asking for aws:PrincipalArn."""
    if principal.type != "role_session" or principal.role_path_known:
        return None
    actions_l = [a.lower() for a in actions]
    for _, _, named in layers:
        for index, st in enumerate(named.policy.Statement):
            if not any(covers_action(st, a) for a in actions_l):
                continue
            hit = role_path_ambiguity(principal, list(role_refs(st)))
            if hit is not None:
                return (
                    f"{named.name} statement {index} names {hit!r}, but the session ARN does not carry its "
                    "role's path: give aws:PrincipalArn, the role ARN with its path (--where)"
                )
    return None


def _fixed_and_absent(query: Query, principal: Principal) -> tuple[dict[str, list[str]], set[str]]:
    """The context keys the query fixes (with those derived from the principal) and the absent ones."""
    fixed_ctx = {k.lower(): list(v) for k, v in query.where.items()}
    for k in query.absent:
        if k.lower() in fixed_ctx:
            raise InputError(f"{k} is both fixed (--where) and absent (--absent)", path=("absent",))
    fixed_ctx = derived_context(principal, fixed_ctx)
    # ViaAWSService is searched unless fixed (derived_context sets it from CalledVia).
    if "aws:viaawsservice" not in {k.lower() for k in query.where} and "aws:calledvia" not in fixed_ctx:
        fixed_ctx.pop("aws:viaawsservice", None)
    return fixed_ctx, {k.lower() for k in query.absent}


def _prefixed_keys(query: Query, program: FactProgram, statements: list, fixed_ctx: dict[str, list[str]]) -> set[str]:
    """Keys the policies read that start with one of the query's absent prefixes and are not fixed."""
    prefixes = tuple(x.lower() for x in query.absent_prefixes)
    used = {c.key_text for st in statements for c in st.conds}
    used |= {k for st in statements for c in st.conds for t in c.templates for k in t.keys}
    used |= {label.split(" ", 1)[1].lower() for st in statements for _, label in st.null_conds}
    used |= {k for x in {x for st in statements for x in st.resources} for k in program.resource_by_id[x].keys}
    return {k for k in used if k.startswith(prefixes) and k not in fixed_ctx}


def _solve(program: FactProgram, facts: list[str], query: Query, all_witnesses: bool) -> list[Sequence[clingo.Symbol]]:
    """The optimal model, or (all_witnesses) up to MAX_WITNESSES models of distinct statement classes."""
    # "0": enumerate to the optimum (one witness) or until MAX_WITNESSES distinct classes (--all).
    ctl = clingo.Control(["--warn=none", "0"])
    load_encodings(ctl, ("decide.lp", "search.lp"))
    if not all_witnesses:
        facts.append("minimal_witness.")
    if query.goal == "deny":
        facts.append("goal_deny.")
    if query.policies_only:
        facts.append("policies_only.")
    ctl.add("base", [], program.text() + "\n" + "\n".join(facts))
    ctl.ground([("base", [])])
    models: list[Sequence[clingo.Symbol]] = []
    seen_classes: set[frozenset] = set()

    def on_model(m: clingo.Model) -> bool:
        syms = m.symbols(shown=True)
        if not all_witnesses:  # optimising: keep the last (best) model
            models[:] = [syms]
            return True
        cls = frozenset(str(s) for s in syms if s.name == "stmt_applies")
        if cls not in seen_classes:
            seen_classes.add(cls)
            models.append(syms)
        return len(models) < MAX_WITNESSES

    ctl.solve(on_model=on_model)
    return models


def _no_witness(query: Query, domains: list[Domain], scope: list[Dimension]) -> CanAnswer:
    incomplete = [d for d in domains if not d.complete]
    if incomplete:
        return CanAnswer(
            answer="unknown",
            scope=scope,
            reason="no allowed request among the regions, but " + "; ".join(d.note for d in incomplete),
        )
    what = "allowed" if query.goal == "allow" else "denied"
    return CanAnswer(
        answer="impossible",
        scope=scope,
        reason=f"no request in scope is {what}: every region of every dimension was searched",
    )


def _witnessed(
    query: Query,
    models: list[Sequence[clingo.Symbol]],
    decode: Decoder,
    scope: list[Dimension],
    all_witnesses: bool,
) -> CanAnswer:
    witnesses = [decode(syms) for syms in models]
    witnesses.sort(key=witness_size)
    recheck(witnesses, query.goal)
    lines = [batch_line(w) for w, _ in witnesses]
    return CanAnswer(
        answer="possible",
        witness=lines[0],
        witnesses=lines if all_witnesses else [],
        decide_command=decide_command_for(witnesses[0][0]),
        scope=scope,
    )
