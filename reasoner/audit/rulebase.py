"""What every audit rule shares: the snapshot with its engines (one PathFinder, one Privesc run),
the statement locator, the time budget, and the helpers that turn engine answers into findings.

A rule is a module with `RULE` (a Rule) and `run(ctx) -> list[Finding]`. It asks the engines
exact questions only; when its budget runs out it stops and reports what it did not get to as
`unknown` with the reason (never as a pass)."""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reasoner.account.hops import Hop
from reasoner.account.model import Entity, Snapshot
from reasoner.account.paths import PathFinder
from reasoner.account.privesc import PrincipalPrivesc, Privesc
from reasoner.audit.findings import (
    ActionRef,
    Exposure,
    Finding,
    HopEvidence,
    Location,
    PrincipalAccess,
    Rule,
    Severity,
    StatementEvidence,
    finding_id,
)
from reasoner.audit.locate import Locator
from reasoner.engine.decide import decide_many
from reasoner.envelope import PROJECT_URL
from reasoner.policy import catalogue
from reasoner.policy.request import DecideInput

HELP_BASE = f"{PROJECT_URL}/blob/main/README.md"
DEFAULT_BUDGET_SECONDS = 300.0


def rule(rule_id: str, title: str, description: str) -> Rule:
    return Rule(id=rule_id, title=title, description=description, help_uri=f"{HELP_BASE}#rule-{rule_id}")


class OutOfBudget(Exception):
    """A rule's time budget ran out."""


