"""Suppressions: a YAML (or JSON) file of accepted findings.

    suppressions:
      - id: F0123456789abcdef            # a finding id, or:
        rule: external-access            # a rule id and an fnmatch pattern over the subject
        pattern: "arn:aws:s3:::public-website-*"
        reason: the website bucket is public on purpose
        owner: web-team@example.com
        expires: 2027-06-30              # after this date the suppression no longer applies

A suppressed finding keeps its place in the report (status `suppressed`, with the suppression).
An expired suppression no longer applies (the finding shows with its real status) and is reported
loudly: a warning line and a finding of its own (rule `expired-suppression`)."""

from __future__ import annotations

import datetime as dt
import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reasoner.audit.findings import Finding, Location, Suppression, finding_id
from reasoner.audit.rulebase import rule
from reasoner.policy.document import load_document, validation_to_input_error

RULE = rule(
    "expired-suppression",
    "Expired suppression",
    "A suppression's expiry date has passed: the findings it covered are shown again until it is renewed or removed.",
)


class SuppressionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="a finding id")
    rule: str | None = Field(default=None, description="a rule id (with pattern)")
    pattern: str | None = Field(default=None, description="fnmatch pattern over the finding's subject")
    reason: str = Field(min_length=1)
    owner: str = ""
    expires: dt.date | None = None

    @model_validator(mode="after")
    def _target(self) -> SuppressionEntry:
        if (self.id is None) == (self.rule is None):
            raise ValueError("a suppression names either a finding id or a rule (with a pattern)")
        return self

    def matches(self, f: Finding) -> bool:
        if self.id is not None:
            return f.id == self.id
        return f.rule.id == self.rule and fnmatch.fnmatchcase(f.subject, self.pattern or "*")


class SuppressionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suppressions: list[SuppressionEntry] = []


def load_suppressions(path: str | Path) -> SuppressionsFile:
    try:
        return SuppressionsFile.model_validate(load_document(path))
    except ValidationError as exc:
        raise validation_to_input_error(exc, str(path)) from None


def _lines(path: str) -> list[int]:
    """The line of each entry (a `- ` item under suppressions), best effort."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    return [n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith("- ")]


def apply(
    findings: list[Finding], spec: SuppressionsFile, path: str, today: dt.date, snapshot_sha256: str = ""
) -> tuple[list[Finding], list[str]]:
    """Findings with suppressions applied, plus one finding per expired suppression; and warnings."""
    warnings: list[str] = []
    extra: list[Finding] = []
    lines = _lines(path)
    active = []
    for i, s in enumerate(spec.suppressions):
        what = f"id {s.id}" if s.id else f"rule {s.rule} pattern {s.pattern or '*'}"
        if s.expires is not None and s.expires < today:
            msg = f"suppression {i} ({what}, owner {s.owner or 'none'}) expired on {s.expires.isoformat()}"
            warnings.append("WARNING: " + msg + "; its findings are shown again")
            extra.append(
                Finding(
                    id=finding_id(RULE.id, f"{path}|{i}|{what}"),
                    rule=RULE,
                    severity={"level": "medium", "score": 5.0},  # type: ignore[arg-type]
                    status="fail",
                    title=msg,
                    subject=f"{path}|{i}|{what}",
                    reason=s.reason,
                    location=Location(
                        file=path, json_path=f"$.suppressions[{i}]", line=lines[i] if i < len(lines) else None
                    ),
                    remediation="Renew the suppression with a new expiry date (and a reason that still holds), or "
                    "fix the finding and remove the suppression.",
                    snapshot_sha256=snapshot_sha256,
                    details={"owner": s.owner, "expired": s.expires.isoformat()},
                )
            )
        else:
            active.append(s)
    out = []
    for f in findings:
        hit = next((s for s in active if s.matches(f)), None)
        if hit is not None and f.status in ("fail", "unknown"):
            f = f.model_copy(
                update={
                    "status": "suppressed",
                    "suppression": Suppression(
                        reason=hit.reason,
                        owner=hit.owner,
                        expires=hit.expires.isoformat() if hit.expires else None,
                        matched_by="id" if hit.id else "rule+pattern",
                    ),
                    "details": {**f.details, "status_before_suppression": f.status},
                }
            )
        out.append(f)
    return out + extra, warnings
