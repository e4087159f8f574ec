"""Where a snapshot's policies and statements are written: the file, the JSON path and the line.

The snapshot loader names each policy (`ROLE_ARN#inline/NAME`, `ROLE_ARN#trust`, a managed
policy's ARN, `RESOURCE_ARN#policy`, `VPCE_ID#policy`, `NODE_ID:NAME` for SCPs/RCPs); this module
finds the same documents in the snapshot's files by walking their AWS shapes, and the line of each
JSON value with a small scanner (YAML files get the JSON path without a line)."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reasoner.audit.findings import Location
from reasoner.errors import InputError
from reasoner.policy.document import read_input

_STR = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_WS = re.compile(r"\s*")
_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null")
MAX_INDEXED_BYTES = 64 * 1024 * 1024
_INLINE_LISTS = ("UserPolicyList", "GroupPolicyList", "RolePolicyList")


def json_positions(text: str) -> dict[tuple, int]:
    """JSON path (tuple of keys and indexes) -> offset of the value's first character."""
    out: dict[tuple, int] = {}
    _value(text, 0, (), out)
    return out


def _ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _value(text: str, pos: int, path: tuple, out: dict[tuple, int]) -> int:
    pos = _ws(text, pos)
    out[path] = pos
    c = text[pos]
    if c == "{":
        return _object(text, pos + 1, path, out)
    if c == "[":
        return _array(text, pos + 1, path, out)
    m = _STR.match(text, pos) if c == '"' else _SCALAR.match(text, pos)
    if m is None:
        raise ValueError(f"not JSON at offset {pos}")
    return m.end()


def _object(text: str, pos: int, path: tuple, out: dict[tuple, int]) -> int:
    pos = _ws(text, pos)
    if text[pos] == "}":
        return pos + 1
    while True:
        pos = _ws(text, pos)
        m = _STR.match(text, pos)
        if m is None:
            raise ValueError(f"not JSON at offset {pos}")
        key = json.loads(m.group())
        pos = _ws(text, m.end()) + 1  # the colon
        pos = _ws(text, _value(text, pos, path + (key,), out))
        if text[pos] == ",":
            pos += 1
            continue
        return pos + 1


def _array(text: str, pos: int, path: tuple, out: dict[tuple, int]) -> int:
    pos = _ws(text, pos)
    if text[pos] == "]":
        return pos + 1
    i = 0
    while True:
        pos = _ws(text, _value(text, pos, path + (i,), out))
        i += 1
        if text[pos] == ",":
            pos += 1
            continue
        return pos + 1


def path_text(path: tuple) -> str:
    out = "$"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if re.fullmatch(r"[A-Za-z_][\w-]*", p) else f"[{p!r}]")
    return out


def _policy_docs(node: Any, path: tuple) -> Iterator[tuple[str, tuple]]:
    """(policy name as the loader gives it, JSON path of the document) for every policy in a tree."""
    if isinstance(node, list):
        for i, x in enumerate(node):
            yield from _policy_docs(x, path + (i,))
        return
    if not isinstance(node, dict):
        return
    yield from _principal_docs(node, path)
    yield from _other_docs(node, path)
    for k, v in node.items():
        if k == "resource_policies" and isinstance(v, dict):
            for res in v:
                yield f"{res}#policy", path + (k, res)
        elif isinstance(v, (dict, list)) and k not in ("PolicyDocument", "AssumeRolePolicyDocument", "Document"):
            yield from _policy_docs(v, path + (k,))


def _principal_docs(node: dict, path: tuple) -> Iterator[tuple[str, tuple]]:
    """Inline, trust and managed policy documents of a GAAD entry (it has an Arn)."""
    arn = node.get("Arn")
    if not isinstance(arn, str):
        return
    for key in _INLINE_LISTS:
        for j, ip in enumerate(node.get(key) or []):
            if isinstance(ip, dict):
                yield f"{arn}#inline/{ip.get('PolicyName', j)}", path + (key, j, "PolicyDocument")
    if "AssumeRolePolicyDocument" in node:
        yield f"{arn}#trust", path + ("AssumeRolePolicyDocument",)
    for j, v in enumerate(node.get("PolicyVersionList") or []):
        if isinstance(v, dict) and v.get("IsDefaultVersion"):
            yield arn, path + ("PolicyVersionList", j, "Document")


def _other_docs(node: dict, path: tuple) -> Iterator[tuple[str, tuple]]:
    """Resource-policy list entries, VPC endpoints and organization nodes."""
    if isinstance(node.get("Resource"), str) and "Policy" in node:
        yield f"{node['Resource']}#policy", path + ("Policy",)
    if isinstance(node.get("VpcEndpointId"), str) and "PolicyDocument" in node:
        yield f"{node['VpcEndpointId']}#policy", path + ("PolicyDocument",)
    if isinstance(node.get("Id"), str) and isinstance(node.get("Policies"), list):
        for j, pol in enumerate(node["Policies"]):
            if isinstance(pol, dict) and "Content" in pol:
                yield f"{node['Id']}:{pol.get('Name', pol.get('Id', j))}", path + ("Policies", j, "Content")


class Locator:
    """Policy name + statement index -> Location, over the snapshot's source files."""

    def __init__(self, sources: list[str]):
        self._docs: dict[str, tuple[str, tuple, Any]] = {}  # name -> (file, path, document)
        self._positions: dict[str, tuple[dict[tuple, int], list[int]]] = {}
        self._texts: dict[str, str] = {}
        total = 0
        for src in dict.fromkeys(sources):
            p = Path(src)
            if not p.is_file() or p.suffix.lower() != ".json":
                continue
            total += p.stat().st_size
            if total > MAX_INDEXED_BYTES:
                break
            try:
                text = read_input(p).decode("utf-8")  # bounded, regular files only
                doc = json.loads(text)
            except (OSError, ValueError, InputError):
                continue
            self._texts[src] = text
            for name, path in _policy_docs(doc, ()):
                self._docs.setdefault(name, (src, path, _at(doc, path)))

    def _line(self, src: str, path: tuple) -> int | None:
        if src not in self._positions:
            text = self._texts[src]
            try:
                pos = json_positions(text)
            except (ValueError, IndexError):
                pos = {}
            newlines = [m.start() for m in re.finditer("\n", text)]
            self._positions[src] = (pos, newlines)
        pos, newlines = self._positions[src]
        while path and path not in pos:
            path = path[:-1]
        if path not in pos:
            return None
        return bisect.bisect_left(newlines, pos[path]) + 1

    def policy(self, name: str) -> Location | None:
        hit = self._docs.get(name)
        if hit is None:
            return None
        src, path, _ = hit
        return Location(file=src, json_path=path_text(path), line=self._line(src, path))

    def statement(self, name: str, index: int) -> Location | None:
        hit = self._docs.get(name)
        if hit is None:
            return None
        src, path, doc = hit
        if isinstance(doc, dict):
            sts = doc.get("Statement")
            path = path + ("Statement", index) if isinstance(sts, list) else path + ("Statement",)
        return Location(file=src, json_path=path_text(path), line=self._line(src, path))


def _at(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc
