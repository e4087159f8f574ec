"""The audit's findings model, renderers, suppressions and command."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from functools import cache

from conftest import ROOT
from test_audit_rules import NOW, SEED, SEED_INVARIANTS, seed_report

from reasoner.audit.envelope import unwrap
from reasoner.audit.findings import AuditReport, Finding, Rule, Severity, findings_schema, summarize
from reasoner.audit.report_formats import render_csv, render_json, render_markdown
from reasoner.audit.report_html import render_html
from reasoner.audit.report_sarif import render_sarif
from reasoner.audit.run import run_audit


def test_findings_schema_is_generated_from_the_model():
    """docs/findings.schema.json is generated from reasoner.audit.findings.AuditReport."""
    assert json.loads((ROOT / "docs" / "findings.schema.json").read_text()) == findings_schema()


def test_json_envelope_round_trips():
    r = seed_report()
    doc = json.loads(render_json(r))
    assert doc["schema"].endswith("/findings.schema.json") and doc["version"] == 1
    assert doc["tool"]["name"] == "iam-reasoner"
    back = AuditReport.model_validate(unwrap(doc, "findings", 1))
    assert back.findings == r.findings
    f = next(x for x in back.findings if x.status == "fail")
    assert f.snapshot_sha256 == back.snapshots[0].sha256 and len(f.snapshot_sha256) == 64


def test_csv_one_row_per_finding():
    r = seed_report()
    rows = list(csv.DictReader(io.StringIO(render_csv(r))))
    assert len(rows) == len(r.findings)
    assert {row["id"] for row in rows} == {f.id for f in r.findings}
    esc = next(row for row in rows if row["rule"] == "privilege-escalation" and row["status"] == "fail")
    assert "assume-admin" in esc["statements"] and esc["decide_command"].startswith("reasoner decide")


def test_sarif_shape():
    r = seed_report()
    s = render_sarif(r)
    assert s["version"] == "2.1.0"
    run = s["runs"][0]
    rules = {x["id"]: x for x in run["tool"]["driver"]["rules"]}
    assert all(x["helpUri"] and "security-severity" in x["properties"] for x in rules.values())
    assert len(run["results"]) == len(r.findings)
    for res in run["results"]:
        assert res["partialFingerprints"]["iamReasonerFindingId/v1"]
        assert float(res["properties"]["security-severity"]) >= 0
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    inv = [x for x in run["results"] if x["ruleId"] == "invariant"]
    assert inv and all(
        x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("invariants.yaml") for x in inv
    )
    esc = next(x for x in run["results"] if x["ruleId"] == "privilege-escalation" and x["kind"] == "fail")
    # the granting statement: the user's inline policy in the snapshot file
    line = esc["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert esc["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("snapshot.json")
    assert '"Statement"' in SEED.read_text().splitlines()[line - 2] or line > 1


def _report_with_unknown() -> AuditReport:
    r = seed_report()
    unk = Finding(
        id="Funknown0000000001",
        rule=Rule(id="external-access", title="t", description="d"),
        severity=Severity.of("high"),
        status="unknown",
        title="Whether X is public could not be decided",
        subject="x",
        reason="a pattern outside the abstraction",
    )
    findings = [unk, *r.findings]
    return r.model_copy(update={"findings": findings, "summary": summarize(findings)})


def test_unknown_is_never_shown_as_a_pass():
    r = _report_with_unknown()
    md = render_markdown(r)
    assert "1 unknown" in md and "not a pass" in md
    sarif = render_sarif(r)
    res = next(
        x
        for x in sarif["runs"][0]["results"]
        if x["partialFingerprints"]["iamReasonerFindingId/v1"] == "Funknown0000000001"
    )
    assert res["kind"] == "review" and res["level"] == "warning" and "UNKNOWN" in res["message"]["text"]
    rows = list(csv.DictReader(io.StringIO(render_csv(r))))
    assert next(x for x in rows if x["id"] == "Funknown0000000001")["status"] == "unknown"
    html = render_html(r)
    assert 'id="count-unknown"' in html and "unknown (not proved)" in html


def test_markdown_is_short():
    md = render_markdown(seed_report())
    assert md.startswith("## IAM audit") and len(md) < 6000
    assert "Top findings" in md and "privilege-escalation" in md


def test_html_is_self_contained():
    html = render_html(seed_report())
    assert (
        "<script src" not in html
        and "<link" not in html
        and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    )
    assert "https://" not in html.split('<script type="application/json"')[0]
    assert "default-src 'none'" in html


# -- suppressions ---------------------------------------------------------------------------------------


@cache
def _esc_id() -> str:
    return next(f.id for f in seed_report().findings if f.rule.id == "privilege-escalation" and f.status == "fail")


def test_suppressions(tmp_path):
    sup = tmp_path / "suppress.yaml"
    sup.write_text(
        f"""suppressions:
  - id: {_esc_id()}
    reason: sso-admin is the break-glass user
    owner: security@example.com
    expires: 2027-01-31
  - rule: policy-hygiene
    pattern: "*CfnDdbKmsCalledVia*"
    reason: placeholder ARN from the blog post
    owner: platform
  - rule: admin-equivalent
    pattern: "*"
    reason: reviewed last year
    owner: old-team
    expires: 2026-01-01
