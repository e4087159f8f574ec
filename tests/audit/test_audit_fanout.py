"""The audit's rules fanned out (issue 14 item 5): the report of a local process pool and of a real
Dask cluster (LocalCluster, 2 worker processes) has the serial run's findings, exposures and
access levels, on a small generated organization (bench/gen_org.py: 2 accounts, SCPs per OU, an
RCP, cross-account trust)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

import pytest
from conftest import ROOT

from reasoner import fanout
from reasoner.audit.findings import AuditReport
from reasoner.audit.run import run_audit

NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def small_org(tmp_path_factory) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import gen_org
    finally:
        sys.path.remove(str(ROOT / "bench"))
    bundle = gen_org.generate(2, 3, 5)
    # Two buckets and two keys per account keep the run short; every rule still has work.
    seen: dict[tuple, int] = {}
    kept = []
    for rp in bundle["resource_policies"]:
        k = (rp["Account"], ":kms:" in rp["Resource"])
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= 2:
            kept.append(rp)
    bundle["resource_policies"] = kept
    path = tmp_path_factory.mktemp("org") / "org.json"
    path.write_text(json.dumps(bundle))
    return str(path)


def answers(r: AuditReport) -> dict:
    """Everything but timings."""
    return {
        "rules": [(x.id, x.status, x.findings, x.reason) for x in r.rules],
        "findings": [f.model_dump(mode="json") for f in r.findings],
        "exposures": [e.model_dump(mode="json") for e in r.exposures],
        "access_levels": [a.model_dump(mode="json") for a in r.access_levels],
        "summary": r.summary.model_dump(mode="json"),
        "accounts": r.accounts,
        "warnings": r.warnings,
    }


@pytest.fixture(scope="module")
def serial(small_org) -> dict:
    report = run_audit([small_org], now=NOW, executor="serial")
    assert len(report.accounts) == 2 and report.findings
    assert {x.status for x in report.rules} <= {"ran", "skipped"}  # no budget ran out: exact answers
    return answers(report)


def test_process_pool_answers_as_the_serial_run(small_org, serial):
    assert answers(run_audit([small_org], now=NOW, executor="process", workers=2)) == serial


def test_serial_executor_tasks_answer_as_the_serial_run(small_org, serial):
    """The rules as tasks (each group resolving its own witnesses) on the in-process executor."""
    with fanout.SerialExecutor() as ex:
        assert answers(run_audit([small_org], now=NOW, executor=ex)) == serial


def test_dask_cluster_answers_as_the_serial_run(small_org, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            ex = client.get_executor(pure=False)
            assert answers(run_audit([small_org], now=NOW, executor=ex)) == serial
            # Each worker built the audit's Context (the snapshot loaded) at most once.
            loads = client.run(_contexts_loaded)
            assert all(n <= 1 for n in loads.values()), loads


def _contexts_loaded() -> int:
    return sum(1 for k in fanout._values if isinstance(k, tuple) and k[0] == "audit-context")


def _load_count(key: str) -> tuple[int, int]:
    counter = fanout.worker_value(("count", key), lambda: [0])
    counter[0] += 1
    return os.getpid(), id(counter)


def test_worker_value_is_loaded_once_per_worker_process():
    with fanout.executor("process", 2) as ex:
        got = fanout.map_ordered(ex, _load_count, ["k"] * 8)
    by_pid: dict[int, set[int]] = {}
    for pid, obj in got:
        by_pid.setdefault(pid, set()).add(obj)
    assert 1 <= len(by_pid) <= 2 and all(len(objs) == 1 for objs in by_pid.values())


def _fail(x: int) -> int:
    if x == 2:
        raise ValueError("two")
    return x * 10


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_executors_keep_the_order_and_raise_the_task_error(kind):
    with fanout.executor(kind, 2) as ex:
        assert fanout.map_ordered(ex, _fail, [0, 1, 3]) == [0, 10, 30]
        with pytest.raises(ValueError, match="two"):
            fanout.map_ordered(ex, _fail, [1, 2])


def test_an_unknown_executor_is_bad_input():
    from reasoner.errors import InputError

    with pytest.raises(InputError, match="--executor 'threads'"):
        fanout.executor("threads")


def test_audit_flags(cli, small_org):
    proc = cli("audit", small_org, "--rule", "unused-access", "--workers", "2", "--json")
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)
    proc = cli("audit", small_org, "--workers", "0")
    assert proc.returncode == 2 and "--workers" in proc.stderr


def test_a_rules_shards_share_its_budget(small_org, monkeypatch):
    """--budget is per rule: n shards on w workers get budget * w / n each, so the rule's wall time
    stays within it (a full budget per shard made 16 shards on 2 workers take 8 budgets)."""
    from reasoner.audit import rule_groups

    seen: list[tuple[str, int, float]] = []
    real = rule_groups.shard_task

    def spy(spec, rule_id, shard, shards, budget=None):
        seen.append((rule_id, shards, budget))
        return real(spec, rule_id, shard, shards, budget)

    monkeypatch.setattr(rule_groups, "shard_task", spy)
    with fanout.SerialExecutor() as ex:
        run_audit([small_org], now=NOW, executor=ex, workers=2, budget=120.0, only=["exposure"])
    assert seen
    for _, shards, budget in seen:
        assert budget == pytest.approx(120.0 * min(2, shards) / shards)
