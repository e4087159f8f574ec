"""Policy documents in every shape AWS accepts, validated once with a JSON path on each error.

AWS: IAM User Guide, "IAM JSON policy element reference" (Version, Id, Statement, Sid, Effect,
Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition) and
"Grammar of the IAM JSON policy language" (string-or-list, object-or-list shapes).
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

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
from reasoner.policy.arn_rules import resource_variable_problem
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


_UNIQUE_ID = re.compile(r"^A(IDA|ROA)[A-Z0-9]{12,}$")


def is_arn(value: str) -> bool:
    """arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE (wildcards allowed inside components)."""
    return value.startswith("arn:") and len(value.split(":", 5)) == 6


def resource_value_problem(value: str) -> str | None:
    """AWS: IAM JSON policy elements, "Resource": each value is "*" or an ARN; anything else is
    rejected ("Resource ... must be in ARN format or "*"", MalformedPolicyDocument) and, let
    through, would silently match nothing. A value starting `arn:` with fewer than six
    components (`arn:aws:ec2:*`) is kept, matched as a glob over the whole ARN (arn_match)."""
    if value == "*" or value.startswith("arn:"):
        return None
    return f"must be '*' or an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), not {value!r:.80}"


def aws_principal_problem(value: str) -> str | None:
    """AWS: IAM JSON policy elements, "Principal": an AWS principal is "*", a 12-digit account ID
    or an ARN. A unique ID (AIDA... user, AROA... role) is also kept: AWS writes it in place of a
    principal that was deleted, and it matches no principal (AWS: "Role trust policies" /
    "unique identifiers")."""
    if value == "*" or (len(value) == 12 and value.isdigit()) or is_arn(value) or _UNIQUE_ID.match(value):
        return None
    return f"an AWS principal is '*', a 12-digit account ID or an ARN, not {value!r:.80}"


def _each(values: list[str] | None, problem: Any) -> list[str] | None:
    for j, value in enumerate(values or ()):
        message = problem(value)
        if message:
            raise ElementError(message, (j,))
    return values


class PrincipalMap(BaseModel):
    """The object form of Principal / NotPrincipal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AWS: StrList | None = None
    Service: StrList | None = None
    Federated: StrList | None = None
    CanonicalUser: StrList | None = None

    @field_validator("AWS")
    @classmethod
    def _aws_values(cls, v: list[str] | None) -> list[str] | None:
        return _each(v, aws_principal_problem)

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

    @field_validator("Resource", "NotResource")
    @classmethod
    def _resource_values(cls, v: list[str] | None) -> list[str] | None:
        return _each(v, resource_value_problem)

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
                            raise ElementError(
                                f"Null takes 'true' or 'false', not {v!r:.80}", ("Condition", op_name, key)
                            )
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

    @model_validator(mode="after")
    def _arn_rules(self) -> Policy:
        problem = resource_variable_problem(self.Version, self.Statement)  # reasoner/policy/arn_rules.py
        if problem:
            raise ElementError(*problem)
        return self


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
        msg = f"{msg}, got {err.get('input')!r:.80}"
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


MAX_DOCUMENT_BYTES = MAX_POLICY_BYTES * 20  # a snapshot, case or invariants file
MAX_DEPTH = 100  # nesting of arrays and objects; AWS documents nest fewer than 10 deep
MAX_ALIAS_NODES = 10_000  # nodes YAML aliases may add when expanded (a billion-laughs bomb adds 10**9)


