"""Resource classes: concrete hop requests that only the resource ARN tells apart and that every
policy layer treats alike, so that one of them answers for the class (privesc asks the same
question of one caller about hundreds of roles or users).

A request's decision depends on its resource only through (IAM User Guide, "Policy evaluation
logic" and "IAM JSON policy elements: Resource / NotResource"):
* which Resource / NotResource patterns of the statements that can apply to the action match
  it (every layer: identity, boundary, session, resource, endpoint, SCPs, RCPs);
* the resource policy, and the resource account (which RCPs apply, aws:ResourceAccount);
* the requests AWS decides whatever the policies say (encodings/protected.lp: service-linked
  and /aws-reserved/ roles, AWS managed policies).
Two requests of one principal, action, context space and layers that agree on all of these have
the same decision for every context. A statement whose Resource or NotResource holds a policy
variable matches as the variable's value fills it: when every such value is fixed by the request
space (the caller's tags, present or absent, and the other keys `where` fixes), the filled pattern
is matched like any other; else the match depends on the context, and the request is a class of
its own.
"""

from __future__ import annotations

from functools import lru_cache

from reasoner.account.prefilters import has_variable, keys_read, may_cover_resource, query_policies
from reasoner.engine.facts import aws_rule, aws_rule_may_decide, variable_value
from reasoner.errors import InputError
from reasoner.policy.coverage import covers_action
from reasoner.policy.patterns import arn_match, fill, literal_text, parse_template, plain
from reasoner.policy.principals import Principal, parse_principal, principal_entry
from reasoner.policy.request import NamedPolicy
from reasoner.search.can import Query, is_pattern

# Policy document -> its canonical text, keyed by the document object (the entry holds it, so
# its id is not reused while the entry lives).
_TEXT: dict[int, tuple[object, str]] = {}


def document_key(p: NamedPolicy | None) -> str | None:
    """A resource policy by its document: roles whose trust policies say the same thing (a role's
    own ARN is not part of its trust policy's evaluation) share a class. The policy's name only
    labels explanations (a member's witness carries its own)."""
    if p is None:
        return None
    hit = _TEXT.get(id(p.policy))
    if hit is None:
        if len(_TEXT) > 100_000:
            _TEXT.clear()
        hit = _TEXT[id(p.policy)] = (p.policy, p.policy.model_dump_json())
    return hit[1]


def may_name(st, principal: Principal) -> bool:
    """Can the statement apply to `principal` as far as its Principal element goes? A statement
    with a Principal element applies only to a request known by one of its entries, or to every
    request for "*" (encodings/match/principal.lp: equality of policy.principals.principal_entry
    with a name of the request); a NotPrincipal statement, or one without either, may apply."""
    if st.Principal is None:
        return True
    names = {(kind, ident) for kind, ident, _how in principal.names}
    for kind, value in st.Principal.entries():
        entry = principal_entry(kind, value)
        if entry[0] == "any" or entry in names:
            return True
    return False


def resource_policy_key(p: NamedPolicy | None, caller: str | Principal | None) -> object:
    """A resource policy as it can bear on `principal`'s requests: its version and the statements
    that may name the principal (may_name; Sid aside). Two resources whose policies differ only in
    statements naming others get the same key. The whole document (document_key) when the
    principal's names are not settled by its ARN alone (an assumed-role session: its role's path
    comes from the request, policy.principals.with_principal_arn)."""
    if p is None:
        return None
    principal = _principal(caller) if isinstance(caller, str) else caller
    if principal is None or not _names_settled(principal):
        return document_key(p)
    return (p.policy.Version, frozenset(_statement_text(st) for st in p.policy.Statement if may_name(st, principal)))


def _names_settled(principal: Principal | None) -> bool:
    return principal is not None and principal.role_path_known and principal.type in ("user", "role_session")


