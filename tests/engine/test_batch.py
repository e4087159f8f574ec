"""Batch mode, the documented machine interface: one JSON line in, one JSON line out, in order;
a bad line gives an error line for its id and the rest go on."""

from __future__ import annotations

import json

from conftest import json_result, run_cli

from reasoner.cli.decide_cmd import run_batch

ALLOW_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
}


def _line(i, action="s3:GetObject", **extra):
    return {
        "id": i,
        "request": {"principal": "arn:aws:iam::111122223333:user/u", "action": action, "resource": "arn:aws:s3:::b/k"},
        "identity_policies": [ALLOW_GET],
        **extra,
    }


def test_batch_order_errors_and_explanations(tmp_path):
    lines = [
        json.dumps(_line("a")),
        json.dumps(_line("b", action="s3:PutObject")),
        "{not json",
        json.dumps(_line("d", action="s3:Nope")),
        json.dumps({**_line("e"), "identity_policies": [{"Statement": [{"Effect": "Maybe", "Action": "*"}]}]}),
        "",
        json.dumps(
            {
                **_line("f"),
                "resource_policy": {
                    "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]
                },
            }
        ),
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    proc = run_cli("decide", "--batch", str(f))
    assert proc.returncode == 0, proc.stderr
    out = [json_result(x) for x in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", None, "d", "e", "f"]
    assert [o["decision"] for o in out] == ["allow", "implicit_deny", None, None, None, "explicit_deny"]
    assert out[0]["determining_statements"] == [
        {"layer": "identity", "policy": "identity_policies[0]", "index": 0, "sid": "Get", "effect": "allow"}
    ]
    assert out[0]["decided_by"] == "identity"
    assert out[1]["missing_allow"] == ["identity"]
    assert f"{f}:3" in out[2]["error"] and "malformed JSON" in out[2]["error"]
    assert "$.request.action" in out[3]["error"]
    assert "$.identity_policies[0].Statement[0].Effect" in out[4]["error"]
    assert out[5]["decided_by"] == "resource"
    assert all(o["error"] is None for o in (out[0], out[1], out[5]))


def test_batch_stdin_many_requests_one_grounding(monkeypatch):
    """Thousands of lines share policies and one solver call per chunk."""
    import io

    import reasoner.engine.decide as dec

    calls = []
    real = dec.solve_once
    monkeypatch.setattr(dec, "solve_once", lambda *a, **k: calls.append(1) or real(*a, **k))
    lines = "".join(
        json.dumps(_line(i, action="s3:GetObject" if i % 2 else "s3:PutObject")) + "\n" for i in range(3000)
    )
    out = io.StringIO()
    assert run_batch(io.StringIO(lines), out, "<test>", workers=1) == 3000
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == list(range(3000))
    assert all(r["decision"] == ("allow" if r["id"] % 2 else "implicit_deny") for r in rows)
    assert len(calls) == 2  # two chunks of BATCH_CHUNK lines, each one grounding


def test_batch_parallel_chunks_keep_order():
    import io

    lines = "".join(
        json.dumps(_line(i, action="s3:GetObject" if i % 3 else "s3:PutObject")) + "\n" for i in range(6000)
    )
    out = io.StringIO()
    assert run_batch(io.StringIO(lines), out, "<test>", workers=2) == 6000
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == list(range(6000))
    assert all(r["decision"] == ("allow" if r["id"] % 3 else "implicit_deny") for r in rows)


def test_batch_missing_file(cli):
    proc = cli("decide", "--batch", "does-not-exist.jsonl")
    assert proc.returncode == 2 and "no such batch file" in proc.stderr
