"""A request to decide, and the batch-line object that carries it with its policies.

The batch line is the documented machine interface of `reasoner decide --batch` (README):
{"id", "request": {"principal", "action", "resource", "resource_account"?, "context"},
 "identity_policies", "resource_policy", "permission_boundary", "session_policy",
 "scps", "rcps", "vpc_endpoint_policy", "management_account"}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import Policy, parse_policy, scalar_text, validation_to_input_error
from reasoner.policy.values import parse_date, parse_network, parse_number

Scalar = str | int | float | bool
MAX_CONTEXT_VALUES = 1000


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    principal: str = Field(min_length=1)
    action: str = Field(min_length=1)
    resource: str = Field(min_length=1)
    resource_account: str | None = Field(default=None, pattern=r"^\d{12}$")
    context: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    @field_validator("context")
    @classmethod
    def _context_size(cls, v: dict) -> dict:
        for key, values in v.items():
            if isinstance(values, list) and len(values) > MAX_CONTEXT_VALUES:
                raise ValueError(f"context key {key!r} has {len(values)} values, over {MAX_CONTEXT_VALUES}")
        return v

    @field_validator("context")
    @classmethod
    def _context_types(cls, v: dict) -> dict:
        """A typed key (catalogue.value_kind: the key's data type in the AWS docs) holds values of
        its type only: AWS never sends aws:SourceIp=example or aws:EpochTime=yesterday."""
        for key, values in v.items():
            kind = catalogue.value_kind(key)
            if kind is None:
                continue
            for value in values if isinstance(values, list) else [values]:
                text = scalar_text(value)
                if not value_has_kind(kind, text):
                    shown = text if len(text) <= 80 else text[:77] + "..."
                    raise ValueError(f"context key {key!r} holds {kind} values (its AWS data type), not {shown!r}")
        return v

    def context_values(self) -> dict[str, list[str]]:
        """Lower-cased keys (AWS condition keys are case-insensitive) to lists of strings."""
        out: dict[str, list[str]] = {}
        for key, value in self.context.items():
            values = value if isinstance(value, list) else [value]
            out.setdefault(key.lower(), []).extend(scalar_text(v) for v in values)
        return out


def value_has_kind(kind: str, text: str) -> bool:
    """Does `text` parse as a value of the kind (numeric, date, bool, ip) of catalogue.value_kind?"""
    if kind == "numeric":
        n = parse_number(text)
        return n is not None and n.is_finite()
    if kind == "date":
        return parse_date(text) is not None
    if kind == "bool":
        return text.lower() in ("true", "false")
    return parse_network(text) is not None


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """A validated policy with the name explanations use (a file name or a JSON path).
    Internal: built from already-validated parts, so a plain dataclass (no re-validation)."""

    name: str
    policy: Policy


@dataclass(frozen=True, slots=True)
class DecideInput:
    """One request with every policy layer that applies to it (internal, already validated)."""

    request: Request
    id: str | int | None = None
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    resource_policy: NamedPolicy | None = None
    permission_boundary: NamedPolicy | None = None
    session_policy: NamedPolicy | None = None
    scps: list[list[NamedPolicy]] | None = None  # one list per OU level, root first
    rcps: list[list[NamedPolicy]] | None = None
    vpc_endpoint_policy: NamedPolicy | None = None
    management_account: str | None = None


_LINE_KEYS = {
    "id",
    "request",
    "identity_policies",
    "resource_policy",
    "permission_boundary",
    "session_policy",
    "scps",
    "rcps",
    "vpc_endpoint_policy",
    "management_account",
}


class PolicyCache:
    """Parse each distinct policy document once (batches repeat the same documents)."""

    def __init__(self) -> None:
        self._cache: dict[str, Policy] = {}

    def parse(self, obj: Any, source: str | None, path: tuple) -> Policy:
        try:
            # Key order is kept: identical documents in one batch are written identically.
            key = json.dumps(obj, separators=(",", ":"), check_circular=False)
        except (TypeError, ValueError):
            return parse_policy(obj, source=source, prefix=path)
        hit = self._cache.get(key)
        if hit is None:
            hit = parse_policy(obj, source=source, prefix=path)
            self._cache[key] = hit
        return hit


def decide_input_from_obj(
    obj: Any, *, source: str | None = None, cache: PolicyCache | None = None, prefix: tuple = ()
) -> DecideInput:
    """Validate one batch-line object (already decoded from JSON or YAML)."""
    cache = cache or PolicyCache()
    if not isinstance(obj, dict):
        raise InputError("a decide input must be a JSON object", source=source, path=prefix)
    extra = set(obj) - _LINE_KEYS
    if extra:
        raise InputError(
            f"unknown field {sorted(extra)[0]!r} (expected {', '.join(sorted(_LINE_KEYS))})", source=source, path=prefix
        )
    if "request" not in obj:
        raise InputError("required field 'request' is missing", source=source, path=prefix)
    try:
        request = Request.model_validate(obj["request"])
    except ValidationError as exc:
        raise validation_to_input_error(exc, source, prefix + ("request",)) from None

    def one(field: str) -> NamedPolicy | None:
        doc = obj.get(field)
        if doc is None:
            return None
        return NamedPolicy(name=field, policy=cache.parse(doc, source, prefix + (field,)))

    def many(field: str) -> list[NamedPolicy]:
        docs = obj.get(field) or []
        if not isinstance(docs, list):
            raise InputError(f"{field} must be a list of policy documents", source=source, path=prefix + (field,))
        return [
            NamedPolicy(name=f"{field}[{i}]", policy=cache.parse(d, source, prefix + (field, i)))
            for i, d in enumerate(docs)
        ]

    def levels(field: str) -> list[list[NamedPolicy]] | None:
        lv = obj.get(field)
        if lv is None:
            return None
        if not isinstance(lv, list) or not all(isinstance(level, list) for level in lv):
            raise InputError(
                f"{field} must be a list of levels (root first), each a list of policy documents",
                source=source,
                path=prefix + (field,),
            )
        return [
            [
                NamedPolicy(name=f"{field}[{n}][{i}]", policy=cache.parse(d, source, prefix + (field, n, i)))
                for i, d in enumerate(level)
            ]
            for n, level in enumerate(lv)
        ]

    mgmt = obj.get("management_account")
    if mgmt is not None and not (isinstance(mgmt, str) and len(mgmt) == 12 and mgmt.isdigit()):
        raise InputError(
            "management_account must be a 12-digit account ID", source=source, path=prefix + ("management_account",)
        )
    ident = obj.get("id")
    if ident is not None and (not isinstance(ident, (str, int)) or isinstance(ident, bool)):
        raise InputError("id must be a string or an integer", source=source, path=prefix + ("id",))
    return DecideInput(
        id=ident,
        request=request,
        identity_policies=many("identity_policies"),
        resource_policy=one("resource_policy"),
        permission_boundary=one("permission_boundary"),
        session_policy=one("session_policy"),
        scps=levels("scps"),
        rcps=levels("rcps"),
        vpc_endpoint_policy=one("vpc_endpoint_policy"),
        management_account=mgmt,
    )
