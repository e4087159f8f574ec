"""Access-Analyzer-style checks on top of `can`: each returns the witness when it fails.

- check_access_not_granted: does the policy allow any of these actions (on these resources)?
- check_no_public_access: can any principal outside the owner account, anonymous or "*", do
  anything through this resource policy?

A resource policy is searched over a finite set of principals that covers every way its
Principal / NotPrincipal elements and principal conditions can tell principals apart: anonymous,
every principal it names, one principal per region of its aws:PrincipalArn patterns, and a
principal of an unrelated account. Outside principals are assumed to be allowed by their own
account's identity policies (as Access Analyzer does): only this policy stands in their way.
"""

from __future__ import annotations

from reasoner.errors import InputError
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can
from reasoner.search.cover import CheckResult, candidate_principals, is_resource_policy, search_principals
from reasoner.search.domains import AbstractionError


def _search(policy: NamedPolicy, owner: str, action: str, resource: str, outside_only: bool) -> CheckResult:
    try:
        candidates = candidate_principals(policy.policy, owner, outside_only=outside_only)
    except AbstractionError as exc:
        return CheckResult(None, None, None, str(exc))
    return search_principals(policy, owner, action, resource, candidates)


def check_no_public_access(policy: NamedPolicy, owner: str, resource: str = "*") -> CheckResult:
    if not is_resource_policy(policy.policy):
        raise InputError(
            "check-no-public-access takes a resource-based policy (statements with Principal)", source=policy.name
        )
    return _search(policy, owner, "*", resource, outside_only=True)


def check_access_not_granted(
    policy: NamedPolicy, action: str, resource: str = "*", owner: str = "123456789012"
) -> CheckResult:
    if is_resource_policy(policy.policy):
        return _search(policy, owner, action, resource, outside_only=False)
    principal = f"arn:aws:sts::{owner}:assumed-role/checker/session"
    a = can(
        Query(principal=principal, action=action, resource=resource, resource_account=owner, identity_policies=[policy])
    )
    if a.answer == "possible" and a.witness is not None:  # a possible answer carries its witness
        request = a.witness["request"]
        return CheckResult(False, a, principal, f"the policy grants {request['action']} on {request['resource']}")
    if a.answer == "unknown":
        return CheckResult(None, a, principal, a.reason or "unknown")
    return CheckResult(True, a, None, "the policy grants none of these actions on these resources")
