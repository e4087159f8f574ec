"""Case bundles: cases/NAME/case.yaml names policies, principals, resources and questions with
their expected answers. Every case doubles as a test (tests/test_cases.py). The format is
documented in the README ("Case bundles").
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reasoner.errors import InputError
from reasoner.policy.document import Policy, load_document, load_policy, validation_to_input_error
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import DecideInput, NamedPolicy, Request

Scalar = str | int | float | bool


class CasePrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arn: str
    identity_policies: list[str] = []
    permission_boundary: str | None = None
    session_policy: str | None = None


class CaseResource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arn: str
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    resource_policy: str | None = None


class DecideQuestion(BaseModel):
    """One concrete request and the decision the case expects."""

    model_config = ConfigDict(extra="forbid")

    id: str
    description: str = ""
    principal: str  # a principal name of the case, or an ARN
    action: str
    resource: str  # a resource name of the case, or an ARN
    context: dict[str, Scalar | list[Scalar]] = {}
    scps: list[list[str]] | None = None  # policy names per OU level, root first
    rcps: list[list[str]] | None = None
    vpc_endpoint_policy: str | None = None
    management_account: str | None = None
    expect: Literal["allow", "explicit_deny", "implicit_deny"]


class CanQuestion(BaseModel):
    """A search question: is any request in the space left open allowed?"""

    model_config = ConfigDict(extra="forbid")

    id: str
    description: str = ""
    principal: str
    action: str  # a name or a pattern
    resource: str  # a resource name of the case, an ARN or an ARN pattern
    resource_account: str | None = None
    where: dict[str, Scalar | list[Scalar]] = {}
    absent: list[str] = []
    without_via: list[str] = []
    not_from_vpce: list[str] = []
    scps: list[list[str]] | None = None
    rcps: list[list[str]] | None = None
    vpc_endpoint_policy: str | None = None
    management_account: str | None = None
    expect: Literal["possible", "impossible", "unknown"]
    expect_witness_context: dict[str, Scalar | list[Scalar]] | None = None  # keys the witness must carry


class ReachQuestion(BaseModel):
    """A path question over the case's snapshot (`reasoner reach --case`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    description: str = ""
    from_: str = Field(alias="from")  # a principal of the snapshot (ARN or name)
    action: str
    resource: str
    without_via: list[str] = []
    not_from_vpce: list[str] = []
    expect: Literal["possible", "impossible", "unknown"]
    # The shortest path, hop by hop: "KIND ACTION" with " via S1,S2" for service hops.
    expect_shortest_path: list[str] | None = None


class WhoCanQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    description: str = ""
    action: str
    resource: str
    without_via: list[str] = []
    not_from_vpce: list[str] = []
    expect_principals: list[str]  # exactly these (names or ARNs) can


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    source: str = ""
    account: str | None = None
    policies: dict[str, str] = {}  # name -> file relative to the case folder
    principals: dict[str, CasePrincipal] = {}
    resources: dict[str, CaseResource] = {}
    decide: list[DecideQuestion] = []
    can: list[CanQuestion] = []
    snapshot: str | None = None  # an account snapshot relative to the case folder (README: snapshots)
    reach: list[ReachQuestion] = []
    who_can: list[WhoCanQuestion] = []


class Case:
    """A loaded case: its file, its policies parsed, and its questions as decide inputs."""

    def __init__(self, folder: Path, spec: CaseFile, policies: dict[str, Policy]):
        self.folder = folder
        self.spec = spec
        self.policies = policies
        self.source = str(folder / "case.yaml")

    def named(self, name: str, path: tuple) -> NamedPolicy:
        if name not in self.policies:
            raise InputError(
                f"unknown policy name {name!r} (the case defines {', '.join(sorted(self.policies))})",
                source=self.source,
                path=path,
            )
        return NamedPolicy(name=str(self.folder / self.spec.policies[name]), policy=self.policies[name])

    def principal_of(self, name: str, path: tuple):
        """A principal of the case by name, or None for a principal ARN (an unknown name is bad
        input, exit 2, not a question answered differently)."""
        principal = self.spec.principals.get(name)
        if principal is None:
            try:
                parse_principal(name)
            except InputError:
                names = ", ".join(sorted(self.spec.principals)) or "none"
                raise InputError(
                    f"unknown principal {name!r:.80}: neither a principal of the case ({names}) nor a principal ARN",
                    source=self.source,
                    path=path,
                ) from None
        return principal

    def decide_input(self, index: int) -> DecideInput:
        q = self.spec.decide[index]
        path = ("decide", index)
        principal = self.principal_of(q.principal, path + ("principal",))
        resource = self.spec.resources.get(q.resource)
        request = Request(
            principal=principal.arn if principal else q.principal,
            action=q.action,
            resource=resource.arn if resource else q.resource,
            resource_account=resource.account if resource else None,
            context=q.context,
        )
        ident: list[NamedPolicy] = []
        boundary = session = None
        if principal:
            pp = ("principals", q.principal)
            ident = [self.named(n, pp + ("identity_policies", i)) for i, n in enumerate(principal.identity_policies)]
            if principal.permission_boundary:
                boundary = self.named(principal.permission_boundary, pp + ("permission_boundary",))
            if principal.session_policy:
                session = self.named(principal.session_policy, pp + ("session_policy",))
        rpol = None
        if resource and resource.resource_policy:
            rpol = self.named(resource.resource_policy, ("resources", q.resource, "resource_policy"))

        def levels(field: str, value):
            if value is None:
                return None
            return [
                [self.named(n, path + (field, lv, i)) for i, n in enumerate(level)] for lv, level in enumerate(value)
            ]

        return DecideInput(
            id=q.id,
            request=request,
            identity_policies=ident,
            resource_policy=rpol,
            permission_boundary=boundary,
            session_policy=session,
            scps=levels("scps", q.scps),
            rcps=levels("rcps", q.rcps),
            vpc_endpoint_policy=self.named(q.vpc_endpoint_policy, path + ("vpc_endpoint_policy",))
            if q.vpc_endpoint_policy
            else None,
            management_account=q.management_account,
        )


