"""Caller classes (reasoner/account/classes.py, `caller_class`): callers of one request that every
policy layer treats alike share a class, and `Authorizer.check_many` asks one check per class.

Why this is sound (IAM User Guide, "Policy evaluation logic"; "AWS JSON policy elements:
Principal"; "AWS global condition context keys"): a request's decision depends on its principal
only through the principal's policies (identity-based, permissions boundary, session), the names a
Principal / NotPrincipal element can use for it, and the context keys derived from it
(aws:PrincipalArn, aws:username, aws:PrincipalTag/*, ...). So two requests of one class have the
same decision for every context; the properties below check that against the encoding, on small
random accounts:

- the concrete decider decides both members of a class alike on a grid of contexts (and, for a
  resource pattern, of ARNs inside it);
- `can` answers both members alike (possible / impossible);
- `check_many` over all checks at once answers each check as a fresh Authorizer asked that check
  alone (no class can form), and every possible answer's witness is allowed by the decider.
"""

from __future__ import annotations

import datetime as dt
import json
from itertools import product

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import caller_class, caller_class_on_pattern
from reasoner.account.concrete import plain_input
from reasoner.account.hops import Constraints, HopCheck
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.request import Request
from reasoner.search.can import Query, can, is_pattern

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BUCKET = "arn:aws:s3:::b"
OBJECT = BUCKET + "/data/x"  # a concrete resource
PATTERN = BUCKET + "/*"  # a resource pattern (the search picks an ARN inside it)
ACTION = "s3:GetObject"
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def role_arn(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/r{i}"


def user_arn(i: int) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/u{i}"


# -- the pools random accounts draw from ------------------------------------------------------------


def _doc(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in s.items() if v is not None} for s in statements]}


