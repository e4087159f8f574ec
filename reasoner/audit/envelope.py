"""The JSON envelope (reasoner.envelope, its one home) with the catalogue's version filled in:
`{"schema": URI, "version": N, "tool": {"name", "version", "catalogue"}, "result": ...}`."""

from __future__ import annotations

from typing import Any

from reasoner.envelope import PROJECT_URL, SCHEMA_BASE, unwrap
from reasoner.envelope import envelope as base_envelope
from reasoner.envelope import tool_info as base_tool_info
from reasoner.policy import catalogue

__all__ = ["PROJECT_URL", "SCHEMA_BASE", "envelope", "tool_info", "unwrap"]


def tool_info() -> dict[str, str]:
    return base_tool_info(catalogue.data_version())


def envelope(kind: str, version: int, result: Any) -> dict[str, Any]:
    """Wrap `result` (already JSON-serialisable) in the envelope of document type `kind`."""
    return base_envelope(kind, version, result, catalogue=catalogue.data_version())
