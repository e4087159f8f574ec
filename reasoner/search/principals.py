"""The request's fixed side in the search: the policy layers that apply to the principal, and
the facts for its principal, policies, SCP/RCP levels and account boundary."""

from __future__ import annotations

from reasoner.engine.facts import CompiledPolicy, FactProgram
from reasoner.errors import InputError
from reasoner.policy.principals import Principal, has_identity_policies, rcps_apply, scps_apply
from reasoner.policy.request import NamedPolicy
from reasoner.search.compilation import Compilation
from reasoner.search.query import Query

# (layer atom, layer kind, policy): the atom names the layer in the facts (scp(0), rcp(1), ...).
Layer = tuple[str, str, NamedPolicy]
CompiledLayer = tuple[str, str, CompiledPolicy]


def query_layers(q: Query, principal: Principal) -> list[Layer]:
    if not has_identity_policies(principal) and (q.identity_policies or q.permission_boundary or q.session_policy):
        # As in decide: such callers have no identity side; never drop policies silently.
        raise InputError(
            f"a {principal.type} principal has no identity policies, boundary or session policy", path=("principal",)
        )
    out = [("identity", "identity", p) for p in q.identity_policies]
    if q.resource_policy:
        out.append(("resource", "resource", q.resource_policy))
    if q.permission_boundary:
        out.append(("boundary", "boundary", q.permission_boundary))
    if q.session_policy:
        out.append(("session", "session", q.session_policy))
    if q.vpc_endpoint_policy:
        out.append(("vpce", "vpce", q.vpc_endpoint_policy))
    if q.scps is not None and scps_apply(principal, q.management_account):
        for n, level in enumerate(q.scps):
            out += [(f"scp({n})", "scp", p) for p in level]
    if q.rcps is not None:
        for n, level in enumerate(q.rcps):
            out += [(f"rcp({n})", "rcp", p) for p in level]
    return out


def compile_layers(program: FactProgram, layers: list[Layer]) -> list[CompiledLayer]:
    compiled = []
    for atom, kind, named in layers:
        cp = program.policy(named.policy, named.name)
        program.check_layer(cp, named, kind, None, ())
        compiled.append((atom, kind, cp))
    return compiled


def request_facts(
    c: Compilation, principal: Principal, resource_account: str | None, compiled: list[CompiledLayer]
) -> None:
    """The one request's principal, the policies of each layer, and the levels that apply."""
    q, out = c.query, c.facts
    out.append("req(1).")
    # RCPs limit resources of member accounts, for the services that support them (search.lp
    # applies the levels when the chosen action's service does); an empty level allows nothing.
    rcp_applies = q.rcps is not None and rcps_apply(principal, resource_account, q.management_account)
    if rcp_applies and q.rcps is not None:
        out.extend(f"rcp_level({n})." for n in range(len(q.rcps)))
    for atom, kind, cp in compiled:
        if kind == "vpce":
            out.append(f"vpce_policy({cp.pid}).")
        elif kind == "rcp":
            if rcp_applies:
                out.append(f"rcp_policy({atom[4:-1]},{cp.pid}).")
        else:
            out.append(f"req_policy(1,{atom},{cp.pid}).")
    if q.scps is not None and scps_apply(principal, q.management_account):
        for n in range(len(q.scps)):
            out.append(f"req_level(1,scp,{n}).")
    if q.permission_boundary is not None:
        out.append("req_has_boundary(1).")
    if q.session_policy is not None:
        out.append("req_has_session_policy(1).")
    out.append(f"req_principal_type(1,{principal.type}).")
    for kind, ident, how in principal.names:
        out.append(f"req_principal_is(1,{kind},{c.program.intern('p:' + ident)},{how}).")
    if principal.account and resource_account and principal.account != resource_account:
        out.append("req_cross_account(1).")
