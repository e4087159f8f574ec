"""What `can` is asked (Query) and what it answers (CanAnswer, with the scope of a proof)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from reasoner.policy.request import DecideInput, NamedPolicy, Request


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
    # "allow": is some request allowed? "deny": is some request the policies do NOT allow (universal
    # checks; requests AWS decides whatever the policies say, encodings/protected.lp, are out of scope).
    goal: Literal["allow", "deny"] = "allow"
    # Only requests the policies decide: a grant question ("does this policy give access?") is
    # not answered by a call AWS allows whatever the policies say (sts:GetCallerIdentity).
    policies_only: bool = False
    # The earliest request time searched (epoch seconds); None: the clock, read once per query.
    now: int | None = None

    def decide_input(self, request: Request) -> DecideInput:
        """One concrete request with every policy layer of the query: the one place a witness,
        a concrete try or a hop check turns a query into what the decider decides."""
        return DecideInput(
            request=request,
            identity_policies=self.identity_policies,
            resource_policy=self.resource_policy,
            permission_boundary=self.permission_boundary,
            session_policy=self.session_policy,
            scps=self.scps,
            rcps=self.rcps,
            vpc_endpoint_policy=self.vpc_endpoint_policy,
            management_account=self.management_account,
        )


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
