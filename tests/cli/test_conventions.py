"""CLI conventions: --version, -h, help text on every flag, completion, one-line usage errors,
--format/--json, `-` for standard input, plain output when piped or under NO_COLOR, and data
printed as data (never as rich markup, emoji codes or raw terminal escapes)."""

from __future__ import annotations

import copy
import json
import os
import pty
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import REASONER, ROOT, json_result, run_cli

CASE = ROOT / "cases" / "athena-vpce"
SNAPSHOT = CASE / "snapshot" / "snapshot.json"
ROLE_POLICY = CASE / "policies" / "bizmetrics-query-role.json"
COMMANDS = [
    "decide",
    "can",
    "check-access-not-granted",
    "check-no-public-access",
    "actions",
    "diff",
    "lint",
    "who-can",
    "reach",
    "privesc",
    "prove",
    "audit",
    "collect",
]
USER = "arn:aws:iam::111122223333:user/alice"
HOSTILE_SID = "\x1b[31mRED\x1b]0;title\x07[admin][/]:x:"


def one_line_usage_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: "), proc.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


# -- version, help, completion -----------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    proc = run_cli(flag)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"reasoner {version('iam-reasoner')}"


def test_python_dash_m():
    proc = subprocess.run(
        [sys.executable, "-m", "reasoner", "--version"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("reasoner ")


@pytest.mark.parametrize("command", [None, *COMMANDS])
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_flags(command, flag):
    proc = run_cli(*([command] if command else []), flag)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: reasoner"), proc.stdout


def test_every_flag_and_argument_has_help():
    import typer

    from reasoner.cli.main import app

    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        assert cmd.help, name
        for p in cmd.params:
            if not getattr(p, "help", None):
                missing.append(f"{name} {p.name}")
    for p in group.params:
        if not getattr(p, "help", None):
            missing.append(f"reasoner {p.name}")
    assert not missing


def test_completion_is_offered():
    # Typer detects the shell from the process tree: run it from bash, as a user would (a test
    # runner started without a shell among its ancestors gets "Shell not supported").
    proc = subprocess.run(["bash", "-c", f"'{REASONER}' --show-completion"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "complete" in proc.stdout and "reasoner" in proc.stdout
    assert "--install-completion" in run_cli("--help").stdout


# -- usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["decide", "--bogus"], "--bogus"),
        (["who-can"], "Missing argument"),
        (["who-can", str(SNAPSHOT), "--action"], "--action"),
        (["diff", "a.json", "b.json", "--limit", "0"], "--limit"),
        (["diff", "a.json", "b.json", "--kind", "nope"], "--kind"),
        (["nocommand"], "nocommand"),
        (["actions", "s3:GetObject", "--format", "xml"], "--format"),
        (["prove", "x.yaml", "y", "--json", "--format", "junit"], "--json"),
    ],
)
def test_usage_error_is_one_line_exit_2(args, fragment):
    one_line_usage_error(run_cli(*args), fragment)


def test_newline_in_a_name_does_not_forge_a_second_error_line():
    one_line_usage_error(run_cli("decide", "--x\nerror: forged"))
    proc = run_cli("actions", "s3:Nope\nerror: forged*")
    one_line_usage_error(proc, "no catalogue action matches")
    proc = run_cli("decide", "--principal", USER, "--action", "s3:GetObject", "--resource", "*", "-c", "k\nerror: x")
    one_line_usage_error(proc, "must be KEY=VALUE")


# -- formats -----------------------------------------------------------------------------------


def test_json_is_short_for_format_json():
    a = run_cli("actions", "s3:GetObject*", "--json")
    b = run_cli("actions", "s3:GetObject*", "--format", "json")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    assert json_result(a.stdout)[0]["action"].startswith("s3:GetObject")
    table = run_cli("actions", "s3:GetObject*", "--format", "table")
    assert table.returncode == 0 and "s3:GetObject" in table.stdout and not table.stdout.startswith("[")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_format_and_json(command):
    out = run_cli(command, "--help").stdout
    assert "--format" in out and "--json" in out


def test_prove_extra_formats():
    proc = run_cli("prove", str(CASE / "invariants.yaml"), str(CASE), "--format", "junit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<?xml")


# -- plain output ------------------------------------------------------------------------------


def run_in_pty(*args: str, env: dict[str, str] | None = None) -> str:
    """Run with stdout on a pseudo-terminal (what a user at a terminal sees)."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    full_env.update({"TERM": "xterm-256color", "COLUMNS": "200"}, **(env or {}))
    proc = subprocess.Popen([REASONER, *args], stdout=slave, stderr=subprocess.PIPE, cwd=ROOT, env=full_env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


DECIDE = [
    "decide",
    "--principal",
    "arn:aws:sts::111122223333:assumed-role/BizMetricsQuery/analyst",
    "--action",
    "s3:GetObject",
    "--resource",
    "arn:aws:s3:::examplecorp-business-data/revenuedata/part-0000.parquet",
    "--context",
    "aws:CalledVia=athena.amazonaws.com",
    "-i",
    str(ROLE_POLICY),
]


def test_terminal_gets_colour_and_no_color_turns_it_off():
    coloured = run_in_pty(*DECIDE)
    assert "allow" in coloured and "\x1b[" in coloured
    plain = run_in_pty(*DECIDE, env={"NO_COLOR": "1"})
    assert "allow" in plain and "\x1b" not in plain


@pytest.mark.parametrize(
    "args",
    [
        DECIDE,
        ["decide", "--case", str(CASE)],
        ["actions", "s3:Get*"],
        [
            "who-can",
            str(SNAPSHOT),
            "--action",
            "s3:GetObject",
            "--resource",
            "arn:aws:s3:::examplecorp-business-data/x",
        ],
        ["lint", str(ROLE_POLICY)],
    ],
)
def test_piped_output_has_no_escape_codes(args):
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color"}
    proc = subprocess.run([REASONER, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.strip()
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr


# -- data printed as data ----------------------------------------------------------------------


def hostile_snapshot(tmp_path: Path) -> Path:
    """The seed snapshot plus a role whose name and policy Sid look like markup, emoji codes and
    terminal escapes."""
    bundle = json.loads(SNAPSHOT.read_text())
    gaad = bundle["authorization_details"]
    role = copy.deepcopy(gaad["RoleDetailList"][0])
    role.update(
        RoleName="ops[admin]:x:",
        RoleId="AROAHOSTILEROLE00",
        Arn="arn:aws:iam::111122223333:role/ops[admin]:x:",
        AttachedManagedPolicies=[],
        RolePolicyList=[
            {
                "PolicyName": "inline[/]",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": "x", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                },
            }
        ],
    )
    gaad["RoleDetailList"].append(role)
    out = tmp_path / "snapshot.json"
    out.write_text(json.dumps(bundle))
    return out


def test_who_can_prints_markup_like_data_as_written(tmp_path):
    snap = hostile_snapshot(tmp_path)
    key = "arn:aws:s3:::examplecorp-business-data/a[/]b[admin]:x:"
    proc = run_cli("who-can", str(snap), "--action", "s3:GetObject", "--resource", key)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "a[/]b[admin]:x:" in proc.stdout
    assert "role/ops[admin]:x:" in proc.stdout
    assert "❌" not in proc.stdout and "\x1b" not in proc.stdout


def hostile_policy(tmp_path: Path) -> Path:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": HOSTILE_SID, "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}],
    }
    p = tmp_path / "hostile.json"
    p.write_text(json.dumps(doc))
    return p


def test_escape_sequences_in_a_sid_never_reach_the_terminal(tmp_path):
    p = hostile_policy(tmp_path)
    args = ["decide", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "-i", str(p)]
    for out in (run_cli(*args).stdout, run_in_pty(*args)):
        assert "explicit_deny" in out
        sid_shown = "\\x1b[31mRED\\x1b]0;title\\x07[admin][/]:x:"
        assert sid_shown in out, out
        assert "\x1b[31m" not in out and "\x07" not in out and "❌" not in out
    proc = run_cli(*args, "--json")
    assert json_result(proc.stdout)["determining_statements"][0]["sid"] == HOSTILE_SID


def test_markup_in_file_names(tmp_path):
    folder = tmp_path / "[bold]x[red]"
    folder.mkdir()
    p = folder / "p:x:[admin].json"
    p.write_text(ROLE_POLICY.read_text())
    proc = run_cli("diff", str(p), str(p))
    assert proc.returncode == 0, proc.stderr
    assert f"diff {p} → {p}" in proc.stdout
    p.write_text('{"Version": "2012-10-17", "Statement": [')
    line = one_line_usage_error(run_cli("lint", str(p)), "malformed JSON")
    assert str(p) in line


# -- standard input ----------------------------------------------------------------------------


def test_decide_reads_a_policy_from_stdin():
    args = [a if a != str(ROLE_POLICY) else "-" for a in DECIDE]
    proc = run_cli(*args, "--json", stdin=ROLE_POLICY.read_text())
    assert proc.returncode == 0, proc.stderr
    d = json_result(proc.stdout)
    assert d["decision"] == "allow"
    assert d["determining_statements"][0]["policy"] == "<stdin>"


def test_yaml_from_stdin_and_errors_name_stdin():
    yaml_policy = "Version: '2012-10-17'\nStatement:\n  Effect: Allow\n  Action: s3:GetObject\n  Resource: '*'\n"
    base = ["decide", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "-i", "-"]
    proc = run_cli(*base, "--json", stdin=yaml_policy)
    assert proc.returncode == 0, proc.stderr
    assert json_result(proc.stdout)["decision"] == "allow"
    proc = run_cli(*base, stdin='{"Statement": [{"Effect": "allow"}]}')
    line = one_line_usage_error(proc, "<stdin>")
    assert "reasoner-stdin" not in line


def test_snapshot_from_stdin():
    args = ["--action", "s3:GetObject", "--resource", "arn:aws:s3:::examplecorp-business-data/x", "--json"]
    from_file = run_cli("who-can", str(SNAPSHOT), *args)
    from_stdin = run_cli("who-can", "-", *args, stdin=SNAPSHOT.read_text())
    assert from_file.returncode == from_stdin.returncode == 0, from_stdin.stderr
    as_stdin = from_file.stdout.replace(str(SNAPSHOT), "<stdin>")
    strip = lambda out: {k: v for k, v in json_result(out).items() if k != "stats"}  # noqa: E731
    assert strip(as_stdin) == strip(from_stdin.stdout)


def test_invariants_from_stdin():
    proc = run_cli("prove", "-", str(CASE), "--json", stdin=(CASE / "invariants.yaml").read_text())
    assert proc.returncode == 0, proc.stderr
    out = json_result(proc.stdout)
    assert out["invariants"] == "<stdin>"
    assert {r["status"] for r in out["results"]} == {"proved"}


REDUNDANT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    ],
}


def test_lint_and_diff_read_stdin(tmp_path):
    f = tmp_path / "redundant.json"
    f.write_text(json.dumps(REDUNDANT))
    from_file = run_cli("lint", str(f), "--json")
    from_stdin = run_cli("lint", "-", "--json", stdin=f.read_text())
    assert from_file.returncode == from_stdin.returncode == 1, from_stdin.stderr
    findings = json_result(from_stdin.stdout)["findings"]
    assert [x["file"] for x in findings] == ["<stdin>"]
    strip = lambda out: [{k: v for k, v in x.items() if k != "file"} for x in json_result(out)["findings"]]  # noqa: E731
    assert strip(from_file.stdout) == strip(from_stdin.stdout)
    proc = run_cli("diff", "-", str(ROLE_POLICY), "--json", stdin=ROLE_POLICY.read_text())
    assert proc.returncode == 0, proc.stderr
    out = json_result(proc.stdout)
    assert out["old"] == "<stdin>" and out["added"]["answer"] == "same" and out["removed"]["answer"] == "same"


def test_decide_snapshot_and_checks_read_stdin():
    args = ["--principal", "BizMetricsQuery", "--action", "athena:StartQueryExecution"]
    args += ["--resource", "arn:aws:athena:us-east-1:111122223333:workgroup/BizMetrics", "--json"]
    from_file = run_cli("decide", "--snapshot", str(SNAPSHOT), *args)
    from_stdin = run_cli("decide", "--snapshot", "-", *args, stdin=SNAPSHOT.read_text())
    assert from_file.returncode == from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    bucket = CASE / "policies" / "examplecorp-business-data-bucket.json"
    a = run_cli("check-no-public-access", str(bucket), "--account", "111122223333", "--json")
    b = run_cli("check-no-public-access", "-", "--account", "111122223333", "--json", stdin=bucket.read_text())
    assert a.returncode == b.returncode and json_result(a.stdout)["result"] == json_result(b.stdout)["result"]
