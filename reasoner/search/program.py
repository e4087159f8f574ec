"""The search program's facts for one query: the request's fixed side, then each searched
dimension (actions, the resource, context keys), with the decoder of its models. `can` solves it;
`diff` and `lint` build their own queries on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import clingo

from reasoner.engine.facts import FactProgram, StmtInfo, aws_rule_search_facts, needs_resource_policy
from reasoner.policy import catalogue
from reasoner.policy.principals import Principal
from reasoner.search.actions import ALWAYS_ALLOWED_RULE, action_facts, aws_rule_class
from reasoner.search.compilation import Compilation
from reasoner.search.context import context_facts
from reasoner.search.domains import Domain
from reasoner.search.principals import CompiledLayer, request_facts
from reasoner.search.query import Query, is_pattern
from reasoner.search.resources import resource_facts
from reasoner.search.witness import Witness, WitnessDecoder

Decoder = Callable[[Sequence[clingo.Symbol]], Witness]


def search_facts(
    program: FactProgram,
    q: Query,
    principal: Principal,
    fixed_ctx: dict[str, list[str]],
    absent: set[str],
    actions: list[str],
    resource_account: str | None,
    compiled: list[CompiledLayer],
    statements: list[StmtInfo],
    anonymous_keys: bool = False,
    extra_resources: tuple[str, ...] = (),
) -> tuple[list[str], list[Domain], Decoder]:
    """extra_resources: more candidate resource witnesses, tried before the searched ones (diff
    passes ARN-shaped fillings of the Resource patterns so regions get ARN witnesses). Keys of a
    numeric, date, bool or IP type (catalogue.value_kind) only take values of that type."""
    singles = {k: v[0] for k, v in fixed_ctx.items() if len(v) == 1 and not catalogue.is_multivalued(k)}
    c = Compilation(program, q, singles, absent, principal=principal, now=_now(q), resource_account=resource_account)
    request_facts(c, principal, resource_account, compiled)
    statements = action_facts(c, statements, actions)
    resource_facts(c, statements, resource_account, extra_resources)
    _per_action_and_resource_facts(c, principal)
    spelling = context_facts(c, statements, fixed_ctx, compiled, anonymous_keys)
    return c.facts, c.domains, WitnessDecoder.of(c, actions, resource_account, spelling)


def _now(q: Query) -> int:
    """The earliest request time: a request sent from now on (reasoner/search/instants.py)."""
    return q.now if q.now is not None else int(time.time())


def _per_action_and_resource_facts(c: Compilation, principal: Principal) -> None:
    """What depends on the action and the resource together, per pair of regions (X = none when
    the resource is one ARN): the built-in rules of protected.lp (facts.aws_rule_search_facts) and
    whether a key or trust policy must allow (facts.needs_resource_policy: a KMS key, not an alias
    nor a key-less action like kms:ListKeys)."""
    resources: dict[int, str] | str = c.resource_names if is_pattern(c.query.resource) else c.query.resource
    c.facts.extend(aws_rule_search_facts(principal, c.action_names, resources))
    pairs = list(resources.items()) if isinstance(resources, dict) else [("none", resources)]
    for aid, action in c.action_names.items():
        # sts:GetCallerIdentity has no resource type (Service Authorization Reference): it is
        # authorized on "*", so a searched region of ARNs does not hold it (a check of a bucket
        # policy is not failed by the call every caller may make); the region "*" added for it
        # holds no other action.
        resourceless = aws_rule_class(action)[-1] == ALWAYS_ALLOWED_RULE
        for rid, resource in pairs:
            if needs_resource_policy(action, resource):
                c.facts.append(f"resource_policy_for({aid},{rid}).")
            if rid != "none" and (resource != "*" if resourceless else rid == c.added_star_region):
                c.facts.append(f"unsendable({aid},{rid}).")
