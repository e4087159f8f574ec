"""Golden conformance cases (tests/golden/*.yaml): one small request per AWS rule, each citing
the documentation it follows. All cases are decided in one grounding through the library, and
the same files run once more through `reasoner decide --batch` (the CLI must agree)."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import GOLDEN, json_result, run_cli

from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.request import PolicyCache, decide_input_from_obj


def _load() -> list[tuple[str, dict]]:
    cases = []
    for f in sorted(GOLDEN.glob("*.yaml")):
        for c in yaml.safe_load(f.read_text())["cases"]:
            cases.append((f"{f.stem}:{c['name']}", c))
    return cases


CASES = _load()
_LINE_FIELDS = (
    "request",
    "identity_policies",
    "resource_policy",
    "permission_boundary",
    "session_policy",
    "scps",
    "rcps",
    "vpc_endpoint_policy",
    "management_account",
)


def _line(name: str, case: dict) -> dict:
    return {"id": name, **{k: case[k] for k in _LINE_FIELDS if k in case}}


def _input(name: str, case: dict, cache: PolicyCache):
    """The case as a decide input, or the InputError it raises (an `expect: error` case whose
    policy AWS rejects fails here, as a batch line does)."""
    try:
        return decide_input_from_obj(_line(name, case), source=name, cache=cache)
    except InputError as exc:
        return exc


@pytest.fixture(scope="module")
def decisions() -> dict:
    cache = PolicyCache()
    inputs = [_input(n, c, cache) for n, c in CASES]
    return {n: d for (n, _), d in zip(CASES, decide_many(inputs))}


def test_golden_names_are_unique():
    names = [c["name"] for _, c in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 100


@pytest.mark.parametrize("name,case", CASES, ids=[n for n, _ in CASES])
def test_golden(name, case, decisions):
    assert case.get("cite"), "every golden case cites the AWS behaviour it follows"
    got = decisions[name]
    if case["expect"] == "error":
        # Bad input (exit 2 for `decide`): the error names what is wrong and where.
        assert got.decision is None, got.model_dump()
        assert got.error and case["expect_error"] in got.error, got.error
        return
    assert got.error is None, got.error
    assert got.decision == case["expect"], f"{case.get('cite')}\n{case.get('note', '')}\n{got.model_dump()}"
    if "expect_decided_by" in case:
        assert got.decided_by == case["expect_decided_by"], got.model_dump()


def test_golden_through_cli_batch():
    """The same cases through `reasoner decide --batch -`: same decisions, in input order."""
    lines = "\n".join(json.dumps(_line(n, c)) for n, c in CASES) + "\n"
    proc = run_cli("decide", "--batch", "-", stdin=lines)
    assert proc.returncode == 0, proc.stderr
    out = [json_result(x) for x in proc.stdout.splitlines()]
    assert [o["decision"] for o in out] == [None if c["expect"] == "error" else c["expect"] for _, c in CASES]
    assert [o["id"] for o in out if o["decision"] is not None] == [n for n, c in CASES if c["expect"] != "error"]
    for o, (_, c) in zip(out, CASES):
        if c["expect"] == "error":
            assert o["error"], o
        elif "expect_decided_by" in c:
            assert o["decided_by"] == c["expect_decided_by"], o
