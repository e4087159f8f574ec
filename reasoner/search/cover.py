"""The principal cover of a resource policy: a finite set of principals that together take every
way the policy's Principal / NotPrincipal elements and principal conditions can tell principals
apart, and whether a grant to each is public or external access.

The cover has one principal of every form (IAM User Guide, "AWS JSON policy elements:
Principal"): anonymous ("*"); for an account nobody names, its root, a user, a role session and a
federated-user session; every AWS principal, account, service and identity provider (SAML, OIDC,
cognito-identity.amazonaws.com, accounts.google.com, graph.facebook.com, www.amazon.com) the
policy names; a service and a web identity provider nobody names; one principal per region of
its aws:PrincipalArn patterns; each account of aws:PrincipalAccount and each service of
aws:PrincipalServiceName. A CanonicalUser the policy names cannot be a request's principal here:
such a policy is outside the cover (AbstractionError, so the caller answers unknown).

Over-approximates: encodings/match/principal.lp (which principals a Principal / NotPrincipal
names: req_principal_is/4 against stmt_principal/3, every name of a principal) and the
conditions on the principal keys of encodings/conditions/ (aws:PrincipalArn,
aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalServiceName, aws:userid, aws:username; the
org and tag keys stay free in the search). Two principals that no Principal entry names, of the
same type, in accounts no condition names and outside every aws:PrincipalArn region boundary,
get the same facts from those rules: searching the cover is complete. Outside principals are
assumed to be allowed by their own account's identity policies (as IAM Access Analyzer does):
only the resource policy stands in their way.

Public or external (IAM Access Analyzer, "IAM Access Analyzer findings"): access is *public*
when anyone gets it: anonymous callers, any AWS account (an account the policy does not name,
outside every organization: aws:PrincipalOrgID / aws:PrincipalOrgPaths absent), any service or
web identity provider nobody names, or every user of a public identity provider (its audience /
app id key absent). A grant to a named outside account, organization, service or SAML/OIDC
provider is *external* access.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from reasoner.errors import InputError
from reasoner.policy.document import Policy, Statement, parse_policy
from reasoner.policy.patterns import parse_template
from reasoner.policy.principals import Principal, has_identity_policies, parse_principal
from reasoner.policy.request import NamedPolicy
from reasoner.resources import data_file
from reasoner.search.can import CanAnswer, Query, can
from reasoner.search.domains import AbstractionError, Domain, build_domain

OUTSIDE_ACCOUNT = "999999999999"
UNNAMED_SERVICE = "unnamed-service.amazonaws.com"
UNNAMED_IDP = "federated:unnamed-provider.example.com"
# Stands for an outside account's own identity policies; a file, so witnesses can be re-run.
ALLOW_ALL_FILE = data_file("allow-all.json")
ALLOW_ALL = parse_policy(json.loads(ALLOW_ALL_FILE.read_text()), source=str(ALLOW_ALL_FILE))
# Public identity providers and the key that ties a token to one application (IAM User Guide,
# "Available keys for AWS web identity federation"): a grant that leaves it open lets in every
# user of the provider.
PUBLIC_IDP_AUDIENCE = {
    "cognito-identity.amazonaws.com": "cognito-identity.amazonaws.com:aud",
    "accounts.google.com": "accounts.google.com:aud",
    "graph.facebook.com": "graph.facebook.com:app_id",
    "www.amazon.com": "www.amazon.com:app_id",
}
# A principal of an account nobody names is "any AWS account" only outside every organization.
ORG_KEYS = ("aws:PrincipalOrgID", "aws:PrincipalOrgPaths")

Access = Literal["public", "external", "internal"]


def is_resource_policy(policy: Policy) -> bool:
    return any(st.Principal is not None or st.NotPrincipal is not None for st in policy.Statement)


def _account_forms(acct: str, name: str) -> list[str]:
    """One principal of every type of an account (aws:PrincipalType tells them apart)."""
    return [
        f"arn:aws:iam::{acct}:root",
        f"arn:aws:iam::{acct}:user/{name}",
        f"arn:aws:sts::{acct}:assumed-role/{name}/session",
        f"arn:aws:sts::{acct}:federated-user/{name}",
    ]


def candidate_principals(policy: Policy, owner: str, *, outside_only: bool) -> list[str]:
    """Principals that together cover every way the policy can tell principals apart."""
    out = ["anonymous", UNNAMED_SERVICE, UNNAMED_IDP, *_account_forms(OUTSIDE_ACCOUNT, "outsider")]
    if not outside_only:
        out += _account_forms(owner, "insider")
    arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]] = []
    accounts: set[str] = set()
    for st in policy.Statement:
        _named_principals(st, out, accounts)
        _principal_conditions(st, policy.variables_enabled, arn_comparisons, accounts, out)
    for acct in sorted(accounts):
        out += _account_forms(acct, "someone")
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


def named_accounts(policy: Policy) -> set[str]:
    """Accounts the policy names (Principal / NotPrincipal, aws:PrincipalAccount, the account field
    of aws:PrincipalArn values): a grant to one of them is external access, not public."""
    accounts: set[str] = set()
    for st in policy.Statement:
        _named_principals(st, [], accounts)
        for _, key, values in st.operators():
            k = key.lower()
            if k == "aws:principalaccount":
                accounts.update(v for v in values if v.isdigit() and len(v) == 12)
            elif k == "aws:principalarn":
                accounts.update(a for v in values if len(a := (v.split(":") + [""] * 5)[4]) == 12 and a.isdigit())
    return accounts


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
            elif kind == "Federated":
                # An identity provider's ARN (SAML, OIDC) is the principal; a provider by name
                # (cognito-identity.amazonaws.com, accounts.google.com, ...) is federated:NAME.
                out.append(value if value.startswith("arn:") else f"federated:{value}")
            else:
                raise AbstractionError(
                    f"the {kind} principal {value!r} cannot be searched (no request principal has a canonical user id)"
                )


def _principal_conditions(
    st: Statement,
    variables_enabled: bool,
    arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]],
    accounts: set[str],
    out: list[str],
) -> None:
    """aws:PrincipalArn comparisons, aws:PrincipalAccount values and aws:PrincipalServiceName
    values of the statement's conditions."""
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
        if k == "aws:principalservicename":
            out += [v for v in values if "*" not in v and "?" not in v]