def open_input(path: str | Path) -> BinaryIO:
    """Open a user's input file for reading: a regular file, or `-` for stdin.

    The type is checked on the open descriptor before anything is read (opened non-blocking, so
    a FIFO with no writer cannot block the open): a directory, FIFO, device or socket is refused
    instead of blocking forever or reading `/dev/zero` without end. Every reader of user files
    goes through here (load_document, load_policy, the decide batch).
    """
    src = str(path)
    if src == "-":
        return sys.stdin.buffer
    if not src:
        raise InputError("empty file name (write '.' for the current folder)", source="<command line>")
    try:
        fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", source=src) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError("is a directory, not a file", source=src)
        if not stat.S_ISREG(mode):
            raise InputError("is not a regular file (a FIFO, device or socket); use '-' to read stdin", source=src)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path: str | Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The bytes of a user's input file (see open_input), at most max_bytes: the size is checked
    before reading and at most max_bytes + 1 bytes are ever read."""
    src = str(path)
    with open_input(path) as fh:
        if src != "-":
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise InputError(f"file is {size} bytes, over the {max_bytes}-byte input limit", source=src)
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read file: {exc.strerror}", source=src) from None
    if len(data) > max_bytes:
        raise InputError(f"input is over the {max_bytes}-byte limit", source=src)
    return data


def json_loads(text: str | bytes) -> Any:
    """json.loads, with NaN / Infinity (not JSON, RFC 8259) read as floats for check_tree to
    reject with their path; may raise json.JSONDecodeError or RecursionError."""
    return json.loads(text, parse_constant=float)


def check_tree(obj: Any, *, source: str | None, prefix: tuple = (), max_depth: int = MAX_DEPTH) -> None:
    """Reject what no JSON policy language accepts, with its JSON path: nesting deeper than
    max_depth, NaN / Infinity, and (from YAML) keys that are not strings or self-containing
    structures. Iterative, so no depth makes it recurse."""
    stack: list[tuple[Any, tuple, int]] = [(obj, (), 0)]
    on_path: set[int] = set()
    while stack:
        node, path, depth = stack.pop()
        if node is _LEAVE:
            on_path.discard(path[0])
            continue
        if isinstance(node, float) and not math.isfinite(node):
            raise InputError("NaN and Infinity are not JSON numbers", source=source, path=prefix + path)
        if not isinstance(node, (dict, list)):
            continue
        if depth >= max_depth:
            raise InputError(f"nested more than {max_depth} deep", source=source, path=prefix + path)
        if id(node) in on_path:
            raise InputError("a YAML alias refers to a structure that contains it", source=source, path=prefix + path)
        on_path.add(id(node))
        stack.append((_LEAVE, (id(node),), depth))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(node, dict) and not isinstance(key, str):
                raise InputError(f"keys must be strings, not {type(key).__name__}", source=source, path=prefix + path)
            stack.append((child, path + (key,), depth + 1))


_LEAVE = object()


def _yaml_loader() -> type:
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class BoundedLoader(base):  # type: ignore[valid-type, misc]
        """safe_load that refuses documents whose aliases expand past MAX_ALIAS_NODES nodes (a
        "billion laughs" document of 557 bytes expands to 10**9), before constructing anything."""

        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            _check_expansion(node)
            return self.construct_document(node)

    return BoundedLoader


def _check_expansion(root: yaml.Node) -> None:
    """Count the nodes of the document with every alias expanded (memoised per node, so the
    count itself is linear in the document) against the distinct nodes."""
    expanded: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in expanded or (not done and key in entered):
            continue  # already counted, or an ancestor (a recursive alias: check_tree rejects it)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [x for pair in node.value for x in pair]
        if not done:
            entered.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in children)
            continue
        expanded[key] = 1 + sum(expanded.get(id(c), 1) for c in children)
    if expanded[id(root)] - len(expanded) > MAX_ALIAS_NODES:
        raise yaml.YAMLError(f"YAML aliases expand the document by over {MAX_ALIAS_NODES} nodes; write it out in full")


def load_document(path: str | Path, max_bytes: int = MAX_DOCUMENT_BYTES) -> Any:
    """Read a JSON or YAML file (`-`: stdin, JSON or YAML), with a one-line error on anything
    malformed, oversized, too deep or not a regular file; the error never quotes the input."""
    src = str(path)
    data = read_input(path, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file is not UTF-8 text", source=src) from None
    if Path(src).suffix.lower() in (".yaml", ".yml") or (src == "-" and not text.lstrip().startswith(("{", "["))):
        try:
            obj = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a SafeLoader subclass
        except RecursionError:
            raise InputError(f"YAML nested more than {MAX_DEPTH} deep", source=src) from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise InputError(f"malformed YAML{where}: {getattr(exc, 'problem', None) or exc}", source=src) from None
    else:
        try:
            obj = json_loads(text)
        except RecursionError:
            raise InputError(f"JSON nested more than {MAX_DEPTH} deep", source=src) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source=src) from None
    check_tree(obj, source=src)
    return obj


_YAML_LOADER = _yaml_loader()


def load_policy(path: str | Path) -> Policy:
    """Load and validate a policy document file (JSON or YAML); its size is checked before it
    is read. AWS: a policy document is a JSON object (a file holding a JSON string is not one)."""
    obj = load_document(path, MAX_POLICY_BYTES)
    if not isinstance(obj, dict):
        raise InputError("a policy document must be a JSON object", source=str(path))
    return parse_policy(obj, source=str(path))
