"""Bad input: one line naming the file and the JSON path, exit code 2, no traceback."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

USER = "arn:aws:iam::111122223333:user/alice"
GOOD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def _decide(tmp_path, policy_text: str, suffix: str = ".json", **flags):
    f = tmp_path / f"policy{suffix}"
    f.write_text(policy_text)
    args = [
        "decide",
        "--principal",
        flags.get("principal", USER),
        "--action",
        flags.get("action", "s3:GetObject"),
        "--resource",
        flags.get("resource", "arn:aws:s3:::bucket/key"),
        "--identity-policy",
        str(f),
    ]
    return run_cli(*args), str(f)


def _one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    assert len(err.splitlines()) == 1, err
    for frag in fragments:
        assert frag in err, (frag, err)


@pytest.mark.parametrize(
    "text,fragments",
    [
        ('{"Version": "2012-10-17", "Statement": [', ["malformed JSON at line"]),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"StringEqualz": {"aws:x": "y"}},
                        }
                    ]
                }
            ),
            ["$.Statement[0].Condition.StringEqualz", "unknown condition operator", "did you mean 'StringEquals'"],
        ),
        (
            json.dumps({"Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]}),
            ["$.Statement[0].Effect", "'Allow' or 'Deny'"],
        ),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Actions": "s3:*", "Resource": "*"}]}),
            ["$.Statement[0].Actions", "unknown element"],
        ),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}]}),
            ["$.Statement[0]", "exactly one of Action or NotAction"],
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}},
                        }
                    ]
                }
            ),
            ["$.Statement[0].Condition.IpAddress.aws:SourceIp", "not an IP address"],
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}},
                        }
                    ]
                }
            ),
            ["$.Statement[0].Condition.NumericLessThan.s3:max-keys", "not a number"],
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"DateLessThan": {"aws:CurrentTime": "yesterday"}},
                        }
                    ]
                }
            ),
            ["$.Statement[0].Condition.DateLessThan.aws:CurrentTime", "not a date"],
        ),
        (
            json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "s3:*",
                            "Resource": "*",
                            "Condition": {"Null": {"aws:TokenIssueTime": "maybe"}},
                        }
                    ]
                }
            ),
            ["$.Statement[0].Condition.Null.aws:TokenIssueTime", "'true' or 'false'"],
        ),
        (
            json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}),
            ["$.Statement[0].Principal", "an identity policy cannot have Principal"],
        ),
        (json.dumps([1, 2]), ["$", "must be a JSON object"]),
    ],
)
def test_malformed_policy_is_one_line_exit_2(tmp_path, text, fragments):
    proc, path = _decide(tmp_path, text)
    _one_line_error(proc, *fragments)
    assert path in proc.stderr


def test_malformed_yaml(tmp_path):
    proc, path = _decide(tmp_path, "Statement:\n  - Effect: Allow\n   Action: [s3:*\n", suffix=".yaml")
    _one_line_error(proc, path, "malformed YAML")


def test_yaml_policy_is_accepted(tmp_path):
    proc, _ = _decide(
        tmp_path,
        "Version: '2012-10-17'\nStatement:\n  Effect: Allow\n  Action: s3:GetObject\n  Resource: '*'\n",
        suffix=".yaml",
    )
    assert proc.returncode == 0, proc.stderr
    assert "allow" in proc.stdout


@pytest.mark.parametrize(
    "flags,fragments",
    [
        ({"action": "s3:GetObjekt"}, ["$.request.action", "unknown action", "did you mean 's3:GetObject'"]),
        ({"action": "s4:GetObject"}, ["$.request.action", "unknown service prefix 's4'"]),
        ({"action": "GetObject"}, ["service:Action"]),
        ({"resource": "bucket/key"}, ["$.request.resource", "not an ARN"]),
        ({"principal": "alice"}, ["$.request.principal", "unrecognised principal"]),
    ],
)
def test_bad_request_is_one_line_exit_2(tmp_path, flags, fragments):
    proc, _ = _decide(tmp_path, json.dumps(GOOD), **flags)
    _one_line_error(proc, *fragments)


def test_oversized_policy(tmp_path):
    big = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [f"arn:aws:s3:::b/{i:08d}" for i in range(60000)]}
        ],
    }
    proc, path = _decide(tmp_path, json.dumps(big))
    _one_line_error(proc, path, "over the")


def test_missing_file(tmp_path):
    proc = run_cli(
        "decide",
        "--principal",
        USER,
        "--action",
        "s3:GetObject",
        "--resource",
        "*",
        "--identity-policy",
        str(tmp_path / "nope.json"),
    )
    _one_line_error(proc, "nope.json", "cannot read file")


def test_bad_case_folder(tmp_path):
    proc = run_cli("decide", "--case", str(tmp_path))
    _one_line_error(proc, "no case.yaml")


def test_unknown_question(cli):
    proc = cli("decide", "--case", "cases/athena-vpce", "--question", "nope")
    _one_line_error(proc, "no decide question 'nope'")


def test_unknown_option_is_usage_error(cli):
    proc = cli("decide", "--bogus")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["--action", "s3:GetObjekt"], ["<command line>", "$.action", "did you mean 's3:GetObject'"]),
        (["--action", "s3:Nope*"], ["no catalogue action matches"]),
        (["--exclude", "aws:SourceIp=IpAddres:10.0.0.0/8"], ["unknown condition operator 'IpAddres'"]),
        (["--where", "aws:SourceIp=10.0.0.1", "--absent", "aws:SourceIp"], ["both fixed", "absent"]),
    ],
)
def test_can_bad_input_is_one_line_exit_2(cli, args, fragments):
    base = {"--principal": USER, "--action": "s3:GetObject", "--resource": "arn:aws:s3:::b/k"}
    for flag in list(base):
        if flag in args:
            del base[flag]
    flat = (
        [x for kv in base.items() for x in kv]
        + list(args)
        + ["-i", "cases/athena-vpce/policies/bizmetrics-query-role.json"]
    )
    _one_line_error(cli("can", *flat), *fragments)
