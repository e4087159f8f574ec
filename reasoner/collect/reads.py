"""One AWS read and its outcome: present (with the response), absent (a documented "no policy"
answer) or unknown (denied, throttled past the retries, unsupported region, timeout), cached per
account in DIR/calls/ so that a run that was cut off resumes where it stopped."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasoner.collect.calls import Call, call

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


@dataclass
class Read:
    status: str  # present | absent | unknown
    value: Any = None  # the response (paginated calls: the list of pages), without ResponseMetadata
    error: str | None = None  # absent: the error code; unknown: "Code: message"

    @property
    def ok(self) -> bool:
        return self.status == PRESENT


def pages(read: Read, key: str) -> list:
    """Every item of `key` over the pages of a present read (a single response counts as one page)."""
    return items(read.value, key) if read.ok else []


def items(value: Any, key: str) -> list:
    """Every item of `key` over a response or a list of pages."""
    out: list = []
    for page in value if isinstance(value, list) else [value]:
        out.extend(page.get(key) or [])
    return out


def _plain(obj: Any) -> Any:
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode()
    if hasattr(obj, "read"):  # a streaming body
        return obj.read().decode()
    raise TypeError(f"cannot store {type(obj).__name__}")


def plain_json(obj: Any) -> Any:
    """The response as JSON values (dates as ISO strings), the same whether fresh or from the cache."""
    return json.loads(json.dumps(obj, default=_plain))


class CallLog:
    """The reads of one account: cached results (present and absent only: an unknown read is tried
    again on the next run) and every unknown read, for the collection report."""

    def __init__(self, folder: Path | None, account: str):
        self.account = account
        self.file = folder / "calls" / f"{account}.jsonl" if folder else None
        self.cache: dict[str, dict] = {}
        self.unknown: list[dict] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.cached_hits = 0
        self._lock = threading.Lock()
        if self.file and self.file.exists():
            content = self.file.read_text()
            if content and not content.endswith("\n"):
                with self.file.open("a") as out:  # end the line a cut-off run was writing
                    out.write("\n")
            for text in content.splitlines():
                try:
                    entry = json.loads(text)
                except ValueError:  # the line a cut-off run was writing
                    continue
                if isinstance(entry, dict) and "key" in entry:
                    self.cache[entry["key"]] = entry

    def cached(self, key: str) -> Read | None:
        entry = self.cache.get(key)
        if entry is None:
            return None
        with self._lock:
            self.cached_hits += 1
        return Read(entry["status"], entry.get("value"), entry.get("error"))

    def record(self, key: str, c: Call, region: str, target: str, read: Read, *, fresh: bool) -> None:
        with self._lock:
            self.counts[(c.key, read.status)] += 1
            if read.status == UNKNOWN:
                self.unknown.append(
                    {
                        "account": self.account,
                        "region": region,
                        "call": c.key,
                        "action": c.action,
                        "target": target,
                        "error": read.error,
                    }
                )
                return
            if not fresh or self.file is None:
                return
            entry = {"key": key, "status": read.status, "value": read.value, "error": read.error}
            self.cache[key] = entry
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with self.file.open("a") as out:
                out.write(json.dumps(entry) + "\n")


ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client


class Reader:
    """Makes the reads of one account through its clients, classifying every outcome."""

    def __init__(self, clients: ClientFactory, log: CallLog, tick: Callable[[], None] | None = None):
        self.clients = clients
        self.log = log
        self.tick = tick or (lambda: None)

    def read(self, key: str, region: str, target: str = "", **params: Any) -> Read:
        c = call(key)
        cache_key = f"{region}|{key}|{json.dumps(params, sort_keys=True)}"
        hit = self.log.cached(cache_key)
        if hit is not None:
            self.log.record(cache_key, c, region, target or key, hit, fresh=False)
            return hit
        result = self._call(c, region, params)
        self.log.record(cache_key, c, region, target or key, result, fresh=True)
        self.tick()
        return result

    def _call(self, c: Call, region: str, params: dict) -> Read:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            client = self.clients(c.service, region)
            if c.paginated and client.can_paginate(c.method):
                value: Any = [_strip(p) for p in client.get_paginator(c.method).paginate(**params)]
            elif c.paginated:  # NextToken pages botocore has no paginator for (ListEventBuses)
                value = [_strip(getattr(client, c.method)(**params))]
                while value[-1].get("NextToken"):
                    value.append(_strip(getattr(client, c.method)(**params, NextToken=value[-1]["NextToken"])))
            else:
                value = _strip(getattr(client, c.method)(**params))
            return Read(PRESENT, plain_json(value))
        except ClientError as exc:
            err = exc.response.get("Error") or {}
            code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
            if code in c.absent:
                return Read(ABSENT, error=code)
            return Read(UNKNOWN, error=f"{code}: {err.get('Message') or exc}")
        except BotoCoreError as exc:  # timeouts, unreachable or unsupported endpoints, no credentials
            return Read(UNKNOWN, error=f"{type(exc).__name__}: {exc}")


def _strip(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
