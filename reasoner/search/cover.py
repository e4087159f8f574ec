"""The principal cover of a resource policy: a finite set of principals that together take every
way the policy's Principal / NotPrincipal elements and principal conditions can tell principals
apart (anonymous, every principal it names, one principal per region of its aws:PrincipalArn
patterns, and a principal of an unrelated account).

Over-approximates: encodings/match/principal.lp (which principals a statement names) and the
aws:PrincipalArn / aws:PrincipalAccount condition operators of encodings/conditions/. A
principal outside the cover behaves like one inside it, so searching the cover is complete.
Outside principals are assumed to be allowed by their own account's identity policies (as IAM
Access Analyzer does): only the resource policy stands in their way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reasoner.errors import InputError
from reasoner.policy.document import Policy, Statement, parse_policy
from reasoner.policy.patterns import parse_template
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import NamedPolicy
from reasoner.resources import data_file
from reasoner.search.can import CanAnswer, Query, can
from reasoner.search.domains import AbstractionError, build_domain

OUTSIDE_ACCOUNT = "999999999999"
# Stands for an outside account's own identity policies; a file, so witnesses can be re-run.
ALLOW_ALL_FILE = data_file("allow-all.json")
ALLOW_ALL = parse_policy(json.loads(ALLOW_ALL_FILE.read_text()), source=str(ALLOW_ALL_FILE))


def is_resource_policy(policy: Policy) -> bool:
    return any(st.Principal is not None or st.NotPrincipal is not None for st in policy.Statement)


def candidate_principals(policy: Policy, owner: str, *, outside_only: bool) -> list[str]:
    """Principals that together cover every way the policy can tell principals apart."""
    out = [
        "anonymous",
        f"arn:aws:sts::{OUTSIDE_ACCOUNT}:assumed-role/outsider/session",
        f"arn:aws:iam::{OUTSIDE_ACCOUNT}:user/outsider",
    ]
    if not outside_only:
        out += [f"arn:aws:sts::{owner}:assumed-role/insider/session", f"arn:aws:iam::{owner}:user/insider"]
    arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]] = []
    accounts: set[str] = set()
    for st in policy.Statement:
        _named_principals(st, out, accounts)
        _principal_conditions(st, policy.variables_enabled, arn_comparisons, accounts)
    for acct in accounts:
        out += [
            f"arn:aws:sts::{acct}:assumed-role/someone/session",
            f"arn:aws:iam::{acct}:user/someone",
            f"arn:aws:iam::{acct}:root",
        ]
    if arn_comparisons:
        out += _principal_arn_regions(arn_comparisons)
    principals = []
    for c in dict.fromkeys(out):
        try:
            p = parse_principal(c)
        except InputError:
            continue
        if outside_only and p.account == owner:
            continue
        principals.append(c)
    return principals


def _named_principals(st: Statement, out: list[str], accounts: set[str]) -> None:
    """The principals a Principal / NotPrincipal names, and their accounts."""
    for pm in (st.Principal, st.NotPrincipal):
        for kind, value in pm.entries() if pm else []:
            if value == "*":
                continue
            if kind == "AWS":
                acct = value if value.isdigit() else value.split(":")[4] if value.count(":") >= 5 else None
                if acct:
                    accounts.add(acct)
                if not value.isdigit() and not value.endswith(":root"):
                    out.append(value)
            elif kind == "Service":
                out.append(value)


def _principal_conditions(
    st: Statement,
    variables_enabled: bool,
    arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]],
    accounts: set[str],
) -> None:
    """aws:PrincipalArn comparisons and aws:PrincipalAccount values of the statement's conditions."""
    for op, key, values in st.operators():
        k = key.lower()
        if k == "aws:principalarn" and op.family in (
            "string_equals",
            "string_equals_ic",
            "string_like",
            "arn_like",
        ):
            for v in values:
                t = parse_template(v, variables_enabled)
                if t.has_vars:
                    raise AbstractionError(f"aws:PrincipalArn is compared with a policy variable ({v})")
                arn_comparisons.append((op.family, tuple((c, c in "*?") for c in v)))
        if k == "aws:principalaccount":
            accounts.update(v for v in values if v.isdigit() and len(v) == 12)


def _principal_arn_regions(arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]]) -> list[str]:
    """A principal per region of the aws:PrincipalArn comparisons (and a role's session)."""
    out = []
    for region in build_domain("aws:principalarn", arn_comparisons).regions:
        try:
            p = parse_principal(region.witness)
        except InputError:
            if any(region.signature):
                raise AbstractionError(
                    f"the aws:PrincipalArn region of {region.witness!r} is not a principal ARN"
                ) from None
            continue
        if p.type == "role_session" and p.text.startswith("arn:aws:iam::"):
            # A role ARN pattern: the session of that role carries aws:PrincipalArn = the role.
            name = p.text.split(":role/", 1)[1].rsplit("/", 1)[-1]
            out.append(f"arn:aws:sts::{p.account}:assumed-role/{name}/session")
        out.append(region.witness)
    return out


@dataclass
class CheckResult:
    passed: bool | None  # None: unknown
    answer: CanAnswer | None
    principal: str | None
    reason: str

    @property
    def witness_request(self) -> dict:
        """The allowed request of a failed check."""
        if self.answer is None or self.answer.witness is None:
            raise ValueError(f"a check that {'passed' if self.passed else 'is unknown'} has no witness")
        return self.answer.witness["request"]

    @property
    def decide_command(self) -> str | None:
        return self.answer.decide_command if self.answer else None


def search_principals(
    policy: NamedPolicy,
    owner: str,
    action: str,
    resource: str,
    candidates: list[str],
    rcps: list[list[NamedPolicy]] | None = None,
    management_account: str | None = None,
) -> CheckResult:
    """Is any of these principals allowed through the resource policy (their own account
    allowing everything), within the resource account's RCPs?"""
    unknown = None
    for cand in candidates:
        p = parse_principal(cand)
        identity = [] if p.type in ("anonymous", "service") else [NamedPolicy(str(ALLOW_ALL_FILE), ALLOW_ALL)]
        q = Query(
            principal=cand,
            action=action,
            resource=resource,
            resource_account=owner,
            identity_policies=identity,
            resource_policy=policy,
            rcps=rcps,
            management_account=management_account,
        )
        a = can(q)
        if a.answer == "possible" and a.witness is not None:  # a possible answer carries its witness
            request = a.witness["request"]
            return CheckResult(False, a, cand, f"{cand} can: {request['action']} on {request['resource']}")
        if a.answer == "unknown":
            unknown = (a, cand)
    if unknown:
        return CheckResult(None, unknown[0], unknown[1], unknown[0].reason or "unknown")
    return CheckResult(True, None, None, f"no principal among {len(candidates)} principal regions is allowed")
