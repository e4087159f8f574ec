"""Issue 11, batch mode: a batch answers every line exactly as it would answer that line alone;
a bad line (any bad line) is an error line carrying its id or its FILE:LINE, and the others are
answered; every line is bounded in size and depth."""

from __future__ import annotations

import io
import json
import os
import re

from conftest import json_result, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.batch import MAX_LINE_BYTES, answer_batch, readable_id, run_batch

USER = "arn:aws:iam::111122223333:user/u"
ALLOW_GET = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}],
}
# The same document is a valid resource policy and an invalid identity policy (AWS: identity
# policies cannot name a Principal; resource-based policies must).
PUBLIC_GET = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Pub", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    ],
}
DENY_ALL = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}


def line(ident, action="s3:GetObject", **layers) -> str:
    obj = {"id": ident, "request": {"principal": USER, "action": action, "resource": "arn:aws:s3:::b/k"}, **layers}
    return json.dumps(obj)


def answers(lines, source="<t>") -> list[dict]:
    return list(answer_batch(lines, source, workers=1))


def test_rejected_layer_does_not_empty_a_later_line_with_the_same_document():
    """Regression: the identity layer check rejected PUBLIC_GET after it was compiled; its facts
    were dropped but the compiled policy stayed cached, so the good line got an implicit deny."""
    bad = line("bad", identity_policies=[PUBLIC_GET])
    good = line("good", resource_policy=PUBLIC_GET)
    out = answers([bad, good])
    assert out[0]["id"] == "bad" and out[0]["decision"] is None
    assert out[0]["error"].startswith("<t>:1: $.identity_policies[0].Statement[0].Principal: ")
    assert out[1] == answers([good])[0]
    assert out[1]["decision"] == "allow" and out[1]["decided_by"] == "resource"


DEEP = "[" * 10_000 + "]" * 10_000
POOL = [
    line("g1", identity_policies=[ALLOW_GET]),
    line("g2", resource_policy=PUBLIC_GET),
    line("g3", action="s3:PutObject", identity_policies=[ALLOW_GET], resource_policy=PUBLIC_GET),
    line("g4", identity_policies=[ALLOW_GET], resource_policy=DENY_ALL),
    line("g5", identity_policies=[ALLOW_GET], scps=[[ALLOW_GET]]),
    line("b1", identity_policies=[PUBLIC_GET]),  # layer check: Principal in an identity policy
    line("b2", identity_policies=[ALLOW_GET], resource_policy=ALLOW_GET),  # resource policy without Principal
    line("b3", action="s3:Nope", identity_policies=[ALLOW_GET]),  # unknown action
    line("b4", scps=[[PUBLIC_GET]], identity_policies=[ALLOW_GET]),  # Principal in an SCP
    line({"x": 1}, identity_policies=[ALLOW_GET]),  # an object id
    line(2.5, identity_policies=[ALLOW_GET]),  # a float id
    '{"id": "b7", "request": ',  # malformed JSON
    DEEP,
    b'{"id": "b9", "request": "\xff"}',  # invalid UTF-8
    '{"id": "b10", "request": {"principal": "' + USER + '", "action": "s3:GetObject", "resource": NaN}}',
]


def _alone(text: str | bytes) -> dict:
    return answers([text])[0]


def _no_line(answer: dict) -> dict:
    """The answer without the line number of its error (a line alone is line 1)."""
    if answer["error"]:
        answer = {**answer, "error": re.sub(r"^<t>:\d+: ", "<t>:N: ", answer["error"])}
    return answer


ALONE = {i: _no_line(_alone(text)) for i, text in enumerate(POOL)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(range(len(POOL))), min_size=1, max_size=8))
def test_a_batch_answers_each_line_as_it_would_alone(picks):
    out = answers([POOL[i] for i in picks])
    assert len(out) == len(picks)
    for n, (i, answer) in enumerate(zip(picks, out), start=1):
        assert _no_line(answer) == ALONE[i], (n, POOL[i][:80])
        if answer["error"]:
            assert answer["error"].startswith(f"<t>:{n}: ")


