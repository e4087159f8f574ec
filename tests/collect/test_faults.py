"""Every read is present, absent or unknown: a denied or throttled-out read makes the answers that
depend on it `unknown`, throttling is retried, a cut-off run resumes, an account that cannot be
entered is reported. Faults are injected with botocore event hooks on the sessions the collector
uses (the calls still go to the local endpoint)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_account import ACCOUNT, MEMBER_ROLE, REGION, LocalAws
from botocore.awsrequest import AWSResponse

from reasoner import api
from reasoner.collect.calls import CALLS, minimal_policy
from reasoner.collect.run import CollectOptions, collect
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import parse_policy

Hook = tuple[str, Callable[..., Any]]


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def stream(self, **_: Any) -> Any:
        yield self.data


def error_reply(url: str, status: int, code: str) -> tuple[AWSResponse, dict]:
    """A short-circuited call's (http, parsed) answer, as a `before-call` handler returns it."""
    parsed = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse(url, status, {}, _Body(b"")), parsed


def sessions(aws: LocalAws, hooks: list[Hook]) -> Callable[[Any], Any]:
    """The collector's session factory with the hooks registered on every session it makes."""

    def make(creds: Any) -> Any:
        session = aws.session(creds)
        for event, handler in hooks:
            session.events.register(event, handler)
        return session

    return make


def run(aws: LocalAws, out: Path, hooks: list[Hook], **opts: Any) -> Any:
    options = CollectOptions(out=out, regions=[REGION], endpoint_url=aws.url, **opts)
    return collect(options, session_factory=sessions(aws, hooks))


def who_can(snapshot: Path, action: str, resource: str) -> dict[str, str]:
    answer = api.who_can(api.load_snapshot(snapshot), action, resource)
    return {p["principal"].rsplit("/", 1)[-1]: p["answer"] for p in answer.to_json()["principals"]} | {
        u["principal"].rsplit("/", 1)[-1]: "unknown" for u in answer.to_json()["unknown"]
    }


