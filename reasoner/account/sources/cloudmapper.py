"""A CloudMapper `collect` dump: REGION/iam-get-account-authorization-details.json plus
per-resource policy files named by URL-encoded ARN or name."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from reasoner.account.model import Snapshot
from reasoner.account.sources.endpoints import load_endpoints
from reasoner.account.sources.gaad import PendingLinks, load_gaad
from reasoner.account.sources.resource_policies import load_resource_list
from reasoner.errors import InputError
from reasoner.policy.document import MAX_POLICY_BYTES, load_document

GAAD_FILE = "iam-get-account-authorization-details.json"
ENDPOINTS_FILE = "ec2-describe-vpc-endpoints.json"

_POLICY_DIRS = {
    "s3-get-bucket-policy",
    "sqs-get-queue-attributes",
    "sns-get-topic-attributes",
    "lambda-get-policy",
    "secretsmanager-get-resource-policy",
    "ecr-get-repository-policy",
}


def is_cloudmapper_dump(files: list[Path]) -> bool:
    return any(f.name == GAAD_FILE for f in files)


def load_cloudmapper(snap: Snapshot, root: Path, files: list[Path], pending: list[PendingLinks]) -> None:
    gaads = [f for f in files if f.name == GAAD_FILE]
    account = None
    for f in gaads:
        doc = load_document(f)
        snap.sources.append(str(f))
        load_gaad(snap, str(f), doc, (), pending)
        account = account or next((e.account for e in snap.principals.values() if e.account.isdigit()), None)
    for f in files:
        name = urllib.parse.unquote(f.name)
        if f.parent.name not in _POLICY_DIRS and f.name != ENDPOINTS_FILE:
            continue
        try:
            # Through the bounded reader: a regular file, its size checked before reading.
            doc = load_document(f, MAX_POLICY_BYTES * 2)
        except InputError as exc:
            if f.parent.name in _POLICY_DIRS:
                # A policy file we cannot read: the resource's policy is unknown, not absent.
                _unreadable(snap, f, name, region_account(f, account), exc.message)
            continue
        if isinstance(doc, dict):
            _load_policy_file(snap, f, name, doc, account)
        elif f.parent.name in _POLICY_DIRS:
            _unreadable(snap, f, name, region_account(f, account), "not a JSON object")


def region_account(f: Path, account: str | None) -> tuple[str, str | None]:
    return f.parent.parent.name, account


def _resource_arn(folder: str, name: str, region: str, account: str | None) -> str:
    """The ARN a policy file's name stands for (CloudMapper names files by ARN or by name)."""
    if name.startswith("arn:"):
        return name
    if folder == "s3-get-bucket-policy":
        return f"arn:aws:s3:::{name}"
    if folder == "lambda-get-policy":
        return f"arn:aws:lambda:{region}:{account}:function:{name}"
    if folder == "ecr-get-repository-policy":
        return f"arn:aws:ecr:{region}:{account}:repository/{name}"
    if folder == "sqs-get-queue-attributes":
        # CloudMapper names queue files by URL: .../ACCOUNT/NAME
        return f"arn:aws:sqs:{region}:{account}:{name.rstrip('/').rsplit('/', 1)[-1]}"
    if folder == "sns-get-topic-attributes":
        return f"arn:aws:sns:{region}:{account}:{name}"
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}"


def _unreadable(snap: Snapshot, f: Path, name: str, where: tuple[str, str | None], why: str) -> None:
    """Every policy folder, not only S3's: an unreadable file is an unknown policy, never "none"."""
    region, account = where
    arn = _resource_arn(f.parent.name, name, region, account)
    snap.problems.append(f"{f}: $: cannot read ({why}); the policy of {arn} is unknown")
    snap.broken_resources[arn] = snap.problems[-1]


def _load_policy_file(snap: Snapshot, f: Path, name: str, doc: dict[str, Any], account: str | None) -> None:
    """One collected file: a resource policy in the shape of the API call its folder is named after."""
    parent = f.parent.name
    region = f.parent.parent.name
    if parent == "s3-get-bucket-policy" and "Policy" in doc:
        load_resource_list(
            snap, str(f), [{"Resource": f"arn:aws:s3:::{name}", "Policy": doc["Policy"], "Account": account}], ()
        )
    elif parent == "sqs-get-queue-attributes":
        pol = (doc.get("Attributes") or {}).get("Policy")
        arn = (doc.get("Attributes") or {}).get("QueueArn")
        if pol and arn:
            load_resource_list(snap, str(f), [{"Resource": arn, "Policy": pol}], ("Attributes",))
    elif parent == "sns-get-topic-attributes":
        attrs = doc.get("Attributes") or {}
        if attrs.get("Policy") and attrs.get("TopicArn"):
            load_resource_list(
                snap, str(f), [{"Resource": attrs["TopicArn"], "Policy": attrs["Policy"]}], ("Attributes",)
            )
    elif parent == "lambda-get-policy" and doc.get("Policy"):
        arn = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}"
        load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["Policy"]}], ())
    elif parent == "secretsmanager-get-resource-policy" and doc.get("ResourcePolicy"):
        arn = doc.get("ARN") or name
        load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["ResourcePolicy"]}], ())
    elif parent == "ecr-get-repository-policy" and doc.get("policyText"):
        arn = f"arn:aws:ecr:{region}:{doc.get('registryId', account)}:repository/{doc.get('repositoryName', name)}"
        load_resource_list(snap, str(f), [{"Resource": arn, "Policy": doc["policyText"]}], ())
    elif f.name == ENDPOINTS_FILE:
        load_endpoints(snap, str(f), doc.get("VpcEndpoints") or [], ("VpcEndpoints",))
