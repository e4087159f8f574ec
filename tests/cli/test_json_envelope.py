"""The JSON contract: every command with `--json` prints one versioned envelope
`{"schema", "version", "tool", "result"}` (reasoner.envelope), and `decide --batch` one per line.

The commands are discovered from the typer app, so a new command with `--json` fails here until it
is given an invocation on the seed case (cases/athena-vpce) below."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
from conftest import REASONER, ROOT

from reasoner.cli.main import app
from reasoner.cli.output import RESULT_VERSIONS
from reasoner.envelope import PROJECT_URL, envelope_schema, kind_of, unwrap, validate

SEED = "cases/athena-vpce"
SNAP = f"{SEED}/snapshot/snapshot.json"
POLICIES = f"{SEED}/policies"
ROLE = "arn:aws:iam::111122223333:role/BizMetricsQuery"
OBJECT = "arn:aws:s3:::examplecorp-business-data/revenuedata/service_revenue/part-0000.parquet"
BATCH = "BATCH"  # replaced by a JSONL file of the seed case's requests

# Per command: (the invocations, each with the document type it prints). Every command that has
# --json must be here.
INVOCATIONS: dict[str, list[tuple[list[str], str]]] = {
    "decide": [
        (["--snapshot", SNAP, "--principal", ROLE, "--action", "s3:GetObject", "--resource", OBJECT], "decide"),
        (["--case", SEED], "decide-case"),
    ],
    "can": [
        (
            [
                "-i",
                f"{POLICIES}/bizmetrics-query-role.json",
                "--principal",
                ROLE,
                "--action",
                "s3:Get*",
                "--resource",
                OBJECT,
            ],
            "can",
        ),
        (["--case", SEED], "can-case"),
    ],
    "check-access-not-granted": [
        (["--action", "s3:DeleteObject", f"{POLICIES}/bizmetrics-query-role.json"], "check"),
    ],
    "check-no-public-access": [
        (["--account", "111122223333", f"{POLICIES}/examplecorp-business-data-bucket.json"], "check"),
    ],
    "actions": [(["s3:GetObject*"], "actions")],
    "diff": [
        ([f"{POLICIES}/cfn-ddb-kms-calledvia.json", f"{POLICIES}/cfn-ddb-kms-calledviafirst.json"], "diff"),
        ([SNAP, SNAP], "snapshot-diff"),
    ],
    "lint": [([f"{POLICIES}/bizmetrics-query-role.json"], "lint")],
    "who-can": [([SNAP, "--action", "s3:GetObject", "--resource", OBJECT], "who-can")],
    "reach": [
        ([SNAP, "--from", "BizMetricsQuery", "--action", "s3:GetObject", "--resource", OBJECT], "reach"),
        (["--case", SEED], "reach-case"),
    ],
    "privesc": [([SNAP, "--from", "BizMetricsQuery"], "privesc")],
    "matrix": [([SNAP, "--principals", ROLE, "--actions", "s3:GetObject", "--resources", OBJECT], "matrix")],
    "prove": [([f"{SEED}/invariants.yaml", SEED], "prove")],
    # Nothing listens on port 9: the report says so (complete: false), in the envelope.
    "collect": [
        (["--out", "OUT", "--endpoint-url", "http://127.0.0.1:9", "--regions", "us-east-1"], "collection-report")
    ],
    "audit": [([SNAP, "--rule", "external-access"], "findings")],
}


def json_commands() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(
        name
        for name, cmd in group.commands.items()  # type: ignore[attr-defined]
        if any("--json" in p.opts for p in cmd.params)
    )


def run(args: list[str], tmp_path: Path) -> str:
    import subprocess

    env = {**os.environ, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"}
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    proc = subprocess.run([REASONER, *args], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert proc.returncode in (0, 1, 4), proc.stderr
    return proc.stdout


def check_document(doc: dict, kind: str) -> None:
    env = validate(doc)  # the envelope's own model (docs/envelope.schema.json)
    assert kind_of(doc) == kind and env.version == RESULT_VERSIONS[kind]
    assert doc["schema"].startswith(PROJECT_URL) and env.tool.name == "iam-reasoner" and env.tool.catalogue
    assert unwrap(doc, kind, RESULT_VERSIONS[kind]) is not None


def test_every_json_command_has_an_invocation():
    """A command with --json that is missing here fails: its output must be checked too."""
    assert json_commands(), "no command with --json found: the discovery is broken"
    assert set(json_commands()) == set(INVOCATIONS)


@pytest.mark.parametrize("command", json_commands())
def test_json_output_is_one_envelope(command, tmp_path):
    for args, kind in INVOCATIONS[command]:
        check_document(json.loads(run([command, *args, "--json"], tmp_path)), kind)


def test_audit_format_json_is_the_same_envelope(tmp_path):
    check_document(
        json.loads(run(["audit", SNAP, "--rule", "external-access", "--format", "json"], tmp_path)), "findings"
    )


def test_batch_lines_are_each_an_envelope(tmp_path):
    """decide --batch: one envelope per line (no header line), line N answering request N, each
    the same document `decide --json` prints for that request alone."""
    policy = json.loads((ROOT / POLICIES / "bizmetrics-query-role.json").read_text())
    requests = [
        {
            "id": "direct",
            "request": {"principal": ROLE, "action": "s3:GetObject", "resource": OBJECT},
            "identity_policies": [policy],
        },
        {"id": "bad", "request": {"principal": ROLE}},
        {
            "id": "via-athena",
            "request": {
                "principal": ROLE,
                "action": "s3:GetObject",
                "resource": OBJECT,
                "context": {"aws:CalledVia": ["athena.amazonaws.com"]},
            },
            "identity_policies": [policy],
        },
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps(r) + "\n" for r in requests))
    lines = run(["decide", "--batch", str(batch)], tmp_path).splitlines()
    assert len(lines) == len(requests)
    docs = [json.loads(x) for x in lines]
    for d in docs:
        check_document(d, "decide")
    results = [d["result"] for d in docs]
    assert [r["id"] for r in results] == ["direct", "bad", "via-athena"]
    assert results[0]["decision"] == "implicit_deny" and results[1]["error"] and results[2]["decision"] == "allow"
    # decide --snapshot --batch: the lines name only the request; the same envelope per line.
    lines = [
        {
            "id": "s",
            "request": {"principal": ROLE, "action": "s3:GetObject", "resource": OBJECT},
        },
        {"id": "bad"},
    ]
    batch.write_text("".join(json.dumps(r) + "\n" for r in lines))
    docs = [json.loads(x) for x in run(["decide", "--snapshot", SNAP, "--batch", str(batch)], tmp_path).splitlines()]
    assert [d["result"]["id"] for d in docs] == ["s", "bad"]
    for d in docs:
        check_document(d, "decide")


def test_envelope_schema_is_generated_from_the_model():
    """docs/envelope.schema.json is generated from reasoner.envelope.Envelope."""
    assert json.loads((ROOT / "docs" / "envelope.schema.json").read_text()) == envelope_schema()


def test_a_bare_result_is_not_an_envelope():
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        validate({"decision": "allow"})
    with pytest.raises(ValueError):
        unwrap({"schema": "x/who-can.schema.json", "version": 1, "result": {}}, "reach", 1)


def test_enveloped_lines_wrap_each_line_even_written_in_pieces():
    import io

    from reasoner.cli.output import enveloped_lines, result_document

    sink = io.StringIO()
    out = enveloped_lines(sink, "decide")
    out.write('{"id": 1, "decision": "allow"}\n{"id": 2,')
    out.write(' "decision": null}\n\n')
    docs = [json.loads(x) for x in sink.getvalue().splitlines()]
    assert [d["result"]["id"] for d in docs] == [1, 2]
    assert docs[0] == result_document("decide", {"id": 1, "decision": "allow"})
