"""`reasoner lint`: redundant statements (proved with the diff search), unknown actions.

A redundancy claim is checked against the concrete decider by a hypothesis property: the policy
and the policy without the statement decide random concrete requests alike.
"""

from __future__ import annotations

import json
import random

from conftest import CORPUS, json_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.audit.diff import PLACEHOLDER_PRINCIPAL
from reasoner.audit.lint import action_findings, redundant_statements
from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.request import DecideInput, NamedPolicy, Request

QUACKY = CORPUS / "quacky-samples"


def _p(*statements, name: str = "p.json") -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def _kinds(named: NamedPolicy) -> dict[int, str]:
    findings, undecided = redundant_statements(named)
    assert not undecided, undecided
    return {f.statement: f.kind for f in findings}


ALL_B = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}


def test_an_allow_inside_another_allow_is_redundant():
    """Allows are ORed (Policy evaluation logic): an Allow covered by another changes nothing."""
    inner = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}
    assert _kinds(_p(ALL_B, inner)) == {1: "redundant-allow"}


def test_an_allow_with_a_wider_condition_elsewhere_is_not_redundant():
    """Conditions narrow a statement: the conditional Allow does not cover the unconditional one."""
    cond = {**ALL_B, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}
    other = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}
    assert _kinds(_p(cond, other)) == {}


def test_an_allow_that_a_deny_always_overrides_is_redundant():
    """An explicit Deny overrides the Allow everywhere the Allow applies."""
    allow = {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}
    deny = {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}
    assert _kinds(_p(allow, deny, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})) == {
        0: "redundant-allow"
    }


def test_a_deny_of_what_nothing_allows_is_redundant_for_this_policy_only():
    useless = {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}
    useful = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    assert _kinds(_p(ALL_B, useless, useful)) == {1: "redundant-deny"}


def test_duplicates_are_each_redundant_and_the_note_says_so(tmp_path):
    from reasoner.audit.lint import lint

    f = tmp_path / "dup.json"
    f.write_text(json.dumps({"Version": "2012-10-17", "Statement": [ALL_B, ALL_B]}))
    report = lint(str(f))
    assert [x.statement for x in report.findings] == [0, 1]
    assert any("removing both" in n for n in report.notes)


def test_unknown_actions_services_and_empty_patterns():
    st_ = {
        "Effect": "Allow",
        "Action": ["s3:GetObjekt", "foo:Bar", "s3:Zap*", "GetObject", "s3:Get*", "*"],
        "Resource": "*",
    }
    kinds = {(f.kind, f.message.split("'")[1]) for f in action_findings(_p(st_))}
    assert kinds == {
        ("unknown-action", "s3:GetObjekt"),
        ("unknown-service", "foo"),
        ("action-matches-nothing", "s3:Zap*"),
        ("unknown-action", "GetObject"),
    }
    assert any("did you mean 's3:GetObject'" in f.message for f in action_findings(_p(st_)))


def test_quacky_deny_on_the_bucket_is_redundant_in_the_initial_policy():
    """s3_allow_all_except_delete/initial.json allows s3:* on mybucket/* only, so its Deny of bucket
    deletes on arn:aws:s3:::mybucket removes nothing: the forum poster's bug (fixed.json adds the
    bucket ARN to the Allow, and there the Deny matters)."""
    pair = QUACKY / "s3/exp_single/s3_allow_all_except_delete"
    from reasoner.policy.document import load_policy

    initial = NamedPolicy(str(pair / "initial.json"), load_policy(pair / "initial.json"))
    fixed = NamedPolicy(str(pair / "fixed.json"), load_policy(pair / "fixed.json"))
    assert _kinds(initial) == {1: "redundant-deny"}
    assert _kinds(fixed) == {}


def test_quacky_complementary_ifexists_allows_are_both_needed():
    """NumericLessThanEqualsIfExists 10 and NumericGreaterThanIfExists 10 each allow a half."""
    from reasoner.policy.document import load_policy

    path = QUACKY / "og/exp_multiple/numeric/numeric-equivalent-1.json"
    assert _kinds(NamedPolicy(str(path), load_policy(path))) == {}