def _principal_arn_regions(arn_comparisons: list[tuple[str, tuple[tuple[str, bool], ...]]]) -> list[str]:
    """A principal per region of the aws:PrincipalArn comparisons (and a role's session)."""
    out = []
    domain = build_domain("aws:principalarn", arn_comparisons)
    for region in domain.regions:
        try:
            p = parse_principal(_principal_in_region(domain, region.witness))
        except InputError:
            if any(region.signature):
                raise AbstractionError(
                    f"the aws:PrincipalArn region of {region.witness!r} is not a principal ARN"
                ) from None
            continue
        if p.type == "role_session" and p.text.startswith("arn:aws:iam::") and "/" not in p.text.split(":role/", 1)[1]:
            # A role ARN pattern: the session of that role carries aws:PrincipalArn = the role. (A
            # session ARN drops a role's path: for a pathed role the role ARN, a session of it
            # whose path is known, stands alone.)
            name = p.text.split(":role/", 1)[1]
            out.append(f"arn:aws:sts::{p.account}:assumed-role/{name}/session")
        out.append(p.text)
    return out


def _principal_in_region(domain: Domain, witness: str) -> str:
    """The witness, or a principal ARN of the same region: a wildcard over the account or the
    resource part (arn:aws:iam::*:role/R, arn:aws:iam::A:*) can give a witness that names no
    principal, while principal ARNs of that region exist."""
    try:
        parse_principal(witness)
        return witness
    except InputError:
        pass
    parts = witness.split(":", 5)
    if len(parts) < 6:
        return witness
    want = domain.signature(witness)
    for svc in dict.fromkeys([parts[2], "iam", "sts"]):
        for acct in dict.fromkeys([parts[4], OUTSIDE_ACCOUNT, "000000000000"]):
            for tail in dict.fromkeys([parts[5], "user/x", "role/x", "root", "assumed-role/x/s", "federated-user/x"]):
                fixed = ":".join(["arn", parts[1], svc, "", acct, tail])
                try:
                    parse_principal(fixed)
                except InputError:
                    continue
                if domain.signature(fixed) == want:
                    return fixed
    return witness