@dataclass
class Context:
    snap: Snapshot
    snapshot_sha256: str
    zone: str = "account"  # account | organization
    budget: float = DEFAULT_BUDGET_SECONDS  # seconds per rule
    invariants_file: str | None = None
    progress: Callable[[str, int, int], None] = lambda what, done, total: None
    now: Any = None  # datetime for usage data and suppression expiry (tests fix it)
    exposures: list[Exposure] = field(default_factory=list, init=False)
    access_levels: list[PrincipalAccess] = field(default_factory=list, init=False)
    finder: PathFinder = field(init=False)
    locator: Locator = field(init=False)
    _privesc: Privesc | None = field(default=None, init=False)
    _privesc_results: list[PrincipalPrivesc] | None = field(default=None, init=False)
    _pending: list[tuple[HopEvidence, DecideInput]] = field(default_factory=list, init=False)
    deadline: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.finder = PathFinder(self.snap)
        self.locator = Locator(list(self.snap.sources))

    # -- budget -------------------------------------------------------------------------------------
    def start_rule(self) -> None:
        self.deadline = time.monotonic() + self.budget

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    @property
    def budget_reason(self) -> str:
        return f"not reached within the rule's time budget ({self.budget:.0f} s; raise it with --budget)"

    # -- shared engines -------------------------------------------------------------------------------
    @property
    def privesc(self) -> Privesc:
        if self._privesc is None:
            self._privesc = Privesc(self.snap, progress=self.progress)
        return self._privesc

    def privesc_results(self) -> list[PrincipalPrivesc]:
        if self._privesc_results is None:
            self._privesc_results = self.privesc.run()
        return self._privesc_results

    # -- the snapshot's structure -----------------------------------------------------------------------
    def org_path(self, account: str | None) -> list[str]:
        root = self.snap.org_root
        if root is None or account is None:
            return []

        def walk(node: Any, trail: list[str]) -> list[str] | None:
            here = trail + [node.id]
            if node.kind == "account" and node.id == account:
                return here
            for c in node.children:
                hit = walk(c, here)
                if hit:
                    return hit
            return None

        return walk(root, []) or []

    def org_accounts(self) -> set[str]:
        out: set[str] = set()

        def walk(node: Any) -> None:
            if node.kind == "account":
                out.add(node.id)
            for c in node.children:
                walk(c)

        if self.snap.org_root is not None:
            walk(self.snap.org_root)
        return out

    def inside_zone(self, account: str | None, owner: str) -> bool:
        if account is None:
            return False
        if account == owner:
            return True
        return self.zone == "organization" and account in self.org_accounts()

    # -- findings ---------------------------------------------------------------------------------------
    def finding(
        self, r: Rule, subject: str, level: str, status: str, title: str, *, score: float | None = None, **kw: Any
    ) -> Finding:
        account = kw.pop("account", None)
        if account is None and kw.get("principal") in self.snap.principals:
            account = self.snap.principals[kw["principal"]].account
        return Finding(
            id=finding_id(r.id, subject),
            rule=r,
            severity=Severity.of(level, score),
            status=status,  # type: ignore[arg-type]
            title=title,
            subject=subject,
            account=account,
            organization_path=self.org_path(account),
            snapshot_sha256=self.snapshot_sha256,
            **kw,
        )

    def statement_evidence(
        self, layer: str, policy: str, index: int, sid: str | None, effect: str
    ) -> StatementEvidence:
        return StatementEvidence(
            layer=layer,
            policy=policy,
            index=index,
            sid=sid,
            effect=effect,  # type: ignore[arg-type]
            location=self.locator.statement(policy, index),
        )

    def hop(self, hop: Any) -> HopEvidence:
        """A path hop (reasoner.account.hops.Hop) as evidence; its allowing statements are filled in
        by resolve() (one decision batch for the whole report)."""
        ev = HopEvidence(
            kind=hop.kind,
            principal=hop.principal,
            action=hop.action,
            resource=hop.resource,
            called_via=list(hop.called_via),
            context=dict(hop.context),
            decide_command=hop.decide_command,
        )
        self.attach_statements(ev, hop.principal, hop.action, hop.resource, dict(hop.context))
        return ev

    def attach_statements(self, ev: HopEvidence, principal: str, action: str, resource: str, context: dict) -> None:
        """Fill ev.statements in resolve(): the statements that allow this request of a snapshot principal."""
        if principal not in self.snap.principals:
            return
        try:
            inp = self.finder.auth.decide_input(principal, action, resource, context)
        except Exception:  # an input the concrete decider rejects: no statements to show
            return
        self._pending.append((ev, inp))

    def command(self, principal: str, action: str, resource: str, context: dict | None = None) -> str | None:
        """The request as a ready `reasoner decide --snapshot` command."""
        if not self.snap.origin:
            return None
        return self.finder.auth.command(Hop("call", principal, action, resource, [], dict(context or {})))

    def request_hop(self, principal: str, action: str, resource: str, context: dict | None = None) -> HopEvidence:
        """One concrete request of a snapshot principal as evidence (statements filled by resolve())."""
        ev = HopEvidence(
            kind="request",
            principal=principal,
            action=action,
            resource=resource,
            context=dict(context or {}),
            decide_command=self.command(principal, action, resource, context),
        )
        self.attach_statements(ev, principal, action, resource, dict(context or {}))
        return ev

    def witness_hop(self, witness: dict, kind: str = "request") -> HopEvidence:
        """A `decide --batch` witness line (searches outside the snapshot's principals) as evidence,
        reproduced by piping the line into `reasoner decide --batch -`."""
        req = witness["request"]
        line = json.dumps({"id": "witness", **witness}, separators=(",", ":"))
        return HopEvidence(
            kind=kind,
            principal=req["principal"],
            action=req["action"],
            resource=req.get("resource", ""),
            context=req.get("context", {}),
            decide_command=f"echo {shlex.quote(line)} | reasoner decide --batch -",
        )

    def resolve(self) -> None:
        """Decide every pending witness once, with explanations: the statements that allow each hop."""
        if not self._pending:
            return
        decisions = decide_many([inp for _, inp in self._pending], explain=True)
        for (ev, _), d in zip(self._pending, decisions):
            ev.statements = [
                self.statement_evidence(s.layer, s.policy, s.index, s.sid, s.effect)
                for s in d.determining_statements
                if s.effect == "allow"
            ]
        self._pending = []

    def location_of(self, policy: str, index: int | None = None) -> Location | None:
        return self.locator.policy(policy) if index is None else self.locator.statement(policy, index)


def action_ref(action: str) -> ActionRef:
    info = catalogue.lookup(action) if "*" not in action and "?" not in action else None
    return ActionRef(action=info.full_name if info else action, access_level=info.access_level if info else "")


def sha256_of(paths: list[str]) -> str:
    """One hash over the snapshot's files (each file's bytes, in the order given)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def short(arn: str) -> str:
    """A principal's or resource's readable name: the last ARN component."""
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn.rsplit(":", 1)[-1]


def entity_label(e: Entity) -> str:
    return f"{e.kind} {e.name}"
