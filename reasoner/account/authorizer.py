"""The Authorizer: answers hop checks for one snapshot. It builds each hop's request space from the
snapshot (policies, boundary, tags, trust or resource policy, SCPs, RCPs, endpoint), tries
concrete requests in one batch, and searches the rest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from typing import overload

from reasoner.account.classes import (
    caller_class,
    caller_key,
    pattern_class,
    resource_class,
    resource_policy_key,
)
from reasoner.account.concrete import (
    candidate_contexts,
    candidate_resources,
    is_concrete,
    is_representable,
    plain_input,
    respects_constraints,
    stand_in,
)
from reasoner.account.hops import (
    Constraints,
    Hop,
    HopCheck,
    HopResult,
    Stats,
    hop_cache_key,
    hop_from_can,
    hop_from_input,
)
from reasoner.account.model import Entity, Snapshot
from reasoner.account.origin import NETWORK_KEYS, UNLISTED_ENDPOINT, OriginKeys, origin_keys
from reasoner.account.parallel import search_groups
from reasoner.account.prefilters import free_keys, keys_read, may_allow_query, only_read_origin_keys
from reasoner.account.session import session_time_keys
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.patterns import plain_glob_match
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.can import Query, is_pattern


def fas_absent_keys() -> list[str]:
    """Keys a forward-access-session hop does not carry (service_chains.json "hop_rules": the
    network keys of the caller's own request). Keys the docs leave open there, such as
    aws:SourceIp (the service's address), stay searched: an over-approximation, never a guess."""
    from reasoner.account.chains import load_chains

    return [r.key for r in load_chains().hop_rules.keys if r.fas_hop == "absent"]


def _origin_conflict(q: Query) -> str | None:
    """Why a key the target request fixes (--where) cannot be sent from this hop's origin, or
    None: a key the origin does not carry, or a value it cannot have (origin.py)."""
    absent = {k.lower() for k in q.absent}
    for k in q.where:
        if k.lower() in absent:
            return f"a request from this origin carries no {k}"
    if not respects_constraints(q, q.where):
        return "a fixed context value cannot be sent from this origin (e.g. a private aws:SourceIp from outside)"
    return None


class Authorizer:
    """Answers HopChecks for one snapshot, with caches shared by every query on it.

    Concrete hops are first decided in one batch with the plain request (only the keys the hop
    fixes); when that is an allow it is the witness, and when no statement that can apply has a
    condition or a policy variable the deny is final. Everything else goes to the search.
    """

    def __init__(self, snap: Snapshot, now: dt.datetime | None = None):
        self.snap = snap
        self.now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)  # requests are made from now on
        self.cache: dict[tuple, HopResult] = {}
        self.stats = Stats()
        # (sts:AssumeRole*, resource, caller's account) -> (answerable, resource policy, account)
        self._layers: dict[tuple, tuple[bool, NamedPolicy | None, str | None]] = {}
        self._read: dict[int, tuple[Query, set[str]]] = {}  # template query -> keys_read
        # Across calls of check_many: template queries, and one answer per resource class
        # (possible or impossible) that later checks of the class take.
        self._templates: dict[tuple, Query | None] = {}
        self._class_answers: dict[tuple, HopResult] = {}

    # -- request spaces ---------------------------------------------------------------------------
    def _origin_keys(self, c: HopCheck) -> OriginKeys:
        """The hop's principal keys (tags, organization), its network origin (origin.py) and the
        time keys of its credentials (session.py)."""
        e = c.who
        ep = self.snap.endpoints.get(c.endpoint) if c.endpoint else None
        keys = origin_keys(c.called_via, c.endpoint, ep.vpc if ep else None, fas_absent_keys())
        present, exclude = session_time_keys(e.arn, self.now)
        keys.present += present
        keys.exclude.update(exclude)
        keys.where.update({f"aws:PrincipalTag/{k}": [v] for k, v in e.tags.items()})
        if self.snap.org_id and self.snap.levels_for(e.account, "scp") is not None:
            keys.where["aws:PrincipalOrgID"] = [self.snap.org_id]
        return keys

    def _resource_layer(self, c: HopCheck) -> tuple[NamedPolicy | None, str | None]:
        """The hop's resource policy (a role's trust policy for sts:AssumeRole*) and the resource's
        account."""
        e = c.who
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
        return rp, resource_account

    def query(self, c: HopCheck) -> Query:
        e = c.who
        keys = self._origin_keys(c)
        where = keys.where
        if c.target:
            for k, v in c.constraints.where:
                where.setdefault(k, []).append(v)
        rp, resource_account = self._resource_layer(c)
        vpce_policy = None
        if c.endpoint:
            ep = self.snap.endpoints.get(c.endpoint)
            vpce_policy = ep.policy if ep else None
        q = Query(
            principal=e.arn,
            action=c.action,
            resource=c.resource,
            resource_account=resource_account,
            where=where,
            absent=keys.absent,
            present=keys.present,
            exclude=keys.exclude,
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
        return only_read_origin_keys(q)

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
        return q.decide_input(
            Request(
                principal=e.arn, action=action, resource=resource, resource_account=q.resource_account, context=full
            )
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
    @overload
    def check_many(self, checks: list[HopCheck], groups: None = None) -> list[HopResult]: ...

    @overload
    def check_many(self, checks: list[HopCheck], groups: list) -> list[HopResult | None]: ...

    def check_many(self, checks: list[HopCheck], groups: list | None = None) -> Sequence[HopResult | None]:
        """Answer every check. With `groups`, a check whose group already has a possible answer
        is not searched (its result is None): one way per group is enough.

        A check of a resource class answered before (classes.py: the same decision for every
        context; e.g. one caller's request on buckets whose policies do not name it) takes that
        answer: an impossible one as it is, a possible one as the witness request on this
        check's resource once the concrete decider allows it (else it is asked on its own)."""
        t0 = time.perf_counter()
        out: list[HopResult | None] = [None] * len(checks)
        todo: list[tuple[int, HopCheck, Query]] = []
        classes: dict[int, tuple] = {}
        members: list[tuple[int, HopCheck, Query, HopResult]] = []
        for i, c in enumerate(checks):
            early = self._answer_or_query(c)
            if isinstance(early, HopResult):
                out[i] = early
                continue
            # A pattern's class is taken on its own query (a template of another pattern would
            # carry that pattern's resource policy); a concrete resource's on its template's.
            if is_pattern(c.resource):
                cls = pattern_class(early)
            else:
                cls = self._class_of(c, hop_cache_key(c), self._templates, early)
            known = self._class_answers.get(cls) if cls is not None else None
            if known is not None:
                members.append((i, c, early, known))
                continue
            if cls is not None:
                classes[i] = cls
            todo.append((i, c, early))
        todo += self._from_classes(members, out)
        self._answer_todo(checks, todo, groups, out)
        for i, cls in classes.items():
            if (r := out[i]) is not None and r.outcome != "unknown":
                self._class_answers.setdefault(cls, r)
        self.stats.seconds += time.perf_counter() - t0
        return out

    def _from_classes(
        self, members: list[tuple[int, HopCheck, Query, HopResult]], out: list[HopResult | None]
    ) -> list[tuple[int, HopCheck, Query]]:
        """Checks answered from their resource class's answer (cached); the ones whose witness the
        decider does not allow, to be asked on their own."""
        rest: list[tuple[int, HopCheck, Query]] = []
        tries: list[tuple[int, HopCheck, Query, Hop]] = []
        for i, c, q, known in members:
            r = self._member_result(c, known)
            if r.outcome != "possible" or r.hop is None:
                out[i] = self.cache[hop_cache_key(c)] = r
            else:
                tries.append((i, c, q, r.hop))
        inputs: list[DecideInput] = []
        kept: list[tuple[int, HopCheck, Query, Hop]] = []
        for i, c, q, hop in tries:
            try:
                inputs.append(hop._input or self.decide_input(hop.principal, hop.action, hop.resource, hop.context))
            except InputError:
                rest.append((i, c, q))  # not a request the decider takes: asked on its own
                continue
            kept.append((i, c, q, hop))
        self.stats.plain_decisions += len(inputs)
        for (i, c, q, hop), inp, d in zip(kept, inputs, decide_many(inputs) if inputs else []):
            if d.decision == "allow":
                hop._input = inp
                out[i] = self.cache[hop_cache_key(c)] = HopResult("possible", hop=hop)
            else:
                rest.append((i, c, q))
        return rest

    def _answer_todo(
        self, checks: list[HopCheck], todo: list[tuple[int, HopCheck, Query]], groups: list | None, out: list
    ) -> None:
        """Concrete tries, then searches, for the checks not answered early; results cached. One
        check per caller class (classes.caller_class) is asked; the others of its class take its
        outcome, a possible one only once the concrete decider allows its witness for them."""
        reps, members = _by_caller_class(todo)
        settled = self._try_concrete(reps, out)
        self._search(checks, reps, settled, groups, out)
        rest = self._from_caller_reps(members, out)
        if rest:
            settled = self._try_concrete(rest, out)
            self._search(checks, rest, settled, groups, out)
        for i, c, _q in todo:
            if (result := out[i]) is not None:
                self.cache[hop_cache_key(c)] = result

    def _from_caller_reps(
        self, members: list[tuple[int, HopCheck, Query, int]], out: list[HopResult | None]
    ) -> list[tuple[int, HopCheck, Query]]:
        """Members of a caller class answered from their representative: its outcome, and for a
        possible one its witness request made by the member, kept only when the decider allows it.
        The members left (no answer of the representative, or a witness not allowed) are returned."""
        rest: list[tuple[int, HopCheck, Query]] = []
        tries: list[tuple[int, HopCheck, Query]] = []
        inputs: list[DecideInput] = []
        for i, c, q, rep in members:
            r = out[rep]
            if r is None:
                rest.append((i, c, q))
            elif r.outcome != "possible" or r.hop is None:
                out[i] = HopResult(r.outcome, reason=r.reason)
            else:
                ctx = {k: v if isinstance(v, list) else [v] for k, v in r.hop.context.items() if not caller_key(k)}
                inputs.append(plain_input(q, {**ctx, "__resource__": r.hop.resource}))
                tries.append((i, c, q))
        self.stats.plain_decisions += len(inputs)
        for (i, c, q), inp, d in zip(tries, inputs, decide_many(inputs) if inputs else []):
            if d.decision == "allow":
                out[i] = HopResult("possible", hop=self._with_command(hop_from_input(c, inp)))
            else:
                rest.append((i, c, q))
        return rest

    def check_by_class(self, checks: list[HopCheck], *, hops: bool = True) -> list[HopResult]:
        """Answer every check, asking one request per resource class (classes.py: requests that
        only the resource tells apart and that every policy layer treats alike have the same
        decision for every context) and answering the rest of the class from it. A member's
        witness is the representative's request on the member's resource; without `hops`, a
        member gets its outcome only, and is not cached."""
        t0 = time.perf_counter()
        out: list[HopResult | None] = [None] * len(checks)
        templates: dict[tuple, Query | None] = {}
        reps: dict[tuple, int] = {}
        todo: list[tuple[int, HopCheck, Query]] = []
        members: list[tuple[int, HopCheck, int]] = []
        for i, c in enumerate(checks):
            key = hop_cache_key(c)
            if key in self.cache:
                out[i] = self.cache[key]
                continue
            cls = self._class_of(c, key, templates)
            if cls is not None and cls in reps:
                members.append((i, c, reps[cls]))
                continue
            if cls is not None:
                reps[cls] = i
            early = self._answer_or_query(c)
            if isinstance(early, HopResult):
                out[i] = early
            else:
                todo.append((i, c, early))
        self._answer_todo(checks, todo, None, out)
        for i, c, rep in members:
            rep_result = out[rep]
            if rep_result is None:
                out[i] = HopResult("unknown", reason="not answered")
            elif not hops:  # the outcome only (not cached: a cached possible answer has its hop)
                out[i] = HopResult(rep_result.outcome, reason=rep_result.reason)
            else:
                out[i] = self.cache[hop_cache_key(c)] = self._member_result(c, rep_result)
        self.stats.seconds += time.perf_counter() - t0
        return [r if r is not None else HopResult("unknown", reason="not answered") for r in out]

    def check_as(self, checks: list[HopCheck], like: list[HopCheck]) -> list[HopResult]:
        """Answer each check from the possible answer of `like[i]`, the same request made by
        another caller of its class (privesc.Privesc._technique_class): that witness made by this
        check's caller, kept only when the concrete decider allows it. A check not answered so (no
        possible answer for `like[i]`, or a witness not allowed) is asked on its own. Cached."""
        t0 = time.perf_counter()
        n = len(checks)
        out: list[HopResult | None] = [None] * n
        out += [self.cache.get(hop_cache_key(c)) for c in like]
        members: list[tuple[int, HopCheck, Query, int]] = []
        alone: list[tuple[int, HopCheck, Query]] = []
        for i, c in enumerate(checks):
            early = self._answer_or_query(c)
            if isinstance(early, HopResult):
                out[i] = early
            elif (r := out[n + i]) is not None and r.outcome == "possible":
                members.append((i, c, early, n + i))
            else:
                alone.append((i, c, early))
        rest = alone + self._from_caller_reps(members, out)
        settled = self._try_concrete(rest, out)
        self._search(checks, rest, settled, None, out)
        for i, c in enumerate(checks):
            if (result := out[i]) is not None:
                self.cache[hop_cache_key(c)] = result
        self.stats.seconds += time.perf_counter() - t0
        return [r if r is not None else HopResult("unknown", reason="not answered") for r in out[:n]]

    def _class_of(
        self, c: HopCheck, key: tuple, templates: dict[tuple, Query | None], q: Query | None = None
    ) -> tuple | None:
        """The check's resource class, or None (asked on its own). Checks that differ only in the
        resource and have one resource layer (what of the resource policy can bear on the caller,
        and the account) share a template query, so that a member's class costs no query of its
        own. A resource pattern is a class of its own here (check_many: classes.pattern_class).
        `q`, the check's own query when the caller has it, becomes the template of a new family."""
        if c.who.incomplete:
            return None
        # The resource's layer and whether it can be answered at all, once per resource (the
        # account only matters for the resources that carry none, the service for a pattern).
        action = c.action.lower()
        lkey = (action.startswith("sts:assumerole"), action.split(":", 1)[0], c.resource, c.who.account)
        layer = self._layers.get(lkey)
        if layer is None:
            try:
                rp, account = self._resource_layer(c)
            except InputError:
                rp, account = None, None
                layer = self._layers[lkey] = (False, rp, account)
            else:
                layer = self._layers[lkey] = (self.snap.broken_policy_for(c.resource) is None, rp, account)
        answerable, rp, account = layer
        if not answerable:
            return None
        # The check's key but its resource and the values its target request fixes (--where, a
        # technique's context): the family that shares a template query.
        relevant = key[5]
        family = (key[0], key[1], key[3], key[4], (relevant[0], relevant[1], relevant[3]), key[6])
        # A resource pattern is a class of its own (with the values it fixes, below).
        pattern = c.resource if is_pattern(c.resource) else None
        # The resource policy by what can bear on the caller's requests: resources whose policies
        # differ only in statements naming others share a template (classes.resource_policy_key).
        tkey = (family, resource_policy_key(rp, c.who.arn), account, pattern)
        if tkey not in templates:
            try:
                templates[tkey] = q if q is not None else self.query(c)
            except InputError:
                templates[tkey] = None
        q0 = templates[tkey]
        if q0 is None:
            return None
        cls = resource_class(q0, c.resource) if pattern is None else ("pattern",)
        if cls is None:
            return None
        # A fixed value that no statement which can apply reads (in a condition or a policy
        # variable) cannot change the decision: e.g. cloudformation:RoleArn naming each target.
        read = self._keys_read(q0)
        fixed = tuple((k, v) for k, v in relevant[2] if k.lower() in read or k.lower().startswith("aws:"))
        return (tkey, fixed, cls)

    def _keys_read(self, q: Query) -> set[str]:
        hit = self._read.get(id(q))
        if hit is None or hit[0] is not q:
            hit = self._read[id(q)] = (q, keys_read(q))
        return hit[1]

    def _member_result(self, c: HopCheck, rep: HopResult) -> HopResult:
        """A class member's answer from its representative's: the same outcome, and for a possible
        one the representative's witness request on the member's resource (with its own resource
        policy, whose document is the representative's)."""
        if rep.outcome != "possible" or rep.hop is None:
            return HopResult(rep.outcome, reason=rep.reason)
        hop = rep.hop
        # The member's own values for the keys its target request fixes (read by no statement
        # that can apply, or equal to the representative's).
        context = dict(hop.context)
        for k, v in c.constraints.where if c.target else ():
            if k in context:
                context[k] = v
        # The member's resource, or for a pattern the ARN inside it the witness names (for another
        # pattern of the class, the member's stand-in ARN: check_many has the decider allow it).
        resource = c.resource
        if is_pattern(c.resource):
            resource = hop.resource if plain_glob_match(c.resource, hop.resource) else stand_in(c.resource)
        inp = hop._input
        if inp is not None:
            rp, _account = self._resource_layer(c)
            request = inp.request.model_copy(update={"resource": resource, "context": context})
            inp = dataclasses.replace(inp, request=request, resource_policy=rp)
        member = dataclasses.replace(
            hop,
            resource=resource,
            context=context,
            _input=inp,
            _witness=None,
            decide_command_for=None,
            _snapshot_command=None,
        )
        return HopResult("possible", hop=self._with_command(member))

    def _answer_or_query(self, c: HopCheck) -> HopResult | Query:
        """The answer when the cache or a sound prefilter gives one (then cached), else the hop's query."""
        key = hop_cache_key(c)
        if key in self.cache:
            return self.cache[key]
        early = self._prefilter(c)
        if isinstance(early, HopResult):
            self.cache[key] = early
        return early

    def _prefilter(self, c: HopCheck) -> HopResult | Query:
        if c.who.incomplete:
            return HopResult("unknown", reason=f"{c.who.arn}: {c.who.incomplete[0]}")
        if (broken := self.snap.broken_policy_for(c.resource)) is not None:
            return HopResult("unknown", reason=f"the resource policy is unknown: {broken}")
        try:
            q = self.query(c)
        except InputError as exc:
            return HopResult("unknown", reason=exc.message)
        if (conflict := _origin_conflict(q)) is not None:
            return HopResult("impossible", reason=conflict)
        if not may_allow_query(q):
            # Sound: an allow needs an Allow statement whose Action and Resource can match.
            return HopResult("impossible", reason="no Allow statement of any policy can match the action and resource")
        return q

    def _try_concrete(self, todo: list[tuple[int, HopCheck, Query]], out: list[HopResult | None]) -> set[int]:
        """Decide concrete requests for the checks in one grounding; the indexes they settle."""
        # Plain concrete requests first; a resource pattern is tried on one ARN it names (an allow
        # there is a witness; a deny proves nothing and goes to the search).
        tries: list[tuple[int, HopCheck, Query, dict | None]] = [
            (i, c, q, None) for i, c, q in todo if is_concrete(q) or is_representable(q)
        ]
        # Then contexts that satisfy some Allow statement's conditions literally (cheap witnesses).
        base = list(tries)
        free = {i: free_keys(q) for i, _c, q, _ in base}
        for i, c, q, _ in base:
            contexts: list[dict] = [{}, *candidate_contexts(q, free[i])]
            resources: list[str | None] = [None, *candidate_resources(q)]
            tries += [
                (i, c, q, {**ctx, **({"__resource__": r} if r else {})})
                for r in resources
                for ctx in contexts
                if r or ctx
            ]
        inputs = [plain_input(q, ctx) for _, _, q, ctx in tries]
        decisions = decide_many(inputs) if inputs else []
        self.stats.plain_decisions += len(inputs)
        settled: set[int] = set()
        for (i, c, q, ctx), inp, d in zip(tries, inputs, decisions):
            if i in settled:
                continue
            if d.decision == "allow":
                out[i] = HopResult("possible", hop=self._with_command(hop_from_input(c, inp)))
                settled.add(i)
            elif d.decision is not None and ctx is None and is_concrete(q) and not free[i]:
                out[i] = HopResult(
                    "impossible",
                    reason="no statement that can apply has a condition or a "
                    "policy variable, and the request is " + d.decision.replace("_", " "),
                )
                settled.add(i)
        return settled

    def _search(
        self,
        checks: list[HopCheck],
        todo: list[tuple[int, HopCheck, Query]],
        settled: set[int],
        groups: list | None,
        out: list[HopResult | None],
    ) -> None:
        """Search what is left: grouped (one possible answer per group is enough), groups spread
        over the cores when there are enough of them to pay for the processes."""
        found = {
            groups[i] for i, r in enumerate(out) if groups is not None and r is not None and r.outcome == "possible"
        }
        by_group: dict = {}
        for i, _c, q in todo:
            if i in settled or (groups is not None and groups[i] in found):
                continue
            by_group.setdefault(groups[i] if groups is not None else ("#", i), []).append((i, q))
        for i, a in search_groups(list(by_group.values())):
            self.stats.searches += 1
            if isinstance(a, str):
                out[i] = HopResult("unknown", reason=a)
                continue
            result = out[i] = hop_from_can(checks[i], a)
            if result.hop is not None:
                self._with_command(result.hop)

    def _with_command(self, hop: Hop) -> Hop:
        hop._auth = self
        return hop

    def _reads_network_keys(self, c: HopCheck) -> bool:
        try:
            q = self.query(c)
        except InputError:
            return True  # answered (unknown) by the check itself
        return bool(keys_read(q) & NETWORK_KEYS) or bool(c.target and c.constraints.where)

    def first_calls(
        self, who: Entity, action: str, resource: str, cons: Constraints, target: bool = False
    ) -> list[HopCheck]:
        """The ways a first call can arrive: from outside every endpoint, or through each listed
        endpoint of the action's service (minus --not-from-vpce), or, when the snapshot lists no
        endpoints, through some endpoint (its aws:SourceVpce searched, never --not-from-vpce)."""
        service = action.split(":", 1)[0].lower()
        checks = [HopCheck(who, action, resource, (), None, cons, target)]
        if not self.snap.endpoints and self._reads_network_keys(checks[0]):
            # some endpoint the snapshot does not list (origin.py); it differs from outside only
            # for a statement that reads a network key
            checks.append(HopCheck(who, action, resource, (), UNLISTED_ENDPOINT, cons, target))
        for ep in self.snap.endpoints_for(service):
            if ep.id not in cons.not_from_vpce:
                checks.append(HopCheck(who, action, resource, (), ep.id, cons, target))
        return checks


def _by_caller_class(
    todo: list[tuple[int, HopCheck, Query]],
) -> tuple[list[tuple[int, HopCheck, Query]], list[tuple[int, HopCheck, Query, int]]]:
    """The checks to ask (one per caller class, and those of no class) and the class members,
    each with its representative's index."""
    reps: list[tuple[int, HopCheck, Query]] = []
    members: list[tuple[int, HopCheck, Query, int]] = []
    seen: dict[tuple, int] = {}
    for i, c, q in todo:
        cls = caller_class(q)
        if cls is not None and cls in seen:
            members.append((i, c, q, seen[cls]))
            continue
        if cls is not None:
            seen[cls] = i
        reps.append((i, c, q))
    return reps, members
