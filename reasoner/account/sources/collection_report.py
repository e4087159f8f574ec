"""What `reasoner collect` could not read, as the snapshot's unknowns: `collection-report.json`
(format reasoner-collection-report/1) names accounts it could not enter and listings that failed;
`collected-extras.json` (reasoner-collected-extras/1) holds side data no answer reads.

An account not entered, or whose GetAccountAuthorizationDetails failed, is an unknown account;
a failed listing (ListBuckets, ListQueues, ...) is an unknown resource pattern: resources it
would have named may exist with policies nobody read. The collector writes the same unknowns into
the bundle (`unknown_accounts`, `unknown_resources`); loading the report too adds nothing new."""

from __future__ import annotations

from typing import Any

from reasoner.account.model import Snapshot
from reasoner.errors import json_path

REPORT_FORMAT = "reasoner-collection-report/"
EXTRAS_FORMAT = "reasoner-collected-extras/"

# A failed listing's call -> the ARN pattern of what it lists ({r}: region, {a}: account, {n}: name).
_LISTED = {
    "s3.ListBuckets": "arn:aws:s3:::*",
    "kms.ListKeys": "arn:aws:kms:{r}:{a}:key/*",
    "sqs.ListQueues": "arn:aws:sqs:{r}:{a}:*",
    "sns.ListTopics": "arn:aws:sns:{r}:{a}:*",
    "lambda.ListFunctions": "arn:aws:lambda:{r}:{a}:function:*",
    "lambda.ListLayers": "arn:aws:lambda:{r}:{a}:layer:*",
    "lambda.ListLayerVersions": "arn:aws:lambda:{r}:{a}:layer:{n}:*",
    "secretsmanager.ListSecrets": "arn:aws:secretsmanager:{r}:{a}:secret:*",
    "ecr.DescribeRepositories": "arn:aws:ecr:{r}:{a}:repository/*",
    "dynamodb.ListTables": "arn:aws:dynamodb:{r}:{a}:table/*",
    "dynamodb.DescribeTable": "arn:aws:dynamodb:{r}:{a}:table/{n}/stream/*",
    "events.ListEventBuses": "arn:aws:events:{r}:{a}:event-bus/*",
    "apigateway.GetRestApis": "arn:aws:execute-api:{r}:{a}:*",
    "ec2.DescribeRegions": "arn:aws:*:*:{a}:*",
}
# Collector units (reasoner/collect/services.py) stopped by an unexpected answer: what they list.
_UNITS = {
    "s3": "arn:aws:s3:::*",
    "kms": "arn:aws:kms:{r}:{a}:*",
    "sqs": "arn:aws:sqs:{r}:{a}:*",
    "sns": "arn:aws:sns:{r}:{a}:*",
    "lambda": "arn:aws:lambda:{r}:{a}:*",
    "secretsmanager": "arn:aws:secretsmanager:{r}:{a}:*",
    "ecr": "arn:aws:ecr:{r}:{a}:*",
    "glue": "arn:aws:glue:{r}:{a}:*",
    "dynamodb": "arn:aws:dynamodb:{r}:{a}:*",
    "events": "arn:aws:events:{r}:{a}:*",
    "apigateway": "arn:aws:execute-api:{r}:{a}:*",
}
_GAAD = "iam.GetAccountAuthorizationDetails"


def is_collection_report(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(REPORT_FORMAT)


def is_collected_extras(doc: Any) -> bool:
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(EXTRAS_FORMAT)


def unknowns_from_report(report: dict) -> tuple[dict[str, str], list[dict[str, str]], list[str]]:
    """(unknown accounts {account: reason}, unknown resources [{pattern, reason}], reasons the
    snapshot is incomplete that name neither) from a collection report."""
    accounts: dict[str, str] = {}
    resources: list[dict[str, str]] = []
    other: list[str] = []
    if report.get("error"):
        other.append(f"the collection stopped: {report['error']}")
    for problem in (report.get("organization") or {}).get("problems") or []:
        other.append(f"organization: {problem}")
    for acct, entry in sorted((report.get("accounts") or {}).items()):
        if not isinstance(entry, dict):
            continue
        if entry.get("entered") is False:
            accounts[acct] = f"could not be entered: {entry.get('error')}"
            continue
        for line in entry.get("unlisted") or []:
            _unlisted(str(acct), str(line), accounts, resources, other)
    return accounts, resources, other


def _unlisted(acct: str, line: str, accounts: dict, resources: list, other: list) -> None:
    head, _, _error = line.partition(": ")
    words = head.split()
    call = words[0] if words else ""
    region = words[1] if len(words) > 1 and words[1] != "global" else "*"
    name = words[2] if len(words) > 2 else "*"
    if call == _GAAD or (call == "iam" and "stopped by" in line):
        accounts[acct] = f"its users, groups, roles and policies could not be read: {line}"
    elif call in _LISTED:
        resources.append({"pattern": _LISTED[call].format(r=region, a=acct, n=name), "reason": line})
    elif call in _UNITS and "stopped by" in line:
        resources.append({"pattern": _UNITS[call].format(r=region, a=acct), "reason": line})
    elif not call.startswith("iam.ListAccessKeys"):
        # e.g. VPC endpoints not listed: their policies are missing, so the snapshot is incomplete.
        other.append(f"account {acct}: {line}")


def apply_unknowns(
    snap: Snapshot, src: str, accounts: Any, resources: Any, incomplete: Any, prefix: tuple = ()
) -> None:
    """Add unknown accounts, resource patterns and incompleteness reasons to the snapshot."""
    for acct, why in (accounts or {}).items():
        if str(acct) not in snap.unknown_accounts:
            snap.unknown_accounts[str(acct)] = str(why)
            _incomplete(snap, f"account {acct} is missing from the snapshot: {why}")
    for i, r in enumerate(resources or []):
        pattern, why = (r.get("pattern"), r.get("reason", "")) if isinstance(r, dict) else (None, "")
        if not isinstance(pattern, str) or not pattern.startswith("arn:"):
            _incomplete(snap, f"{src}: {json_path(prefix + ('unknown_resources', i))}: no ARN pattern")
            continue
        if (pattern, str(why)) not in snap.unknown_resources:
            snap.unknown_resources.append((pattern, str(why)))
            _incomplete(snap, f"resources matching {pattern} may be missing: {why}")
    for why in incomplete or []:
        if str(why) not in snap.incomplete:
            _incomplete(snap, str(why))


def _incomplete(snap: Snapshot, why: str) -> None:
    """Listed with the problems too, so every command that prints them shows it."""
    snap.incomplete.append(why)
    snap.problems.append(f"snapshot incomplete: {why}")


def load_collection_report(snap: Snapshot, src: str, doc: dict) -> None:
    accounts, resources, other = unknowns_from_report(doc)
    # The report's other unknown reads (a resource policy, side data) are marked where they
    # belong (an unreadable resource-policy entry) or read by no answer.
    apply_unknowns(snap, src, accounts, resources, other)
