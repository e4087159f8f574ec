"""`can`: is there any request, in the space the query leaves open, that AWS would allow?

The free dimensions (action, resource, context keys) are abstracted into regions
(reasoner/domains.py); encodings/search.lp chooses one region per dimension (a set for
multivalued keys) on top of the same decision encodings as `decide`. A model is a witness:
it is turned into a concrete request and re-decided by the concrete decider before it is
reported. No model proves "impossible" when every domain is complete; otherwise the answer is
"unknown" with the reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Literal

import clingo
from pydantic import BaseModel, ConfigDict

from reasoner.engine.decide import decide_many
from reasoner.engine.facts import TRUST_POLICY_ACTIONS, FactProgram, rcp_services
from reasoner.engine.solve import load_encodings
from reasoner.errors import InputError, InternalError
from reasoner.policy import catalogue
from reasoner.policy.patterns import fill, plain
from reasoner.policy.principals import account_of_arn, derived_context, parse_principal, rcps_apply, scps_apply
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.policy.values import compare
from reasoner.search.domains import AbstractionError, Domain, Region, build_domain

# Keys AWS includes in every authenticated request (IAM User Guide, global condition keys:
# "This key is always included in the request context").
ALWAYS_PRESENT = frozenset(
    {
        "aws:currenttime",
        "aws:epochtime",
        "aws:securetransport",
        "aws:viaawsservice",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
    }
)
CALLED_VIA = ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast")
MAX_WITNESSES = 50


@dataclass
class Query:
    """What `can` is asked: fixed parts of the request, constraints, and the policy layers."""

    principal: str
    action: str  # a name, or a pattern with * / ?
    resource: str  # an ARN, or a pattern
    resource_account: str | None = None
    where: dict[str, list[str]] = field(default_factory=dict)  # keys fixed to values
    absent: list[str] = field(default_factory=list)
    without_via: list[str] = field(default_factory=list)  # CalledVia must not contain
    not_from_vpce: list[str] = field(default_factory=list)  # SourceVpce must not be
    # key -> [(family, value)]: no value of the key may match (e.g. aws:SourceIp outside 10.0.0.0/8)
    exclude: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    present: list[str] = field(default_factory=list)  # keys that must be present
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    resource_policy: NamedPolicy | None = None
    permission_boundary: NamedPolicy | None = None
    session_policy: NamedPolicy | None = None
    scps: list[list[NamedPolicy]] | None = None
    rcps: list[list[NamedPolicy]] | None = None
    vpc_endpoint_policy: NamedPolicy | None = None
    management_account: str | None = None
    # Keys with these prefixes are absent unless fixed (a snapshot knows a principal's tags).
    absent_prefixes: tuple[str, ...] = ()
    # "allow": is some request allowed? "deny": is some request NOT allowed (universal checks).
    goal: Literal["allow", "deny"] = "allow"


class Dimension(BaseModel):
    """One searched dimension and its regions: the scope of a proof."""

    model_config = ConfigDict(frozen=True)

    name: str
    regions: int
    examples: list[str]
    complete: bool


class CanAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    answer: Literal["possible", "impossible", "unknown"]
    witness: dict | None = None  # a `decide --batch` line
    witnesses: list[dict] = []
    decide_command: str | None = None
    reason: str | None = None
    scope: list[Dimension] = []


def is_pattern(text: str) -> bool:
    return "*" in text or "?" in text


def can(query: Query, *, all_witnesses: bool = False) -> CanAnswer:
    principal = parse_principal(query.principal, path=("principal",))
    fixed_ctx = {k.lower(): list(v) for k, v in query.where.items()}
    for k in query.absent:
        if k.lower() in fixed_ctx:
            raise InputError(f"{k} is both fixed (--where) and absent (--absent)", path=("absent",))
    fixed_ctx = derived_context(principal, fixed_ctx)
    # ViaAWSService is searched unless fixed (derived_context sets it from CalledVia).
    if "aws:viaawsservice" not in {k.lower() for k in query.where} and "aws:calledvia" not in fixed_ctx:
        fixed_ctx.pop("aws:viaawsservice", None)
    absent = {k.lower() for k in query.absent}
    # Anonymous and service callers carry no principal keys (org, tags, user id).
    anonymous_keys = principal.type in ("anonymous", "service", "web_identity")

    # -- actions --------------------------------------------------------------------------------
    if is_pattern(query.action):
        actions = catalogue.expand(query.action)
        if not actions:
            raise InputError(f"no catalogue action matches {query.action!r}", path=("action",))
    else:
        if catalogue.lookup(query.action) is None:
            raise InputError(catalogue.unknown_action_message(query.action), path=("action",))
        actions = [catalogue.lookup(query.action).full_name]

    # -- resource account ----------------------------------------------------------------------
    resource_account = query.resource_account
    if resource_account is None:
        acct_field = query.resource.split(":", 5)[4] if len(query.resource.split(":", 5)) == 6 else ""
        if acct_field and not is_pattern(acct_field):
            resource_account = acct_field
        elif not acct_field:
            resource_account = principal.account
        else:
            return CanAnswer(
                answer="unknown",
                reason="the resource pattern leaves its account open; "
                "give --resource-account so same- and cross-account rules can be applied",
            )
    if not is_pattern(query.resource):
        resource_account = query.resource_account or account_of_arn(query.resource) or principal.account

    program = FactProgram()
    layers = _layers(query, principal)
    if query.goal == "allow" and len(actions) > 200:
        # Scale: an action no Allow statement's Action / NotAction can cover is implicitly denied,
        # so it cannot be a witness; only the covered ones are searched.
        allow_pats = [
            (st.Action, st.NotAction) for _, _, named in layers for st in named.policy.Statement if st.Effect == "Allow"
        ]
        if not any(a is None for a, _ in allow_pats):
            pats = [x.lower() for a, _ in allow_pats for x in a]
            actions = [a for a in actions if any(_glob(p, a.lower()) for p in pats)] or actions[:1]
    compiled = []
    for atom, kind, named in layers:
        cp = program.policy(named.policy, named.name)
        program.check_layer(cp, named, kind, None, ())
        compiled.append((atom, kind, cp))
    statements = [st for _, _, cp in compiled for st in cp.statements]
    if query.absent_prefixes:
        prefixes = tuple(x.lower() for x in query.absent_prefixes)
        used = {c.key_text for st in statements for c in st.conds}
        used |= {k for st in statements for c in st.conds for t in c.templates for k in t.keys}
        used |= {label.split(" ", 1)[1].lower() for st in statements for _, label in st.null_conds}
        used |= {k for x in {x for st in statements for x in st.resources} for k in program.resource_by_id[x].keys}
        absent |= {k for k in used if k.startswith(prefixes) and k not in fixed_ctx}

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
    # "0": enumerate to the optimum (one witness) or until MAX_WITNESSES distinct classes (--all).
    ctl = clingo.Control(["--warn=none", "0"])
    load_encodings(ctl, ("decide.lp", "search.lp"))
    if not all_witnesses:
        facts.append("minimal_witness.")
    if query.goal == "deny":
        facts.append("goal_deny.")
    ctl.add("base", [], program.text() + "\n" + "\n".join(facts))
    ctl.ground([("base", [])])
    models: list[list[clingo.Symbol]] = []
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
    if not models:
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
    witnesses = [decode(syms) for syms in models]
    witnesses.sort(key=_size)
    checked = decide_many([w for w, _ in witnesses])
    for (w, _), d in zip(witnesses, checked):
        if (d.decision == "allow") != (query.goal == "allow"):
            raise InternalError(
                f"the search found a witness the concrete decider does not allow "
                f"({d.decision}, {d.error}): {w.request.model_dump()}"
            )
    lines = [batch_line(w) for w, _ in witnesses]
    return CanAnswer(
        answer="possible",
        witness=lines[0],
        witnesses=lines if all_witnesses else [],
        decide_command=decide_command_for(witnesses[0][0]),
        scope=scope,
    )


def _size(item) -> tuple:
    w, _ = item
    ctx = w.request.context
    return (sum(len(v) if isinstance(v, list) else 1 for v in ctx.values()), len(str(ctx)))


def _layers(q: Query, principal) -> list[tuple[str, str, NamedPolicy]]:
    if principal.type in ("service", "anonymous", "web_identity") and (
        q.identity_policies or q.permission_boundary or q.session_policy
    ):
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


def search_facts(
    program: FactProgram,
    q: Query,
    principal,
    fixed_ctx,
    absent,
    actions,
    resource_account,
    compiled,
    statements,
    anonymous_keys: bool = False,
    extra_resources: tuple[str, ...] = (),
    typed_values: bool = False,
):
    """extra_resources: more candidate resource witnesses, tried before the searched ones (diff
    passes ARN-shaped fillings of the Resource patterns so regions get ARN witnesses).
    typed_values: keys of a numeric, date, bool or IP type (catalogue.value_kind) only take
    values of that type (diff and lint; can keeps its untyped regions)."""
    out: list[str] = ["req(1)."]
    has_boundary = q.permission_boundary is not None
    # RCPs limit resources of member accounts, for the services that support them (search.lp
    # applies the levels when the chosen action's service does); an empty level allows nothing.
    rcp_applies = q.rcps is not None and rcps_apply(principal, resource_account, q.management_account)
    if rcp_applies:
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
    if has_boundary:
        out.append("req_has_boundary(1).")
    if q.session_policy is not None:
        out.append("req_has_session_policy(1).")
    out.append(f"req_principal_type(1,{principal.type}).")
    for kind, ident, how in principal.names:
        out.append(f"req_principal_is(1,{kind},{program.intern('p:' + ident)},{how}).")
    if principal.account and resource_account and principal.account != resource_account:
        out.append("req_cross_account(1).")

    singles = {k: v[0] for k, v in fixed_ctx.items() if len(v) == 1 and not catalogue.is_multivalued(k)}

    def filled(template, what: str):
        p = fill(template, singles)
        if p is None:
            missing = [k for k in template.keys if k not in singles]
            if any(k not in absent for k in missing):
                raise AbstractionError(
                    f"{what} uses the policy variable ${{{missing[0]}}}, whose value is "
                    "searched; fix it with --where to search the rest"
                )
        return p

    # -- actions: one representative per signature over the Action patterns in scope --------
    all_ids = sorted({x for st in statements for x in st.actions})
    services = {a.split(":")[0].lower() for a in actions}
    # Patterns whose service part cannot match a searched service never match its actions. An
    # action's name has one ':', so a pattern with a ':' can only match actions of the services
    # its service part matches; a pattern without one is tried on every action.
    by_service: dict[str, list[int]] = {svc: [] for svc in services}
    action_ids = []
    for x in all_ids:
        text = program.action_plain[x]
        part = text.split(":", 1)[0]
        if "*" not in part and "?" not in part:  # a literal service part matches itself only
            matched = [part] if part in services else []
        else:
            matched = [svc for svc in services if _glob(part, svc)]
        if matched:
            action_ids.append(x)
            for svc in services if ":" not in text else matched:
                by_service[svc].append(x)
    cache = program.action_cache
    groups: dict[tuple, str] = {}
    for a in actions:
        al = a.lower()
        service = al.split(":")[0]
        hits = []
        for x in by_service[service]:
            hit = cache.get((x, al))
            if hit is None:
                hit = cache[(x, al)] = _glob(program.action_plain[x], al)
            if hit:
                hits.append(x)
        sig = (frozenset(hits), service in rcp_services(), service == "kms" or al in TRUST_POLICY_ACTIONS)
        groups.setdefault(sig, a)
    # Only statements whose Action / NotAction covers some searched action can apply: the
    # other statements are left out of the grounding and of every domain (scale rule).
    hit_sets = [sig[0] for sig in groups]
    statements = [st for st in statements if any(bool(hits & set(st.actions)) != st.not_action for hits in hit_sets)]
    out.append("req_stmt_scope(1).")
    out.extend(f"req_stmt_in_scope(1,{st.sid_global})." for st in statements)
    action_ids = sorted({x for st in statements for x in st.actions})
    action_names = {}
    for sig, a in groups.items():
        aid = program.intern("a:" + a)
        action_names[aid] = a
        out.append(f"action_region({aid}).")
        for x in action_ids:
            if x in sig[0]:
                out.append(f"action_hit({aid},{x}).")
        if sig[1]:
            out.append(f"rcp_action({aid}).")
        if sig[2]:
            out.append(f"trust_action({aid}).")
    domains: list[Domain] = []
    if len(actions) > 1:
        domains.append(Domain(f"action ({q.action})", [], [Region(a, ()) for a in groups.values()]))

    # -- resource ------------------------------------------------------------------------------
    resource_ids = sorted({x for st in statements for x in st.resources})
    resource_names: dict[int, str] = {}
    if is_pattern(q.resource):
        # One OR-group per Resource / NotResource element: only "some entry matches" matters.
        groups = []
        for st in statements:
            g = [
                ("arn_like", p)
                for x in st.resources
                if (p := filled(program.resource_by_id[x], "a Resource element")) is not None
            ]
            if g:
                groups.append(g)
        comps = [c for g in groups for c in g]
        query_comp = ("arn_like", plain(q.resource))
        groups.append([query_comp])
        service = (
            q.resource.split(":")[2]
            if q.resource.count(":") >= 2 and q.resource.split(":")[2] not in ("", "*")
            else "s3"
        )
        generic = [
            f"arn:aws:{service}:us-east-1:{resource_account or '111122223333'}:example",
            f"arn:aws:{service}:::example",
            q.resource.replace("*", "x").replace("?", "x"),
        ] + list(extra_resources)
        dom = build_domain(f"resource ({q.resource})", comps + [query_comp], extra_candidates=generic, groups=groups)
        regions = [rg for rg in dom.regions if compare("arn_like", plain(q.resource), rg.witness)]
        # A request names an ARN: a region whose witness is not one may still hold ARNs.
        dom.regions = [rg for rg in regions if rg.witness == "*" or len(rg.witness.split(":", 5)) == 6]
        if len(dom.regions) < len(regions):
            dom.complete = False
            dom.note = "some resource regions have no ARN witness"
        domains.append(dom)
        for rg in dom.regions:
            rid = program.intern("r:" + rg.witness)
            resource_names[rid] = rg.witness
            out.append(f"resource_region({rid}).")
            for x in resource_ids:
                p = fill(program.resource_by_id[x], singles)
                if p is not None and compare("arn_like", p, rg.witness):
                    out.append(f"resource_hit({rid},{x}).")
        if not dom.regions:
            raise AbstractionError(f"no ARN matches the resource pattern {q.resource!r}")
    else:
        for x in resource_ids:
            p = fill(program.resource_by_id[x], singles)
            if p is not None and compare("arn_like", p, q.resource):
                out.append(f"resource_match(1,{x}).")

    # -- context ----------------------------------------------------------------------------------
    conds = [c for st in statements for c in st.conds]
    null_keys = {label.split(" ", 1)[1].lower() for st in statements for _, label in st.null_conds}
    by_key: dict[str, list] = {}
    for c in conds:
        by_key.setdefault(c.key_text, []).append(c)
    keys = set(by_key) | null_keys
    if q.vpc_endpoint_policy:
        keys.add("aws:sourcevpce")
    if q.without_via:
        keys.add("aws:calledvia")
    if q.not_from_vpce:
        keys.add("aws:sourcevpce")
    exclude = {k.lower(): v for k, v in q.exclude.items()}
    exclude.setdefault("aws:calledvia", []).extend(("string_equals", s) for s in q.without_via)
    exclude.setdefault("aws:sourcevpce", []).extend(("string_equals", s) for s in q.not_from_vpce)
    keys |= {k for k, v in exclude.items() if v} | {k.lower() for k in q.present}
    present = {k.lower() for k in q.present}
    kid = lambda k: program.intern("k:" + k)  # noqa: E731

    # Fixed keys: concrete facts, as in decide.
    for key, values in fixed_ctx.items():
        for v in dict.fromkeys(values):
            out.append(f"req_value(1,{kid(key)},{program.intern('v:' + v)}).")
        if key in singles:
            out.append(f"req_single(1,{kid(key)}).")
        for c in by_key.get(key, []):
            for v in dict.fromkeys(values):
                if program.value_matches(c, v, singles):
                    out.append(f"value_match(1,{c.cid},{program.intern('v:' + v)}).")
    if q.vpc_endpoint_policy and "aws:sourcevpce" in fixed_ctx:
        out.append(f"vpce_key({kid('aws:sourcevpce')}).")
        out.append(f"req_policy(1,vpce,{next(cp.pid for _, k, cp in compiled if k == 'vpce')}).")

    if anonymous_keys:
        absent = absent | {
            k for k in keys if k.startswith(("aws:principal", "aws:userid", "aws:username")) and k not in fixed_ctx
        }
    value_names: dict[int, str] = {}
    searched = sorted(k for k in keys if k not in fixed_ctx and k not in absent and k not in CALLED_VIA[1:])
    group_cv = "aws:calledvia" in searched or any(
        k in keys and k not in fixed_ctx and k not in absent for k in CALLED_VIA[1:]
    )
    if (
        group_cv
        and "aws:calledvia" not in searched
        and "aws:calledvia" not in fixed_ctx
        and "aws:calledvia" not in absent
    ):
        searched.append("aws:calledvia")
    multivalued = {k for k in searched if catalogue.is_multivalued(k)} | {
        c.key_text for c in conds if c.key_text in searched and _qualified(c)
    }
    for key in searched:
        members = CALLED_VIA if key == "aws:calledvia" else (key,)
        # One OR-group per condition entry (its values), one for the excluded values.
        groups = []
        for m in members:
            for c in by_key.get(m, []):
                g = [(c.family, p) for t in c.templates if (p := filled(t, f"a condition on {c.key_text}")) is not None]
                if g:
                    groups.append(g)
        comps = [cmp for g in groups for cmp in g]
        excluded = [(f, plain(v)) for f, v in exclude.get(key, [])]
        if excluded:
            groups.append(excluded)
        dom = build_domain(
            key, comps + excluded, groups=groups, value_kind=catalogue.value_kind(key) if typed_values else None
        )
        domains.append(dom)
        k = kid(key)
        out.append(f"dim({k}).")
        if key in multivalued or key == "aws:calledvia":
            out.append(f"dim_multivalued({k}).")
        if key in ALWAYS_PRESENT or key in present:
            out.append(f"dim_always_present({k}).")
        if key == "aws:calledvia":
            out.append(f"calledvia_group({k},{kid('aws:calledviafirst')},{kid('aws:calledvialast')}).")
        if key == "aws:viaawsservice":
            out.append(f"via_key({k}).")
        if key == "aws:sourcevpce" and q.vpc_endpoint_policy:
            out.append(f"vpce_key({k}).")
        for rg in dom.regions:
            v = program.intern("v:" + rg.witness)
            value_names[v] = rg.witness
            out.append(f"region({k},{v}).")
            if rg.witness.lower() == "true":
                out.append(f"region_true({k},{v}).")
            if any(compare(f, pat, rg.witness) for f, pat in excluded):
                out.append(f"forbidden({k},{v}).")
            for m in members:
                for c in by_key.get(m, []):
                    if program.value_matches(c, rg.witness, singles):
                        out.append(f"value_match(1,{c.cid},{v}).")
    keynames = {kid(k): k for k in searched}
    spelling = {}
    for c in conds:
        spelling.setdefault(c.key_text, c.label.split(" ", 1)[1])
    spelling["aws:calledvia"] = "aws:CalledVia"

    def decode(symbols: list[clingo.Symbol]):
        ctx: dict[str, list[str]] = {k: list(v) for k, v in q.where.items()}
        picks: dict[str, list[str]] = {}
        first = last = None
        action = actions[0]
        resource = q.resource
        for s in symbols:
            if s.name == "pick":
                picks.setdefault(keynames[s.arguments[0].number], []).append(value_names[s.arguments[1].number])
            elif s.name == "first":
                first = value_names[s.arguments[0].number]
            elif s.name == "last":
                last = value_names[s.arguments[0].number]
            elif s.name == "pick_action":
                action = action_names[s.arguments[0].number]
            elif s.name == "pick_resource":
                resource = resource_names[s.arguments[0].number]
        for key, values in picks.items():
            if key == "aws:calledvia":
                middle = [v for v in sorted(values) if v not in (first, last)]
                ordered = [first] + middle + ([last] if len(values) > 1 else [])
                ctx["aws:CalledVia"] = ordered
            elif key in multivalued:
                ctx[spelling.get(key, key)] = sorted(values)
            else:
                ctx[spelling.get(key, key)] = values[0]
        req = Request(
            principal=q.principal,
            action=action,
            resource=resource,
            resource_account=resource_account if is_pattern(q.resource) or q.resource_account else None,
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
        inp = DecideInput(
            request=req,
            identity_policies=q.identity_policies,
            resource_policy=q.resource_policy,
            permission_boundary=q.permission_boundary,
            session_policy=q.session_policy,
            scps=q.scps,
            rcps=q.rcps,
            vpc_endpoint_policy=q.vpc_endpoint_policy,
            management_account=q.management_account,
        )
        return inp, symbols

    return out, domains, decode


def _glob(pattern: str, value: str) -> bool:
    from reasoner.policy.patterns import plain_glob_match

    return plain_glob_match(pattern, value)


def _qualified(c) -> bool:
    """Is condition c written with ForAnyValue / ForAllValues (so its key takes a set)?"""
    return c.label.split(" ", 1)[0].lower().startswith(("foranyvalue:", "forallvalues:"))


def batch_line(inp: DecideInput) -> dict:
    def doc(p: NamedPolicy | None):
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
    for flag, p in (
        ("--resource-policy", inp.resource_policy),
        ("--boundary", inp.permission_boundary),
        ("--session-policy", inp.session_policy),
        ("--vpce-policy", inp.vpc_endpoint_policy),
    ):
        if p is not None:
            args += [flag, p.name]
    for flag, levels in (("--scp", inp.scps), ("--rcp", inp.rcps)):
        for level in levels or []:
            args += [flag, ",".join(p.name for p in level)]
    if inp.management_account:
        args += ["--management-account", inp.management_account]
    return " ".join(shlex.quote(a) for a in args)
