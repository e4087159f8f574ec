"""Audit report renderers from the one model (reasoner.audit.findings): JSON (the envelope), CSV
(one row per finding) and Markdown (short enough for a pull-request comment). `unknown` is never
shown as a pass."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from reasoner.audit.envelope import envelope
from reasoner.audit.findings import FINDINGS_KIND, FINDINGS_VERSION, LEVELS, AuditReport, Finding

MARKDOWN_TOP = 10
MARKDOWN_LIMIT = 60_000  # GitHub comments stop at 65,536 characters
STATUS_LABEL = {"fail": "FAIL", "unknown": "UNKNOWN", "pass": "pass", "suppressed": "suppressed"}


def to_json(report: AuditReport) -> dict[str, Any]:
    return envelope(FINDINGS_KIND, FINDINGS_VERSION, report.model_dump(mode="json"))


def render_json(report: AuditReport) -> str:
    return json.dumps(to_json(report), indent=1) + "\n"


def path_text(f: Finding) -> str:
    if not f.path:
        return ""
    parts = [f.path[0].principal]
    for h in f.path:
        via = f" via {', '.join(h.called_via)}" if h.called_via else ""
        parts.append(f"--{h.action}{via}--> {h.resource}")
    return " ".join(parts)


def location_text(f: Finding) -> str:
    loc = f.location or next((s.location for h in f.path for s in h.statements if s.location), None)
    if loc is None:
        return ""
    return f"{loc.file}:{loc.line}" if loc.line else f"{loc.file} {loc.json_path}"


CSV_COLUMNS = [
    "id",
    "rule",
    "status",
    "severity",
    "score",
    "title",
    "account",
    "principal",
    "actions",
    "resource",
    "conditions",
    "path",
    "statements",
    "decide_command",
    "location",
    "scope",
    "reason",
    "evidence",
    "remediation",
    "suppression",
    "snapshot_sha256",
]


def render_csv(report: AuditReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in report.findings:
        stmts = "; ".join(
            f"{s.policy}[{s.index}]" + (f" {s.sid}" if s.sid else "") for h in f.path for s in h.statements
        )
        w.writerow(
            [
                f.id,
                f.rule.id,
                f.status,
                f.severity.level,
                f.severity.score,
                f.title,
                f.account or "",
                f.principal or "",
                " ".join(f"{a.action} ({a.access_level})" if a.access_level else a.action for a in f.actions),
                f.resource or "",
                json.dumps(f.conditions, sort_keys=True) if f.conditions else "",
                path_text(f),
                stmts,
                f.decide_command or "",
                location_text(f),
                f.scope or "",
                f.reason or "",
                f.evidence,
                f.remediation,
                f"{f.suppression.reason} ({f.suppression.owner})" if f.suppression else "",
                f.snapshot_sha256,
            ]
        )
    return buf.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: AuditReport, top: int = MARKDOWN_TOP) -> str:
    s = report.summary.by_status
    lines = [
        "## IAM audit",
        "",
        f"**{s['fail']} failing**, **{s['unknown']} unknown** (not proved either way), "
        f"{s['suppressed']} suppressed, {s['pass']} passed — "
        f"{len(report.findings)} findings over {len(report.accounts)} account(s), "
        f"zone of trust: {report.zone_of_trust}.",
        "",
        "| severity | " + " | ".join(LEVELS) + " |",
        "| --- |" + " --- |" * len(LEVELS),
        "| failing | " + " | ".join(str(report.summary.by_severity[lv]) for lv in LEVELS) + " |",
        "",
    ]
    lines += [w for w in report.warnings if w.startswith("WARNING")]
    failing = [f for f in report.findings if f.status == "fail"]
    failing.sort(key=lambda f: -f.severity.score)
    if failing:
        lines += ["", f"### Top findings ({min(top, len(failing))} of {len(failing)})", ""]
        lines += ["| severity | rule | finding | reproduce |", "| --- | --- | --- | --- |"]
        for f in failing[:top]:
            cmd = f"`{_cell(f.decide_command)}`" if f.decide_command and len(f.decide_command) < 400 else ""
            lines.append(f"| {f.severity.level} | {f.rule.id} | {_cell(f.title)} | {cmd} |")
    unknown = [f for f in report.findings if f.status == "unknown"]
    if unknown:
        lines += ["", f"### Unknown ({len(unknown)}): not checked to the end, not a pass", ""]
        lines += [f"- {_cell(f.title)}: {_cell(f.reason or '')}" for f in unknown[:top]]
        if len(unknown) > top:
            lines.append(f"- ... and {len(unknown) - top} more")
    if report.exposures:
        lines += ["", "### Exposure", ""]
        lines += [f"- `{e.resource}`: {e.summary}" for e in report.exposures[:top]]
        if len(report.exposures) > top:
            lines.append(f"- ... and {len(report.exposures) - top} more resources")
    lines += ["", "| rule | status | fail | unknown | pass | seconds |", "| --- | --- | --- | --- | --- | --- |"]
    for r in report.rules:
        c = report.summary.by_rule.get(r.id, {})
        lines.append(
            f"| {r.title} | {r.status} | {c.get('fail', 0)} | {c.get('unknown', 0)} | {c.get('pass', 0)} "
            f"| {r.seconds} |"
        )
    lines += [
        "",
        f"Snapshot sha256 `{report.snapshots[0].sha256 if report.snapshots else ''}`; full report: "
        "`reasoner audit ... --format html`.",
    ]
    text = "\n".join(lines) + "\n"
    if len(text) > MARKDOWN_LIMIT:
        text = text[:MARKDOWN_LIMIT] + "\n\n(truncated)\n"
    return text