ACTIONS = [{"Action": ACTION}, {"Action": "s3:*"}, {"NotAction": "s3:PutObject"}, {"NotAction": "s3:Get*"}]
RESOURCES = [
    "*",
    "*",
    BUCKET + "/*",
    BUCKET,
    BUCKET + "/data/*",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::b2/*",
    "arn:aws:s3:::*/data/*",  # patterns that meet the queried pattern in part
    "arn:aws:s3:::b?/*",
    BUCKET + "/${aws:PrincipalTag/team}/*",  # a policy variable read from the caller's tags
]
CONDITIONS = [
    None,
    None,
    None,
    {"StringEquals": {"aws:PrincipalTag/team": "a"}},
    {"StringEquals": {"aws:PrincipalTag/team": "b"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
]
# What reads a key derived from the caller's identity (the caller is then a class of its own):
# drawn only by the accounts that may use them, so that the others form classes.
IDENTITY_RESOURCES = [BUCKET + "/${aws:username}/*"]
IDENTITY_CONDITIONS = [
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/r*"}},
    {"ArnLike": {"aws:PrincipalArn": role_arn(0)}},
    {"StringEquals": {"aws:username": "u0"}},
]
BUCKET_PRINCIPALS = [
    ("Principal", "*"),
    ("Principal", {"AWS": "*"}),
    ("Principal", {"AWS": ROOT}),
    ("Principal", {"AWS": ACCOUNT}),
    ("Principal", {"AWS": role_arn(0)}),
    ("Principal", {"AWS": role_arn(1)}),
    ("Principal", {"AWS": user_arn(0)}),
    ("NotPrincipal", {"AWS": role_arn(0)}),
    ("NotPrincipal", {"AWS": [ROOT, user_arn(0)]}),
]
BUCKET_CONDITIONS = [
    None,
    None,
    None,
    {"StringEquals": {"aws:PrincipalTag/team": "b"}},
    {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
]
IDENTITY_BUCKET_CONDITIONS = [{"ArnLike": {"aws:PrincipalArn": role_arn(1)}}]
BOUNDARIES = {
    "full": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
    # no statement can apply to s3:GetObject: the boundary allows nothing of it
    "ec2": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]},
    "data": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ACTION, "Resource": BUCKET + "/data/*"}],
    },
}
ENDPOINT = {"VpcEndpointId": "vpce-1", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"}
_EVERYONE = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
# An endpoint policy is a resource-based policy too: its Principal elements name callers.
ENDPOINT_POLICIES = [
    None,
    None,
    _doc([_EVERYONE, {"Effect": "Deny", "Principal": {"AWS": role_arn(1)}, "Action": ACTION, "Resource": "*"}]),
    _doc([{"Effect": "Allow", "Principal": {"AWS": [role_arn(0), user_arn(0)]}, "Action": "s3:*", "Resource": "*"}]),
    _doc([dict(_EVERYONE, Condition={"StringEquals": {"aws:PrincipalTag/team": "a"}})]),
]


def identity_statements(identity_keys: bool):
    return st.builds(
        lambda effect, action, resource, condition, negated: {
            "Effect": effect,
            **action,
            ("NotResource" if negated else "Resource"): resource,
            "Condition": condition,
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.sampled_from(ACTIONS),
        st.sampled_from(RESOURCES + (IDENTITY_RESOURCES * 2 if identity_keys else [])),
        st.sampled_from(CONDITIONS + (IDENTITY_CONDITIONS * 2 if identity_keys else [])),
        st.sampled_from([False, False, False, True]),
    )


def bucket_statements(identity_keys: bool):
    return st.builds(
        lambda effect, who, action, resource, condition: {
            "Effect": effect,
            who[0]: who[1],
            "Action": action,
            "Resource": resource,
            "Condition": condition,
        },
        st.sampled_from(["Allow", "Allow", "Deny"]),
        st.sampled_from(BUCKET_PRINCIPALS),
        st.sampled_from([ACTION, "s3:*"]),
        st.sampled_from([BUCKET + "/*", BUCKET + "/data/*"]),
        st.sampled_from(BUCKET_CONDITIONS + (IDENTITY_BUCKET_CONDITIONS if identity_keys else [])),
    )


@st.composite
def accounts(draw) -> dict:
    """A bundle: roles and users built from one or two profiles (policies from a small pool of
    statements, tags, boundary), each caller a profile as is or with one attribute changed, so that
    callers alike and nearly alike occur; an optional bucket policy and S3 endpoint (with an
    optional endpoint policy)."""
    identity_keys = draw(st.sampled_from([False, False, True]))
    pool = draw(st.lists(st.lists(identity_statements(identity_keys), min_size=1, max_size=2), min_size=1, max_size=3))
    picks = st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=2, unique=True)
    teams = st.sampled_from(["a", "a", "b", None])
    costs = st.sampled_from([None, "x"])
    boundaries = st.sampled_from([None, None, None, *BOUNDARIES])
    profiles = draw(
        st.lists(
            st.fixed_dictionaries({"picks": picks, "team": teams, "cost": costs, "boundary": boundaries}),
            max_size=2,
            min_size=1,
        )
    )
    n_roles = draw(st.integers(1, 4))
    n_users = draw(st.integers(0 if n_roles > 1 else 1, 3))

    def identity() -> dict:
        profile = dict(draw(st.sampled_from(profiles)))
        change = draw(st.sampled_from([None, None, None, "picks", "team", "cost", "boundary"]))
        if change is not None:
            profile[change] = draw({"picks": picks, "team": teams, "cost": costs, "boundary": boundaries}[change])
        tags = {"team": profile["team"], "cost": profile["cost"]}
        out = {
            "RolePolicyList": [{"PolicyName": f"p{i}", "PolicyDocument": _doc(pool[i])} for i in profile["picks"]],
            "AttachedManagedPolicies": [],
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items() if v is not None],
        }
        if profile["boundary"]:
            arn = f"arn:aws:iam::{ACCOUNT}:policy/{profile['boundary']}"
            out["PermissionsBoundary"] = {"PermissionsBoundaryArn": arn}
        return out

    trust = _doc([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}])
    roles = [
        {"RoleName": f"r{i}", "Arn": role_arn(i), "AssumeRolePolicyDocument": trust, **identity()}
        for i in range(n_roles)
    ]
    users = []
    for i in range(n_users):
        u = identity()
        u["UserPolicyList"] = u.pop("RolePolicyList")
        users.append({"UserName": f"u{i}", "Arn": user_arn(i), "GroupList": [], **u})
    policies = [
        {
            "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "PolicyVersionList": [{"IsDefaultVersion": True, "Document": d}],
        }
        for name, d in BOUNDARIES.items()
    ]
    bundle: dict = {
        "authorization_details": {
            "UserDetailList": users,
            "RoleDetailList": roles,
            "GroupDetailList": [],
            "Policies": policies,
        }
    }
    bucket = draw(st.lists(bucket_statements(identity_keys), max_size=2))
    if bucket:
        bundle["resource_policies"] = [{"Resource": BUCKET, "Account": ACCOUNT, "Policy": _doc(bucket)}]
    if draw(st.booleans()):
        policy = draw(st.sampled_from(ENDPOINT_POLICIES))
        bundle["vpc_endpoints"] = [ENDPOINT if policy is None else {**ENDPOINT, "PolicyDocument": policy}]
    return bundle


def _load(tmp_path, bundle: dict):
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(bundle))
    return load_snapshot(f)


def _checks(auth: Authorizer, resources=(OBJECT, PATTERN)) -> list[HopCheck]:
    """Every caller's first calls (from outside, and through each endpoint) on each resource."""
    return [
        c
        for e in auth.snap.principals.values()
        for r in resources
        for c in auth.first_calls(e, ACTION, r, Constraints())
    ]


def _classes(auth: Authorizer, checks: list[HopCheck]) -> list[list[Query]]:
    """The queries of the checks grouped by caller class (classes of two or more members only)."""
    by_class: dict[tuple, list[Query]] = {}
    for c in checks:
        q = auth.query(c)
        cls = caller_class(q)
        if cls is not None:
            by_class.setdefault(cls, []).append(q)
    groups = [g for g in by_class.values() if len(g) > 1]
    event(f"classes with several members: {min(len(groups), 3)}{'+' if len(groups) >= 3 else ''}")
    return groups


# Contexts the concrete decider is asked, the same for both members: the request's own keys (no
# key derived from the caller, which the principal gives).
CONTEXTS = [
    {k: v for k, v in (("aws:SourceVpce", vpce), ("aws:MultiFactorAuthPresent", mfa)) if v is not None}
    for vpce, mfa in product([None, "vpce-1", "vpce-2"], [None, "true", "false"])
]
# ARNs inside PATTERN the decider is asked for a pattern query.
INSIDE_PATTERN = [OBJECT, BUCKET + "/a/x", BUCKET + "/b/x", BUCKET + "/u0/x", BUCKET + "/other"]


def _decisions(q: Query) -> list[str | None]:
    resources = INSIDE_PATTERN if is_pattern(q.resource) else [q.resource]
    inputs = [plain_input(q, {**ctx, "__resource__": r}) for r in resources for ctx in CONTEXTS]
    return [d.decision for d in decide_many(inputs)]


settings_ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings_
@given(bundle=accounts())
def test_callers_alike_in_every_layer_have_the_same_decision(bundle, tmp_path):
    """IAM "Policy evaluation logic": the decision depends on the principal only through its
    policies, the Principal elements that name it and the keys derived from it; two callers of one
    caller class are decided alike for every context (and every ARN inside a pattern)."""
    auth = Authorizer(_load(tmp_path, bundle), NOW)
    for group in _classes(auth, _checks(auth)):
        first = _decisions(group[0])
        for q in group[1:]:
            assert _decisions(q) == first, (group[0].principal, q.principal, q.resource, q.where)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bundle=accounts())
def test_callers_alike_in_every_layer_have_the_same_search_answer(bundle, tmp_path):
    """The same rule through the search: `can` answers possible for one member of a caller class
    exactly when it does for another (unknown answers are skipped: they prove nothing)."""
    auth = Authorizer(_load(tmp_path, bundle), NOW)
    for group in _classes(auth, _checks(auth)):
        answers = [(q.principal, can(q).answer) for q in group[:3]]
        known = {a for _, a in answers if a != "unknown"}
        assert len(known) <= 1, (group[0].resource, group[0].where, answers)


# Concrete resources a pattern query stands for (privesc asks one technique of every target this way).
COVERED = [*INSIDE_PATTERN, BUCKET, "arn:aws:s3:::other/x", "arn:aws:s3:::b2/data/x", "arn:aws:s3:::b3/u0/x"]


@settings_
@given(bundle=accounts())
def test_callers_alike_on_a_pattern_have_the_same_decision_on_each_resource_it_covers(bundle, tmp_path):
    """`caller_class_on_pattern`: callers of one class on a pattern ('*' or a bucket's objects)
    with no resource policy in play are decided alike on every concrete resource the pattern
    covers, for every context (the statements that can apply there are a subset, by text, of the
    pattern's; so are the keys they read)."""
    auth = Authorizer(_load(tmp_path, bundle), NOW)
    for pattern in ("*", PATTERN):
        by_class: dict[tuple, list] = {}
        for e in auth.snap.principals.values():
            try:
                q = auth.query(HopCheck(e, ACTION, pattern))
            except InputError:
                continue
            cls = caller_class_on_pattern(q)
            if cls is not None:
                by_class.setdefault(cls, []).append(e)
        groups = [g for g in by_class.values() if len(g) > 1]
        event(f"{pattern}: classes with several members: {min(len(groups), 3)}")
        covered = [r for r in COVERED if pattern == "*" or r.startswith(BUCKET + "/")]

        def decisions(e, covered=covered) -> list[str | None]:
            qs = [auth.query(HopCheck(e, ACTION, r)) for r in covered]
            return [d.decision for d in decide_many([plain_input(q, dict(ctx)) for q in qs for ctx in CONTEXTS])]

        for group in groups:
            first = decisions(group[0])
            for e in group[1:]:
                assert decisions(e) == first, (pattern, group[0].arn, e.arn)


def _witness_allowed(auth: Authorizer, c: HopCheck, hop) -> bool:
    """The concrete decider allows the hop's witness request (its own, or rebuilt on the check's
    layers from the request it names)."""
    inp = hop._input
    if inp is None:
        q = auth.query(c)
        request = Request(
            principal=hop.principal,
            action=hop.action,
            resource=hop.resource,
            resource_account=q.resource_account,
            context=hop.context,
        )
        inp = q.decide_input(request)
    return decide_many([inp])[0].decision == "allow"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bundle=accounts(), resource=st.sampled_from([OBJECT, PATTERN]))
def test_check_many_answers_each_check_as_asked_alone(bundle, resource, tmp_path):
    """Asking one check per caller class loses nothing: `check_many` over every caller answers
    each check as a fresh Authorizer asked that check alone, and every possible answer's witness
    is a request the decider allows (IAM "Policy evaluation logic")."""
    snap = _load(tmp_path, bundle)
    auth = Authorizer(snap, NOW)
    checks = _checks(auth, [resource])
    _classes(auth, checks)
    together = auth.check_many(checks)
    for c, r in zip(checks, together, strict=True):
        alone = Authorizer(snap, NOW).check_many([c])[0]
        event(f"outcome: {r.outcome}")
        assert r.outcome == alone.outcome, (c.who.arn, c.resource, c.endpoint, r.reason, alone.reason)
        if r.outcome == "possible":
            assert r.hop is not None and _witness_allowed(auth, c, r.hop), (c.who.arn, c.endpoint, r.hop)


# -- golden cases -----------------------------------------------------------------------------------


def _bundle(roles: list[dict], bucket: list[dict] | None = None) -> dict:
    trust = _doc([{"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}])
    out: dict = {
        "authorization_details": {
            "UserDetailList": [],
            "RoleDetailList": [
                {
                    "RoleName": f"r{i}",
                    "Arn": role_arn(i),
                    "AssumeRolePolicyDocument": trust,
                    "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": r["policy"]}],
                    "AttachedManagedPolicies": [],
                    "Tags": [{"Key": k, "Value": v} for k, v in r.get("tags", {}).items()],
                    **(
                        {"PermissionsBoundary": {"PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/{b}"}}
                        if (b := r.get("boundary"))
                        else {}
                    ),
                }
                for i, r in enumerate(roles)
            ],
            "GroupDetailList": [],
            "Policies": [
                {
                    "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
                    "PolicyVersionList": [{"IsDefaultVersion": True, "Document": d}],
                }
                for name, d in BOUNDARIES.items()
            ],
        }
    }
    if bucket:
        out["resource_policies"] = [{"Resource": BUCKET, "Account": ACCOUNT, "Policy": _doc(bucket)}]
    return out


def _caller_classes(tmp_path, roles, bucket=None, resource=OBJECT) -> list[tuple | None]:
    auth = Authorizer(_load(tmp_path, _bundle(roles, bucket)), NOW)
    return [
        caller_class(auth.query(HopCheck(auth.snap.entity(role_arn(i)), ACTION, resource))) for i in range(len(roles))
    ]


def _allow(condition=None, resource="*") -> dict:
    return _doc([{"Effect": "Allow", "Action": ACTION, "Resource": resource, "Condition": condition}])


@pytest.mark.parametrize("resource", [OBJECT, PATTERN])
def test_a_tag_no_statement_reads_does_not_split_callers(tmp_path, resource):
    """aws:PrincipalTag/cost is read by no statement that can apply: it cannot change a decision.
    aws:PrincipalTag/team is read, so a caller with another team is another class."""
    pol = _allow({"StringEquals": {"aws:PrincipalTag/team": "a"}})
    got = _caller_classes(
        tmp_path,
        [
            {"policy": pol, "tags": {"team": "a", "cost": "x"}},
            {"policy": pol, "tags": {"team": "a"}},
            {"policy": pol, "tags": {"team": "b"}},
        ],
        resource=resource,
    )
    assert got[0] is not None and got[0] == got[1] != got[2]


def test_a_statement_no_arn_of_the_pattern_can_match_does_not_split_callers(tmp_path):
    """For a resource pattern, only statements whose Resource can match some ARN inside it can
    apply ("IAM JSON policy elements: Resource"): a Deny on arn:aws:s3:::b2/* says nothing about
    arn:aws:s3:::b/*, a Deny on arn:aws:s3:::*/data/* does (arn:aws:s3:::b/data/x)."""

    def with_deny(resource: str) -> dict:
        return _doc(
            [
                {"Effect": "Allow", "Action": ACTION, "Resource": "*"},
                {"Effect": "Deny", "Action": ACTION, "Resource": resource},
            ]
        )

    roles = [
        {"policy": _allow()},
        {"policy": with_deny("arn:aws:s3:::b2/*")},
        {"policy": with_deny("arn:aws:s3:::*/data/*")},
    ]
    got = _caller_classes(tmp_path, roles, resource=PATTERN)
    assert None not in got
    assert got[0] == got[1] != got[2]


def test_a_principal_element_naming_a_role_splits_it_out(tmp_path):
    """A bucket policy's Principal naming one role's ARN matches that role's requests only
    ("AWS JSON policy elements: Principal"); the other roles stay one class."""
    bucket = [{"Effect": "Deny", "Principal": {"AWS": role_arn(0)}, "Action": ACTION, "Resource": BUCKET + "/*"}]
    got = _caller_classes(tmp_path, [{"policy": _allow()}] * 3, bucket)
    assert got[1] is not None and got[0] != got[1] == got[2]
    # A statement of another action names no caller of this request.
    other = [dict(bucket[0], Action="s3:PutObject")]
    got = _caller_classes(tmp_path, [{"policy": _allow()}] * 3, other)
    assert got[0] is not None and got[0] == got[1] == got[2]


@pytest.mark.parametrize(
    ("policy", "bucket"),
    [
        (_allow({"ArnLike": {"aws:PrincipalArn": role_arn(0)}}), None),
        (_allow({"StringEquals": {"aws:username": "u0"}}), None),
        (_allow(resource=BUCKET + "/${aws:username}/*"), None),
        (
            _allow(),
            [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ACTION,
                    "Resource": BUCKET + "/*",
                    "Condition": {"ArnNotLike": {"aws:PrincipalArn": role_arn(1)}},
                }
            ],
        ),
    ],
    ids=["identity-principal-arn", "identity-username", "resource-variable-username", "bucket-principal-arn"],
)
def test_a_statement_reading_the_callers_identity_keys_leaves_it_alone(tmp_path, policy, bucket):
    """aws:PrincipalArn and aws:username differ between any two callers ("AWS global condition
    context keys"): a caller whose statements read them is a class of its own."""
    assert _caller_classes(tmp_path, [{"policy": policy}] * 2, bucket) == [None, None]


def test_a_boundary_that_allows_nothing_of_the_request_is_not_no_boundary(tmp_path):
    """A permissions boundary must allow the request too ("Policy evaluation logic"): one with no
    statement that can apply denies it, which no boundary at all does not."""
    got = _caller_classes(
        tmp_path,
        [
            {"policy": _allow()},
            {"policy": _allow(), "boundary": "ec2"},
            {"policy": _allow(), "boundary": "ec2"},
            {"policy": _allow(), "boundary": "full"},
        ],
    )
    assert None not in got
    assert got[1] == got[2]
    assert len({got[0], got[1], got[3]}) == 3


def test_check_many_asks_once_per_caller_class(tmp_path):
    """Three roles alike in every layer, on a request the search must answer (a condition on a
    key the request leaves open): one search answers all three, each with its own witness."""
    pol = _allow({"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    auth = Authorizer(_load(tmp_path, _bundle([{"policy": pol, "tags": {"cost": str(i)}} for i in range(3)])), NOW)
    checks = [HopCheck(auth.snap.entity(role_arn(i)), ACTION, OBJECT) for i in range(3)]
    results = auth.check_many(checks)
    assert [r.outcome for r in results] == ["possible"] * 3
    assert [r.possible_hop.principal for r in results] == [role_arn(i) for i in range(3)]
    assert all(_witness_allowed(auth, c, r.possible_hop) for c, r in zip(checks, results, strict=True))
    assert auth.stats.searches <= 1
