"""One collection run: the caller's account, or the accounts of an organization entered with
sts:AssumeRole, read concurrently (bounded), written to DIR as a snapshot bundle
(snapshot.json), side data (collected-extras.json) and collection-report.json."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reasoner.account.sources.collection_report import unknowns_from_report
from reasoner.collect.organization import OrgResult, collect_organization
from reasoner.collect.reads import UNKNOWN, CallLog, Reader
from reasoner.collect.services import GLOBAL_COLLECTORS, GLOBAL_REGION, REGIONAL_COLLECTORS, AccountData

SNAPSHOT_FILE = "snapshot.json"
EXTRAS_FILE = "collected-extras.json"
REPORT_FILE = "collection-report.json"
DEFAULT_ROLE = "OrganizationAccountAccessRole"

# (access key, secret, token) of an assumed role, or None for the caller's own credentials.
Credentials = tuple[str, str, str] | None
SessionFactory = Callable[[Credentials], Any]
Progress = Callable[[str, int, int], None]


@dataclass
class CollectOptions:
    out: Path
    profile: str | None = None
    regions: list[str] | None = None  # None: every region enabled in the account
    accounts: list[str] | None = None  # None: the caller's account (or every account with org)
    org: bool = False
    role_name: str = DEFAULT_ROLE
    endpoint_url: str | None = None
    workers: int = 4  # concurrent reads per account
    account_workers: int = 2  # accounts collected at once
    max_attempts: int = 8  # botocore adaptive mode: retries after the first attempt (throttling included)
    timeout: float = 30.0


@dataclass
class CollectResult:
    snapshot: Path
    report: dict
    complete: bool


@dataclass
class _Progress:
    report: Progress | None
    done: int = 0
    total: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int) -> None:
        with self.lock:
            self.total += n
        self._show("collecting")

    def step(self, what: str) -> None:
        with self.lock:
            self.done += 1
        self._show(what)

    def _show(self, what: str) -> None:
        if self.report:
            self.report(what, self.done, self.total)


def default_session_factory(opts: CollectOptions) -> SessionFactory:
    import boto3  # type: ignore[import-untyped]

    def make(creds: Credentials) -> Any:
        if creds is None:
            return boto3.Session(profile_name=opts.profile)
        return boto3.Session(aws_access_key_id=creds[0], aws_secret_access_key=creds[1], aws_session_token=creds[2])

    return make


def client_factory(session: Any, opts: CollectOptions) -> Callable[[str, str], Any]:
    """Clients of one session, made once per (service, region) (sessions are not thread-safe)."""
    from botocore.config import Config  # type: ignore[import-untyped]

    config = Config(
        retries={"mode": "adaptive", "max_attempts": opts.max_attempts},
        connect_timeout=opts.timeout,
        read_timeout=opts.timeout,
        user_agent_extra="reasoner-collect",
        # One endpoint for every service (a local AWS-compatible server): no per-bucket or
        # per-account host names.
        s3={"addressing_style": "path"} if opts.endpoint_url else None,
        inject_host_prefix=not opts.endpoint_url,
    )
    made: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def client(service: str, region: str) -> Any:
        with lock:
            if (service, region) not in made:
                made[(service, region)] = c = session.client(
                    service, region_name=region, config=config, endpoint_url=opts.endpoint_url
                )
                if opts.endpoint_url and service == "s3control":
                    c.meta.events.register("before-sign.s3-control", _one_host)
            return made[(service, region)]

    return client


def _one_host(request: Any, **_: Any) -> None:
    """S3 Control puts the account in the host name (ACCOUNT.s3-control...); a single endpoint has
    none of those: the account goes in the x-amz-account-id header alone."""
    parts = urlsplit(request.url)
    head, _, rest = parts.netloc.partition(".")
    if head.isdigit() and len(head) == 12:
        request.url = urlunsplit(parts._replace(netloc=rest))


def collect(
    opts: CollectOptions, *, session_factory: SessionFactory | None = None, progress: Progress | None = None
) -> CollectResult:
    started = time.time()
    opts.out.mkdir(parents=True, exist_ok=True)
    make_session = session_factory or default_session_factory(opts)
    bar = _Progress(progress)
    caller_clients = client_factory(make_session(None), opts)
    caller_log = CallLog(None, "caller")  # identity and role assumption (credentials): never cached
    caller = Reader(caller_clients, caller_log)
    ident = caller.read("sts.GetCallerIdentity", GLOBAL_REGION, "caller")
    if not ident.ok:
        report = {"complete": False, "error": f"sts.GetCallerIdentity: {ident.error}", "unknown": caller_log.unknown}
        _write_json(opts.out / REPORT_FILE, report)
        return CollectResult(opts.out / SNAPSHOT_FILE, report, False)
    me = ident.value["Account"]
    org_log = CallLog(opts.out, "organization")
    org = collect_organization(Reader(caller_clients, org_log))
    targets = _target_accounts(opts, me, org)
    bar.add(len(targets))
    results: dict[str, tuple[AccountData | None, CallLog, str | None]] = {}

    def one(account: str) -> None:
        try:
            results[account] = _collect_account(opts, account, me, caller, make_session, bar)
        except Exception as exc:  # e.g. a session that cannot be made: that account only
            results[account] = (None, CallLog(None, account), f"{type(exc).__name__}: {exc}")
        bar.step(f"account {account}")

    with ThreadPoolExecutor(max_workers=max(1, opts.account_workers)) as pool:
        list(pool.map(one, targets))
    report = _report(opts, started, ident.value, (org, org_log), results, caller_log)
    _write_outputs(opts, org, results, report)
    return CollectResult(opts.out / SNAPSHOT_FILE, report, bool(report["complete"]))


def _target_accounts(opts: CollectOptions, me: str, org: OrgResult) -> list[str]:
    if opts.accounts:
        return list(dict.fromkeys(opts.accounts))
    if opts.org:
        return list(dict.fromkeys([me] + org.accounts))
    return [me]


def _collect_account(
    opts: CollectOptions, account: str, me: str, caller: Reader, make_session: SessionFactory, bar: _Progress
) -> tuple[AccountData | None, CallLog, str | None]:
    log = CallLog(opts.out, account)
    if account == me:
        session = make_session(None)
    else:
        arn = f"arn:aws:iam::{account}:role/{opts.role_name}"
        assumed = caller.read("sts.AssumeRole", GLOBAL_REGION, arn, RoleArn=arn, RoleSessionName="reasoner-collect")
        if not assumed.ok:
            return None, log, f"sts:AssumeRole {arn}: {assumed.error}"
        c = assumed.value["Credentials"]
        session = make_session((c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    reader = Reader(client_factory(session, opts), log)
    data = AccountData(account)
    regions = opts.regions or _enabled_regions(reader, data)
    units: list[tuple[str, str | None]] = [(name, None) for name in GLOBAL_COLLECTORS]
    units += [(name, region) for region in regions for name in REGIONAL_COLLECTORS]
    bar.add(len(units))

    def run(unit: tuple[str, str | None]) -> None:
        name, region = unit
        try:
            if region is None:
                GLOBAL_COLLECTORS[name](reader, data)
            else:
                REGIONAL_COLLECTORS[name](reader, data, region)
        except Exception as exc:  # an answer of a shape we do not expect: reported, the rest goes on
            with data.lock:
                data.unlisted.append(f"{name} {region or 'global'}: stopped by {type(exc).__name__}: {exc}")
        bar.step(f"{account} {region or 'global'} {name}")

    with ThreadPoolExecutor(max_workers=max(1, opts.workers)) as pool:
        list(pool.map(run, units))
    data.extras["regions"] = regions
    return data, log, None


def _enabled_regions(reader: Reader, data: AccountData) -> list[str]:
    read = reader.read("ec2.DescribeRegions", GLOBAL_REGION, "regions")
    if not read.ok:
        data.unlisted.append(f"ec2.DescribeRegions: {read.error}; only {GLOBAL_REGION} was read")
        return [GLOBAL_REGION]
    return sorted(r["RegionName"] for r in read.value.get("Regions", []))


def _report(
    opts: CollectOptions,
    started: float,
    caller: dict,
    organization: tuple[OrgResult, CallLog],
    results: dict[str, tuple[AccountData | None, CallLog, str | None]],
    caller_log: CallLog,
) -> dict:
    org, org_log = organization
    accounts: dict[str, dict] = {}
    unknown = caller_log.unknown + org_log.unknown
    for account, (data, log, error) in sorted(results.items()):
        accounts[account] = {
            "entered": error is None,
            "error": error,
            "regions": data.extras.get("regions") if data else None,
            "reads": _read_counts(log),
            "from_cache": log.cached_hits,
            "unlisted": data.unlisted if data else [],
            "marked_unknown": sorted(
                arn for arn, e in (data.resource_policies.items() if data else []) if "Unreadable" in e
            ),
        }
        unknown += log.unknown
    complete = not unknown and not org.problems and all(a["entered"] and not a["unlisted"] for a in accounts.values())
    return {
        "format": "reasoner-collection-report/1",
        "complete": complete,
        "seconds": round(time.time() - started, 2),
        "caller": {"account": caller.get("Account"), "arn": caller.get("Arn")},
        "organization": {
            "id": org.id,
            "management_account": org.management_account,
            "problems": org.problems,
            "reads": _read_counts(org_log),
            "from_cache": org_log.cached_hits,
        },
        "accounts": accounts,
        "unknown": unknown,
    }


def _read_counts(log: CallLog) -> dict[str, dict[str, int]]:
    reads: dict[str, dict[str, int]] = {}
    for (key, status), n in sorted(log.counts.items()):
        reads.setdefault(key, {})[status] = n
    return reads


def _write_outputs(
    opts: CollectOptions,
    org: OrgResult,
    results: dict[str, tuple[AccountData | None, CallLog, str | None]],
    report: dict,
) -> None:
    collected = [data for _acct, (data, _log, _err) in sorted(results.items()) if data is not None]
    policies = [p for d in collected for _arn, p in sorted(d.resource_policies.items())]
    bundle: dict[str, Any] = {
        "format": "reasoner-collect/1",
        "description": f"reasoner collect of {', '.join(sorted(results))}"
        + ("" if report["complete"] else f"; incomplete: see {REPORT_FILE}"),
        "authorization_details": [d.gaad for d in collected if d.gaad is not None],
        "resource_policies": policies,
        "vpc_endpoints": [e for d in collected for e in d.vpc_endpoints],
    }
    # What could not be read, for the loader: answers that depend on it are unknown.
    unknown_accounts, unknown_resources, incomplete = unknowns_from_report(report)
    bundle.update(
        {"unknown_accounts": unknown_accounts, "unknown_resources": unknown_resources, "incomplete": incomplete}
    )
    if org.tree is not None:
        bundle["organization"] = org.tree
    if org.management_account:
        bundle["management_account"] = org.management_account
    _write_json(opts.out / SNAPSHOT_FILE, bundle)
    extras = {"format": "reasoner-collected-extras/1", "accounts": {d.account: d.extras for d in collected}}
    _write_json(opts.out / EXTRAS_FILE, extras)
    _write_json(opts.out / REPORT_FILE, report)


def _write_json(path: Path, doc: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    tmp.replace(path)


__all__ = ["UNKNOWN", "CollectOptions", "CollectResult", "collect"]
