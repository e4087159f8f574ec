"""Issue 11: documents at the edges of what AWS accepts, and files that are not documents.

Far dates are valid IAM input (classes 7); files are checked before they are read and never
read past their limit (class 9); content AWS rejects is rejected with its JSON path (class 11).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_cli

from reasoner.errors import InputError
from reasoner.policy.document import MAX_POLICY_BYTES, load_document, load_policy
from reasoner.policy.patterns import plain
from reasoner.policy.values import compare, parse_date, policy_value_error

USER = "arn:aws:iam::111122223333:user/u"


def _policy(tmp_path, condition: dict, name: str = "p.json") -> str:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}],
    }
    f = tmp_path / name
    f.write_text(json.dumps(doc))
    return str(f)


# -- class 7: far dates (IAM User Guide, "Date condition operators": ISO 8601 or epoch) -----------


def test_far_dates_parse_and_compare():
    assert parse_date("9999-12-31T23:59:59Z") is not None
    assert parse_date("0001-01-01") is not None
    assert parse_date("9999-12-31T23:59:59-01:00") == parse_date("9999-12-31T23:59:59Z") + 3600
    assert parse_date("1e400") is None and policy_value_error("date_lt", "1e400")
    assert compare("date_lt", plain("9999-12-31T23:59:59Z"), "2024-01-01T00:00:00Z")
    assert compare("date_lt", plain("253402300800"), "9999-12-31T23:59:59Z")  # request value < policy value


@pytest.mark.parametrize(
    "condition",
    [
        {"DateLessThan": {"aws:CurrentTime": "9999-12-31T23:59:59Z"}},
        {"DateGreaterThan": {"aws:CurrentTime": "0001-01-01"}},
        {"DateLessThanEquals": {"aws:CurrentTime": ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]}},
    ],
)
def test_far_dates_are_searched_not_crashed_on(tmp_path, condition):
    f = _policy(tmp_path, condition)
    can = run_cli("can", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "-i", f)
    assert can.returncode == 0 and "possible" in can.stdout, can.stderr
    lint = run_cli("lint", f)
    assert lint.returncode in (0, 1) and "Traceback" not in lint.stderr, lint.stderr
    check = run_cli("check-access-not-granted", f, "--action", "s3:GetObject")
    assert check.returncode == 1 and "Traceback" not in check.stderr, check.stderr


# -- class 9: files --------------------------------------------------------------------------


def test_fifo_and_devices_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "p.json"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(InputError, match="not a regular file"):
            load_document(path)
        proc = run_cli("lint", str(path))  # would block on the FIFO, read 4 GiB of /dev/zero
        assert proc.returncode == 2 and "not a regular file" in proc.stderr and proc.stderr.count("\n") == 1


def test_oversized_policy_is_refused_before_parsing(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("Statement:\n" + "  - {Effect: Allow, Action: '*', Resource: '*'}\n" * (MAX_POLICY_BYTES // 40))
    with pytest.raises(InputError, match="over the 1000000-byte input limit"):
        load_policy(f)


def test_yaml_alias_bomb_is_refused_without_expanding(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n")
    proc = run_cli("lint", str(f))
    assert proc.returncode == 2 and "aliases expand" in proc.stderr and "lol" not in proc.stderr
    assert len(proc.stderr) < 300


def test_a_few_yaml_aliases_are_fine(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(
        "Version: '2012-10-17'\nStatement:\n"
        "  - {Effect: Allow, Action: &acts [s3:GetObject, s3:PutObject], Resource: '*'}\n"
        "  - {Effect: Deny, Action: *acts, NotResource: 'arn:aws:s3:::b/*'}\n"
    )
    assert len(load_policy(f).Statement) == 2


def test_recursive_yaml_alias_is_refused(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("Statement: &s [*s]\n")
    with pytest.raises(InputError, match="contains it"):
        load_document(f)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_deep_nesting_is_one_line(tmp_path, suffix):
    f = tmp_path / f"deep{suffix}"
    f.write_text("[" * 10_000 + "]" * 10_000)
    proc = run_cli("lint", str(f))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "nest" in proc.stderr, proc.stderr


def test_deep_nesting_in_context_json_is_one_line():
    proc = run_cli(
        "decide", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k",
        "--context", "k=" + "[" * 10_000 + "]" * 10_000,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr


# -- class 11: content AWS rejects --------------------------------------------------------------


def test_nan_and_infinity_are_not_json(tmp_path):
    f = tmp_path / "nan.json"
    f.write_text('{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",'
                 ' "Condition": {"NumericLessThan": {"s3:max-keys": Infinity}}}]}')  # fmt: skip
    with pytest.raises(InputError) as exc:
        load_policy(f)
    assert exc.value.path == ("Statement", 0, "Condition", "NumericLessThan", "s3:max-keys")


def test_a_json_string_file_is_not_a_policy(tmp_path):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(json.dumps({"Statement": []})))
    with pytest.raises(InputError, match="must be a JSON object"):
        load_policy(f)


# -- class 11: command-line misuse (reasoner/policy/validate.py) ------------------------------

DECIDE = ["decide", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k"]


@pytest.mark.parametrize(
    "args,message",
    [
        (DECIDE + ["--context", "=x"], "the key is empty"),
        (DECIDE + ["--context", 'k=[{"a": 1}]'], "not an object"),
        (DECIDE + ["--context", "k=[NaN]"], "not NaN or Infinity"),
        (DECIDE + ["--management-account", "abc"], "must be a 12-digit account ID"),
        (["reach", "cases/athena-vpce/snapshot/snapshot.json", "--from", "BizMetricsQuery", "--action",
          "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "--max-paths", "0"], "--max-paths must be 1 or more"),
        (["reach", "cases/athena-vpce/snapshot/snapshot.json", "--from", "BizMetricsQuery", "--action",
          "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "--max-paths", "-1"], "--max-paths must be 1 or more"),
        (["lint", ""], "is empty"),
        (DECIDE + ["--identity-policy", ""], "is empty"),
    ],
)  # fmt: skip
def test_command_line_misuse_is_one_line_exit_2(args, message):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_context_json_booleans_are_written_as_aws_compares_them():
    from reasoner.policy.validate import context_flags

    assert context_flags(['k=[true, 5, "x"]', "k=y"]) == {"k": ["true", "5", "x", "y"]}


# -- class 11: Resource and Principal values AWS rejects -------------------------------------------


def _statement_doc(**statement) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", **statement}]}


@pytest.mark.parametrize(
    "statement,path,message",
    [
        # IAM JSON policy elements, Resource: "*" or an ARN. A Deny on 'not-an-arn' matched nothing.
        ({"Resource": ["arn:aws:s3:::b/*", "not-an-arn"]}, ("Statement", 0, "Resource", 1), "must be '*' or an ARN"),
        ({"NotResource": " *"}, ("Statement", 0, "NotResource", 0), "must be '*' or an ARN"),
        # IAM JSON policy elements, Principal: AWS takes "*", an account ID or an ARN.
        (
            {"Resource": "*", "Principal": {"AWS": ["111122223333", "ACCOUNT-B-ID"]}},
            ("Statement", 0, "Principal", "AWS", 1),
            "an AWS principal is",
        ),
        (
            {"Resource": "*", "NotPrincipal": {"AWS": " arn:aws:iam::111122223333:root"}},
            ("Statement", 0, "NotPrincipal", "AWS", 0),
            "an AWS principal is",
        ),
    ],
)
def test_values_aws_rejects_are_rejected_with_their_path(statement, path, message):
    from reasoner.policy.document import parse_policy

    with pytest.raises(InputError) as exc:
        parse_policy(_statement_doc(**statement), source="p.json")
    assert exc.value.path == path and message in exc.value.message


@pytest.mark.parametrize(
    "statement",
    [
        {"Resource": ["*", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:ec2:*"]},
        {"Resource": "*", "Principal": {"AWS": ["*", "111122223333", "arn:aws:iam::111122223333:role/r"]}},
        # AWS writes a deleted principal's unique ID in its place; it matches no one.
        {"Resource": "*", "Principal": {"AWS": "AROA1234567890EXAMPLE"}},
    ],
)
def test_values_aws_accepts_still_load(statement):
    from reasoner.policy.document import parse_policy

    parse_policy(_statement_doc(**statement))


# -- class 12: messages name the JSON path -------------------------------------------------------


def test_duplicate_invariant_id_is_reported_at_its_path(tmp_path):
    from reasoner.audit.invariants import load_invariants

    f = tmp_path / "inv.yaml"
    f.write_text(
        "invariants:\n"
        + "".join(f"  - id: {i}\n    no-privesc: {{allowed: []}}\n" for i in ("a", "b", "a"))
    )  # fmt: skip
    with pytest.raises(InputError) as exc:
        load_invariants(f)
    assert exc.value.path == ("invariants", 2, "id") and "duplicate invariant id 'a'" in exc.value.message


def test_unknown_principal_name_in_a_case_is_bad_input(tmp_path):
    """A typo in case.yaml is exit 2 with its JSON path, not a question answered differently (1)."""
    import shutil

    case = tmp_path / "case"
    shutil.copytree(Path(__file__).resolve().parents[2] / "cases" / "athena-vpce", case)
    text = (case / "case.yaml").read_text()
    start = text.index("principal:", text.index("\ndecide:"))
    end = text.index("\n", start)
    (case / "case.yaml").write_text(text[:start] + "principal: NoSuchPrincipal" + text[end:])
    proc = run_cli("decide", "--case", str(case))
    assert proc.returncode == 2, proc.stderr
    assert "$.decide[0].principal: unknown principal 'NoSuchPrincipal'" in proc.stderr


def test_messages_never_carry_the_input_at_length(tmp_path):
    f = _policy(tmp_path, {"NumericLessThan": {"s3:max-keys": "x" * 100_000}})
    proc = run_cli("lint", f)
    assert proc.returncode == 2 and "is not a number" in proc.stderr and len(proc.stderr) < 400
    line = InputError("a\nb" + "y" * 10_000, source="f").one_line()
    assert "\n" not in line and len(line) < 600 and line.endswith("(9503 more characters)")


def test_case_policies_are_read_as_policy_files(tmp_path):
    """load_case reads its policies through load_policy: the policy size limit before reading, and
    a file holding a JSON string is not a policy."""
    import shutil

    from reasoner.cases import load_case

    case = tmp_path / "case"
    shutil.copytree(Path(__file__).resolve().parents[2] / "cases" / "athena-vpce", case)
    target = case / "policies" / "bizmetrics-query-role.json"
    target.write_text(json.dumps(target.read_text()))
    with pytest.raises(InputError, match="must be a JSON object"):
        load_case(case)
