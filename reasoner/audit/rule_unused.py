"""Rule `unused-access`: roles and access keys the export's usage data shows unused. Usage data,
not policy: `RoleLastUsed` of get-account-authorization-details (AWS tracks it for 400 days) and the
credential report's access key columns (a CloudMapper dump's iam-get-credential-report.json).
Only exports that carry the data give findings; a role without `RoleLastUsed` gets none."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from reasoner.audit.findings import Finding
from reasoner.audit.rulebase import Context, rule
from reasoner.errors import InputError
from reasoner.policy.document import read_input

RULE = rule(
    "unused-access",
    "Unused access (from usage data)",
    "A role not used, or an active access key not used, for longer than the threshold, per the usage data "
    "in the export (RoleLastUsed, the credential report). Unused access is attack surface with no benefit.",
)
THRESHOLD_DAYS = 90


def _date(text: Any) -> dt.datetime | None:
    if not isinstance(text, str) or not text or text in ("N/A", "no_information", "not_supported"):
        return None
    try:
        d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def _walk_roles(node: Any) -> list[dict]:
    out: list[dict] = []
    if isinstance(node, dict):
        for item in node.get("RoleDetailList") or []:
            if isinstance(item, dict) and "Arn" in item:
                out.append(item)
        for k, v in node.items():
            if k != "RoleDetailList" and isinstance(v, (dict, list)):
                out += _walk_roles(v)
    elif isinstance(node, list):
        for x in node:
            out += _walk_roles(x)
    return out


def _files(ctx: Context) -> list[Path]:
    out = [Path(s) for s in ctx.snap.sources if s.lower().endswith(".json")]
    for o in ctx.snap.origin:
        p = Path(o)
        if p.is_dir():
            out += sorted(p.rglob("*credential-report*.json"))
    return list(dict.fromkeys(out))


def run(ctx: Context) -> list[Finding]:
    now = ctx.now or dt.datetime.now(dt.UTC)
    out: list[Finding] = []
    for f in _files(ctx):
        try:
            doc = json.loads(read_input(f).decode("utf-8"))  # bounded, regular files only
        except (OSError, ValueError, InputError):
            continue
        if "credential-report" in f.name and isinstance(doc, dict) and "Content" in doc:
            out += _credential_report(ctx, str(doc["Content"]), now, str(f))
            continue
        for role in _walk_roles(doc):
            out += _role(ctx, role, now, str(f))
    return out


def _role(ctx: Context, role: dict, now: dt.datetime, src: str) -> list[Finding]:
    if "RoleLastUsed" not in role or role["Arn"] not in ctx.snap.principals:
        return []
    last = _date((role.get("RoleLastUsed") or {}).get("LastUsedDate"))
    created = _date(role.get("CreateDate"))
    if last is not None and (now - last).days <= THRESHOLD_DAYS:
        return []
    if last is None and created is not None and (now - created).days <= THRESHOLD_DAYS:
        return []
    when = f"last used {last.date().isoformat()}" if last else "no recorded use (RoleLastUsed is empty)"
    return [
        ctx.finding(
            RULE,
            role["Arn"],
            "low",
            "fail",
            f"role {role.get('RoleName', role['Arn'])} unused for over {THRESHOLD_DAYS} days: {when}",
            principal=role["Arn"],
            evidence="usage-data",
            location=ctx.location_of(role["Arn"] + "#trust"),
            remediation="Delete the role if nothing needs it, or remove its permissions; check CloudTrail first "
            "(RoleLastUsed only covers the last 400 days and some regions).",
            details={"source": src, "last_used": last.isoformat() if last else None},
        )
    ]


def _credential_report(ctx: Context, content: str, now: dt.datetime, src: str) -> list[Finding]:
    if not content.lstrip().startswith("user,"):
        try:
            content = base64.b64decode(content).decode()
        except ValueError:
            return []
    out = []
    for row in csv.DictReader(io.StringIO(content)):
        for n in ("1", "2"):
            if row.get(f"access_key_{n}_active") != "true":
                continue
            last = _date(row.get(f"access_key_{n}_last_used_date"))
            rotated = _date(row.get(f"access_key_{n}_last_rotated"))
            ref = last or rotated
            if ref is not None and (now - ref).days <= THRESHOLD_DAYS:
                continue
            when = f"last used {last.date().isoformat()}" if last else "never used"
            out.append(
                ctx.finding(
                    RULE,
                    f"{row.get('arn')}|access-key-{n}",
                    "medium",
                    "fail",
                    f"active access key {n} of {row.get('user')} unused for over {THRESHOLD_DAYS} days: {when}",
                    principal=row.get("arn"),
                    evidence="usage-data",
                    remediation="Deactivate and delete the key; use roles with short-lived credentials instead.",
                    details={"source": src, "last_used": last.isoformat() if last else None},
                )
            )
    return out