def _layers_key(q: Query, principal: Principal | None = None) -> tuple:
    """The policy objects of every layer, by identity (a snapshot shares them between requests),
    and the resource policy by its document, or with `principal` by what can bear on its requests
    (resource_policy_key)."""

    def ids(levels):
        return None if levels is None else tuple(tuple(id(p) for p in level) for level in levels)

    return (
        tuple(id(p) for p in q.identity_policies),
        document_key(q.resource_policy) if principal is None else resource_policy_key(q.resource_policy, principal),
        id(q.permission_boundary) if q.permission_boundary is not None else None,
        id(q.session_policy) if q.session_policy is not None else None,
        id(q.vpc_endpoint_policy) if q.vpc_endpoint_policy is not None else None,
        ids(q.scps),
        ids(q.rcps),
        q.management_account,
    )


def _space_key(q: Query) -> tuple:
    """Everything of the request space but the resource."""
    return (
        q.principal,
        q.action.lower(),
        q.resource_account,
        tuple(sorted((k, tuple(v)) for k, v in q.where.items())),
        *_constraints_key(q),
    )


def _constraints_key(q: Query) -> tuple:
    """The request space's constraints but the fixed values (`where`)."""
    return (
        tuple(sorted(q.absent)),
        tuple(sorted(q.present)),
        tuple(sorted((k, tuple(v)) for k, v in q.exclude.items())),
        tuple(q.without_via),
        tuple(q.not_from_vpce),
        q.absent_prefixes,
        q.goal,
        q.policies_only,
        q.now,
    )


def resource_class(q: Query, resource: str | None = None) -> tuple | None:
    """The class of a concrete request (requests of one class have the same decision for every
    context), or None when it must be answered on its own. With `resource`: the class of `q` on
    that resource instead of its own (the caller knows the two share every layer)."""
    resource = q.resource if resource is None else resource
    if is_pattern(q.action) or is_pattern(resource):
        return None
    parts = resource.split(":", 5)
    if len(parts) != 6:
        return None
    layers = _applicable(q)
    if layers is None:
        return None
    base, matchers = layers
    matches = tuple(m if m is True else m == resource if isinstance(m, str) else _match(m, resource) for m in matchers)
    principal = _principal(q.principal)
    if principal is None:
        return None
    # The ARN's partition, service, region and account and its resource type (the text before
    # the first '/' or ':'), so that only ARNs of one shape share a class.
    shape = (*parts[:5], parts[5].split("/", 1)[0].split(":", 1)[0])
    return (base, shape, aws_rule(principal, q.action, resource), matches)


def pattern_shape(pattern: str) -> tuple | None:
    """What two resource patterns of one class share: the ARN's partition, service, region and
    account, and its resource type (the text before the first '/' or ':'). An S3 ARN names no type
    there, its bucket stands first: its shape is what follows the bucket ('b/*' and 'c/*' alike).
    None: not an ARN."""
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return None
    if parts[2] == "s3":
        return (*parts[:5], "s3", parts[5].split("/", 1)[1] if "/" in parts[5] else None)
    return (*parts[:5], parts[5].split("/", 1)[0].split(":", 1)[0])