def can_query(self: Case, index: int):
    """The search question `index` of the case as a Query (reasoner/search.py)."""
    from reasoner.search.can import Query

    q = self.spec.can[index]
    path = ("can", index)
    principal = self.principal_of(q.principal, path + ("principal",))
    resource = self.spec.resources.get(q.resource)
    ident, boundary, session = [], None, None
    if principal:
        pp = ("principals", q.principal)
        ident = [self.named(n, pp + ("identity_policies", i)) for i, n in enumerate(principal.identity_policies)]
        boundary = self.named(principal.permission_boundary, pp) if principal.permission_boundary else None
        session = self.named(principal.session_policy, pp) if principal.session_policy else None
    rpol = None
    if resource and resource.resource_policy:
        rpol = self.named(resource.resource_policy, ("resources", q.resource, "resource_policy"))
    elif not resource:
        # An ARN pattern: the resource policy of the case resource it covers, when exactly one does.
        from reasoner.policy.patterns import arn_match, plain

        owners = {
            r.resource_policy
            for r in self.spec.resources.values()
            if r.resource_policy and arn_match(plain(q.resource), r.arn)
        }
        if len(owners) == 1:
            rpol = self.named(owners.pop(), path + ("resource",))

    def levels(field, value):
        if value is None:
            return None
        return [[self.named(n, path + (field, lv, i)) for i, n in enumerate(level)] for lv, level in enumerate(value)]

    where = {
        k: [str(x).lower() if isinstance(x, bool) else str(x) for x in (v if isinstance(v, list) else [v])]
        for k, v in q.where.items()
    }
    return Query(
        principal=principal.arn if principal else q.principal,
        action=q.action,
        resource=resource.arn if resource else q.resource,
        resource_account=(resource.account if resource else None) or q.resource_account,
        where=where,
        absent=q.absent,
        without_via=q.without_via,
        not_from_vpce=q.not_from_vpce,
        identity_policies=ident,
        resource_policy=rpol,
        permission_boundary=boundary,
        session_policy=session,
        scps=levels("scps", q.scps),
        rcps=levels("rcps", q.rcps),
        vpc_endpoint_policy=self.named(q.vpc_endpoint_policy, path) if q.vpc_endpoint_policy else None,
        management_account=q.management_account,
    )


def load_case(path: str | Path) -> Case:
    """Load cases/NAME (the folder) or its case.yaml."""
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    file = folder / "case.yaml"
    if not file.exists():
        raise InputError("no case.yaml in this folder", source=str(folder))
    raw = load_document(file)
    try:
        spec = CaseFile.model_validate(raw)
    except ValidationError as exc:
        raise validation_to_input_error(exc, str(file)) from None
    policies = {}
    for name, rel in spec.policies.items():
        pfile = folder / rel
        policies[name] = load_policy(pfile)  # the policy size limit, checked before reading
    return Case(folder, spec, policies)


def hop_label(h) -> str:
    via = f" via {','.join(h.called_via)}" if h.called_via else ""
    return f"{h.kind} {h.action}{via}"


def case_snapshot(case: Case):
    from reasoner.account.snapshot import load_snapshot

    if not case.spec.snapshot:
        raise InputError("the case has no snapshot", source=case.source, path=("snapshot",))
    return load_snapshot(case.folder / case.spec.snapshot)


def reach_questions(case: Case) -> list[tuple]:
    """(question, answer, matches expectation) for every reach question of the case."""
    from reasoner.account.paths import Constraints, PathFinder

    finder = PathFinder(case_snapshot(case))
    out = []
    for q in case.spec.reach:
        a = finder.reach(q.from_, q.action, q.resource, Constraints(tuple(q.without_via), tuple(q.not_from_vpce)))
        ok = a.answer == q.expect
        if ok and q.expect_shortest_path is not None:
            ok = bool(a.paths) and [hop_label(h) for h in a.paths[0].hops] == q.expect_shortest_path
        out.append((q, a, ok))
    return out


def who_can_questions(case: Case) -> list[tuple]:
    from reasoner.account.paths import Constraints, PathFinder

    snap = case_snapshot(case)
    finder = PathFinder(snap)
    out = []
    for q in case.spec.who_can:
        a = finder.who_can(q.action, q.resource, Constraints(tuple(q.without_via), tuple(q.not_from_vpce)))
        want = {snap.entity(x).arn for x in q.expect_principals}
        got = {p.principal for p in a.principals}
        out.append((q, a, want == got and not a.unknown))
    return out
