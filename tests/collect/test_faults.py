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


SLOW_DOWN = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"


@pytest.fixture(scope="module")
def faulty(local_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Counter[str]]:
    """One collection with three faults: GetBucketPolicy denied on corp-data, throttled twice on
    corp-secret, throttled on every attempt on corp-logs (a bucket without a policy)."""
    sent: Counter[str] = Counter()

    def deny_corp_data(params: dict, **_: Any) -> Any:
        if "/corp-data?" in params["url"]:
            return error_reply(params["url"], 403, "AccessDenied")
        return None

    def slow_down(request: Any, **_: Any) -> Any:
        bucket = request.url.split("/")[-1].split("?")[0]
        sent[bucket] += 1
        if bucket == "corp-logs" or (bucket == "corp-secret" and sent[bucket] <= 2):
            return AWSResponse(request.url, 503, {}, _Body(SLOW_DOWN))
        return None

    out = tmp_path_factory.mktemp("faulty")
    hooks = [("before-call.s3.GetBucketPolicy", deny_corp_data), ("before-send.s3.GetBucketPolicy", slow_down)]
    return run(local_aws, out, hooks, max_attempts=3), out, sent


def test_denied_bucket_policy_makes_its_answers_unknown(faulty):
    result, out, _ = faulty
    assert not result.complete
    denied = [u for u in result.report["unknown"] if u["target"] == "arn:aws:s3:::corp-data"]
    assert [(u["call"], u["action"], u["error"]) for u in denied] == [
        ("s3.GetBucketPolicy", "s3:GetBucketPolicy", "AccessDenied: injected")
    ]
    answers = who_can(out / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-data/reports/q1.csv")
    # app-role can read only through the bucket policy: never "impossible" for want of a policy.
    assert answers["app-role"] == "unknown"
    assert set(answers.values()) == {"unknown"}


def test_throttling_is_retried(faulty):
    result, out, sent = faulty
    assert sent["corp-secret"] == 3
    assert not [u for u in result.report["unknown"] if u["target"] == "arn:aws:s3:::corp-secret"]
    policies = json.loads((out / "snapshot.json").read_text())["resource_policies"]
    assert "OnlyAuditor" in next(p["Policy"] for p in policies if p["Resource"] == "arn:aws:s3:::corp-secret")


def test_throttled_past_the_retries_is_unknown_not_absent(faulty):
    result, out, sent = faulty
    assert sent["corp-logs"] == 4, sent  # the first attempt and max_attempts=3 retries
    assert result.report["accounts"][ACCOUNT]["marked_unknown"] == ["arn:aws:s3:::corp-data", "arn:aws:s3:::corp-logs"]
    [throttled] = [u for u in result.report["unknown"] if u["target"] == "arn:aws:s3:::corp-logs"]
    assert throttled["error"].startswith("SlowDown: ")
    assert set(who_can(out / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-logs/x").values()) == {"unknown"}
    # The bucket that was read keeps its answers.
    secret = who_can(out / "snapshot.json", "s3:GetObject", "arn:aws:s3:::corp-secret/plans.txt")
    assert "unknown" not in secret.values()


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
    # The OU's SCPs are an unknown level (never taken as allowing): principals governed by it are
    # unknown, the rest of the tree still loads and answers (issue 11, loader gap 4).
    snap = api.load_snapshot(tmp_path / "snapshot.json")
    assert snap.org_root is not None
    ou = next(n for n in snap.org_root.children if n.id == local_aws.ids["ou"])
    assert "AccessDenied" in ou.unknown["scp"] and "deny-deletes" in ou.unknown["scp"]
    assert not snap.org_root.unknown
    assert snap.org_unknown(local_aws.ids["member"], "scp") is not None
    assert snap.org_unknown(local_aws.ids["member"], "rcp") is None
