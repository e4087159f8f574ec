"""The Python API (`import reasoner`) on the bundled case cases/athena-vpce: every function
answers, and its answer is what the CLI prints with --json (the CLI is a thin layer over it)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from conftest import ROOT, json_result, run_cli

import reasoner
from reasoner.cases import can_query, load_case

CASE = ROOT / "cases" / "athena-vpce"
SNAPSHOT = CASE / "snapshot" / "snapshot.json"
POLICIES = CASE / "policies"
INVARIANTS = CASE / "invariants.yaml"
OBJECT = "arn:aws:s3:::examplecorp-business-data/revenuedata/service_revenue/part-0000.parquet"
API = ["decide", "can", "who_can", "reach", "privesc", "prove", "diff", "lint", "load_snapshot"]


def cli_json(*args: str, codes: tuple[int, ...] = (0,)):
    proc = run_cli(*args, "--json")
    assert proc.returncode in codes, proc.stderr
    return json_result(proc.stdout)


def without(obj, *keys: str):
    """The JSON without timing fields (they differ from run to run)."""
    if isinstance(obj, dict):
        return {k: without(v, *keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [without(v, *keys) for v in obj]
    return obj


@pytest.fixture(scope="module")
def snap() -> reasoner.Snapshot:
    return reasoner.load_snapshot(SNAPSHOT)


def test_import_is_lazy_and_complete():
    code = "import sys, reasoner; print('reasoner.api' in sys.modules, 'clingo' in sys.modules, reasoner.__version__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["False", "False"]
    assert out[2] == reasoner.__version__ != ""
    for name in API:
        fn = getattr(reasoner, name)
        assert callable(fn) and fn.__doc__, name
        assert name in reasoner.__all__
    with pytest.raises(AttributeError):
        reasoner.no_such_function  # noqa: B018


def test_load_snapshot(snap):
    assert "arn:aws:iam::111122223333:role/BizMetricsQuery" in snap.principals
    assert reasoner.load_snapshot([SNAPSHOT]).principals.keys() == snap.principals.keys()


def test_decide_matches_the_cli():
    case = load_case(CASE)
    inputs = [case.decide_input(i) for i in range(len(case.spec.decide))]
    got = reasoner.decide(inputs, explain=False)
    assert [d.decision for d in got] == [q.expect for q in case.spec.decide]
    cli = cli_json("decide", "--case", str(CASE))
    assert [{k: v for k, v in c.items() if k not in ("question", "expect")} for c in cli] == [
        d.to_json_obj() for d in got
    ]
    one = reasoner.decide(inputs[0])
    assert isinstance(one, reasoner.Decision) and one.decision == case.spec.decide[0].expect


def test_decide_a_request():
    inp = reasoner.DecideInput(
        request=reasoner.Request(
            principal="arn:aws:sts::111122223333:assumed-role/BizMetricsQuery/analyst",
            action="s3:GetObject",
            resource=OBJECT,
            context={"aws:CalledVia": ["athena.amazonaws.com"]},
        ),
        identity_policies=[reasoner.load_policy(POLICIES / "bizmetrics-query-role.json")],
        resource_policy=reasoner.load_policy(POLICIES / "examplecorp-business-data-bucket.json"),
    )
    d = reasoner.decide(inp)
    cli = cli_json(
        "decide",
        "--principal",
        inp.request.principal,
        "--action",
        "s3:GetObject",
        "--resource",
        OBJECT,
        "--context",
        "aws:CalledVia=athena.amazonaws.com",
        "--identity-policy",
        str(POLICIES / "bizmetrics-query-role.json"),
        "--resource-policy",
        str(POLICIES / "examplecorp-business-data-bucket.json"),
    )
    assert d.decision == "allow"
    assert cli == d.to_json_obj()
    with pytest.raises(reasoner.InputError):
        reasoner.decide(replace(inp, request=inp.request.model_copy(update={"action": "s3:GetObjekt"})))


def test_can_matches_the_cli():
    case = load_case(CASE)
    got = [reasoner.can(can_query(case, i)) for i in range(len(case.spec.can))]
    assert [a.answer for a in got] == [q.expect for q in case.spec.can]
    cli = cli_json("can", "--case", str(CASE))
    assert [{k: v for k, v in c.items() if k not in ("question", "expect")} for c in cli] == [
        a.model_dump(mode="json") for a in got
    ]


def test_who_can_matches_the_cli(snap):
    a = reasoner.who_can(snap, "s3:GetObject", OBJECT)
    names = {p.principal.rsplit("/", 1)[-1] for p in a.principals}
    assert names == {"Admin", "sso-admin", "BizMetricsQuery"}
    cli = cli_json("who-can", str(SNAPSHOT), "--action", "s3:GetObject", "--resource", OBJECT)
    assert without(cli, "stats") == without(
        {**a.to_json(), "complete": snap.complete, "incomplete": snap.incomplete, "snapshot_problems": snap.problems},
        "stats",
    )
    none = reasoner.who_can(
        reasoner.PathFinder(snap), "s3:GetObject", OBJECT, reasoner.Constraints(without_via=("athena.amazonaws.com",))
    )
    assert "BizMetricsQuery" not in {p.principal.rsplit("/", 1)[-1] for p in none.principals}


def test_reach_matches_the_cli(snap):
    a = reasoner.reach(snap, "BizMetricsQuery", "s3:GetObject", OBJECT)
    assert a.answer == "possible"
    assert [h.action for h in a.paths[0].hops] == ["athena:StartQueryExecution", "s3:GetObject"]
    cli = cli_json(
        "reach", str(SNAPSHOT), "--from", "BizMetricsQuery", "--action", "s3:GetObject", "--resource", OBJECT
    )
    assert cli == {
        **a.to_json(),
        "complete": snap.complete,
        "incomplete": snap.incomplete,
        "snapshot_problems": snap.problems,
    }
    blocked = reasoner.reach(
        snap, "BizMetricsQuery", "s3:GetObject", OBJECT, reasoner.Constraints(without_via=("athena.amazonaws.com",))
    )
    assert blocked.answer == "impossible"


def test_privesc_matches_the_cli(snap):
    rows = reasoner.privesc(snap)
    admins = {r.principal.rsplit("/", 1)[-1] for r in rows if r.admin}
    assert {"Admin", "sso-admin"} <= admins
    assert cli_json("privesc", str(SNAPSHOT)) == [r.to_json() for r in rows]


def test_prove_matches_the_cli(snap):
    results = reasoner.prove(INVARIANTS, snap)
    assert {r.status for r in results} == {"proved"}
    assert [r.status for r in reasoner.prove(INVARIANTS, CASE)] == [r.status for r in results]
    cli = cli_json("prove", str(INVARIANTS), str(CASE))
    assert without(cli, "seconds") == without(
        {"invariants": str(INVARIANTS), "results": [r.model_dump(mode="json") for r in results]}, "seconds"
    )


def test_diff_matches_the_cli():
    old, new = POLICIES / "cfn-ddb-kms-calledvia.json", POLICIES / "cfn-ddb-kms-calledviafirst.json"
    a = reasoner.diff(old, new)
    assert isinstance(a, reasoner.DiffAnswer)
    cli = cli_json("diff", str(old), str(new), codes=(0, 4))
    assert cli == a.model_dump(mode="json", exclude_none=False)
    same = reasoner.diff(old, old, check=True)
    assert same.added is not None and same.added.answer == "same" and same.removed is None


def test_diff_of_snapshots(snap):
    d = reasoner.diff(snap, reasoner.load_snapshot(SNAPSHOT))
    assert isinstance(d, reasoner.SnapshotDiff)
    assert d.changes == [] and d.new_access == "no"


def test_lint_matches_the_cli():
    report = reasoner.lint(POLICIES / "bizmetrics-query-role.json")
    assert isinstance(report, reasoner.LintReport)
    cli = cli_json("lint", str(POLICIES / "bizmetrics-query-role.json"), codes=(0, 1, 4))
    assert cli == report.model_dump(mode="json")


def test_readme_example_runs(capsys, monkeypatch):
    """The README's "Python API" example runs as written and prints what its comments say."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[-3] == "impossible" and out[-1] == "implicit_deny"
    assert "'proved'" in out[-2] and "violated" not in out[-2]
