"""The JSON envelope every machine-readable output can share:
`{"schema": URI, "version": N, "tool": {"name", "version"}, "result": ...}`.

`schema` names the document type (a stable URI-like string), `version` its major version (bumped
on incompatible changes), `tool` the program that wrote it, `result` the payload."""

from __future__ import annotations

from typing import Any

SCHEMA_BASE = "https://github.com/iam-reasoner/iam-reasoner/schemas"


def tool_info() -> dict[str, str]:
    from reasoner.policy import catalogue

    try:
        from importlib.metadata import version

        v = version("iam-reasoner")
    except Exception:  # not installed (a checkout on sys.path)
        v = "0+unknown"
    return {"name": "iam-reasoner", "version": v, "catalogue": catalogue.data_version()}


def envelope(kind: str, version: int, result: Any) -> dict[str, Any]:
    """Wrap `result` (already JSON-serialisable) in the envelope of document type `kind`."""
    return {"schema": f"{SCHEMA_BASE}/{kind}.schema.json", "version": version, "tool": tool_info(), "result": result}


def unwrap(doc: dict[str, Any], kind: str, version: int) -> Any:
    """The result of an envelope of type `kind` and major `version` (ValueError otherwise)."""
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).endswith(f"/{kind}.schema.json"):
        raise ValueError(f"not a {kind} document")
    if doc.get("version") != version:
        raise ValueError(f"{kind} version {doc.get('version')!r}, expected {version}")
    return doc["result"]
