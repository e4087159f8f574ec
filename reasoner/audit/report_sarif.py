"""SARIF 2.1.0 from the audit report: one rule per audit rule, one result per finding (passes as
kind "pass"; unknown as kind "review", never a pass; suppressed with a SARIF suppression), with
partialFingerprints (the stable finding id), security-severity, helpUri, and a region pointing at
the granting statement in the snapshot file or at the invariant's line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasoner.audit.envelope import tool_info
from reasoner.audit.findings import AuditReport, Finding, Location
from reasoner.envelope import PROJECT_URL

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _level(f: Finding) -> str:
    if f.status == "pass":
        return "none"
    if f.status == "unknown":
        return "warning"
    return {"critical": "error", "high": "error", "medium": "warning"}.get(f.severity.level, "note")


def _location(f: Finding, fallback: str | None) -> Location | None:
    if f.location is not None:
        return f.location
    for h in f.path:
        for s in h.statements:
            if s.location is not None:
                return s.location
    return Location(file=fallback, line=1) if fallback else None


def _uri(path: str) -> str:
    p = Path(path)
    return p.as_posix() if not p.is_absolute() else p.as_uri()


def render_sarif(report: AuditReport) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    for f in report.findings:
        r = rules.setdefault(
            f.rule.id,
            {
                "id": f.rule.id,
                "name": f.rule.id.replace("-", " ").title().replace(" ", ""),
                "shortDescription": {"text": f.rule.title.split(":")[0]},
                "fullDescription": {"text": f.rule.description},
                "helpUri": f.rule.help_uri,
                "help": {"text": f.remediation or f.rule.description},
                "properties": {"security-severity": "0.0", "tags": ["security", "iam"]},
            },
        )
        if f.status != "pass" and f.severity.score > float(r["properties"]["security-severity"]):
            r["properties"]["security-severity"] = f"{f.severity.score:.1f}"
    order = list(rules)
    fallback = report.snapshots[0].path if report.snapshots else None
    results = [_result(f, order.index(f.rule.id), fallback) for f in report.findings]
    info = tool_info()
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "iam-reasoner audit",
                        "version": info["version"],
                        "informationUri": PROJECT_URL,
                        "rules": [rules[k] for k in order],
                    }
                },
                "results": results,
                "properties": {
                    "zone_of_trust": report.zone_of_trust,
                    "snapshots": [s.model_dump() for s in report.snapshots],
                },
            }
        ],
    }


def _result(f: Finding, index: int, fallback: str | None) -> dict[str, Any]:
    text = f.title
    if f.status == "unknown":
        text = f"UNKNOWN (not proved): {f.title}: {f.reason or ''}"
    elif f.status == "pass" and f.scope:
        text = f"{f.title} (proved: {f.scope})"
    if f.decide_command and f.status != "pass":
        text += f"\nReproduce: {f.decide_command}"
    res: dict[str, Any] = {
        "ruleId": f.rule.id,
        "ruleIndex": index,
        "kind": {"pass": "pass", "unknown": "review"}.get(f.status, "fail"),
        "level": _level(f),
        "message": {"text": text},
        "partialFingerprints": {"iamReasonerFindingId/v1": f.id},
        "properties": {
            "security-severity": f"{f.severity.score:.1f}",
            "severity": f.severity.level,
            "status": f.status,
            "principal": f.principal,
            "resource": f.resource,
            "evidence": f.evidence,
        },
    }
    loc = _location(f, fallback)
    if loc is not None:
        phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(loc.file)}}
        if loc.line:
            phys["region"] = {"startLine": loc.line}
        res["locations"] = [
            {
                "physicalLocation": phys,
                "logicalLocations": [{"fullyQualifiedName": loc.json_path or f.subject, "kind": "object"}],
            }
        ]
    if f.status == "suppressed" and f.suppression is not None:
        res["suppressions"] = [{"kind": "external", "justification": f.suppression.reason, "status": "accepted"}]
        res["kind"] = "fail"
    return res
