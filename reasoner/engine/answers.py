"""Answer objects: what every command returns and every renderer reads."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

DecisionValue = Literal["allow", "explicit_deny", "implicit_deny"]


class StatementRef(BaseModel):
    """A statement named the way a reader finds it: policy, index and Sid."""

    model_config = ConfigDict(frozen=True)

    layer: str  # identity, resource, boundary, session, vpce, scp[N], rcp[N]
    policy: str
    index: int
    sid: str | None = None
    effect: Literal["allow", "deny"]


class Mismatch(BaseModel):
    """Why one statement did not apply (single decisions only)."""

    model_config = ConfigDict(frozen=True)

    statement: StatementRef
    element: str  # action, resource, principal, condition
    detail: str | None = None  # e.g. 'ForAnyValue:StringEquals aws:CalledVia'


class Decision(BaseModel):
    """A decision with its diagnostics (one batch output line)."""

    model_config = ConfigDict(frozen=True)

    id: str | int | None = None
    decision: DecisionValue | None
    error: str | None = None
    decided_by: str | None = None  # the layer that decided: for implicit deny, the first that had no allow
    determining_statements: list[StatementRef] = []
    missing_allow: list[str] = []
    mismatches: list[Mismatch] = []

    def to_json_obj(self, *, with_mismatches: bool = True) -> dict:
        data = self.model_dump(mode="json")
        if not with_mismatches:
            data.pop("mismatches", None)
        return data