def test_denied_bucket_policy_makes_its_answers_unknown(local_aws, tmp_path):
    def deny_corp_data(params: dict, **_: Any) -> Any:
        if "/corp-data?" in params["url"]:
            return error_reply(params["url"], 403, "AccessDenied")
        return None

    result = run(local_aws, tmp_path, [("before-call.s3.GetBucketPolicy", deny_corp_data)])
    assert not result.complete
    [unknown] = result.report["unknown"]
    assert (unknown["call"], unknown["target"], unknown["error"]) == (
        "s3.GetBucketPolicy",
        "arn:aws:s3:::corp-data",
        "AccessDenied: injected",
    )
    assert result.report["accounts"][ACCOUNT]["marked_unknown"] == ["arn:aws:s3:::corp-data"]
    answers = who_can(tmp_path / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-data/reports/q1.csv")
    # app-role can read only through the bucket policy: never "impossible" for want of a policy.
    assert answers["app-role"] == "unknown"
    assert set(answers.values()) == {"unknown"}
    # Other buckets keep their answers.
    assert who_can(tmp_path / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-logs/x")["root-like"] == "possible"


def test_throttling_is_retried(local_aws, tmp_path):
    sent: Counter[str] = Counter()

    def slow_down(request: Any, **_: Any) -> Any:
        if "/corp-secret?policy" in request.url:
            sent["corp-secret"] += 1
            if sent["corp-secret"] <= 2:
                body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                return AWSResponse(request.url, 503, {}, _Body(body))
        return None

    result = run(local_aws, tmp_path, [("before-send.s3.GetBucketPolicy", slow_down)])
    assert sent["corp-secret"] == 3
    assert result.complete, result.report["unknown"]
    policies = json.loads((tmp_path / "snapshot.json").read_text())["resource_policies"]
    assert "arn:aws:s3:::corp-secret" in {p["Resource"] for p in policies}


def test_throttled_past_the_retries_is_unknown_not_absent(local_aws, tmp_path):
    def always_slow(request: Any, **_: Any) -> Any:
        if "/corp-logs?policy" in request.url:  # a bucket without a policy
            return AWSResponse(request.url, 503, {}, _Body(b"<Error><Code>SlowDown</Code><Message>m</Message></Error>"))
        return None

    result = run(local_aws, tmp_path, [("before-send.s3.GetBucketPolicy", always_slow)], max_attempts=2)
    assert [(u["target"], u["error"].split(":")[0]) for u in result.report["unknown"]] == [
        ("arn:aws:s3:::corp-logs", "SlowDown")
    ]
    answers = who_can(tmp_path / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-logs/x")
    assert set(answers.values()) == {"unknown"}


def test_a_cut_off_run_resumes_from_the_folder(local_aws, tmp_path):
    sent: Counter[str] = Counter()

    def count(request: Any, event_name: str, **_: Any) -> None:
        sent["requests"] += 1
        sent[event_name] += 1

    first = run(local_aws, tmp_path, [("before-send", count)])
    calls_file = tmp_path / "calls" / f"{ACCOUNT}.jsonl"
    text = calls_file.read_text()
    calls_file.write_text(text[: len(text) // 2])  # cut off in the middle of a line
    done_before = len(text[: len(text) // 2].splitlines()) - 1
    sent.clear()
    second = run(local_aws, tmp_path, [("before-send", count)])
    assert second.report["accounts"][ACCOUNT]["from_cache"] == done_before
    assert (
        0
        < sent["requests"]
        < sum(n for counts in first.report["accounts"][ACCOUNT]["reads"].values() for n in counts.values())
    )
    sent.clear()
    third = run(local_aws, tmp_path, [("before-send", count)])
    assert sent["requests"] == 1, sent  # sts:GetCallerIdentity; every other read comes from DIR/calls
    assert first.report["accounts"][ACCOUNT]["reads"] == third.report["accounts"][ACCOUNT]["reads"]


def test_org_enters_members_and_reports_the_one_it_cannot_enter(local_aws, tmp_path):
    legacy = local_aws.ids["legacy"]

    def refuse_legacy(params: dict, **_: Any) -> Any:
        if legacy in str(params.get("body")):
            return error_reply(params["url"], 403, "AccessDenied")
        return None

    result = run(local_aws, tmp_path, [("before-call.sts.AssumeRole", refuse_legacy)], org=True, role_name=MEMBER_ROLE)
    accounts = result.report["accounts"]
    assert set(accounts) == {ACCOUNT, local_aws.ids["member"], legacy}
    assert accounts[local_aws.ids["member"]]["entered"]
    assert not accounts[legacy]["entered"]
    assert accounts[legacy]["error"].startswith(
        f"sts:AssumeRole arn:aws:iam::{legacy}:role/{MEMBER_ROLE}: AccessDenied"
    )
    assert not result.complete
    snap = api.load_snapshot(tmp_path / "snapshot.json")
    assert f"arn:aws:iam::{local_aws.ids['member']}:user/deployer" in snap.principals
    assert snap.levels_for(local_aws.ids["member"], "scp") is not None


def test_print_policy_is_derived_from_the_call_table(cli):
    out = cli("collect", "--print-policy", "--role-name", "Auditor")
    assert out.returncode == 0, out.stderr
    policy = json.loads(out.stdout)
    parse_policy(json.dumps(policy), source="print-policy")
    granted = {a for st in policy["Statement"] for a in st["Action"]}
    assert granted == {c.action for c in CALLS}
    assert policy == minimal_policy("Auditor")
    assert policy["Statement"][1]["Resource"] == "arn:aws:iam::*:role/Auditor"
    for action in granted:
        assert catalogue.lookup(action) is not None, action


@pytest.fixture
def cli():
    import subprocess

    from aws_account import REASONER, ROOT

    return lambda *args: subprocess.run([REASONER, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_an_unreadable_scp_is_never_taken_as_allowing(local_aws, tmp_path):
    scp = local_aws.ids["scp"]

    def deny_scp(params: dict, **_: Any) -> Any:
        if scp in str(params.get("body")):
            return error_reply(params["url"], 403, "AccessDenied")
        return None

    result = run(local_aws, tmp_path, [("before-call.organizations.DescribePolicy", deny_scp)])
    assert not result.complete
    assert result.report["organization"]["problems"] == [f"organizations.DescribePolicy {scp}: AccessDenied: injected"]
    # The loader refuses a tree with a policy it cannot read: SCPs are never guessed.
    with pytest.raises(InputError, match="deny-deletes is not a valid policy"):
        api.load_snapshot(tmp_path / "snapshot.json")
