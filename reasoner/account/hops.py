"""One hop of a request path: the authorisation question (HopCheck), its answer (HopResult with a
Hop and its witness), the constraints a path must meet, and how a principal becomes a role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reasoner.account.model import Entity
from reasoner.policy.request import DecideInput
from reasoner.search.can import CanAnswer, batch_line, decide_command_for

if TYPE_CHECKING:
    from reasoner.account.authorizer import Authorizer


ASSUME_ACTION = "sts:AssumeRole"


def assume_action(e: Entity) -> str:
    """How this principal becomes a role: SAML and web identity (OIDC) users have their own calls."""
    if e.kind != "federated":
        return ASSUME_ACTION
    return "sts:AssumeRoleWithSAML" if ":saml-provider/" in e.arn else "sts:AssumeRoleWithWebIdentity"


Outcome = Literal["possible", "impossible", "unknown"]
# assume a role, first call, call made by a service, a request of an escalation technique
# (privesc_techniques.json: becoming another principal or rewriting its own permissions)
HopKind = Literal["assume", "call", "service", "escalate"]


@dataclass(frozen=True)
class Constraints:
    """What a path must avoid: services in CalledVia (on any hop), endpoints on the first call."""

    without_via: tuple[str, ...] = ()
    not_from_vpce: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # context keys fixed on the target request
    strict: bool = False  # every key the target request does not fix is absent (no search)


@dataclass
class Hop:
    kind: HopKind
    principal: str  # who the request is authorised for
    action: str
    resource: str
    called_via: list[str]
    context: dict  # the witness request's context (the conditions that remain)
    assumes: str | None = None  # an escalation's precondition outside the snapshot, in plain words
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
            **({"assumes": self.assumes} if self.assumes else {}),
        }


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
    hop: Hop | None = None  # with a possible outcome
    reason: str | None = None

    @property
    def possible_hop(self) -> Hop:
        """The witness hop of a possible outcome."""
        if self.hop is None:
            raise ValueError(f"a {self.outcome} hop result has no hop")
        return self.hop


@dataclass
class Stats:
    searches: int = 0
    plain_decisions: int = 0
    seconds: float = 0.0


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


def _hop_kind(c: HopCheck) -> HopKind:
    if c.called_via:
        return "service"
    return "assume" if c.action.lower().startswith("sts:assumerole") else "call"


def hop_from_input(c: HopCheck, inp: DecideInput) -> Hop:
    return Hop(
        kind=_hop_kind(c),
        principal=c.who.arn,
        action=inp.request.action,
        resource=inp.request.resource,
        called_via=list(c.called_via),
        context=dict(inp.request.context),
        _input=inp,
    )


def hop_from_can(c: HopCheck, a: CanAnswer) -> HopResult:
    if a.answer != "possible":
        return HopResult(a.answer, reason=a.reason)
    assert a.witness is not None  # a possible answer carries its witness
    req = a.witness["request"]
    return HopResult(
        "possible",
        hop=Hop(
            kind=_hop_kind(c),
            principal=c.who.arn,
            action=req["action"],
            resource=req["resource"],
            called_via=list(c.called_via),
            context=req.get("context", {}),
            decide_command_for=a.decide_command,
            _witness=a.witness,
        ),
    )