def pattern_class(q: Query) -> tuple | None:
    """The class of a request on a resource pattern, or None (a class of its own). Requests of one
    class have the same answer for every context. They differ in their pattern only: its shape
    (pattern_shape) is the same, no built-in rule can decide the action (encodings/protected.lp,
    aws_rule_may_decide), and each statement that can apply names every ARN of the pattern or
    none, the same one for both (IAM User Guide, "IAM JSON policy elements: Resource": a statement
    then applies to all of the pattern's requests or to none of them). An entry names every ARN
    when it is '*' or a prefix of the pattern followed by '*' (the pattern itself); it names none
    when prefilters.may_cover_resource (an over-approximation of the meeting) says so; anything
    else (a partial meeting, a policy variable, NotResource) leaves the request alone. A resource
    policy takes part with the statements that may name the caller (may_name), by their text
    without their Resource."""
    if is_pattern(q.action) or aws_rule_may_decide(q.action) or not is_pattern(q.resource):
        return None
    shape = pattern_shape(q.resource)
    if shape is None:
        return None
    action = q.action.lower()
    principal = _principal(q.principal)
    settled = _names_settled(principal)
    rp = q.resource_policy.policy if q.resource_policy is not None else None
    applies: list[bool] = []  # per statement that can apply: to every ARN of the pattern, or to none
    rp_texts: list[str] = []
    for pol in query_policies(q):
        for st in pol.Statement:
            if not covers_action(st, action):
                continue
            if pol is rp and settled and principal is not None and not may_name(st, principal):
                continue  # a resource policy's statement for others cannot apply
            if st.NotResource is not None:
                return None
            if any(_names_every_arn(r, q.resource) for r in st.Resource or []):
                applies.append(True)
            elif not may_cover_resource(st, q.resource):
                applies.append(False)
            else:
                return None  # some ARN of the pattern, perhaps not all of them
            if pol is rp:
                rp_texts.append(_statement_text_without_resource(st))
    layers = list(_layers_key(q))
    layers[1] = (rp.Version, tuple(rp_texts)) if rp is not None else None
    return (_space_key(q), tuple(layers), shape, tuple(applies))


def _names_every_arn(entry: str, pattern: str) -> bool:
    """Every ARN of `pattern` matches the Resource entry: '*', or the entry is a literal prefix of
    the pattern followed by '*' in the ARN's resource field (Resource matching is case-sensitive,
    and a wildcard in one of the first five fields does not cross a ':')."""
    if entry == "*":
        return True
    head = entry[:-1]
    return (
        entry.endswith("*")
        and head.count(":") >= 5
        and not any(c in head for c in ("*", "?", "${"))
        and pattern.startswith(head)
    )


def _statement_text_without_resource(st) -> str:
    return _statement_text(st, resource=False)


# Query -> (its key but the resource, the Resource / NotResource patterns of each statement that
# can apply), or None when one of them holds a policy variable. Keyed by the query object (the
# entry holds it).
_APPLICABLE: dict[int, tuple[Query, tuple | None]] = {}


def _applicable(q: Query) -> tuple | None:
    hit = _APPLICABLE.get(id(q))
    if hit is None:
        if len(_APPLICABLE) > 50_000:
            _APPLICABLE.clear()
        hit = _APPLICABLE[id(q)] = (q, _applicable_uncached(q))
    return hit[1]


def _applicable_uncached(q: Query) -> tuple | None:
    """(the key, one matcher per Resource / NotResource pattern of the statements that can
    apply, in order): True for a lone '*', the text itself for a pattern without wildcards,
    else the compiled pattern."""
    action = q.action.lower()
    matchers: list = [_STATEMENT]
    singles = _fixed_variables(q)
    principal = _principal(q.principal)
    rp = q.resource_policy.policy if q.resource_policy is not None and _names_settled(principal) else None
    for pol in query_policies(q):
        for st in pol.Statement:
            if not covers_action(st, action):
                continue
            if pol is rp and principal is not None and not may_name(st, principal):
                continue  # a resource policy's statement for others (the key leaves it out too)
            variables = pol.variables_enabled and has_variable(st)
            element = st.Resource if st.Resource is not None else st.NotResource
            for r in element or []:
                if variables:
                    t = parse_template(r, True)
                    if not all(k in singles for k in _variable_keys(t)):
                        return None  # its match depends on a value the request space leaves open
                    # Filled as the decider fills it (engine/facts: the key's one value, else the
                    # default, else the entry matches nothing).
                    p = fill(t, {k: v for k, v in singles.items() if v is not None})
                    if p is None:
                        matchers.append(_NO_MATCH)
                        continue
                else:
                    p = plain(r)
                matchers.append(True if p == _ANY else literal_text(p) if not any(w for _, w in p) else _Glob(p))
            matchers.append(_STATEMENT)
    return (_space_key(q), _layers_key(q, principal)), tuple(matchers)


