"""Who made a request: every name a resource policy could use for it, and derived context.

AWS: IAM User Guide, "AWS JSON policy elements: Principal" (account, IAM user, role,
role session, federated user, service principals, "*"), "NotPrincipal", and "AWS global
condition context keys" (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
aws:username, aws:CalledVia, aws:CalledViaFirst, aws:CalledViaLast, aws:ViaAWSService).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from reasoner.errors import InputError
from reasoner.policy.patterns import glob_match, globs_meet, plain

_ACCOUNT = re.compile(r"^\d{12}$")
_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):(iam|sts)::(\d{12}|aws):(.+)$"
)
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$|^[a-z0-9][a-z0-9.-]*\.amazon\.com$")


# The principal types that carry identity policies (and may carry a permissions boundary and a
# session policy): the IAM identities of an account signing with their credentials, an IAM user,
# a role session, the root user and a federated-user session (IAM User Guide, "Identity-based
# policies and resource-based policies": identity policies are attached to users, groups and roles;
# "Policy evaluation logic"). A service principal, an anonymous caller and a web-identity or SAML
# user before it assumes a role have none. The one home of this list: it mirrors the decider
# (engine/facts.py refuses identity policies, a boundary or a session policy for the other types,
# so encodings/layers.lp identity_side never holds for them; tests/policy/test_principal_types.py).
IDENTITY_POLICY_TYPES = frozenset({"user", "role_session", "root", "federated_user"})


def has_identity_policies(principal: Principal) -> bool:
    """Does the principal carry identity policies (IDENTITY_POLICY_TYPES)? The others are also the
    callers with no principal keys (aws:PrincipalTag, aws:PrincipalOrgID, aws:userid, ...) and no
    AWS credentials of an account (sts:GetCallerIdentity needs them)."""
    return principal.type in IDENTITY_POLICY_TYPES


@dataclass(frozen=True)
class Principal:
    """A requester. `names` are (kind, id, how) triples: how a resource-policy grant to that name
    counts (direct, role, account; see encodings/layers.lp)."""

    text: str
    type: str  # user, role_session, root, federated_user, web_identity, service, anonymous
    account: str | None
    arn: str | None  # aws:PrincipalArn
    names: tuple[tuple[str, str, str], ...]
    username: str | None = None
    service_linked: bool = False
    extra_context: dict = field(default_factory=dict)
    # A role session: the role's name, and whether its ARN (with the role's path) is known. An
    # assumed-role ARN drops the path (arn:aws:sts::A:assumed-role/NAME/SESSION for the role
    # arn:aws:iam::A:role/PATH/NAME), so its role ARN is known only from aws:PrincipalArn.
    role_name: str | None = None
    role_path_known: bool = True


def principal_entry(kind: str, value: str) -> tuple[str, str]:
    """A Principal / NotPrincipal entry as the name it gives (IAM User Guide, "AWS JSON policy
    elements: Principal"): ("any", "") for "*", an account for a 12-digit id or its root ARN, else
    the ARN, service, provider or canonical user as written. encodings/match/principal.lp matches
    it against a request's `Principal.names` by equality."""
    if value == "*":
        return ("any", "")
    if kind == "AWS":
        if len(value) == 12 and value.isdigit():
            return ("account", value)
        parts = value.split(":")
        if len(parts) == 6 and parts[2] == "iam" and parts[5] == "root":
            return ("account", parts[4])
        return ("arn", value)
    return ({"Service": "service", "Federated": "federated"}.get(kind, "canonical"), value)


def parse_principal(text: str, *, source: str | None = None, path: tuple = ()) -> Principal:
    t = text.strip()
    if t in ("*", "anonymous"):
        return Principal(t, "anonymous", None, None, (("anonymous", "anonymous", "direct"),))
    if _ACCOUNT.match(t):
        t = f"arn:aws:iam::{t}:root"
    if t.lower().startswith("federated:"):
        # An identity of a web identity / OIDC provider (AssumeRoleWithWebIdentity), named the
        # way a trust policy's "Federated" element names the provider: federated:accounts.google.com
        provider = t.split(":", 1)[1]
        if not provider:
            raise InputError(
                "federated: needs a provider, e.g. federated:cognito-identity.amazonaws.com", source=source, path=path
            )
        return Principal(t, "web_identity", None, None, (("federated", provider, "direct"),))
    if _SERVICE.match(t):
        return Principal(t, "service", None, None, (("service", t, "direct"),))
    m = _ARN.match(t)
    if not m:
        raise InputError(
            f"unrecognised principal {text!r}: expected an IAM user, role, assumed-role "
            "session, federated-user or root ARN, a 12-digit account, a service "
            "principal such as athena.amazonaws.com, or 'anonymous'",
            source=source,
            path=path,
        )
    partition, svc, account, rest = m.groups()
    account_name = ("account", account, "account")
    if svc == "iam" and rest.startswith(("saml-provider/", "oidc-provider/")):
        # A SAML / OIDC identity provider of the account: its users call AssumeRoleWithSAML /
        # AssumeRoleWithWebIdentity and are known to trust policies by the provider's ARN.
        return Principal(t, "web_identity", None, None, (("federated", t, "direct"),))
    if svc == "iam" and rest == "root":
        return Principal(t, "root", account, t, (account_name,))
    if svc == "iam" and rest.startswith("user/"):
        name = rest.rsplit("/", 1)[-1]
        return Principal(t, "user", account, t, (("arn", t, "direct"), account_name), username=name)
    if svc == "iam" and rest.startswith("role/"):
        # A role ARN stands for a session of that role whose session name is not given.
        linked = rest.startswith("role/aws-service-role/")
        return Principal(
            t,
            "role_session",
            account,
            t,
            (("arn", t, "role"), account_name),
            service_linked=linked,
            role_name=rest.rsplit("/", 1)[-1],
        )
    if svc == "sts" and rest.startswith("assumed-role/"):
        bits = rest.split("/")
        if len(bits) != 3 or not bits[1] or not bits[2]:
            raise InputError(
                f"assumed-role ARN {text!r} must be arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION",
                source=source,
                path=path,
            )
        role_arn = f"arn:{partition}:iam::{account}:role/{bits[1]}"
        return Principal(
            t,
            "role_session",
            account,
            role_arn,
            (("arn", t, "direct"), ("arn", role_arn, "role"), account_name),
            role_name=bits[1],
            role_path_known=False,
        )
    if svc == "sts" and rest.startswith("federated-user/"):
        return Principal(t, "federated_user", account, t, (("arn", t, "direct"), account_name))
    raise InputError(
        f"unrecognised principal ARN {text!r} (user/, role/, assumed-role/, federated-user/ or root)",
        source=source,
        path=path,
    )


def with_principal_arn(
    principal: Principal, context: dict[str, list[str]], *, source: str | None = None, path: tuple = ()
) -> Principal:
    """An assumed-role session whose request gives aws:PrincipalArn: that is the role's ARN with
    its path ("aws:PrincipalArn ... For IAM roles, the request context returns the ARN of the
    role, not the ARN of the user that assumed the role", AWS global condition context keys), so
    a Principal / NotPrincipal naming arn:aws:iam::A:role/PATH/NAME matches the session.

    `context` has lower-cased keys. The value must be an IAM role ARN of the session's account
    and partition whose name is the session's role name."""
    given = context.get("aws:principalarn")
    if principal.type != "role_session" or not given or principal.role_path_known:
        return principal
    if len(given) != 1:
        raise _bad_principal_arn(principal, given, source, path)
    role_arn = given[0]
    m = _ARN.match(role_arn)
    session_partition = principal.text.split(":", 2)[1]
    if (
        not m
        or m.group(1) != session_partition
        or m.group(2) != "iam"
        or m.group(3) != principal.account
        or not m.group(4).startswith("role/")
        or m.group(4).rsplit("/", 1)[-1] != principal.role_name
        or "//" in m.group(4)
    ):
        raise _bad_principal_arn(principal, given, source, path)
    names = tuple(
        ("arn", role_arn, how) if (kind, how) == ("arn", "role") else (kind, ident, how)
        for kind, ident, how in principal.names
    )
    return replace(
        principal,
        arn=role_arn,
        names=names,
        role_path_known=True,
        service_linked=m.group(4).startswith("role/aws-service-role/"),
    )


def _bad_principal_arn(principal: Principal, given: list[str], source: str | None, path: tuple) -> InputError:
    expected = (
        f"the ARN of the role {principal.role_name!r} of account {principal.account} "
        "(arn:aws:iam::ACCOUNT:role/PATH/NAME)"
    )
    return InputError(
        f"aws:PrincipalArn {given[0] if len(given) == 1 else given!r} does not fit the principal "
        f"{principal.text!r}: expected {expected}",
        source=source,
        path=path + ("context", "aws:PrincipalArn"),
    )


def role_path_ambiguity(principal: Principal, values: list[tuple[str, str]]) -> str | None:
    """For a session whose role's path is not known: the first policy value that names the
    session's role WITH a path, or None. `values` are (kind, text) with kind 'principal' (a
    Principal or NotPrincipal AWS entry: exact) or 'condition' (an aws:PrincipalArn condition
    value: a glob).

    The session of arn:aws:iam::A:role/PATH/NAME is arn:aws:sts::A:assumed-role/NAME/S (IAM
    identifiers, "IAM ARNs"): the session ARN does not carry the path. Without aws:PrincipalArn
    the role is taken to have the path "/" (role/NAME), unless a policy in scope names role/PATH/NAME
    (or a pattern that matches such an ARN and not role/NAME): deciding then would be a guess."""
    if principal.type != "role_session" or principal.role_path_known or not principal.role_name:
        return None
    name = principal.role_name
    base = principal.arn or ""
    prefix = base[: len(base) - len(name)]  # arn:P:iam::A:role/
    for kind, text in values:
        if ":role/" not in text:
            continue
        if kind == "principal":
            rest = text.split(":role/", 1)[1]
            if "/" in rest and rest.rsplit("/", 1)[-1] == name and text.split(":")[4:5] == [principal.account]:
                return text
        elif "${" not in text and _glob_names_pathed_role(text, prefix, name):
            return text
    return None


def _glob_names_pathed_role(pattern: str, prefix: str, name: str) -> bool:
    """Does the glob match role/PATH/NAME for some non-empty path, and not role/NAME?"""
    g = plain(pattern)
    if glob_match(g, prefix + name):
        return False
    pathed = tuple((c, False) for c in prefix) + (("?", True), ("*", True), ("/", False))
    return globs_meet(g, pathed + tuple((c, False) for c in name))


def account_of_arn(arn: str) -> str | None:
    parts = arn.split(":", 5)
    if len(parts) == 6 and _ACCOUNT.match(parts[4]):
        return parts[4]
    return None


def derived_context(
    principal: Principal, context: dict[str, list[str]], *, source: str | None = None, path: tuple = ()
) -> dict[str, list[str]]:
    """The context AWS adds by itself, unless the request already gives the key.

    Keys are lower-cased (condition keys are case-insensitive). An empty list means absent.
    """
    out = dict(context)

    def put(key: str, value: str | None) -> None:
        if value is not None and key not in out:
            out[key] = [value]

    put("aws:principalarn", principal.arn)
    put("aws:principalaccount", principal.account)
    put(
        "aws:principaltype",
        {
            "user": "User",
            "role_session": "AssumedRole",
            "root": "Account",
            "federated_user": "FederatedUser",
            "anonymous": "Anonymous",
        }.get(principal.type),
    )
    if principal.type == "user":
        put("aws:username", principal.username)
    if principal.type == "service":
        put("aws:principalservicename", principal.text)
    called_via = out.get("aws:calledvia") or []
    if called_via:
        put("aws:calledviafirst", called_via[0])
        put("aws:calledvialast", called_via[-1])
    # aws:ViaAWSService is true for every request a service makes with the caller's
    # credentials; CalledVia lists such services, so a non-empty CalledVia forces true.
    via = out.get("aws:viaawsservice")
    if via is None:
        out["aws:viaawsservice"] = ["true" if called_via else "false"]
    elif called_via and [v.lower() for v in via] != ["true"]:
        raise InputError(
            "aws:ViaAWSService must be true when aws:CalledVia is not empty",
            source=source,
            path=path + ("context", "aws:ViaAWSService"),
        )
    return {k: v for k, v in out.items() if v}


def scps_apply(principal: Principal, management_account: str | None) -> bool:
    """SCPs limit principals of member accounts: not the management account, not service-linked
    roles, not service principals or anonymous callers (AWS Organizations, "SCP effects")."""
    return (
        bool(principal.account)
        and not principal.service_linked
        and principal.account != management_account
        and principal.type != "web_identity"
    )


def rcps_apply(principal: Principal, resource_account: str | None, management_account: str | None) -> bool:
    """RCPs limit resources of member accounts: not the management account's resources, not
    requests by service-linked roles or service principals (AWS Organizations, "RCP effects").
    Whether the action's service supports RCPs is checked separately (facts.rcp_services)."""
    return resource_account != management_account and not principal.service_linked and principal.type != "service"