def test_bad_lines_carry_their_id_or_line_number(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"\n".join(t if isinstance(t, bytes) else t.encode() for t in POOL) + b"\n")
    proc = run_cli("decide", "--batch", str(f))
    assert proc.returncode == 0, proc.stderr
    out = [json_result(x) for x in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["g1", "g2", "g3", "g4", "g5", "b1", "b2", "b3", "b4"] + [
        None,
        None,
        "b7",  # read from the malformed line
        None,
        "b9",
        "b10",
    ]
    assert [o["decision"] for o in out[:5]] == ["allow", "allow", "implicit_deny", "explicit_deny", "allow"]
    for n, o in enumerate(out[5:], start=6):
        assert o["decision"] is None and o["error"].startswith(f"{f}:{n}: "), o  # FILE:LINE, never <input>
    assert "$.id: id must be a string or an integer" in out[9]["error"]
    assert "$.id: id must be a string or an integer" in out[10]["error"]
    assert "nested more than" in out[12]["error"]
    assert "not UTF-8" in out[13]["error"]
    assert "$.request.resource: NaN and Infinity" in out[14]["error"]


def test_a_bad_line_in_the_second_chunk_loses_nothing():
    """5,200 lines, chunks of 2,500 decided in two processes, a 10,000-deep line in between."""
    lines = [line(i, identity_policies=[ALLOW_GET]) for i in range(5200)]
    lines.insert(2600, DEEP)
    out = io.StringIO()
    assert run_batch(io.StringIO("\n".join(lines) + "\n"), out, "<t>", workers=2) == 5201
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert rows[2600]["id"] is None and rows[2600]["error"].startswith("<t>:2601: ")
    assert [r["id"] for r in rows[:2600] + rows[2601:]] == list(range(5200))
    assert all(r["decision"] == "allow" for r in rows[:2600] + rows[2601:])


def test_an_oversized_line_comes_back_with_its_id_when_readable():
    pad = "x" * (MAX_LINE_BYTES + 10)
    first = json.dumps({"id": "big", "request": {"principal": USER, "action": "s3:GetObject", "resource": pad}})
    late = json.dumps({"request": {"principal": USER, "action": "s3:GetObject", "resource": pad}, "id": "late"})
    nested = json.dumps({"request": {"id": "inner", "pad": pad}})
    good = line("ok", identity_policies=[ALLOW_GET])
    stream = io.BytesIO(("\n".join([first, late, nested, good]) + "\n").encode())
    out = io.StringIO()
    assert run_batch(stream, out, "<t>", workers=1) == 4
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == ["big", None, None, "ok"]
    assert rows[0]["error"] == f"<t>:1: $: line is over the {MAX_LINE_BYTES}-byte limit"
    assert rows[1]["error"].startswith("<t>:2: ") and rows[2]["error"].startswith("<t>:3: ")
    assert rows[3]["decision"] == "allow"


def test_readable_id():
    assert readable_id(b'{"id": "a", "request": {') == "a"
    assert readable_id(b'{"request": {"id": "inner"}, "id": 7, "x": "') == 7
    assert readable_id(b'{"x": "\\"id\\": 5", "y": [{"id": 1}]') is None
    assert readable_id(b'{"x": "cut off inside a string "id": 5') is None
    assert readable_id(b'{"id": {"nested": 1}}') is None
    assert readable_id(b'{"id": true}') is None


def test_batch_file_must_be_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for arg, message in [
        ("", "empty file name"),
        (str(tmp_path), "is a directory"),
        (str(fifo), "is not a regular file"),
        (str(tmp_path / "missing.jsonl"), "no such batch file"),
    ]:
        proc = run_cli("decide", "--batch", arg)
        assert proc.returncode == 2, (arg, proc.stderr)
        assert proc.stderr.count("\n") == 1 and message in proc.stderr and "Traceback" not in proc.stderr


def test_batch_with_case_is_refused():
    proc = run_cli("decide", "--batch", "-", "--case", "cases/athena-vpce", stdin="")
    assert proc.returncode == 2 and "--batch cannot be combined with --case" in proc.stderr


def test_batch_from_stdin_with_invalid_utf8_and_deep_lines():
    good = line("ok", identity_policies=[ALLOW_GET])
    proc = run_cli("decide", "--batch", "-", stdin=good + "\n" + DEEP + "\n" + good + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json_result(x) for x in proc.stdout.splitlines()]
    assert [r["decision"] for r in rows] == ["allow", None, "allow"]
    assert rows[1]["error"].startswith("<stdin>:2: ")


# Any bytes, any JSON: a line is answered or refused with an InputError, never an exception.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(["id", "request", "identity_policies", "resource_policy", "scps", "Statement", "x"])


def _parsed_or_refused(data: bytes) -> None:
    from reasoner.engine.batch import Line, parse_line
    from reasoner.errors import InputError

    if not data.strip():
        return
    out = parse_line(Line(7, data), "<t>")
    if isinstance(out, tuple):
        ident, err = out
        assert isinstance(err, InputError) and err.one_line().startswith("<t>:7: ")
        assert ident is None or isinstance(ident, (str, int))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_line_is_parsed_or_refused(data):
    _parsed_or_refused(data)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=5))
def test_any_object_line_is_parsed_or_refused(obj):
    _parsed_or_refused(json.dumps(obj).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()), st.sampled_from([".json", ".yaml"]))
def test_any_policy_file_loads_or_is_refused(data, suffix):
    """load_policy on any bytes: a Policy or an InputError (never another exception)."""
    import tempfile

    from reasoner.errors import InputError
    from reasoner.policy.document import load_policy

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "p" + suffix)
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            load_policy(path)
        except InputError as exc:
            assert "\n" not in exc.one_line()
