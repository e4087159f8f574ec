"""Typed keys (issue 10, item 5): a key ranges over values of its documented type only, in every
search. IAM User Guide, "AWS global condition context keys": each key's data type (aws:SourceIp
IP address, aws:SecureTransport / aws:ViaAWSService / aws:MultiFactorAuthPresent Boolean,
aws:MultiFactorAuthAge Numeric, aws:CurrentTime / aws:TokenIssueTime Date, aws:EpochTime Date and
Numeric); service keys by the catalogue's type. AWS never sends aws:ViaAWSService=example, so a
witness carrying it is not a request AWS can send, and `decide` refuses such a context."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy import catalogue
from reasoner.policy.document import parse_policy
from reasoner.policy.request import DecideInput, NamedPolicy, Request, value_has_kind
from reasoner.search.can import Query, can
from reasoner.search.domains import build_domain

USER = "arn:aws:iam::111122223333:user/u"


def _policy(*statements: dict) -> NamedPolicy:
    return NamedPolicy("p.json", parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def _allow_if(condition: dict) -> NamedPolicy:
    return _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition})


def _can(policy: NamedPolicy):
    return can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[policy]))


def test_a_bool_key_compared_as_a_string_takes_true_or_false():
    a = _can(_allow_if({"StringNotEquals": {"aws:ViaAWSService": "true"}}))
    assert a.answer == "possible"
    assert a.witness["request"]["context"]["aws:ViaAWSService"] == "false"


def test_a_bool_key_that_must_be_neither_true_nor_false_is_impossible():
    a = _can(_allow_if({"StringNotEquals": {"aws:SecureTransport": ["true", "false"]}}))
    assert a.answer == "impossible"


def test_an_ip_key_compared_as_a_string_is_searched_over_addresses_only():
    """StringLike aws:SourceIp "example*" matches no address: no request AWS sends is allowed. The
    string patterns are not covered by the IP line's regions, so the answer may not claim
    "impossible" on them, but it must never show a non-address witness."""
    a = _can(_allow_if({"StringLike": {"aws:SourceIp": "example*"}}))
    assert a.answer == "unknown"
    assert "aws:sourceip holds ip values" in (a.reason or "")


def test_a_numeric_key_compared_as_a_number_is_complete():
    a = _can(_allow_if({"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}}))
    assert a.answer == "possible"
    assert float(a.witness["request"]["context"]["aws:MultiFactorAuthAge"]) > 3600


def test_a_service_key_of_the_catalogue_is_typed():
    kind = catalogue.value_kind("s3:signatureAge")
    assert kind == "numeric"
    dom = build_domain("s3:signatureage", [("string_equals", (("a", False),))], value_kind=kind)
    assert all(value_has_kind(kind, r.witness) for r in dom.regions)
    assert not dom.complete


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("aws:ViaAWSService", "example"),
        ("aws:SourceIp", "not-an-ip"),
        ("aws:EpochTime", "yesterday"),
        ("aws:CurrentTime", "soon"),
        ("aws:MultiFactorAuthAge", "NaN"),
    ],
)
def test_decide_refuses_a_value_of_the_wrong_type(key, value):
    with pytest.raises(ValueError, match=key):
        Request(principal=USER, action="s3:GetObject", resource="*", context={key: value})


def test_decide_refuses_a_wrong_typed_context_with_exit_2(tmp_path, cli):
    pol = tmp_path / "p.json"
    pol.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
    r = cli(
        "decide",
        "--principal",
        USER,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
        "--identity-policy",
        str(pol),
        "--context",
        "aws:ViaAWSService=example",
    )
    assert r.returncode == 2, r.stderr
    assert "aws:ViaAWSService" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ---- property: witnesses are typed, and "impossible" holds for well-typed requests ----------------
TYPED_CONDITIONS = [
    ("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]),
    ("NotIpAddress", "aws:SourceIp", ["10.0.0.0/8", "192.0.2.7/32"]),
    ("StringEquals", "aws:SourceIp", ["10.0.0.1", "example"]),
    ("Bool", "aws:SecureTransport", ["true", "false"]),
    ("StringNotEquals", "aws:ViaAWSService", ["true", "false", "example"]),
    ("StringEqualsIgnoreCase", "aws:MultiFactorAuthPresent", ["TRUE", "no"]),
    ("NumericLessThan", "aws:MultiFactorAuthAge", ["0", "3600", "-1"]),
    ("NumericGreaterThanEquals", "aws:MultiFactorAuthAge", ["60", "1.5"]),
    ("StringNotEquals", "aws:MultiFactorAuthAge", ["3600", "x"]),
]
POOL = {
    "aws:SourceIp": ["10.0.0.1", "192.0.2.7", "203.0.113.9", "2001:db8::1", "::1"],
    "aws:SecureTransport": ["true", "false"],
    "aws:ViaAWSService": ["true", "false"],
    "aws:MultiFactorAuthPresent": ["true", "false"],
    "aws:MultiFactorAuthAge": ["0", "1", "60", "1.5", "3599", "3600", "99999"],
}


@st.composite
def typed_statements(draw):
    s: dict = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])), "Action": "s3:GetObject", "Resource": "*"}
    cond: dict = {}
    for _ in range(draw(st.integers(0, 3))):
        op, key, values = draw(st.sampled_from(TYPED_CONDITIONS))
        if draw(st.booleans()):
            op += "IfExists"
        cond.setdefault(op, {})[key] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
    if cond:
        s["Condition"] = cond
    return s


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed_statements(), min_size=1, max_size=3), st.integers(0, 10**6))
def test_typed_search_agrees_with_the_decider(stmts, seed):
    pol = _policy(*stmts)
    a = _can(pol)
    if a.answer == "possible":  # can() re-decided it; its typed values must parse as their type
        for key, value in a.witness["request"]["context"].items():
            kind = catalogue.value_kind(key)
            for v in value if isinstance(value, list) else [value]:
                assert kind is None or value_has_kind(kind, str(v).lower() if isinstance(v, bool) else str(v)), (
                    key,
                    v,
                )
        return
    if a.answer == "unknown":
        return
    rnd = random.Random(seed)
    requests = []
    for _ in range(40):
        ctx = {k: rnd.choice(vs) for k, vs in POOL.items() if rnd.random() < 0.7}
        ctx["aws:SecureTransport"] = ctx.get("aws:SecureTransport", "true")  # always present
        ctx["aws:ViaAWSService"] = ctx.get("aws:ViaAWSService", "false")
        requests.append(
            DecideInput(
                request=Request(principal=USER, action="s3:GetObject", resource="arn:aws:s3:::b/k", context=ctx),
                identity_policies=[pol],
            )
        )
    allowed = [r.request.context for r, d in zip(requests, decide_many(requests)) if d.decision == "allow"]
    assert not allowed, allowed
