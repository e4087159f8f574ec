"""Every case bundle under cases/ runs as a test: each decide question, through the library
and once per case through the CLI (`reasoner decide --case`)."""

from __future__ import annotations

import pytest
from conftest import ROOT, json_result, run_cli

from reasoner.cases import load_case
from reasoner.engine.decide import decide_many

CASE_DIRS = sorted(p.parent for p in (ROOT / "cases").glob("*/case.yaml"))
QUESTIONS = [(d, i, q.id) for d in CASE_DIRS for i, q in enumerate(load_case(d).spec.decide)]


def test_cases_exist():
    assert any(d.name == "athena-vpce" for d in CASE_DIRS)


@pytest.fixture(scope="module")
def answers() -> dict:
    out = {}
    for d in CASE_DIRS:
        case = load_case(d)
        res = decide_many([case.decide_input(i) for i in range(len(case.spec.decide))], explain=True)
        for q, r in zip(case.spec.decide, res):
            out[(d, q.id)] = (q, r)
    return out


@pytest.mark.parametrize("folder,index,qid", QUESTIONS, ids=[f"{d.name}:{q}" for d, _, q in QUESTIONS])
def test_case_question(folder, index, qid, answers):
    q, got = answers[(folder, qid)]
    assert got.error is None, got.error
    assert got.decision == q.expect, f"{q.description}\n{got.model_dump_json(indent=1)}"


@pytest.mark.parametrize("folder", CASE_DIRS, ids=[d.name for d in CASE_DIRS])
def test_case_through_cli(folder):
    proc = run_cli("decide", "--case", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    for row in json_result(proc.stdout):
        assert row["decision"] == row["expect"], row


def test_seed_explanations_name_the_statements(answers):
    """The post's allow through Athena needs both the role policy and the bucket policy."""
    seed = ROOT / "cases" / "athena-vpce"
    _, via = answers[(seed, "s3-getobject-via-athena")]
    assert {(s.layer, s.sid) for s in via.determining_statements} == {
        ("identity", "AllowS3ActionsViaAthena"),
        ("resource", "AllowS3ActionsThroughAthena"),
    }
    _, direct = answers[(seed, "s3-getobject-direct")]
    assert direct.missing_allow == ["identity", "resource"]
    failing = {(m.statement.sid, m.element, m.detail) for m in direct.mismatches}
    assert ("AllowS3ActionsViaAthena", "condition", "ForAnyValue:StringEquals aws:CalledVia") in failing
    _, vpce = answers[(seed, "athena-start-query-from-internet")]
    assert ("AllowAthenaWorkgroupActions", "condition", "StringEquals aws:SourceVpce") in {
        (m.statement.sid, m.element, m.detail) for m in vpce.mismatches
    }


CAN_QUESTIONS = [(d, i, q.id) for d in CASE_DIRS for i, q in enumerate(load_case(d).spec.can)]


@pytest.mark.parametrize("folder,index,qid", CAN_QUESTIONS, ids=[f"{d.name}:can:{q}" for d, _, q in CAN_QUESTIONS])
def test_case_can_question(folder, index, qid):
    """Every `can` question: the expected answer; a witness carries the expected context and
    is allowed by the concrete decider (can() re-checks it; this checks it once more)."""
    from reasoner.cases import can_query
    from reasoner.policy.request import decide_input_from_obj
    from reasoner.search.can import can

    case = load_case(folder)
    q = case.spec.can[index]
    answer = can(can_query(case, index))
    assert answer.answer == q.expect, answer.model_dump_json(indent=1)
    if answer.answer == "possible":
        ctx = answer.witness["request"]["context"]
        for key, value in (q.expect_witness_context or {}).items():
            assert ctx.get(key) == value, ctx
        again = decide_many([decide_input_from_obj(answer.witness)])[0]
        assert again.decision == "allow"
        assert answer.decide_command.startswith("reasoner decide ")
    else:
        assert answer.witness is None and answer.scope, "an impossible answer names the scope it searched"


def test_seed_can_through_cli():
    proc = run_cli("can", "--case", str(ROOT / "cases" / "athena-vpce"), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json_result(proc.stdout)
    assert all(r["answer"] == r["expect"] for r in rows)
