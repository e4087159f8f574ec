"""A sound fallback for policy variables whose value is searched (no finite abstraction yet): the
query with every statement that reads such a variable relaxed so that it allows more.

IAM User Guide, "IAM policy elements: Variables and tags": a variable in a Condition value or a
Resource / NotResource entry takes its value from the request context. Whatever that value is:
* an Allow statement applies at least as often without the condition keys whose values use a
  variable (a condition block is the AND of its keys), and with each variable of a Resource entry's
  resource part widened to "*" (elsewhere in the ARN, the whole entry);
* a Deny statement that uses a variable anywhere denies at most what it denied before when it is
  left out.
So every request the original policies allow, the relaxed ones allow too ("Policy evaluation
logic": a request is allowed only by an applicable Allow and denied by any applicable Deny). When
no request of the space is allowed under the relaxed policies, none is under the original ones:
the search's "impossible" carries over. A witness of the relaxed policies proves nothing (the
answer stays unknown). Only for `goal == "allow"`: for a universal check the direction flips."""

from __future__ import annotations

from dataclasses import replace

from reasoner.policy.document import Policy, Statement
from reasoner.policy.patterns import parse_template
from reasoner.policy.request import NamedPolicy
from reasoner.search.domains import HINTS
from reasoner.search.query import Query


def variable_sample(key: str) -> str:
    """A value to try for a searched variable's key: the readable one the search tries first for
    that key (domains.HINTS), else a plain word."""
    return (HINTS.get(key.lower()) or ["example"])[0]


def _has_variable(values) -> bool:
    return any(parse_template(str(v), True).has_vars for v in values or [])


def _widened(entry: str) -> str:
    """A Resource entry that matches every ARN the entry matches with any value of its variables:
    each variable in the resource part (after the fifth ':', where '*' matches any run of
    characters) becomes '*'; a variable in another part makes the entry '*'. Escapes (${*}, ${?},
    ${$}) stay as they are."""
    out = []
    colons = 0
    for part in parse_template(entry, True).parts:
        if part[0] == "text":
            colons += part[1].count(":")
            out.append(part[1])
        elif part[0] == "lit":
            out.append("${" + part[1] + "}")
        elif colons < 5:
            return "*"
        else:
            out.append("*")
    return "".join(out)


def _relaxed_statement(st: Statement) -> Statement | None:
    """The statement relaxed (None: left out); the statement itself when it uses no variable."""
    cond = st.Condition or {}
    in_condition = any(_has_variable(vs) for block in cond.values() for vs in block.values())
    in_resource = _has_variable(st.Resource) or _has_variable(st.NotResource)
    if not in_condition and not in_resource:
        return st
    if st.Effect == "Deny":
        return None
    update: dict = {}
    if in_condition:
        kept = {op: {k: vs for k, vs in block.items() if not _has_variable(vs)} for op, block in cond.items()}
        kept = {op: block for op, block in kept.items() if block}
        update["Condition"] = kept or None
    if _has_variable(st.Resource):
        update["Resource"] = [_widened(r) for r in st.Resource or []]
    if _has_variable(st.NotResource):
        # Fewer exclusions: the statement applies to more resources; none left, to every one.
        left = [r for r in st.NotResource or [] if not _has_variable([r])]
        update["NotResource"] = left or None
        if not left:
            update["Resource"] = ["*"]
    return st.model_copy(update=update)


def _relaxed_or_none(named: NamedPolicy | None) -> NamedPolicy | None:
    return None if named is None else _relaxed(named)


def _relaxed(named: NamedPolicy) -> NamedPolicy:
    if not named.policy.variables_enabled:
        return named
    statements = [r for st in named.policy.Statement if (r := _relaxed_statement(st)) is not None]
    if len(statements) == len(named.policy.Statement) and all(
        a is b for a, b in zip(statements, named.policy.Statement)
    ):
        return named
    if not statements:
        raise _Emptied
    return NamedPolicy(named.name, Policy.model_construct(Version=named.policy.Version, Statement=statements))


class _Emptied(Exception):
    """Every statement of a policy was left out (a policy needs one)."""


def relax_variables(q: Query) -> Query | None:
    """The query with every policy layer relaxed (see the module docstring); None when that would
    leave a policy without statements."""
    try:
        return _relax(q)
    except _Emptied:
        return None


def _relax(q: Query) -> Query:

    def levels(ls):
        return None if ls is None else [[_relaxed(p) for p in level] for level in ls]

    return replace(
        q,
        identity_policies=[_relaxed(p) for p in q.identity_policies],
        resource_policy=_relaxed_or_none(q.resource_policy),
        permission_boundary=_relaxed_or_none(q.permission_boundary),
        session_policy=_relaxed_or_none(q.session_policy),
        vpc_endpoint_policy=_relaxed_or_none(q.vpc_endpoint_policy),
        scps=levels(q.scps),
        rcps=levels(q.rcps),
    )
