"""Request paths through an account: `who-can` and `reach`.

A path is principal -> (sts:AssumeRole)* -> first call -> service hop* -> target action
(DESIGN: paths). Every hop is one request authorised by the full evaluation (`can` over the
hop's request space, on top of the decision encodings), with what the hop sets:

* the first call comes from the caller's own network: aws:SourceVpce / SourceIp / SourceVpc are
  free, CalledVia is empty and aws:ViaAWSService false;
* a service hop (forward access session) appends the calling service to aws:CalledVia,
  ViaAWSService is true, and aws:SourceVpce / SourceVpc / VpcSourceIp are absent; aws:SourceIp
  is left free there, since the docs do not say it is absent (reasoner/data/service_chains.json,
  "hop_rules", cites the AWS docs for each key);
* a role session carries the role's policies, boundary and tags (aws:PrincipalTag/*); tags the
  role does not have are absent.

When the snapshot lists VPC endpoints, a first call comes from outside every endpoint or through
one of the listed endpoints of the action's service, and then meets that endpoint's policy.
Without endpoints in the snapshot aws:SourceVpce is searched like any other key.

Exactness: a hop is "possible" only with a witness the concrete decider allows; "impossible"
only when the search was complete; anything else makes the answer "unknown" with the reason.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from reasoner.account.model import Entity, Snapshot
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import Policy
from reasoner.policy.patterns import arn_match, plain, plain_glob_match
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.can import CanAnswer, Query, batch_line, can, decide_command_for, is_pattern


def fas_absent_keys() -> list[str]:
    """Keys a forward-access-session hop does not carry (service_chains.json "hop_rules": the
    network keys of the caller's own request). Keys the docs leave open there, such as
    aws:SourceIp (the service's address), stay searched: an over-approximation, never a guess."""
    from reasoner.account.chains import load_chains

    return [r.key for r in load_chains().hop_rules.keys if r.fas_hop == "absent"]


ASSUME_ACTION = "sts:AssumeRole"


def assume_action(e: Entity) -> str:
    """How this principal becomes a role: SAML and web identity (OIDC) users have their own calls."""
    if e.kind != "federated":
        return ASSUME_ACTION
    return "sts:AssumeRoleWithSAML" if ":saml-provider/" in e.arn else "sts:AssumeRoleWithWebIdentity"


MAX_CHAIN_DEPTH = 2
Outcome = Literal["possible", "impossible", "unknown"]


@dataclass(frozen=True)
class Constraints:
    """What a path must avoid: services in CalledVia (on any hop), endpoints on the first call."""

    without_via: tuple[str, ...] = ()
    not_from_vpce: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # context keys fixed on the target request
    strict: bool = False  # every key the target request does not fix is absent (no search)


@dataclass
class Hop:
    kind: Literal["assume", "call", "service"]  # assume a role, first call, call made by a service
    principal: str  # who the request is authorised for
    action: str
    resource: str
    called_via: list[str]
    context: dict  # the witness request's context (the conditions that remain)
    # Built on demand (most hops of a large who-can are never printed):
    _input: DecideInput | None = None  # the concrete witness request with its layers
    _witness: dict | None = None  # a `decide --batch` line
    decide_command_for: str | None = None
    _snapshot_command: str | None = None
    _auth: Authorizer | None = None

    @property
    def witness(self) -> dict | None:
        if self._witness is None and self._input is not None:
            self._witness = batch_line(self._input)
        return self._witness

    @property
    def decide_command(self) -> str | None:
        if self._auth is not None and self._auth.snap.origin:  # a snapshot: decide --snapshot
            if self._snapshot_command is None:
                self._snapshot_command = self._auth.command(self)
            return self._snapshot_command
        if self.decide_command_for is None and self._input is not None:
            self.decide_command_for = decide_command_for(self._input)
        return self.decide_command_for

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "called_via": self.called_via,
            "context": self.context,
            "decide_command": self.decide_command,
        }


@dataclass
class Path:
    principal: str
    hops: list[Hop]

    def to_json(self) -> dict:
        return {"principal": self.principal, "length": len(self.hops), "hops": [h.to_json() for h in self.hops]}


@dataclass
class HopCheck:
    """One authorisation question: `who` does `action` on `resource` on hop `called_via`."""

    who: Entity
    action: str
    resource: str
    called_via: tuple[str, ...] = ()
    endpoint: str | None = None  # first call through this endpoint (None: from outside every endpoint)
    constraints: Constraints = Constraints()
    target: bool = False  # the path's target request (where --where / --strict apply)


@dataclass
class HopResult:
    outcome: Outcome
    hop: Hop | None = None
    reason: str | None = None


@dataclass
class Stats:
    searches: int = 0
    plain_decisions: int = 0
    seconds: float = 0.0


class Authorizer:
    """Answers HopChecks for one snapshot, with caches shared by every query on it.

    Concrete hops are first decided in one batch with the plain request (only the keys the hop
    fixes); when that is an allow it is the witness, and when no statement that can apply has a
    condition or a policy variable the deny is final. Everything else goes to the search.
    """

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.cache: dict[tuple, HopResult] = {}
        self.stats = Stats()

    # -- request spaces ---------------------------------------------------------------------------
    def _where_absent(self, c: HopCheck) -> tuple[dict[str, list[str]], list[str]]:
        e = c.who
        where: dict[str, list[str]] = {f"aws:PrincipalTag/{k}": [v] for k, v in e.tags.items()}
        absent: list[str] = []
        if self.snap.org_id and self.snap.levels_for(e.account, "scp") is not None:
            where["aws:PrincipalOrgID"] = [self.snap.org_id]
        if c.called_via:
            where["aws:CalledVia"] = list(c.called_via)
            where["aws:ViaAWSService"] = ["true"]
            absent += fas_absent_keys()
        else:
            # The caller's own request: no service in between (hop_rules "direct").
            absent += ["aws:CalledVia"]
            where["aws:ViaAWSService"] = ["false"]
            if c.endpoint:
                where["aws:SourceVpce"] = [c.endpoint]
                ep = self.snap.endpoints.get(c.endpoint)
                if ep and ep.vpc:
                    where["aws:SourceVpc"] = [ep.vpc]
            elif self.snap.endpoints:
                absent.append("aws:SourceVpce")
        return where, absent

    def query(self, c: HopCheck) -> Query:
        e = c.who
        where, absent = self._where_absent(c)
        if c.target:
            for k, v in c.constraints.where:
                where.setdefault(k, []).append(v)
        rp = None
        resource_account = None
        if c.action.lower().startswith("sts:assumerole") and c.resource in self.snap.principals:
            target = self.snap.principals[c.resource]
            rp = target.trust_policy
            resource_account = target.account
        elif not is_pattern(c.resource):
            found = self.snap.resource_policy_for(c.resource)
            if found:
                rp, resource_account = found.policy, found.account
        else:
            # A request acts on a resource of its own service (sts: IAM roles): only those
            # resources' policies can apply.
            service = c.action.split(":", 1)[0].lower()
            service = "iam" if service == "sts" else service
            covered = self.snap.resource_policies_covered(c.resource, None if service == "*" else service)
            if len(covered) > 1:
                raise InputError(
                    f"the resource pattern {c.resource!r} covers {len(covered)} resources with "
                    "different resource policies; ask about each one",
                    path=("resource",),
                )
            if covered:
                rp, resource_account = covered[0].policy, covered[0].account
        if resource_account is None and c.resource.startswith("arn:aws:s3:::"):
            resource_account = e.account  # S3 ARNs carry no account: the snapshot's own buckets
        if resource_account is None and c.resource == "*":
            resource_account = e.account  # an action without resource types: the caller's account
        if resource_account is None:
            parts = c.resource.split(":", 5)
            if len(parts) == 6 and parts[4].isdigit() and len(parts[4]) == 12:
                resource_account = parts[4]
        vpce_policy = None
        if c.endpoint:
            ep = self.snap.endpoints.get(c.endpoint)
            vpce_policy = ep.policy if ep else None
        return Query(
            principal=e.arn,
            action=c.action,
            resource=c.resource,
            resource_account=resource_account,
            where=where,
            absent=absent,
            without_via=list(c.constraints.without_via),
            not_from_vpce=list(c.constraints.not_from_vpce) if not c.called_via else [],
            identity_policies=list(e.identity_policies),
            resource_policy=rp,
            permission_boundary=e.boundary,
            scps=self.snap.levels_for(e.account, "scp"),
            rcps=self.snap.levels_for(resource_account or e.account, "rcp"),
            vpc_endpoint_policy=vpce_policy,
            management_account=self.snap.management_account,
            absent_prefixes=("",) if c.target and c.constraints.strict else ("aws:principaltag/",),
        )

    def decide_input(self, principal: str, action: str, resource: str, context: dict) -> DecideInput:
        """A concrete request with every layer the snapshot gives it (`decide --snapshot`): the
        principal's policies, boundary and tags, the resource's (or trust) policy, SCPs, RCPs,
        and the endpoint's policy when aws:SourceVpce names an endpoint of the snapshot."""
        e = self.snap.entity(principal)
        ctx = {k.lower(): k for k in context}
        via = context.get(ctx.get("aws:calledvia", ""), [])
        via = tuple(via if isinstance(via, list) else [via])
        vpce = context.get(ctx.get("aws:sourcevpce", ""))
        endpoint = vpce if isinstance(vpce, str) and vpce in self.snap.endpoints else None
        q = self.query(HopCheck(e, action, resource, via, endpoint))
        full = dict(context)
        for k, v in q.where.items():
            if k.lower() not in ctx and k.lower() not in ("aws:calledvia", "aws:viaawsservice"):
                full[k] = v if len(v) != 1 else v[0]
        return DecideInput(
            request=Request(
                principal=e.arn, action=action, resource=resource, resource_account=q.resource_account, context=full
            ),
            identity_policies=q.identity_policies,
            resource_policy=q.resource_policy,
            permission_boundary=q.permission_boundary,
            scps=q.scps,
            rcps=q.rcps,
            vpc_endpoint_policy=q.vpc_endpoint_policy,
            management_account=q.management_account,
        )

    def command(self, hop: Hop) -> str:
        """The hop as a ready `reasoner decide --snapshot` command."""
        import shlex

        args = ["reasoner", "decide"]
        for o in self.snap.origin:
            args += ["--snapshot", o]
        args += ["--principal", hop.principal, "--action", hop.action, "--resource", hop.resource]
        for k, v in hop.context.items():
            if k.lower().startswith("aws:principaltag/") or k.lower() in ("aws:principalorgid", "aws:viaawsservice"):
                continue  # the snapshot gives these
            for item in v if isinstance(v, list) else [v]:
                args += ["--context", f"{k}={str(item).lower() if isinstance(item, bool) else item}"]
        return " ".join(shlex.quote(a) for a in args)

    # -- answers ----------------------------------------------------------------------------------
    def check_many(self, checks: list[HopCheck], groups: list | None = None) -> list[HopResult | None]:
        """Answer every check. With `groups`, a check whose group already has a possible answer
        is not searched (its result is None): one way per group is enough."""
        t0 = time.perf_counter()
        out: list[HopResult | None] = [None] * len(checks)
        todo: list[tuple[int, HopCheck, Query]] = []
        for i, c in enumerate(checks):
            key = hop_cache_key(c)
            if key in self.cache:
                out[i] = self.cache[key]
            elif c.who.incomplete:
                out[i] = self.cache[key] = HopResult("unknown", reason=f"{c.who.arn}: {c.who.incomplete[0]}")
            elif (broken := self.snap.broken_policy_for(c.resource)) is not None:
                out[i] = self.cache[key] = HopResult("unknown", reason=f"the resource policy is unknown: {broken}")
            else:
                try:
                    q = self.query(c)
                except InputError as exc:
                    out[i] = self.cache[key] = HopResult("unknown", reason=exc.message)
                    continue
                if not _may_allow(q):
                    # Sound: an allow needs an Allow statement whose Action and Resource can match.
                    out[i] = self.cache[key] = HopResult(
                        "impossible", reason="no Allow statement of any policy can match the action and resource"
                    )
                    continue
                todo.append((i, c, q))
        # Plain concrete requests first, all in one grounding; a resource pattern is tried on one
        # ARN it names (an allow there is a witness; a deny proves nothing and goes to the search).
        plain_idx = [(i, c, q, None) for i, c, q in todo if _concrete(q) or _representable(q)]
        # Then contexts that satisfy some Allow statement's conditions literally (cheap witnesses).
        base = list(plain_idx)
        free = {i: _free_keys(q) for i, _c, q, _ in base}
        for i, c, q, _ in base:
            contexts = [{}] + _candidate_contexts(q, free[i])
            resources = [None] + _candidate_resources(q)
            plain_idx += [
                (i, c, q, {**ctx, **({"__resource__": r} if r else {})})
                for r in resources
                for ctx in contexts
                if r or ctx
            ]
        inputs = [_plain_input(q, ctx) for _, _, q, ctx in plain_idx]
        decisions = decide_many(inputs) if inputs else []
        self.stats.plain_decisions += len(inputs)
        settled = set()
        for (i, c, q, ctx), inp, d in zip(plain_idx, inputs, decisions):
            if i in settled:
                continue
            if d.decision == "allow":
                out[i] = HopResult("possible", hop=self._with_command(_hop(c, inp)))
                settled.add(i)
            elif d.decision is not None and ctx is None and _concrete(q) and not free[i]:
                out[i] = HopResult(
                    "impossible",
                    reason="no statement that can apply has a condition or a "
                    "policy variable, and the request is " + d.decision.replace("_", " "),
                )
                settled.add(i)
        found = {
            groups[i]
            for i in range(len(checks))
            if groups is not None and out[i] is not None and out[i].outcome == "possible"
        }
        # The searches: grouped (one possible answer per group is enough), groups spread over
        # the cores when there are enough of them to pay for the processes.
        by_group: dict = {}
        for i, _c, q in todo:
            if i in settled or (groups is not None and groups[i] in found):
                continue
            by_group.setdefault(groups[i] if groups is not None else ("#", i), []).append((i, q))
        for i, a in _search_groups_parallel(list(by_group.values())):
            self.stats.searches += 1
            c = checks[i]
            if isinstance(a, str):
                out[i] = HopResult("unknown", reason=a)
                continue
            out[i] = _from_can(c, a)
            if out[i].hop is not None:
                self._with_command(out[i].hop)
        for i, c, _q in todo:
            if out[i] is not None:
                self.cache[hop_cache_key(c)] = out[i]
        self.stats.seconds += time.perf_counter() - t0
        return out  # type: ignore[return-value]

    def _with_command(self, hop: Hop) -> Hop:
        hop._auth = self
        return hop

    def first_calls(
        self, who: Entity, action: str, resource: str, cons: Constraints, target: bool = False
    ) -> list[HopCheck]:
        """The ways a first call can arrive: from outside every endpoint, or through each listed
        endpoint of the action's service (minus --not-from-vpce)."""
        service = action.split(":", 1)[0].lower()
        checks = [HopCheck(who, action, resource, (), None, cons, target)]
        for ep in self.snap.endpoints_for(service):
            if ep.id not in cons.not_from_vpce:
                checks.append(HopCheck(who, action, resource, (), ep.id, cons, target))
        return checks


SEARCH_WORKERS = int(os.environ.get("REASONER_WORKERS", min(2, os.cpu_count() or 1)))
MIN_PARALLEL_SEARCHES = 12


def _search_groups(groups: list[list[tuple[int, Query]]]) -> list[tuple[int, CanAnswer | str]]:
    """Search each group's queries in order, stopping a group at its first possible answer."""
    out: list[tuple[int, CanAnswer | str]] = []
    for group in groups:
        for i, q in group:
            try:
                a = can(q)
            except InputError as exc:
                out.append((i, exc.message))
                continue
            out.append((i, a))
            if a.answer == "possible":
                break
    return out


def _search_groups_parallel(groups: list[list[tuple[int, Query]]]) -> list[tuple[int, CanAnswer | str]]:
    n = sum(len(g) for g in groups)
    if SEARCH_WORKERS < 2 or n < MIN_PARALLEL_SEARCHES or multiprocessing.current_process().daemon:
        return _search_groups(groups)
    # Balance by the number of queries; each worker keeps its groups' early stops.
    shares: list[list] = [[] for _ in range(SEARCH_WORKERS)]
    sizes = [0] * SEARCH_WORKERS
    for g in sorted(groups, key=len, reverse=True):
        k = sizes.index(min(sizes))
        shares[k].append(g)
        sizes[k] += len(g)
    with multiprocessing.get_context("fork").Pool(SEARCH_WORKERS) as pool:
        parts = pool.map(_search_groups, shares)
    return [x for part in parts for x in part]


def hop_cache_key(c: HopCheck) -> tuple:
    # Only the constraints that can change this hop's request space: --without-via restricts
    # CalledVia (absent on a first call), --not-from-vpce the first call's SourceVpce, --where /
    # --strict the target request.
    k = c.constraints
    relevant = (
        k.without_via if c.called_via else (),
        () if c.called_via else k.not_from_vpce,
        k.where if c.target else (),
        k.strict and c.target,
    )
    return (c.who.arn, c.action.lower(), c.resource, c.called_via, c.endpoint, relevant, c.target)


def _concrete(q: Query) -> bool:
    return not is_pattern(q.action) and not is_pattern(q.resource) and catalogue.lookup(q.action) is not None


def _representable(q: Query) -> bool:
    """A concrete action on a resource pattern whose stand-in ARN is well formed (or "*", the
    resource of actions without resource types)."""
    return (
        not is_pattern(q.action)
        and catalogue.lookup(q.action) is not None
        and (q.resource == "*" or len(q.resource.split(":", 5)) == 6)
        and q.resource_account is not None
    )


def _stand_in(resource: str) -> str:
    """One ARN a pattern names: every wildcard becomes 'x' (the region is arn:aws:ec2:x:...)."""
    return resource if resource == "*" else resource.replace("*", "x").replace("?", "x")


def _candidate_resources(q: Query, limit: int = 3) -> list[str]:
    """ARNs inside the queried pattern that an Allow statement's Resource names, built component
    by component (fixed parts of either side, wildcards as 'x'): concrete tries before a search."""
    if not is_pattern(q.resource) or q.resource == "*":
        return []
    qparts = q.resource.split(":", 5)
    if len(qparts) != 6:
        return []
    action = q.action.lower()
    out: list[str] = []
    for pol in [p.policy for p in q.identity_policies] + ([q.resource_policy.policy] if q.resource_policy else []):
        for st in pol.Statement:
            if st.Effect != "Allow" or not covers_action(st, action):
                continue
            for r in st.Resource or []:
                rparts = r.split(":", 5)
                if r == "*" or "${" in r or len(rparts) != 6:
                    continue
                for filler in ("x", "x/x"):  # a wildcard of the resource part may span a "/"
                    cand = ":".join(
                        qa
                        if not is_pattern(qa)
                        else ra
                        if not is_pattern(ra)
                        else ra.replace("*", filler if n == 5 else "x").replace("?", "x")
                        for n, (qa, ra) in enumerate(zip(qparts, rparts))
                    )
                    if cand not in out and arn_match(plain(q.resource), cand) and arn_match(plain(r), cand):
                        out.append(cand)
                        if len(out) >= limit:
                            return out
                        break
    return out


def _may_allow(q: Query) -> bool:
    """Sound prefilter: some Allow statement (identity, or a resource policy naming anyone or
    this principal) whose Action and Resource can match."""
    action = q.action.lower()
    for p in q.identity_policies:
        if _policy_may_allow(p.policy, action, q.resource):
            return True
    if q.resource_policy is not None:
        for st in q.resource_policy.policy.Statement:
            if st.Effect == "Allow" and covers_action(st, action):
                return True
    return False


def _plain_input(q: Query, extra: dict | None = None) -> DecideInput:
    extra = dict(extra or {})
    resource = extra.pop("__resource__", None) or _stand_in(q.resource)
    fixed = {**extra, **q.where}
    ctx = {k: (v if k.lower() == "aws:calledvia" or len(v) != 1 else v[0]) for k, v in fixed.items()}
    return DecideInput(
        request=Request(
            principal=q.principal, action=q.action, resource=resource, resource_account=q.resource_account, context=ctx
        ),
        identity_policies=q.identity_policies,
        resource_policy=q.resource_policy,
        permission_boundary=q.permission_boundary,
        scps=q.scps,
        rcps=q.rcps,
        vpc_endpoint_policy=q.vpc_endpoint_policy,
        management_account=q.management_account,
    )


def _policies(q: Query) -> list[Policy]:
    out = [p.policy for p in q.identity_policies]
    for p in (q.resource_policy, q.permission_boundary, q.session_policy, q.vpc_endpoint_policy):
        if p is not None:
            out.append(p.policy)
    for levels in (q.scps or [], q.rcps or []):
        out += [p.policy for level in levels for p in level]
    return out


_DERIVED = (
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:username",
    "aws:calledviafirst",
    "aws:calledvialast",
)


def _free_keys(q: Query) -> set[str]:
    """Context keys that statements which can apply read and that the request space leaves free
    (not fixed by `where`, not absent, not derived from the principal or aws:CalledVia). With
    none, the context cannot change the decision: the plain request is the only request."""
    action = q.action.lower()
    fixed = {k.lower() for k in q.where} | {k.lower() for k in q.absent} | set(_DERIVED)
    prefixes = tuple(p.lower() for p in q.absent_prefixes)
    out = set()
    for pol in _policies(q):
        for st in pol.Statement:
            if not (st.Condition or _has_variable(st)) or not covers_action(st, action):
                continue
            keys = {k.lower() for block in (st.Condition or {}).values() for k in block}
            for r in (
                list(st.Resource or [])
                + list(st.NotResource or [])
                + [v for block in (st.Condition or {}).values() for vs in block.values() for v in vs]
            ):
                keys |= {m.lower() for m in _VARIABLE.findall(r)}
            out |= {k for k in keys if k not in fixed and not (prefixes and k.startswith(prefixes))}
    return out


_VARIABLE = __import__("re").compile(r"\$\{([^}:]+:[^}]+?)(?:,\s*'[^']*')?\}")


def _candidate_contexts(q: Query, free: set[str], limit: int = 4) -> list[dict[str, list[str]]]:
    """Contexts that satisfy the positive conditions of Allow statements literally (StringEquals,
    StringLike without wildcards, Bool, ArnEquals...), to try concretely before a search: an
    allow there is a witness; a deny proves nothing."""
    action = q.action.lower()
    out = []
    for pol in _policies(q):
        for st in pol.Statement:
            if st.Effect != "Allow" or not st.Condition or not covers_action(st, action):
                continue
            ctx: dict[str, list[str]] = {}
            for op, key, values in st.operators():
                k = key.lower()
                if k not in free or op.negated or not values:
                    continue
                v = values[0].replace(
                    "${aws:PrincipalAccount}", q.principal.split(":")[4] if q.principal.count(":") >= 5 else ""
                )
                if "${" in v:
                    continue
                if op.family in ("string_equals", "string_equals_ic", "arn_equals", "bool", "numeric_equals") or (
                    op.family in ("string_like", "arn_like") and "$" not in v
                ):
                    ctx[key] = [v.replace("*", "x").replace("?", "x")]
                elif op.family == "ip_address":
                    ctx[key] = [v.split("/", 1)[0]]
            if ctx and ctx not in out:
                out.append(ctx)
            if len(out) >= limit:
                return out
    return out


_VIA_KEYS = ("aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:viaawsservice")


def _via_matters(q: Query) -> bool:
    """Does a statement that can apply to this action read aws:CalledVia* or aws:ViaAWSService
    (in a condition or a policy variable)?"""
    action = q.action.lower()
    for pol in _policies(q):
        for st in pol.Statement:
            if not covers_action(st, action):
                continue
            keys = [k.lower() for block in (st.Condition or {}).values() for k in block]
            texts = [v for block in (st.Condition or {}).values() for vs in block.values() for v in vs]
            texts += list(st.Resource or []) + list(st.NotResource or [])
            if any(k.startswith(_VIA_KEYS) for k in keys) or any(
                "${aws:calledvia" in t.lower() or "${aws:viaawsservice" in t.lower() for t in texts
            ):
                return True
    return False


def _has_variable(st) -> bool:
    for element in (st.Resource, st.NotResource):
        if element and any("${" in r for r in element):
            return True
    return False


def _hop(c: HopCheck, inp: DecideInput) -> Hop:
    kind = (
        "assume"
        if c.action.lower().startswith("sts:assumerole") and not c.called_via
        else ("service" if c.called_via else "call")
    )
    return Hop(
        kind=kind,
        principal=c.who.arn,
        action=inp.request.action,
        resource=inp.request.resource,
        called_via=list(c.called_via),
        context=dict(inp.request.context),
        _input=inp,
    )


def _from_can(c: HopCheck, a: CanAnswer) -> HopResult:
    if a.answer != "possible":
        return HopResult(a.answer, reason=a.reason)
    req = a.witness["request"]
    kind = (
        "assume"
        if c.action.lower().startswith("sts:assumerole") and not c.called_via
        else ("service" if c.called_via else "call")
    )
    return HopResult(
        "possible",
        hop=Hop(
            kind=kind,
            principal=c.who.arn,
            action=req["action"],
            resource=req["resource"],
            called_via=list(c.called_via),
            context=req.get("context", {}),
            decide_command_for=a.decide_command,
            _witness=a.witness,
        ),
    )


# -- statement-level prefilters (sound: an allow needs an Allow statement that can apply) ------------

_COVERS: dict[tuple[int, str], tuple[object, bool]] = {}


def covers_action(st, action: str) -> bool:
    """Can the statement's Action / NotAction cover `action` (a name, or a pattern: then
    conservatively, any overlap of service parts counts)? Cached per statement object (kept
    alive by the entry, so its id is not reused)."""
    key = (id(st), action)
    hit = _COVERS.get(key)
    if hit is None:
        if len(_COVERS) > 1_000_000:
            _COVERS.clear()
        hit = _COVERS[key] = (st, _covers_action_uncached(st, action))
    return hit[1]


def _covers_action_uncached(st, action: str) -> bool:
    if is_pattern(action):
        if st.Action is None:
            return True
        return any(_services_overlap(p, action) for p in st.Action)
    pats = st.Action if st.Action is not None else st.NotAction
    hit = any(plain_glob_match(p.lower(), action) for p in pats or [])
    return hit != (st.Action is None)


def _services_overlap(p: str, q: str) -> bool:
    a, b = p.lower().split(":", 1)[0], q.lower().split(":", 1)[0]
    return "*" in a or "*" in b or "?" in a or "?" in b or a == b


def _may_cover_resource(st, resource: str) -> bool:
    if st.NotResource is not None:
        return True
    for r in st.Resource or []:
        if "${" in r or r == "*" or is_pattern(resource):
            return True
        if arn_match(plain(r), resource):
            return True
    return False


_MAY_ALLOW: dict[tuple[int, str, str], tuple[Policy, bool]] = {}


def _policy_may_allow(policy: Policy, action: str, resource: str) -> bool:
    # Keyed by the policy object: managed policies are shared by many principals of a snapshot.
    # The entry holds the policy, so its id cannot be reused while the entry lives.
    key = (id(policy), action, resource)
    hit = _MAY_ALLOW.get(key)
    if hit is None:
        if len(_MAY_ALLOW) > 500_000:
            _MAY_ALLOW.clear()
        hit = _MAY_ALLOW[key] = (
            policy,
            any(
                st.Effect == "Allow" and covers_action(st, action) and _may_cover_resource(st, resource)
                for st in policy.Statement
            ),
        )
    return hit[1]


def may_allow_identity(e: Entity, action: str, resource: str) -> bool:
    action = action.lower()
    return any(_policy_may_allow(p.policy, action, resource) for p in e.identity_policies)


def may_allow_resource(rp: NamedPolicy | None, e: Entity, action: str) -> bool:
    if rp is None:
        return False
    action = action.lower()
    for st in rp.policy.Statement:
        if st.Effect.lower() != "allow" or not covers_action(st, action):
            continue
        if st.NotPrincipal is not None:
            return True
        # Only a grant to "*" or to the principal itself can allow on its own (or with an identity
        # allow across accounts); a grant naming the account delegates to the identity policies,
        # which may_allow_identity checks (layers.lp: resource_grant How = account).
        entries = [v for _, v in st.Principal.entries()] if st.Principal is not None else []
        if any(v == "*" or v == e.arn for v in entries):
            return True
        if e.kind == "federated" and any(v == e.arn.removeprefix("federated:") for v in entries):
            return True
    return False


# -- who-can and reach -----------------------------------------------------------------------------


@dataclass
class Route:
    """How one identity does the target itself: hops after any role assumption."""

    hops: list[Hop]


@dataclass
class PrincipalAnswer:
    principal: str
    outcome: Outcome
    path: Path | None = None
    reason: str | None = None

    def to_json(self) -> dict:
        out = {"principal": self.principal, "answer": self.outcome}
        if self.path:
            out["path"] = self.path.to_json()
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class WhoCanAnswer:
    action: str
    resource: str
    principals: list[PrincipalAnswer]
    unknown: list[PrincipalAnswer]
    stats: Stats = field(default_factory=Stats)

    def to_json(self) -> dict:
        return {
            "action": self.action,
            "resource": self.resource,
            "principals": [p.to_json() for p in self.principals],
            "unknown": [p.to_json() for p in self.unknown],
            "stats": {
                "searches": self.stats.searches,
                "plain_decisions": self.stats.plain_decisions,
                "seconds": round(self.stats.seconds, 3),
            },
        }


def _chains_for(action: str, cons: Constraints) -> list[list]:
    """Service chains that can end in `action`, in call order: lists of catalogue chain entries
    (reasoner/data/service_chains.json), at most MAX_CHAIN_DEPTH services, none of them in
    --without-via, each service at most once."""
    from reasoner.account.chains import load_chains

    chains = load_chains()
    banned = {s.lower() for s in cons.without_via}
    out: list[list] = []
    seen: set[tuple] = set()

    def callers(target: str) -> list:
        if is_pattern(target):  # a pattern target: every chain that may call into it
            return [c for c in chains.chains if any(_services_overlap(p, target) for p in c.calls)]
        return chains.callers_of(target)

    def extend(target: str, tail: list) -> None:
        for ch in callers(target):
            if ch.service.lower() in banned or any(ch.service == t.service for t in tail):
                continue
            route = [ch] + tail
            key = tuple(c.id for c in route)
            if key in seen:
                continue
            seen.add(key)
            out.append(route)
            if len(route) < MAX_CHAIN_DEPTH:
                for trig in ch.trigger_actions():
                    extend(trig, route)

    extend(action, [])
    out.sort(key=len)
    return out


def _trigger_resource(service_action: str, who: Entity) -> str:
    svc = service_action.split(":", 1)[0]
    return f"arn:aws:{svc}:*:{who.account}:*"


class PathFinder:
    """who-can / reach over one snapshot; one Authorizer (and its caches) for every query."""

    def __init__(self, snap: Snapshot, progress: Callable[[str, int, int], None] | None = None):
        self.snap = snap
        self.auth = Authorizer(snap)
        self.progress = progress or (lambda what, done, total: None)
        self._assume_cache: dict[tuple, HopResult] = {}
        self._trust = None
        self._candidates: dict[str, list[Entity]] = {}

    # Routes of one identity (no role assumption): direct first call, then via service chains.
    def routes(
        self, who_list: list[Entity], action: str, resource: str, cons: Constraints, *, all_routes: bool = False
    ) -> dict[str, tuple[list[Route], list[str]]]:
        """arn -> (routes found shortest first, reasons for unknown)."""
        result: dict[str, tuple[list[Route], list[str]]] = {e.arn: ([], []) for e in who_list}
        broken = self.snap.broken_policy_for(resource) is not None
        cands = [
            e
            for e in who_list
            if e.incomplete
            or broken
            or may_allow_identity(e, action, resource)
            or may_allow_resource(self._rp(action, resource), e, action)
        ]
        for e in who_list:
            if e.incomplete:
                result[e.arn][1].append(f"{e.incomplete[0]}")
        cands = [e for e in cands if not e.incomplete]
        # 1. the target as a first call (per endpoint option); one way per principal is enough
        #    unless every route is asked for
        checks = [c for e in cands for c in self.auth.first_calls(e, action, resource, cons, target=True)]
        res = self.auth.check_many(checks, None if all_routes else [c.who.arn for c in checks])
        for c, r in zip(checks, res):
            if r is not None:
                self._record(result, c.who, r, [])
        # 2. via service chains. A service hop differs from a direct call without an endpoint only
        #    in aws:CalledVia* / aws:ViaAWSService (its network keys are absent, a choice the direct
        #    call has too), so it can succeed where the direct call failed only when a statement
        #    that can apply reads those keys.
        chain_cands = [
            e
            for e in cands
            if all_routes
            or (
                not result[e.arn][0]
                and _via_matters(self.auth.query(HopCheck(e, action, resource, (), None, cons, True)))
            )
        ]
        for route in _chains_for(action, cons):
            need = [e for e in chain_cands if all_routes or not result[e.arn][0]]
            if not need:
                break
            self._chain_routes(need, route, action, resource, cons, result)
        return result

    def _rp(self, action: str, resource: str) -> NamedPolicy | None:
        if action.lower().startswith("sts:assumerole") and resource in self.snap.principals:
            return self.snap.principals[resource].trust_policy
        if is_pattern(resource):
            cov = self.snap.resource_policies_covered(resource)
            return cov[0].policy if len(cov) == 1 else None
        rp = self.snap.resource_policy_for(resource)
        return rp.policy if rp else None

    def _record(self, result, who: Entity, r: HopResult, prefix: list[Hop]) -> None:
        routes, unknown = result[who.arn]
        if r.outcome == "possible":
            routes.append(Route(prefix + [r.hop]))
        elif r.outcome == "unknown":
            unknown.append(r.reason or "unknown")

    def _chain_routes(self, who_list, route: list, action, resource, cons, result) -> None:
        """Hop 0: a trigger of the first service from the caller's network; hop k: a trigger of
        the next service that the previous one calls, with CalledVia so far; last: the target.
        Each hop is checked for every principal still on the route in one batch."""
        services = tuple(c.service for c in route)
        alive: dict[str, list[Hop]] = {}
        checks: list[HopCheck] = []
        for e in who_list:
            for trig in route[0].trigger_actions():
                if may_allow_identity(e, trig, _trigger_resource(trig, e)):  # else denied (sound)
                    checks += self.auth.first_calls(e, trig, _trigger_resource(trig, e), cons)
        for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
            if r is None:
                continue
            if r.outcome == "possible" and c.who.arn not in alive:
                alive[c.who.arn] = [r.hop]
            elif r.outcome == "unknown":
                result[c.who.arn][1].append(r.reason or "unknown")
        for depth in range(1, len(route)):
            checks = []
            for arn in alive:
                e = self.snap.principals[arn]
                checks += [
                    HopCheck(e, trig, _trigger_resource(trig, e), services[:depth], None, cons)
                    for trig in route[depth].trigger_actions()
                    if route[depth - 1].calls_action(trig) and may_allow_identity(e, trig, "*")
                ]
            reached: dict[str, Hop] = {}
            for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
                if r is None:
                    continue
                if r.outcome == "possible" and c.who.arn not in reached:
                    reached[c.who.arn] = r.hop
                elif r.outcome == "unknown":
                    result[c.who.arn][1].append(r.reason or "unknown")
            alive = {arn: hops + [reached[arn]] for arn, hops in alive.items() if arn in reached}
        checks = [HopCheck(self.snap.principals[arn], action, resource, services, None, cons, True) for arn in alive]
        for c, r in zip(checks, self.auth.check_many(checks)):
            self._record(result, c.who, r, alive[c.who.arn])

    # Role assumption edges.
    def _trust_index(self) -> dict[str, tuple[set[str], set[str], bool]]:
        """role ARN -> (principal ARNs its trust policy names, accounts it names, open to anyone)."""
        if getattr(self, "_trust", None) is None:
            idx = {}
            for role in self.snap.principals.values():
                if role.kind != "role" or role.trust_policy is None:
                    continue
                arns, accounts, anyone = set(), set(), False
                for st in role.trust_policy.policy.Statement:
                    if st.Effect != "Allow":
                        continue
                    if st.Principal is not None and any(
                        covers_action(st, a) for a in ("sts:assumerolewithsaml", "sts:assumerolewithwebidentity")
                    ):
                        arns |= {
                            (v if v.startswith("arn:") else f"federated:{v}")
                            for k, v in st.Principal.entries()
                            if k == "Federated"
                        }
                    if not covers_action(st, ASSUME_ACTION.lower()):
                        continue
                    if st.NotPrincipal is not None:
                        anyone = True
                        continue
                    for kind, v in st.Principal.entries() if st.Principal is not None else []:
                        if kind != "AWS":
                            continue
                        if v == "*":
                            anyone = True
                        elif v.isdigit():
                            accounts.add(v)
                        elif v.endswith(":root"):
                            accounts.add(v.split(":")[4])
                        else:
                            arns.add(v)
                idx[role.arn] = (arns, accounts, anyone)
            self._trust = idx
            self._may_assume = {
                e.arn for e in self.snap.principals.values() if may_allow_identity(e, ASSUME_ACTION, "*")
            }
            self._may_assume_by_account: dict[str, list[Entity]] = {}
            for arn in sorted(self._may_assume):
                e = self.snap.principals[arn]
                if e.kind != "federated":
                    self._may_assume_by_account.setdefault(e.account, []).append(e)
        return self._trust

    def assume_candidates(self, role: Entity) -> list[Entity]:
        """Principals a trust policy can let in (sound prefilter): named directly, or of a named
        account with an identity policy that may allow sts:AssumeRole, or anyone."""
        hit = self._candidates.get(role.arn)
        if hit is None:
            hit = self._candidates[role.arn] = self._assume_candidates(role)
        return hit

    def _assume_candidates(self, role: Entity) -> list[Entity]:
        arns, accounts, anyone = self._trust_index().get(role.arn, (set(), set(), False))
        if not arns and not accounts and not anyone:
            return []
        if anyone:
            pool = [e for e in self.snap.principals.values() if e.kind != "federated" or e.arn in arns]
        else:
            # Named principals, and in named accounts only those whose identity policies may
            # allow sts:AssumeRole at all (indexed by account: no scan of the whole snapshot).
            pool = [self.snap.principals[a] for a in arns if a in self.snap.principals]
            pool += [
                e
                for acct in accounts
                for e in self._may_assume_by_account.get(acct, [])
                if e.arn not in arns and may_allow_identity(e, ASSUME_ACTION, role.arn)
            ]
        unique = {e.arn: e for e in pool}
        return [e for e in unique.values() if e.arn != role.arn and not e.incomplete]

    def assume_edges_into(self, role: Entity, cons: Constraints) -> list[tuple[Entity, HopResult]]:
        """Principals that may assume `role`, each with the exact answer."""
        if role.kind != "role" or role.trust_policy is None:
            return []
        cands = self.assume_candidates(role)
        todo = [e for e in cands if (e.arn, role.arn, cons) not in self._assume_cache]
        checks = [c for e in todo for c in self.auth.first_calls(e, assume_action(e), role.arn, cons)]
        res = self.auth.check_many(checks)
        best: dict[str, HopResult] = {}
        for c, r in zip(checks, res):
            prev = best.get(c.who.arn)
            if (
                prev is None
                or (r.outcome == "possible" and prev.outcome != "possible")
                or (r.outcome == "unknown" and prev.outcome == "impossible")
            ):
                best[c.who.arn] = r
        for arn, r in best.items():
            self._assume_cache[(arn, role.arn, cons)] = r
        return [(e, self._assume_cache[(e.arn, role.arn, cons)]) for e in cands]

    def who_can(self, action: str, resource: str, cons: Constraints = Constraints()) -> WhoCanAnswer:
        _check_action(action)
        entities = list(self.snap.principals.values())
        self.progress("direct", 0, len(entities))
        direct = self.routes(entities, action, resource, cons)
        best: dict[str, Path] = {}
        unknown: dict[str, str] = {}
        for arn, (routes, reasons) in direct.items():
            if routes:
                best[arn] = Path(arn, min(routes, key=lambda r: len(r.hops)).hops)
            elif reasons:
                unknown[arn] = reasons[0]
        # Backward search over role assumption: whoever can become a role in `best` can too.
        # Level by level; a principal is checked only when the edge would give it a shorter path,
        # and one edge per principal is enough (the rest are not searched).
        frontier = [a for a in best if self.snap.principals[a].kind == "role"]
        while frontier:
            self.progress("assume", len(best), len(entities))
            checks: list[HopCheck] = []
            for role_arn in frontier:
                length = 1 + len(best[role_arn].hops)
                for e in self.assume_candidates(self.snap.principals[role_arn]):
                    if e.arn in best and len(best[e.arn].hops) <= length:
                        continue
                    checks += self.auth.first_calls(e, assume_action(e), role_arn, cons)
            nxt = []
            for c, r in zip(checks, self.auth.check_many(checks, [c.who.arn for c in checks])):
                if r is None:
                    continue
                e = c.who
                if r.outcome == "possible":
                    cand = Path(e.arn, [r.hop] + best[c.resource].hops)
                    if e.arn not in best or len(cand.hops) < len(best[e.arn].hops):
                        best[e.arn] = cand
                        unknown.pop(e.arn, None)
                        if e.kind == "role":
                            nxt.append(e.arn)
                elif r.outcome == "unknown" and e.arn not in best:
                    unknown.setdefault(e.arn, f"assuming {c.resource}: {r.reason}")
            frontier = list(dict.fromkeys(nxt))
        found = sorted(best.values(), key=lambda p: (len(p.hops), p.principal))
        return WhoCanAnswer(
            action,
            resource,
            [PrincipalAnswer(p.principal, "possible", p) for p in found],
            [PrincipalAnswer(a, "unknown", reason=r) for a, r in sorted(unknown.items())],
            self.auth.stats,
        )

    def reach(
        self, start: str, action: str, resource: str, cons: Constraints = Constraints(), max_paths: int = 20
    ) -> ReachAnswer:
        _check_action(action)
        origin = self.snap.entity(start)
        # Forward over role assumption: shortest assumption chain to every identity.
        chains: dict[str, list[Hop]] = {origin.arn: []}
        order = [origin.arn]
        unknown: list[str] = []
        i = 0
        while i < len(order):
            cur = self.snap.principals[order[i]]
            i += 1
            for role in self.snap.principals.values():
                if (
                    role.kind != "role"
                    or role.arn in chains
                    or all(e.arn != cur.arn for e in self.assume_candidates(role))
                ):
                    continue
                for e, r in self.assume_edges_into(role, cons):
                    if e.arn != cur.arn:
                        continue
                    if r.outcome == "possible":
                        chains[role.arn] = chains[cur.arn] + [r.hop]
                        order.append(role.arn)
                    elif r.outcome == "unknown":
                        unknown.append(f"assuming {role.arn} from {cur.arn}: {r.reason}")
        identities = [self.snap.principals[a] for a in order]
        found = self.routes(identities, action, resource, cons, all_routes=True)
        paths = []
        for arn in order:
            routes, reasons = found[arn]
            for rt in routes:
                paths.append(Path(origin.arn, chains[arn] + rt.hops))
            unknown += [f"{arn}: {r}" for r in reasons]
        paths.sort(key=lambda p: len(p.hops))
        return ReachAnswer(
            origin.arn,
            action,
            resource,
            "possible" if paths else ("unknown" if unknown else "impossible"),
            paths[:max_paths],
            identities=[e.arn for e in identities],
            unknown=unknown,
            stats=self.auth.stats,
        )


@dataclass
class ReachAnswer:
    start: str
    action: str
    resource: str
    answer: Outcome
    paths: list[Path]
    identities: list[str]  # every identity reachable by role assumption (the scope searched)
    unknown: list[str]
    stats: Stats

    def to_json(self) -> dict:
        return {
            "from": self.start,
            "action": self.action,
            "resource": self.resource,
            "answer": self.answer,
            "paths": [p.to_json() for p in self.paths],
            "identities_searched": self.identities,
            "unknown": self.unknown,
        }


def _check_action(action: str) -> None:
    if is_pattern(action):
        if not catalogue.expand(action):
            raise InputError(f"no catalogue action matches {action!r}", path=("action",))
    elif catalogue.lookup(action) is None:
        raise InputError(catalogue.unknown_action_message(action), path=("action",))