def _variable_keys(t) -> set[str]:
    return {part[1] for part in t.parts if part[0] == "var"}


def _fixed_variables(q: Query) -> dict[str, str | None]:
    """The keys whose value every request of the space has, lower case, with the value a policy
    variable takes (None: no single value, or absent): the principal's tags (given in `where`,
    absent otherwise: the search's absent_prefixes) and the other keys `where` fixes that do not
    come from the caller. A key derived from the caller (aws:username, ...) is not listed."""
    out: dict[str, str | None] = {}
    for k, values in q.where.items():
        key = k.lower()
        if caller_key(key) and not key.startswith("aws:principaltag/"):
            continue
        out[key] = variable_value(key, list(values))
    if not any("aws:principaltag/".startswith(p) for p in q.absent_prefixes):
        return out  # tags not in `where` are searched: only the listed keys are fixed
    return _TagsAbsent(out)


class _TagsAbsent(dict):
    """Fixed keys where every principal tag not listed is absent (no value)."""

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or str(key).startswith("aws:principaltag/")


_NO_MATCH = ""  # an entry whose variable has no value matches no resource (no ARN is empty)


_ANY = (("*", True),)
_STATEMENT = "|"  # between statements (no resource is '|', so it never matches)


class _Glob:
    """A compiled Resource pattern, hashed by identity (cheap to remember matches by)."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: tuple):
        self.pattern = pattern


@lru_cache(maxsize=1 << 18)
def _match(glob: _Glob, resource: str) -> bool:
    return arn_match(glob.pattern, resource)


@lru_cache(maxsize=1 << 16)
def _principal(arn: str) -> Principal | None:
    try:
        return parse_principal(arn)
    except InputError:
        return None


# ---- caller classes ---------------------------------------------------------------------------
# Callers of one request (action, resource, context space) get the same decision for every context
# when every layer treats them alike. A request's decision depends on its principal only through
# (IAM User Guide, "Policy evaluation logic", "AWS JSON policy elements: Principal", "AWS global
# condition context keys"):
# * the identity-based policies, the permissions boundary and the session policy: only their
#   statements whose Action and Resource can match the request can apply, so two callers whose
#   applicable statements say the same thing are alike there;
# * the names a Principal / NotPrincipal element can use for it (resource and endpoint policies);
# * the keys derived from it (aws:PrincipalArn, aws:userid, aws:username, ...), its tags
#   (aws:PrincipalTag/*), type, account and organization, when a statement that can apply reads
#   them;
# * the requests AWS decides whatever the policies say (encodings/protected.lp).
# A caller whose identity keys are read by a statement that can apply is a class of its own.

# Keys the class accounts for through the principal's type, account and organization (the same
# for two callers of one class) or through `where` (its tags); any other aws:principal* key or
# identity key read makes the caller a class of its own.
_CLASS_KEYS = ("aws:principaltype", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths")
_IDENTITY_KEYS = ("aws:userid", "aws:username", "aws:sourceidentity", "aws:federatedprovider")


def caller_key(key: str) -> bool:
    """A context key whose value comes from the caller (aws:Principal*, its ids and name): a
    request made by another caller cannot carry it over."""
    k = key.lower()
    return k.startswith("aws:principal") or k in _IDENTITY_KEYS


_STATEMENT_TEXT: dict[tuple[int, bool], tuple[object, str]] = {}


def _statement_text(st, resource: bool = True) -> str:
    """The statement as text, Sid aside (it labels the statement and changes no decision), and
    without its Resource unless `resource`."""
    hit = _STATEMENT_TEXT.get((id(st), resource))
    if hit is None:
        if len(_STATEMENT_TEXT) > 200_000:
            _STATEMENT_TEXT.clear()
        update = {"Sid": None} if resource else {"Sid": None, "Resource": None}
        hit = _STATEMENT_TEXT[(id(st), resource)] = (st, st.model_copy(update=update).model_dump_json())
    return hit[1]


def _applicable_texts(policies: list[NamedPolicy], action: str, resource: str) -> frozenset[str]:
    return frozenset(
        _statement_text(st)
        for p in policies
        for st in p.policy.Statement
        if covers_action(st, action) and may_cover_resource(st, resource)
    )


def _principal_texts(q: Query, action: str) -> str:
    """Every Principal / NotPrincipal value of a statement that can apply (lower case)."""
    texts = []
    for p in (q.resource_policy, q.vpc_endpoint_policy):
        for st in p.policy.Statement if p is not None else []:
            if not covers_action(st, action):
                continue
            for element in (st.Principal, st.NotPrincipal):
                if element is not None:
                    texts += [v.lower() for _, v in element.entries()]
    return "\n".join(texts)


def caller_class(q: Query) -> tuple | None:
    """The class of a request's caller among the callers of the same request: requests of one
    class have the same decision for every context. None: the caller is a class of its own."""
    if is_pattern(q.action):
        return None
    principal = _principal(q.principal)
    if principal is None:
        return None
    action = q.action.lower()
    read = keys_read(q)
    if any(caller_key(k) and not k.startswith("aws:principaltag/") for k in read if k not in _CLASS_KEYS):
        return None
    # The names a Principal element can use for the caller: a name whose text no such element
    # contains matches none of them (the account's name is shared by its callers).
    mentioned = _principal_texts(q, action)
    names = frozenset(n for n in principal.names if n[1].lower() in mentioned)
    # The caller's tags that no statement which can apply reads cannot change the decision.
    kept = [k for k in q.where if not k.lower().startswith("aws:principaltag/") or k.lower() in read]
    where = tuple(sorted((k, tuple(q.where[k])) for k in kept))

    def stmts(p: NamedPolicy | None) -> frozenset[str] | None:
        return None if p is None else _applicable_texts([p], action, q.resource)

    layers = _layers_key(q)
    return (
        action,
        q.resource,
        q.resource_account,
        principal.type,
        principal.account,
        principal.service_linked,
        principal.role_path_known,
        names,
        aws_rule(principal, q.action, q.resource) if not is_pattern(q.resource) else None,
        _applicable_texts(q.identity_policies, action, q.resource),
        stmts(q.permission_boundary),
        stmts(q.session_policy),
        # The resource policy's document, the endpoint, SCP and RCP layers, the management account.
        (layers[1], *layers[4:]),
        where,
        *_constraints_key(q),
    )


def caller_class_on_pattern(q: Query) -> tuple | None:
    """The caller class of a request on a resource pattern standing for each resource it covers
    (privesc binds one technique to every target role or user): callers of one class get the same
    decision on every resource the pattern covers, for every context. None: a class of its own.

    From the pattern to one resource it covers, each part of `caller_class` can only get finer:
    the statements that can apply there are those of the pattern's whose Resource covers it (equal
    texts give equal subsets), and the keys they read are among the pattern's. The resource policy
    is the one part that could differ per resource, so a request with a resource or endpoint policy
    is a class of its own: the caller must know none applies to any covered resource (IAM's only
    resource-based policy is a role's trust policy, which governs sts:AssumeRole* alone: IAM User
    Guide, "Identity-based policies and resource-based policies"). The built-in AWS rules
    (engine/facts.aws_rule) depend on the caller through its type, whether it is service-linked,
    and whether its role name starts with AWSServiceRoleFor."""
    if q.resource_policy is not None or q.vpc_endpoint_policy is not None:
        return None
    base = caller_class(q)
    principal = _principal(q.principal)
    if base is None or principal is None:
        return None
    return (base, (principal.role_name or "").startswith("AWSServiceRoleFor"))
