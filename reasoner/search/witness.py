"""Witnesses: a model of the search program decoded into a concrete request with its layers,
re-checked by the concrete decider, and written as a `decide --batch` line or a ready
`reasoner decide` command."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

import clingo

from reasoner.engine.decide import decide_many
from reasoner.errors import InternalError
from reasoner.policy.request import DecideInput, NamedPolicy, Request, Scalar
from reasoner.search.compilation import Compilation
from reasoner.search.context import ContextSpelling
from reasoner.search.query import Query, is_pattern

Witness = tuple[DecideInput, Sequence[clingo.Symbol]]


@dataclass
class WitnessDecoder:
    """Turns a model's shown atoms (pick, first, last, pick_action, pick_resource) back into
    the request they choose."""

    query: Query
    actions: list[str]
    resource_account: str | None
    key_names: dict[int, str]
    value_names: dict[int, str]
    action_names: dict[int, str]
    resource_names: dict[int, str]
    context: ContextSpelling
    derived: dict[int, dict[str, str]]  # a joint region's other keys (the time dimension)

    @classmethod
    def of(
        cls, c: Compilation, actions: list[str], resource_account: str | None, context: ContextSpelling
    ) -> WitnessDecoder:
        return cls(
            c.query,
            actions,
            resource_account,
            c.key_names,
            c.value_names,
            c.action_names,
            c.resource_names,
            context,
            c.derived_context,
        )

    def __call__(self, symbols: Sequence[clingo.Symbol]) -> Witness:
        q = self.query
        picks: dict[str, list[str]] = {}
        first = last = None
        derived: dict[str, str] = {}
        action = self.actions[0]
        resource = q.resource
        for s in symbols:
            if s.name == "pick":
                picks.setdefault(self.key_names[s.arguments[0].number], []).append(
                    self.value_names[s.arguments[1].number]
                )
                derived.update(self.derived.get(s.arguments[1].number, {}))
            elif s.name == "first":
                first = self.value_names[s.arguments[0].number]
            elif s.name == "last":
                last = self.value_names[s.arguments[0].number]
            elif s.name == "pick_action":
                action = self.action_names[s.arguments[0].number]
            elif s.name == "pick_resource":
                resource = self.resource_names[s.arguments[0].number]
        ctx = self._context(picks, first, last)
        ctx.update(derived)
        multivalued = self.context.multivalued
        req = Request(
            principal=q.principal,
            action=action,
            resource=resource,
            resource_account=self.resource_account if is_pattern(q.resource) or q.resource_account else None,
            context={
                k: (
                    v
                    if not isinstance(v, list)
                    or len(v) != 1
                    or k.lower() in multivalued
                    or k.lower() == "aws:calledvia"
                    else v[0]
                )
                for k, v in ctx.items()
            },
        )
        inp = q.decide_input(req)
        return inp, symbols

    def _context(
        self, picks: dict[str, list[str]], first: str | None, last: str | None
    ) -> dict[str, Scalar | list[Scalar]]:
        ctx: dict[str, Scalar | list[Scalar]] = {k: list(v) for k, v in self.query.where.items()}
        spelling = self.context.spelling
        for key, values in picks.items():
            if key == "aws:calledvia":
                if first is None or last is None:  # search.lp chooses both whenever CalledVia is picked
                    raise InternalError("the search picked aws:CalledVia without its first and last service")
                middle = [v for v in sorted(values) if v not in (first, last)]
                ordered: list[Scalar] = [first, *middle, *([last] if len(values) > 1 else [])]
                ctx["aws:CalledVia"] = ordered
            elif key in self.context.multivalued:
                ctx[spelling.get(key, key)] = sorted(values)
            else:
                ctx[spelling.get(key, key)] = values[0]
        return ctx


def witness_size(item: Witness) -> tuple:
    """Smaller witnesses (fewer and shorter context values) are shown first."""
    w, _ = item
    ctx = w.request.context
    return (sum(len(v) if isinstance(v, list) else 1 for v in ctx.values()), len(str(ctx)))


def recheck(witnesses: list[Witness], goal: str) -> None:
    """Every witness must get the searched decision from the concrete decider."""
    checked = decide_many([w for w, _ in witnesses])
    for (w, _), d in zip(witnesses, checked):
        if (d.decision == "allow") != (goal == "allow"):
            raise InternalError(
                f"the search found a witness the concrete decider does not allow "
                f"({d.decision}, {d.error}): {w.request.model_dump()}"
            )


def batch_line(inp: DecideInput) -> dict:
    def doc(p: NamedPolicy | None) -> dict | None:
        return None if p is None else p.policy.model_dump(mode="json", exclude_none=True)

    return {
        "request": inp.request.model_dump(mode="json", exclude_none=True),
        "identity_policies": [doc(p) for p in inp.identity_policies],
        "resource_policy": doc(inp.resource_policy),
        "permission_boundary": doc(inp.permission_boundary),
        "session_policy": doc(inp.session_policy),
        "scps": None if inp.scps is None else [[doc(p) for p in lv] for lv in inp.scps],
        "rcps": None if inp.rcps is None else [[doc(p) for p in lv] for lv in inp.rcps],
        "vpc_endpoint_policy": doc(inp.vpc_endpoint_policy),
        "management_account": inp.management_account,
    }


def decide_command_for(inp: DecideInput) -> str:
    """The witness as a ready `reasoner decide` command line."""
    r = inp.request
    args = ["reasoner", "decide", "--principal", r.principal, "--action", r.action, "--resource", r.resource]
    if r.resource_account:
        args += ["--resource-account", r.resource_account]
    for k, v in r.context.items():
        for item in v if isinstance(v, list) else [v]:
            args += ["--context", f"{k}={str(item).lower() if isinstance(item, bool) else item}"]
    for p in inp.identity_policies:
        args += ["--identity-policy", p.name]
    for flag, layer in (
        ("--resource-policy", inp.resource_policy),
        ("--boundary", inp.permission_boundary),
        ("--session-policy", inp.session_policy),
        ("--vpce-policy", inp.vpc_endpoint_policy),
    ):
        if layer is not None:
            args += [flag, layer.name]
    for flag, levels in (("--scp", inp.scps), ("--rcp", inp.rcps)):
        for level in levels or []:
            args += [flag, ",".join(p.name for p in level)]
    if inp.management_account:
        args += ["--management-account", inp.management_account]
    return " ".join(shlex.quote(a) for a in args)
