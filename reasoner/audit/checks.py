"""Access-Analyzer-style checks on top of `can`: each returns the witness when it fails.

- check_access_not_granted: does the policy allow any of these actions (on these resources)?
- check_no_public_access: is there public access through this resource policy (anonymous
  callers, any AWS account, any federated identity; IAM Access Analyzer's meaning of public)?
  A grant to a named outside account, organization, service or identity provider is external
  access: it does not fail this check, and the result reports it (`access == "external"`).

A resource policy is searched over its principal cover (reasoner/search/cover.py): a finite set
of principals, one of every form, that covers every way its Principal / NotPrincipal elements
and principal conditions can tell principals apart. Outside principals are assumed to be allowed
by their own account's identity policies (as Access Analyzer does): only this policy stands in
their way.
"""

from __future__ import annotations

from reasoner.errors import InputError
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, can
from reasoner.search.cover import CheckResult, candidate_principals, is_resource_policy, search_principals
from reasoner.search.domains import AbstractionError


def _candidates(policy: NamedPolicy, owner: str, outside_only: bool) -> list[str] | CheckResult:
    try:
        return candidate_principals(policy.policy, owner, outside_only=outside_only)
    except AbstractionError as exc:
        return CheckResult(None, None, None, str(exc))


def check_no_public_access(policy: NamedPolicy, owner: str, resource: str = "*") -> CheckResult:
    if not is_resource_policy(policy.policy):
        raise InputError(
            "check-no-public-access takes a resource-based policy (statements with Principal)", source=policy.name
        )
    candidates = _candidates(policy, owner, outside_only=True)
    if isinstance(candidates, CheckResult):
        return candidates
    public = search_principals(policy, owner, "*", resource, candidates, access=("public",))
    if public.passed is not True:
        return public
    external = search_principals(policy, owner, "*", resource, candidates, access=("external",))
    if external.passed is False:
        return CheckResult(
            True,
            external.answer,
            external.principal,
            f"not public; external access: {external.reason}",
            access="external",
        )
    if external.passed is None:
        return CheckResult(True, None, None, f"not public; external access unknown: {external.reason}")
    return public


def check_access_not_granted(
    policy: NamedPolicy, action: str, resource: str = "*", owner: str = "123456789012"
) -> CheckResult:
    if is_resource_policy(policy.policy):
        candidates = _candidates(policy, owner, outside_only=False)
        if isinstance(candidates, CheckResult):
            return candidates
        return search_principals(policy, owner, action, resource, candidates)
    principal = f"arn:aws:sts::{owner}:assumed-role/checker/session"
    a = can(
        Query(
            principal=principal,
            action=action,
            resource=resource,
            resource_account=owner,
            identity_policies=[policy],
            policies_only=True,  # what the policy grants, not what AWS allows anyway
        )
    )
    if a.answer == "possible" and a.witness is not None:  # a possible answer carries its witness
        request = a.witness["request"]
        return CheckResult(False, a, principal, f"the policy grants {request['action']} on {request['resource']}")
    if a.answer == "unknown":
        return CheckResult(None, a, principal, a.reason or "unknown")
    return CheckResult(True, a, None, "the policy grants none of these actions on these resources")
