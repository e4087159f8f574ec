"""What `diff` answers: per direction, the classes of requests one side allows and the other does
not, each with its action, resource and context regions, the statements that decide it, and a
witness."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from reasoner.search.query import Dimension


class StatementText(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy: str
    index: int
    sid: str | None = None
    effect: str


class ActionRegion(BaseModel):
    """The catalogue actions no Action / NotAction pattern of either side can tell apart."""

    model_config = ConfigDict(frozen=True)

    count: int
    service_count: int
    services: list[str]  # the first 20
    examples: list[str]
    matches: list[str]  # patterns (of either side) every action of the region matches
    not_matches: list[str]  # patterns of the same services that none of them matches


class ResourceRegion(BaseModel):
    """Resources no Resource / NotResource pattern can tell apart: the patterns they match."""

    model_config = ConfigDict(frozen=True)

    example: str
    matches: list[str]
    not_matches: list[str]


class ContextConstraint(BaseModel):
    """What one searched key can be in a class: its possible regions (and whether it can be absent)."""

    model_config = ConfigDict(frozen=True)

    key: str
    absent: bool  # the key may be absent
    values: list[str]  # region witnesses it may take
    notes: list[str]  # per value: which condition values it matches


class DiffClass(BaseModel):
    model_config = ConfigDict(frozen=True)

    principal: str  # the witness's principal
    principals: list[str]  # every principal of the cover with this same class (resource policies)
    service: str
    action: str
    actions: ActionRegion
    resource: str  # the witness's resource
    resources: list[ResourceRegion]  # every resource region some difference of the class takes
    resources_any: bool  # ... which is every region: the class does not depend on the resource
    context: list[ContextConstraint]  # only the keys the class constrains
    statements: list[StatementText]  # the gaining side's statements that allow the witness
    other_side: str  # why the other side does not allow the witness
    witness: dict  # the request, as in a `decide --batch` line
    decide_old: str | None = None  # ready `reasoner decide` commands (when the policies are files)
    decide_new: str | None = None


class DiffDirection(BaseModel):
    model_config = ConfigDict(frozen=True)

    answer: Literal["differs", "same", "unknown"]
    reason: str
    classes: list[DiffClass] = []
    all_listed: bool = True  # False when the class limit cut the enumeration


class DiffAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["identity", "resource"]
    old: str
    new: str
    principals: list[str]
    resource_account: str
    notes: list[str] = []
    added: DiffDirection | None = None  # allowed by NEW, not by OLD ("new access")
    removed: DiffDirection | None = None  # allowed by OLD, not by NEW
    scope: list[Dimension] = []


def merge_principals(classes: list[DiffClass]) -> list[DiffClass]:
    """One entry for the principals of the cover that differ in the same way (same action and
    resource regions, statements and context)."""
    merged: dict[str, DiffClass] = {}
    for c in classes:
        key = c.model_dump_json(
            exclude={"principal", "principals", "witness", "decide_old", "decide_new", "other_side"}
        )
        if key in merged:
            first = merged[key]
            merged[key] = first.model_copy(update={"principals": first.principals + [c.principal]})
        else:
            merged[key] = c
    return list(merged.values())