"""
    )
    r = run_audit(
        [str(SEED)], suppress=str(sup), now=NOW, only=["privilege-escalation", "admin-equivalent", "policy-hygiene"]
    )
    status = {f.id: f.status for f in r.findings}
    assert status[_esc_id()] == "suppressed"
    esc = next(f for f in r.findings if f.id == _esc_id())
    assert esc.suppression.owner == "security@example.com" and esc.details["status_before_suppression"] == "fail"
    assert any(f.rule.id == "policy-hygiene" and f.status == "suppressed" for f in r.findings)
    # expired: not applied, a warning line and a finding of its own
    assert any(f.rule.id == "admin-equivalent" and f.status == "fail" for f in r.findings)
    assert any(w.startswith("WARNING: suppression 2") and "expired on 2026-01-01" in w for w in r.warnings)
    (exp,) = [f for f in r.findings if f.rule.id == "expired-suppression"]
    assert exp.status == "fail" and exp.location.line == 10
    assert "WARNING" in render_markdown(r)
    html = render_html(r)
    assert 'id="supp-rows"' in html and "sso-admin is the break-glass user" in html  # in the data


def test_cli_audit_formats(cli, tmp_path):
    out = tmp_path / "r.json"
    res = cli("audit", str(SEED), "--invariants", str(SEED_INVARIANTS), "--format", "json", "--out", str(out))
    assert res.returncode == 1, res.stderr  # failing findings
    assert "written to" in res.stderr and "\x1b[" not in res.stderr  # no progress bar when not a terminal
    doc = json.loads(out.read_text())
    assert doc["result"]["summary"]["by_status"]["fail"] == 3
    res = cli("audit", str(SEED), "--format", "markdown", "--rule", "invariant")
    assert res.returncode == 0 and "## IAM audit" in res.stdout
    res = cli("audit", str(SEED), "--format", "pdf")
    assert res.returncode == 2 and res.stderr.startswith("error:")


def test_stable_ids_in_other_snapshot_files(tmp_path):
    copy = tmp_path / "copy.json"
    copy.write_text(SEED.read_text())
    r = run_audit([str(copy)], now=NOW + dt.timedelta(days=3), only=["privilege-escalation"])
    assert _esc_id() in {f.id for f in r.findings}


def test_an_incomplete_snapshot_proves_no_absence(tmp_path, cli):
    """A truncated GAAD page (IsTruncated) may hide principals: no finding is a pass, and the
    audit exits 4 (unknown) instead of 0."""
    doc = json.loads(SEED.read_text())
    gaad = doc.get("authorization_details", doc)
    gaad.update(IsTruncated=True, Marker="next")
    f = tmp_path / "truncated.json"
    f.write_text(json.dumps(doc))
    r = run_audit([str(f)], now=NOW, only=["privilege-escalation"])
    assert r.findings and not [x for x in r.findings if x.status == "pass"]
    assert any("incomplete" in (x.reason or "") for x in r.findings if x.status == "unknown")
    res = cli("audit", str(f), "--format", "markdown", "--rule", "privilege-escalation")
    assert res.returncode in (1, 4), res.stderr
