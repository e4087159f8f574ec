"""Answer objects: what every command returns and every renderer reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

DecisionValue = Literal["allow", "explicit_deny", "implicit_deny"]
# Layers AWS itself decides, whatever the policies say (encodings/protected.lp): GetCallerIdentity,
# and changes IAM refuses to AWS managed policies and protected roles.
AWS_LAYERS = ("aws-always-allowed", "aws-protected")


class StatementRef(BaseModel):
    """A statement named the way a reader finds it: policy, index and Sid."""

    model_config = ConfigDict(frozen=True)

    layer: str  # identity, resource, boundary, session, vpce, scp[N], rcp[N], aws-always-allowed, aws-protected
    policy: str
    index: int
    sid: str | None = None
    effect: Literal["allow", "deny"]

    @field_validator("layer")
    @classmethod
    def _layer_name(cls, v: str) -> str:
        # ASP atoms cannot hold '-': aws_protected in the encodings is aws-protected here.
        return v.replace("_", "-") if v.startswith("aws_") else v


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

    @model_validator(mode="before")
    @classmethod
    def _aws_layer_decides(cls, data: Any) -> Any:
        """A decision AWS makes by itself names its layer as decided_by (its synthetic statement is
        then the only determining statement)."""
        if not isinstance(data, dict):
            return data
        for ref in data.get("determining_statements") or ():
            layer = ref.get("layer") if isinstance(ref, dict) else getattr(ref, "layer", None)
            layer = layer.replace("_", "-") if isinstance(layer, str) else layer
            if layer in AWS_LAYERS:
                return {**data, "decided_by": layer}
        return data

    def to_json_obj(self, *, with_mismatches: bool = True) -> dict:
        data = self.model_dump(mode="json")
        if not with_mismatches:
            data.pop("mismatches", None)
        return data
