"""The search program's facts for one query: the request's fixed side, then each searched
dimension (actions, the resource, context keys), with the decoder of its models. `can` solves it;
`diff` and `lint` build their own queries on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import clingo

from reasoner.engine.facts import FactProgram, StmtInfo
from reasoner.policy import catalogue
from reasoner.policy.principals import Principal
from reasoner.search.actions import action_facts
from reasoner.search.compilation import Compilation
from reasoner.search.context import context_facts
from reasoner.search.domains import Domain
from reasoner.search.principals import CompiledLayer, request_facts
from reasoner.search.query import Query
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
    c = Compilation(program, q, singles, absent)
    request_facts(c, principal, resource_account, compiled)
    statements = action_facts(c, statements, actions)
    resource_facts(c, statements, resource_account, extra_resources)
    spelling = context_facts(c, statements, fixed_ctx, compiled, anonymous_keys)
    return c.facts, c.domains, WitnessDecoder.of(c, actions, resource_account, spelling)