def test_resource_policy_grant_covered_by_a_public_grant_is_redundant():
    """Principal "*" names every principal (Principal element): a grant to one role inside it is redundant."""
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    role = {**public, "Principal": {"AWS": "arn:aws:iam::111122223333:role/reader"}}
    assert _kinds(_p(public, role)) == {1: "redundant-allow"}
    assert _kinds(_p(role)) == {}


def test_statements_that_matter_for_iam_users_only_are_not_redundant():
    """aws:username exists for IAM users only (global condition keys): lint judges identity
    policies for a role session and for an IAM user (AWS managed policy IAMUserChangePassword)."""
    from reasoner.policy.document import load_policy

    path = CORPUS / "aws-managed-policies/IAMUserChangePassword.json"
    assert _kinds(NamedPolicy(str(path), load_policy(path))) == {}


def test_undecided_is_never_reported_as_redundant():
    var = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}
    findings, undecided = redundant_statements(_p(var, ALL_B))
    assert not findings and {u.statement for u in undecided} == {0, 1}
    assert "policy variable" in undecided[0].reason


# ---- property: a redundant statement changes no concrete decision ---------------------------------
KEY = "aws:PrincipalTag/team"


@st.composite
def statements(draw):
    s = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "s3:Get*", "s3:Put*"])),
        "Resource": draw(st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a?"])),
    }
    if draw(st.booleans()):
        op = draw(st.sampled_from(["StringEquals", "StringNotEquals", "StringLike", "StringEqualsIfExists"]))
        s["Condition"] = {op: {KEY: draw(st.lists(st.sampled_from(["red", "r*", "blue"]), min_size=1, max_size=2))}}
    return s


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=4), st.integers(0, 10**6))
def test_redundant_statements_change_no_concrete_decision(stmts, seed):
    named = _p(*stmts)
    findings, undecided = redundant_statements(named)
    assert not undecided
    rnd = random.Random(seed)
    reqs = [
        Request(
            principal=PLACEHOLDER_PRINCIPAL,
            action=rnd.choice(["s3:GetObject", "s3:PutObject", "s3:GetObjectAcl"]),
            resource=rnd.choice(["arn:aws:s3:::b/ab", "arn:aws:s3:::b/long", "arn:aws:s3:::c/x"]),
            resource_account="111122223333",
            context={KEY: rnd.choice(["red", "rex", "blue", "x"])} if rnd.random() < 0.7 else {},
        )
        for _ in range(25)
    ]
    for f in findings:
        without = _p(*[s for i, s in enumerate(stmts) if i != f.statement])
        got = decide_many([DecideInput(request=r, identity_policies=[p]) for r in reqs for p in (named, without)])
        assert all((a.decision == "allow") == (b.decision == "allow") for a, b in zip(got[::2], got[1::2])), f


# ---- CLI ---------------------------------------------------------------------------------------------
def test_cli_exit_codes_table_and_json(tmp_path, cli):
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"Version": "2012-10-17", "Statement": [ALL_B]}))
    proc = cli("lint", str(clean))
    assert proc.returncode == 0 and "clean" in proc.stdout, proc.stderr
    d = tmp_path / "dir"
    d.mkdir()
    (d / "dup.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    ALL_B,
                    {"Sid": "Inner", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"},
                ],
            }
        )
    )
    (d / "ok.yaml").write_text(
        "Version: '2012-10-17'\nStatement:\n- {Effect: Allow, Action: 'ec2:Describe*', Resource: '*'}\n"
    )
    proc = cli("lint", str(d))
    assert proc.returncode == 1 and "redundant-allow" in proc.stdout and "Inner" in proc.stdout
    out = json_result(cli("lint", str(d), "--json").stdout)
    assert [(f["file"].rsplit("/", 1)[1], f["statement"], f["kind"]) for f in out["findings"]] == [
        ("dup.json", 1, "redundant-allow")
    ]
    assert len(out["files"]) == 2
    var = tmp_path / "var.json"
    var.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*",
                    }
                ],
            }
        )
    )
    proc = cli("lint", str(var))
    assert proc.returncode == 4 and "undecided" in proc.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]')
    proc = cli("lint", str(bad))
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {bad}: $: malformed JSON")
    assert "Traceback" not in proc.stderr
