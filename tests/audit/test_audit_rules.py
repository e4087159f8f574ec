"""Golden tests of the audit rules: the seed case, and small snapshots built for one rule each."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from reasoner.audit.findings import AuditReport, finding_id
from reasoner.audit.run import run_audit

SEED = ROOT / "cases" / "athena-vpce" / "snapshot" / "snapshot.json"
SEED_INVARIANTS = ROOT / "cases" / "athena-vpce" / "invariants.yaml"
NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
ACCOUNT = "111122223333"


@cache
def seed_report() -> AuditReport:
    return run_audit([str(SEED)], invariants=str(SEED_INVARIANTS), now=NOW)


def by_rule(report: AuditReport, rule: str, status: str | None = None) -> list:
    return [f for f in report.findings if f.rule.id == rule and (status is None or f.status == status)]


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def role(name: str, trust: dict, inline: dict | None = None, last_used: str | None = None) -> dict:
    out = {
        "RoleName": name,
        "RoleId": "AROA" + name.upper(),
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "Path": "/",
        "CreateDate": "2020-01-01T00:00:00Z",
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": inline}] if inline else [],
        "AttachedManagedPolicies": [],
        "Tags": [],
        "InstanceProfileList": [],
    }
    if last_used is not None:
        out["RoleLastUsed"] = {"LastUsedDate": last_used} if last_used else {}
    return out


def bundle(tmp_path: Path, roles: list[dict], resource_policies: dict | None = None, name: str = "snap.json") -> str:
    b = {
        "authorization_details": {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": roles,
            "Policies": [],
        },
        "resource_policies": [
            {"Resource": arn, "Policy": pol, "Account": ACCOUNT} for arn, pol in (resource_policies or {}).items()
        ],
    }
    p = tmp_path / name
    p.write_text(json.dumps(b, indent=2))
    return str(p)


TRUST_EC2 = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
READ_ALL = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


# -- the seed case ---------------------------------------------------------------------------------


def test_seed_privesc_and_admin():
    r = seed_report()
    (esc,) = by_rule(r, "privilege-escalation", "fail")
    assert esc.principal.endswith(":user/sso-admin") and esc.severity.level == "critical"
    assert esc.path[0].action == "sts:AssumeRole" and esc.path[0].resource.endswith(":role/Admin")
    # the statements that allow the hop: the user's inline policy and the role's trust policy, with lines
    policies = {s.policy for s in esc.path[0].statements}
    assert any(p.endswith("#inline/assume-admin") for p in policies)
    assert all(s.location and s.location.line for s in esc.path[0].statements)
    assert esc.decide_command.startswith("reasoner decide --snapshot")
    (adm,) = by_rule(r, "admin-equivalent", "fail")
    assert adm.principal.endswith(":role/Admin")
    assert adm.path[0].statements[0].policy == "arn:aws:iam::aws:policy/AdministratorAccess"


def test_seed_invariants_all_proved_with_lines():
    fs = by_rule(seed_report(), "invariant")
    assert len(fs) == 7 and {f.status for f in fs} == {"pass"}
    assert all(f.scope and f.location and f.location.line for f in fs)
    text = SEED_INVARIANTS.read_text().splitlines()
    for f in fs:
        assert f.subject in text[f.location.line - 1]


def test_seed_external_access_passes_and_exposure_counts():
    r = seed_report()
    ext = by_rule(r, "external-access")
    assert ext and {f.status for f in ext} == {"pass"}  # the seed has no outside access
    (s3,) = [e for e in r.exposures if e.resource == "arn:aws:s3:::examplecorp-business-data"]
    names = {a.rsplit("/", 1)[-1] for a in s3.can}
    assert names == {"Admin", "sso-admin", "BizMetricsQuery"} and s3.total_principals == 5
    buckets = {b.label: {a.rsplit("/", 1)[-1] for a in b.principals} for b in s3.buckets}
    assert buckets["only via athena.amazonaws.com"] == {"BizMetricsQuery"}
    assert buckets["unconditionally"] == {"Admin", "sso-admin"}
    assert "3 of 5 principals" in s3.summary
    levels = {a.principal.rsplit("/", 1)[-1]: a.levels for a in r.access_levels}
    assert levels["Admin"]["Write"] > 1000 and levels["ReportPublisher"]["Write"] == 1


def test_seed_hygiene_resource_type():
    (f,) = by_rule(seed_report(), "policy-hygiene", "fail")
    assert "dynamodb:GetItem" in f.title and f.location.line
    assert f.details["check"] == "resource-type"


def test_ids_are_stable_across_runs():
    a = seed_report()
    b = run_audit([str(SEED)], now=NOW + dt.timedelta(days=1), only=["privilege-escalation"])
    ids_a = {f.id for f in a.findings if f.rule.id == "privilege-escalation"}
    assert ids_a == {f.id for f in b.findings}
    f = by_rule(a, "privilege-escalation", "fail")[0]
    assert f.id == finding_id("privilege-escalation", f.principal)


# -- external access ----------------------------------------------------------------------------------


def test_external_access_categories(tmp_path):
    public = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"})
    partner = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::partner",
        }
    )
    service = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::logs/*",
        }
    )
    guarded = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::guarded/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )
    outside_trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "x"}},
        }
    )
    oidc_trust = doc(
        {
            "Effect": "Allow",
            "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"},
            "Action": "sts:AssumeRoleWithWebIdentity",
        }
    )
    snap = bundle(
        tmp_path,
        [role("Partner", outside_trust, READ_ALL), role("Ci", oidc_trust, READ_ALL), role("Ec2", TRUST_EC2)],
        {
            "arn:aws:s3:::pub": public,
            "arn:aws:s3:::partner": partner,
            "arn:aws:s3:::logs": service,
            "arn:aws:s3:::guarded": guarded,
        },
    )
    r = run_audit([snap], now=NOW, only=["external-access"])
    fails = {(f.details["policy"].split("#")[0], f.details["category"]) for f in by_rule(r, "external-access", "fail")}
    assert ("arn:aws:s3:::pub", "anonymous") in fails
    assert ("arn:aws:s3:::partner", "outside-account") in fails
    assert ("arn:aws:s3:::logs", "service-no-source") in fails
    assert (f"arn:aws:iam::{ACCOUNT}:role/Partner", "outside-account") in fails
    assert (f"arn:aws:iam::{ACCOUNT}:role/Ci", "federated") in fails
    passed = {f.resource for f in by_rule(r, "external-access", "pass")}
    assert "arn:aws:s3:::guarded" in passed and f"arn:aws:iam::{ACCOUNT}:role/Ec2" in passed
    (pub,) = [f for f in by_rule(r, "external-access", "fail") if f.details["category"] == "anonymous"]
    assert pub.severity.level == "critical" and pub.witness and "reasoner decide --batch -" in pub.decide_command
    assert pub.location and pub.location.line  # the bucket policy in the snapshot file
    (trust,) = [f for f in by_rule(r, "external-access", "fail") if f.details["policy"].endswith("Partner#trust")]
    assert trust.conditions.get("sts:ExternalId") == "x"  # the condition that still has to hold


def test_zone_of_trust_organization(tmp_path):
    partner = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::partner",
        }
    )
    snap = bundle(tmp_path, [role("Ec2", TRUST_EC2)], {"arn:aws:s3:::partner": partner})
    org = {
        "Id": "r-root",
        "Arn": "arn:aws:organizations::111122223333:root/o-1/r-root",
        "Policies": [],
        "Children": [{"Id": ACCOUNT, "Type": "ACCOUNT", "Children": []}, {"Id": "444455556666", "Type": "ACCOUNT"}],
    }
    (tmp_path / "org.json").write_text(json.dumps(org))
    acct = run_audit([snap], now=NOW, only=["external-access"])
    assert any(f.status == "fail" for f in by_rule(acct, "external-access"))
    orgr = run_audit([snap, str(tmp_path / "org.json")], zone="organization", now=NOW, only=["external-access"])
    assert not any(f.status == "fail" for f in by_rule(orgr, "external-access"))


# -- hygiene, MFA, unused ----------------------------------------------------------------------------------


def test_hygiene_passrole_and_not_action(tmp_path):
    pol = doc(
        {"Sid": "Pass", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"},
        {"Sid": "Not", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    )
    snap = bundle(tmp_path, [role("Dev", TRUST_EC2, pol)])
    r = run_audit([snap], now=NOW, only=["policy-hygiene"])
    checks = {f.details["check"]: f for f in by_rule(r, "policy-hygiene", "fail")}
    assert checks["passrole-star"].severity.level == "high"
    assert checks["notaction"].location.json_path.endswith("RolePolicyList[0].PolicyDocument.Statement[1]")
    assert checks["notaction"].location.line > 1


def test_mfa_rule(tmp_path):
    pol = doc(
        {"Effect": "Allow", "Action": ["cloudtrail:StopLogging", "iam:PutRolePolicy"], "Resource": "*"},
    )
    guarded = doc(
        {
            "Effect": "Allow",
            "Action": "cloudtrail:StopLogging",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )
    snap = bundle(tmp_path, [role("Ops", TRUST_EC2, pol), role("Careful", TRUST_EC2, guarded)])
    r = run_audit([snap], now=NOW, only=["sensitive-without-mfa"])
    got = {
        (f.principal.rsplit("/", 1)[-1], f.subject.split("|")[1]) for f in by_rule(r, "sensitive-without-mfa", "fail")
    }
    assert got == {("Ops", "IAM"), ("Ops", "audit trail")}


def test_unused_roles_from_usage_data(tmp_path):
    snap = bundle(
        tmp_path,
        [
            role("Old", TRUST_EC2, last_used="2025-01-01T00:00:00Z"),
            role("Fresh", TRUST_EC2, last_used="2026-11-20T00:00:00Z"),
            role("Never", TRUST_EC2, last_used=""),
            role("NoData", TRUST_EC2),
        ],
    )
    r = run_audit([snap], now=NOW, only=["unused-access"])
    fs = by_rule(r, "unused-access", "fail")
    assert {f.principal.rsplit("/", 1)[-1] for f in fs} == {"Old", "Never"}
    assert all(f.evidence == "usage-data" for f in fs)


@pytest.mark.parametrize(
    "export",
    ["cloudsplaining-example-authz-v2.gaad.json", "awscli-doc-example.gaad.json", "cloudmapper-demo"],
)
def test_corpus_exports_audit(export):
    r = run_audit([str(CORPUS / "account-snapshots" / export)], now=NOW, budget=60)
    assert r.findings and all(run.status in ("ran", "partial", "skipped") for run in r.rules)
    # an unknown is never counted as a pass
    assert r.summary.by_status["pass"] == sum(1 for f in r.findings if f.status == "pass")


def test_exposure_budget_is_checked_between_one_resources_questions(monkeypatch):
    """A resource asks several who-can questions (all, strict, per service, per endpoint); a budget
    that runs out after the first one makes the resource unknown with the reason (never a count
    from part of its questions), instead of running all of them past the budget."""
    from reasoner.account.snapshot import load_snapshot
    from reasoner.audit import rule_exposure
    from reasoner.audit.rulebase import Context

    ctx = Context(load_snapshot(SEED), "sha", now=NOW)
    ctx.start_rule()
    asked = []
    real = ctx.finder.who_can

    def who_can(*args):
        asked.append(args)
        ctx.deadline = 0.0  # the budget runs out during the first question
        return real(*args)

    monkeypatch.setattr(ctx.finder, "who_can", who_can)
    target = next(t for t in rule_exposure.sensitive(ctx) if t[0] == "arn:aws:s3:::examplecorp-business-data")
    e = rule_exposure.measure(ctx, target, len(ctx.snap.principals))
    assert len(asked) == 1
    assert e.status == "unknown" and "budget" in (e.reason or "") and not e.can