def access_of(principal: str, owner: str, named: set[str]) -> tuple[Access, tuple[str, ...]]:
    """What a grant to this cover member is: (access, keys). With keys, the grant is public when
    the principal gets through with those keys absent, external otherwise."""
    p = parse_principal(principal)
    if p.type == "anonymous" or principal in (UNNAMED_SERVICE, UNNAMED_IDP):
        return "public", ()
    if p.type == "web_identity":
        provider = principal.split(":", 1)[1] if principal.startswith("federated:") else ""
        key = PUBLIC_IDP_AUDIENCE.get(provider)
        return ("public", (key,)) if key else ("external", ())
    if p.type == "service":
        return "external", ()
    if p.account == owner:
        return "internal", ()
    if p.account in named:
        return "external", ()
    return "public", ORG_KEYS


@dataclass
class CheckResult:
    passed: bool | None  # None: unknown
    answer: CanAnswer | None
    principal: str | None
    reason: str
    # Who the witness principal stands for: "public" (anyone, any account, any federated
    # identity) or "external" (a named outside account, organization, service or provider).
    access: Access | None = None
    # Every principal found allowed (the first is this result's own), when asked for all.
    violators: list[CheckResult] = field(default_factory=list)

    @property
    def witness_request(self) -> dict:
        """The allowed request of a failed check."""
        if self.answer is None or self.answer.witness is None:
            raise ValueError(f"a check that {'passed' if self.passed else 'is unknown'} has no witness")
        return self.answer.witness["request"]

    @property
    def decide_command(self) -> str | None:
        return self.answer.decide_command if self.answer else None


def _query(policy: NamedPolicy, owner: str, action: str, resource: str, cand: str, **kw) -> Query:
    p: Principal = parse_principal(cand)
    allow_all = [NamedPolicy(str(ALLOW_ALL_FILE), ALLOW_ALL)]
    identity = allow_all if has_identity_policies(p) else []
    # A federated-user session has the permissions its session policy leaves: the most permissive.
    session = allow_all[0] if p.type == "federated_user" else None
    # A session ARN drops its role's path: the cover's sessions are of roles without a path (a
    # pathed role is a member of its own, from the aws:PrincipalArn regions), said in the request.
    where = {"aws:PrincipalArn": [p.arn]} if p.type == "role_session" and not p.role_path_known and p.arn else {}
    return Query(
        principal=cand,
        action=action,
        resource=resource,
        resource_account=owner,
        where=where,
        identity_policies=identity,
        session_policy=session,
        resource_policy=policy,
        policies_only=True,  # access the policy grants, not what AWS allows anyway
        **kw,
    )


def search_principals(
    policy: NamedPolicy,
    owner: str,
    action: str,
    resource: str,
    candidates: list[str],
    rcps: list[list[NamedPolicy]] | None = None,
    management_account: str | None = None,
    *,
    access: tuple[Access, ...] = ("public", "external", "internal"),
    first_only: bool = True,
) -> CheckResult:
    """Is any of these principals allowed through the resource policy (their own account
    allowing everything), within the resource account's RCPs? Only grants of the `access` kinds
    count; public members are searched first. With first_only=False every allowed principal is
    listed in `violators`."""
    named = named_accounts(policy.policy)
    kinds = {c: access_of(c, owner, named) for c in candidates}
    order = sorted(candidates, key=lambda c: kinds[c][0] != "public")
    unknown: tuple[CanAnswer, str] | None = None
    hits: list[CheckResult] = []
    for cand in order:
        kind, keys = kinds[cand]
        tries: list[tuple[Access, tuple[str, ...]]] = [(kind, keys)]
        if keys:  # public with the keys absent, else external
            tries.append(("external", ()))
        for how, absent in tries:
            if how not in access:
                continue
            q = _query(policy, owner, action, resource, cand, rcps=rcps, management_account=management_account)
            q.absent = list(absent)
            a = can(q)
            if a.answer == "possible" and a.witness is not None:  # a possible answer carries its witness
                request = a.witness["request"]
                reason = f"{cand} can: {request['action']} on {request['resource']}"
                hits.append(CheckResult(False, a, cand, reason, how))
                break
            if a.answer == "unknown":
                unknown = unknown or (a, cand)
        if hits and first_only:
            break
    if hits:
        first = hits[0]
        first.violators = hits
        return first
    if unknown:
        return CheckResult(None, unknown[0], unknown[1], unknown[0].reason or "unknown")
    return CheckResult(True, None, None, f"no principal among {len(candidates)} principal regions is allowed")
