"""Policy documents in every shape AWS accepts, validated once with a JSON path on each error.

AWS: IAM User Guide, "IAM JSON policy element reference" (Version, Id, Statement, Sid, Effect,
Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition) and
"Grammar of the IAM JSON policy language" (string-or-list, object-or-list shapes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from reasoner.errors import InputError
from reasoner.policy.operators import Operator, parse_operator
from reasoner.policy.values import policy_value_error

MAX_POLICY_BYTES = 1_000_000  # far above every AWS quota (SCP 5,120; managed 6,144; bucket 20 KB)


class ElementError(ValueError):
    """A validation error deeper than the element that found it (keeps the JSON path exact)."""

    def __init__(self, message: str, subpath: tuple):
        super().__init__(message)
        self.subpath = subpath


def _string_list(value: Any) -> Any:
    """AWS accepts a single string wherever it accepts a list of strings."""
    if isinstance(value, str):
        return [value]
    return value


def _scalar_list(value: Any) -> Any:
    """Condition values: a scalar or a list of scalars (strings, numbers, booleans)."""
    if isinstance(value, (str, int, float, bool)):
        return [value]
    return value


def scalar_text(value: Any) -> str:
    """The string AWS compares: JSON true -> 'true', 5 -> '5'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"condition value must be a string, number or boolean, not {type(value).__name__}")


StrList = Annotated[list[str], BeforeValidator(_string_list), Field(min_length=1)]


def _condition_values(value: Any) -> list[str]:
    value = _scalar_list(value)
    if not isinstance(value, list):
        raise ValueError("condition values must be a string, number, boolean or a list of them")
    return [scalar_text(x) for x in value]


ConditionValues = Annotated[list[str], BeforeValidator(_condition_values)]


def _check_operator(name: str) -> str:
    parse_operator(name)
    return name


OperatorName = Annotated[str, AfterValidator(_check_operator)]


class PrincipalMap(BaseModel):
    """The object form of Principal / NotPrincipal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AWS: StrList | None = None
    Service: StrList | None = None
    Federated: StrList | None = None
    CanonicalUser: StrList | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> PrincipalMap:
        if not (self.AWS or self.Service or self.Federated or self.CanonicalUser):
            raise ValueError("principal map names no AWS, Service, Federated or CanonicalUser principal")
        return self

    def entries(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for kind in ("AWS", "Service", "Federated", "CanonicalUser"):
            for v in getattr(self, kind) or []:
                out.append((kind, v))
        return out


def _principal(value: Any) -> Any:
    if value == "*":
        return {"AWS": ["*"]}
    if not isinstance(value, dict):
        raise ValueError(
            f'Principal must be "*" or an object with AWS / Service / Federated / CanonicalUser keys, not {value!r:.60}'
        )
    return value


PrincipalValue = Annotated[PrincipalMap, BeforeValidator(_principal)]


class Statement(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Sid: str | None = None
    Effect: Literal["Allow", "Deny"]
    Principal: PrincipalValue | None = None
    NotPrincipal: PrincipalValue | None = None
    Action: StrList | None = None
    NotAction: StrList | None = None
    Resource: StrList | None = None
    NotResource: StrList | None = None
    Condition: dict[OperatorName, dict[str, ConditionValues]] | None = None

    @field_validator("Sid", mode="before")
    @classmethod
    def _sid_text(cls, v: Any) -> Any:
        # AWS requires a string; some published documents use numbers, which AWS rejects.
        if v is not None and not isinstance(v, str):
            raise ValueError("Sid must be a string")
        return v

    @model_validator(mode="after")
    def _one_of_each(self) -> Statement:
        if (self.Action is None) == (self.NotAction is None):
            raise ValueError("a statement needs exactly one of Action or NotAction")
        if self.Resource is not None and self.NotResource is not None:
            raise ValueError("a statement cannot have both Resource and NotResource")
        if self.Principal is not None and self.NotPrincipal is not None:
            raise ValueError("a statement cannot have both Principal and NotPrincipal")
        for op_name, block in (self.Condition or {}).items():
            op = parse_operator(op_name)
            for key, values in block.items():
                if op.family == "null":
                    for v in values:
                        if v.lower() not in ("true", "false"):
                            raise ElementError(f"Null takes 'true' or 'false', not {v!r}", ("Condition", op_name, key))
                    continue
                for v in values:
                    problem = policy_value_error(op.family, v)
                    if problem:
                        raise ElementError(f"{op_name}: {problem}", ("Condition", op_name, key))
        return self

    def operators(self) -> list[tuple[Operator, str, list[str]]]:
        """(operator, key, values) for every entry of the Condition block, in order."""
        out = []
        for op_name, block in (self.Condition or {}).items():
            op = parse_operator(op_name)
            for key, values in block.items():
                out.append((op, key, values))
        return out


def _statements(value: Any) -> Any:
    if isinstance(value, dict):
        return [value]
    return value


class Policy(BaseModel):
    """One policy document. A missing Version means 2008-10-17 (no policy variables)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Version: Literal["2012-10-17", "2008-10-17"] = "2008-10-17"
    Id: str | None = None
    Statement: Annotated[list[Statement], BeforeValidator(_statements)]

    @property
    def variables_enabled(self) -> bool:
        """AWS: policy variables are only substituted under Version 2012-10-17."""
        return self.Version == "2012-10-17"


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's internal markers from an error location."""
    return tuple(
        p
        for p in loc
        if p not in ("[key]",) and not (isinstance(p, str) and ("[" in p and "]" in p and p.startswith("function")))
    )


def validation_to_input_error(exc: ValidationError, source: str | None, prefix: tuple = ()) -> InputError:
    """The one place a pydantic ValidationError becomes the one-line user message."""
    err = exc.errors()[0]
    msg = err.get("msg", "invalid")
    loc = _clean_loc(tuple(err.get("loc", ())))
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ElementError):
        loc = loc + cause.subpath
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "extra_forbidden":
        msg = "unknown element (AWS element names are case-sensitive)"
    elif err.get("type") == "literal_error":
        msg = f"{msg}, got {err.get('input')!r}"
    elif err.get("type") == "missing":
        msg = "required element is missing"
    return InputError(msg, source=source, path=prefix + loc)


def parse_policy(obj: Any, *, source: str | None = None, prefix: tuple = ()) -> Policy:
    """Validate a decoded JSON/YAML object as a policy document."""
    if isinstance(obj, str):
        # Policies are sometimes passed as JSON strings (GAAD, CloudFormation).
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"policy string is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                source=source,
                path=prefix,
            ) from None
    if not isinstance(obj, dict):
        raise InputError("a policy document must be a JSON object", source=source, path=prefix)
    try:
        return Policy.model_validate(obj)
    except ValidationError as exc:
        raise validation_to_input_error(exc, source, prefix) from None


def load_document(path: str | Path) -> Any:
    """Read a JSON or YAML file, with a one-line error on anything malformed."""
    p = Path(path)
    src = str(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=src) from None
    if len(data) > MAX_POLICY_BYTES * 20:
        raise InputError(f"file is {len(data)} bytes, over the {MAX_POLICY_BYTES * 20}-byte input limit", source=src)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", source=src) from None
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise InputError(f"malformed YAML{where}: {getattr(exc, 'problem', exc)}", source=src) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=src) from None


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy document file (JSON or YAML)."""
    obj = load_document(path)
    size = Path(path).stat().st_size
    if size > MAX_POLICY_BYTES:
        raise InputError(f"policy is {size} bytes, over the {MAX_POLICY_BYTES}-byte limit", source=str(path))
    return parse_policy(obj, source=str(path))
