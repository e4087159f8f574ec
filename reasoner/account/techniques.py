"""The privilege-escalation technique catalogue: ways a caller gains another principal's
permissions (become), gives a principal arbitrary permissions (grant) or adds a user to a group
(join-group), each with the requests it needs.

Data: reasoner/data/privesc_techniques.json, described in reasoner/data/CATALOGUES.md. Sources:
Rhino Security Labs' AWS-IAM-Privilege-Escalation methods, NCC Group PMapper's edge checkers and
admin checks, DataDog pathfinding.cloud paths.

Every requirement is one request (action, resource, optional request context) that the caller's
policies must allow; a technique needs all of its requirements. Resources use the ARN format of
the action's resource type in the action catalogue, with placeholders:
  {target}  the target principal's ARN (a group's ARN for target "group"; for creates_target a
            role the caller creates)
  {caller}  the caller's ARN
  {account} the account id (of the caller, which is the target's unless noted)
  {policy}  a customer-managed policy attached to the target (directly, or through a group for a user)
  {group}   a group the target user belongs to; for join-group, the group joined
A `*` inside an ARN means "some resource of this shape"; a bare "*" only where the action has no
resource type.

Public API:
- load_techniques() -> TechniqueCatalogue: the bundled catalogue, validated once (cached).
- parse_techniques(data, source) -> TechniqueCatalogue: validate a catalogue given as a dict.
- TechniqueCatalogue.technique(id) / .using(action) / .with_source(source) / .of_kind(kind, target)
  / .covered_sources().
- Technique.actions() / .placeholders() / .bind(**values) -> list[Requirement]; fill(text, values).
- PLACEHOLDERS, CatalogueDataError.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reasoner.account.chains import CatalogueDataError
from reasoner.policy import catalogue
from reasoner.resources import data_file

__all__ = [
    "PLACEHOLDERS",
    "CatalogueDataError",
    "Requirement",
    "Technique",
    "TechniqueCatalogue",
    "fill",
    "load_techniques",
    "parse_techniques",
]

DATA_FILE = data_file("privesc_techniques.json")

PLACEHOLDERS = frozenset({"target", "caller", "account", "policy", "group"})
SOURCE_KINDS = ("rhino", "pmapper", "pathfinding")

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")

# Example values, used only to check that a resource has the shape of its action's resource type.
_EXAMPLE_ACCOUNT = "111122223333"
_EXAMPLE_TARGET = {
    "user": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:user/example",
    "role": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:role/example",
    "group": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:group/example",
}


def placeholders_in(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def fill(text: str, values: dict[str, str]) -> str:
    """`text` with its placeholders replaced (each must have a value): Technique.bind without
    building models, for the many bindings of a large account."""
    if "{" not in text:
        return text
    if text[0] == "{" and text.index("}") == len(text) - 1:  # one placeholder, e.g. "{target}"
        return values[text[1:-1]]
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Strict):
    """One request the caller must be allowed to make."""

    action: str  # an exact catalogue action, e.g. iam:PassRole
    resource: str  # ARN (with placeholders / wildcards) or "*"
    context: dict[str, str] = {}  # request context keys the request carries (a key not listed is unknown)
    self_granted: bool = False  # allowed by a resource policy the technique itself writes

    def placeholders(self) -> set[str]:
        out = placeholders_in(self.resource)
        for v in self.context.values():
            out |= placeholders_in(v)
        return out


class Technique(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    sources: list[str] = Field(min_length=1)  # "rhino:<title>", "pmapper:<edge>", "pathfinding:<id>"
    kind: Literal["become", "grant", "join-group"]
    target: Literal["user", "role", "group"]
    trusts_service: str | None  # the target role must trust this service principal
    creates_target: bool = False  # the target is a role the caller creates, not an existing one
    requires: list[Requirement] = Field(min_length=1)
    assumes: str | None  # what must exist that a policy snapshot cannot show
    # The binding to the snapshot's targets establishes `assumes` (an attached customer-managed
    # {policy}, membership of {group}): visible in the snapshot and holding.
    snapshot_shows_precondition: bool = False
    # A part of `assumes` the snapshot can show (reasoner/account/preconditions.py):
    # "instance-profile": an instance profile contains the target role (GAAD InstanceProfileList);
    # "non-default-version": {policy} has a non-default version that makes the target admin
    # (PolicyVersionList). `snapshot_check_covers`: "all" when the check is the whole of
    # `assumes`, "part" when `assumes` asks for more (a running instance) that stays outside.
    snapshot_check: Literal["instance-profile", "non-default-version"] | None = None
    snapshot_check_covers: Literal["all", "part"] = "all"
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Technique:
        for s in self.sources:
            kind, _, name = s.partition(":")
            if kind not in SOURCE_KINDS or not name:
                raise ValueError(f"source {s!r} must be one of {', '.join(k + ':<name>' for k in SOURCE_KINDS)}")
        if self.kind == "join-group" and self.target != "user":
            raise ValueError("a join-group technique targets a user")
        if self.kind == "become" and self.target == "group":
            raise ValueError("a group has no credentials to become")
        if self.trusts_service is not None:
            if self.target != "role":
                raise ValueError("trusts_service applies only to a target role")
            if not _SERVICE_PRINCIPAL.match(self.trusts_service):
                raise ValueError(f"trusts_service {self.trusts_service!r} is not a service principal")
        if self.creates_target and (self.kind != "become" or self.target != "role"):
            raise ValueError("creates_target is for become techniques whose target is a new role")
        if self.snapshot_check is not None and (self.assumes is None or self.snapshot_shows_precondition):
            raise ValueError("snapshot_check refines `assumes`: it needs one the binding does not establish")
        if self.snapshot_check == "instance-profile" and self.target != "role":
            raise ValueError("an instance-profile check applies only to a target role")
        used = self.placeholders()
        if self.snapshot_check == "non-default-version" and "policy" not in used:
            raise ValueError("a non-default-version check needs the {policy} placeholder")
        bad = used - PLACEHOLDERS
        if bad:
            raise ValueError(f"unknown placeholders {sorted(bad)} (valid: {sorted(PLACEHOLDERS)})")
        if "policy" in used and self.kind != "grant":
            raise ValueError("{policy} is meaningful only for grant techniques")
        if "group" in used and self.target != "user":
            raise ValueError("{group} is meaningful only when the target is a user")
        return self

    def actions(self) -> list[str]:
        return sorted({r.action for r in self.requires})

    def placeholders(self) -> set[str]:
        return set().union(*(r.placeholders() for r in self.requires))

    def bind(self, **values: str) -> list[Requirement]:
        """The requirements with placeholders replaced (target=..., account=..., ...)."""
        unknown = set(values) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholders {sorted(unknown)}")
        missing = self.placeholders() - set(values)
        if missing:
            raise ValueError(f"technique {self.id} needs values for {sorted(missing)}")

        return [
            Requirement(
                action=r.action,
                resource=fill(r.resource, values),
                context={k: fill(v, values) for k, v in r.context.items()},
                self_granted=r.self_granted,
            )
            for r in self.requires
        ]


class TechniqueCatalogue(_Strict):
    sources: dict[str, str]
    techniques: list[Technique] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> TechniqueCatalogue:
        ids = [t.id for t in self.techniques]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate technique ids: {dup}")
        for t in self.techniques:
            for s in t.sources:
                if s.split(":", 1)[0] not in self.sources:
                    raise ValueError(f"technique {t.id}: source {s!r} has no entry in sources")
        return self

    def technique(self, technique_id: str) -> Technique:
        for t in self.techniques:
            if t.id == technique_id:
                return t
        raise KeyError(technique_id)

    def using(self, action: str) -> list[Technique]:
        """Techniques that need the action (case-insensitive)."""
        a = action.lower()
        return [t for t in self.techniques if any(r.action.lower() == a for r in t.requires)]

    def with_source(self, source: str) -> list[Technique]:
        """Techniques citing this source, e.g. 'pathfinding:iam-001' or 'pmapper:ec2'."""
        return [t for t in self.techniques if source in t.sources]

    def of_kind(self, kind: str, target: str | None = None) -> list[Technique]:
        return [t for t in self.techniques if t.kind == kind and (target is None or t.target == target)]

    def covered_sources(self) -> set[str]:
        return {s for t in self.techniques for s in t.sources}


def _arn_format_regex(arn_format: str) -> re.Pattern:
    """'arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}' -> a regex, each ${..} any text."""
    parts = re.split(r"\$\{[^}]*\}", arn_format)
    return re.compile(".*".join(re.escape(p) for p in parts), re.IGNORECASE)


def _example(resource: str, target: str) -> str:
    values = {
        "target": _EXAMPLE_TARGET[target],
        "caller": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:user/caller",
        "account": _EXAMPLE_ACCOUNT,
        "policy": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:policy/example",
        "group": f"arn:aws:iam::{_EXAMPLE_ACCOUNT}:group/example",
    }
    text = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), resource)
    return text.replace("*", "x").replace("?", "x")


def _catalogue_problems(cat: TechniqueCatalogue) -> list[str]:
    problems = []
    for t in cat.techniques:
        for i, r in enumerate(t.requires):
            where = f"technique {t.id}: requires[{i}] {r.action}"
            if any(c in r.action for c in "*?"):
                problems.append(f"{where}: an exact action is required, not a pattern")
                continue
            info = catalogue.lookup(r.action)
            if info is None:
                problems.append(f"{where}: {catalogue.unknown_action_message(r.action)}")
                continue
            if info.full_name != r.action:
                problems.append(f"{where}: spell it {info.full_name}")
            formats = [fmt for _, fmt, _ in info.resource_types if fmt]
            if not formats:
                if r.resource != "*":
                    problems.append(f"{where}: the action has no resource type, so the resource must be '*'")
            elif r.resource == "*":
                problems.append(
                    f"{where}: the action has resource types ({', '.join(n for n, _, _ in info.resource_types)}); "
                    "name one instead of '*'"
                )
            else:
                example = _example(r.resource, t.target)
                if not any(_arn_format_regex(fmt).fullmatch(example) for fmt in formats):
                    problems.append(
                        f"{where}: resource {r.resource!r} matches none of the action's resource "
                        f"types ({', '.join(formats)})"
                    )
            allowed = {k.lower() for k in info.condition_keys}
            for key in r.context:
                if not key.lower().startswith("aws:") and key.lower() not in allowed:
                    problems.append(f"{where}: context key {key!r} is not a condition key of the action")
    return problems


def parse_techniques(data: Any, source: str = "<data>") -> TechniqueCatalogue:
    """Validate a technique catalogue; CatalogueDataError names every problem."""
    try:
        cat = TechniqueCatalogue.model_validate(data)
    except ValidationError as e:
        raise CatalogueDataError(f"{source}: {e}") from e
    problems = _catalogue_problems(cat)
    if problems:
        raise CatalogueDataError(f"{source}: " + "; ".join(problems))
    return cat


@lru_cache(maxsize=1)
def load_techniques() -> TechniqueCatalogue:
    """The bundled catalogue (reasoner/data/privesc_techniques.json), validated against the action catalogue."""
    return parse_techniques(json.loads(DATA_FILE.read_text()), source=str(DATA_FILE))
