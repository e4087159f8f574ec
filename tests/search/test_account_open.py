"""Issue 10 item 8: a resource pattern that leaves its account open (arn:aws:iam::*:role/X) is
answered, not `unknown`: the resource account is one more searched dimension (the principal's
account, every account the policies name, one fresh account), and every rule that reads the
resource account sees the chosen one: the ARN's account field, the cross-account rule, and
aws:ResourceAccount.

AWS: IAM User Guide, "Cross-account policy evaluation logic" ("the requesting principal must have
an identity-based policy that allows the request ... and the resource-based policy must also
allow"), "Policy evaluation for requests within a single account" (either side suffices), "AWS
global condition context keys" (aws:ResourceAccount: "the account ID of the resource owner").
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.can import Query, can

HOME, OTHER, THIRD = "111122223333", "444455556666", "777788889999"
USER = f"arn:aws:iam::{HOME}:user/u"
NOW = 1_800_000_000


def _p(*statements, name="p.json") -> NamedPolicy:
    return NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def _request(a) -> dict:
    assert a.answer == "possible", a
    return a.witness["request"]


def _account_field(arn: str) -> str:
    return arn.split(":", 5)[4]


# ---- golden ---------------------------------------------------------------------------------------
def test_cross_account_assume_role_is_found_in_the_account_the_trust_policy_is_in():
    """Cross-account policy evaluation: the caller's identity policy allows sts:AssumeRole on roles
    of OTHER only, the trust policy trusts the caller's account: a role of OTHER can be assumed."""
    ident = _p({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{OTHER}:role/*"})
    trust = _p({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{HOME}:root"}, "Action": "sts:AssumeRole"})
    a = can(Query(USER, "sts:AssumeRole", "arn:aws:iam::*:role/X", identity_policies=[ident], resource_policy=trust))
    r = _request(a)
    assert r["resource"] == f"arn:aws:iam::{OTHER}:role/X" and r["resource_account"] == OTHER
    assert a.scope[0].name == "resource account (*)" and a.scope[0].complete


def test_cross_account_needs_the_resource_policy_too():
    """Cross-account policy evaluation: an identity policy alone does not reach a table of another
    account; the table's resource policy must allow as well."""
    ident = _p({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": f"arn:aws:dynamodb:*:{OTHER}:table/*"})
    q = Query(USER, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:*:table/t", identity_policies=[ident], now=NOW)
    a = can(q)
    assert a.answer == "impossible", a
    assert a.scope[0].examples[:2] == [HOME, OTHER]
    q.resource_policy = _p({"Effect": "Allow", "Principal": {"AWS": HOME}, "Action": "dynamodb:*", "Resource": "*"})
    r = _request(can(q))
    assert _account_field(r["resource"]) == OTHER == r["resource_account"]


def test_within_one_account_the_resource_policy_alone_suffices():
    """Policy evaluation within a single account: a resource policy naming the user allows without
    any identity policy; in another account it would need the identity policy too."""
    rp = _p({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "dynamodb:GetItem", "Resource": "*"})
    q = Query(USER, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:*:table/t", resource_policy=rp, now=NOW)
    a = can(q, all_witnesses=True)
    assert {_account_field(w["request"]["resource"]) for w in a.witnesses} == {HOME}
    q.goal = "deny"
    r = _request(can(q))  # some account (another one) denies
    assert r["resource_account"] != HOME


def test_aws_resource_account_is_the_account_of_the_chosen_resource():
    """aws:ResourceAccount is the resource owner's account: a condition requiring THIRD holds only
    on a resource of THIRD, never together with a Resource element limited to OTHER."""
    rp = _p({"Effect": "Allow", "Principal": {"AWS": HOME}, "Action": "dynamodb:*", "Resource": "*"})
    cond = {"StringEquals": {"aws:ResourceAccount": THIRD}}
    ident = _p({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": cond})
    q = Query(USER, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:*:table/t", identity_policies=[ident])
    q.resource_policy, q.now = rp, NOW
    r = _request(can(q))
    assert r["resource_account"] == THIRD == _account_field(r["resource"]) == r["context"]["aws:ResourceAccount"]
    table = f"arn:aws:dynamodb:*:{OTHER}:*"
    limited = _p({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table, "Condition": cond})
    q.identity_policies = [limited]
    assert can(q).answer == "impossible"


def test_a_pattern_whose_wildcard_spans_the_account_keeps_each_arn_in_its_account():
    """'*' and arn:aws:dynamodb:* reach tables of every account: a table of OTHER is decided as a
    table of OTHER (cross-account: the identity policy alone does not reach it), never as one of
    the caller's account (the search once paired OTHER's ARN with the caller's account)."""
    ident = _p({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": f"arn:aws:dynamodb:*:{OTHER}:table/*"})
    rp = _p({"Effect": "Allow", "Principal": {"AWS": HOME}, "Action": "dynamodb:*", "Resource": "*"})
    for pattern in ("*", "arn:aws:dynamodb:*"):
        q = Query(USER, "dynamodb:GetItem", pattern, identity_policies=[ident], now=NOW)
        assert can(q).answer == "impossible", pattern
        q.resource_policy = rp
        r = _request(can(q))
        assert _account_field(r["resource"]) == OTHER == r["resource_account"], r


def test_a_given_resource_account_is_written_into_the_arn():
    ident = _p({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"})
    q = Query(USER, "iam:GetRole", "arn:aws:iam::*:role/X", resource_account=HOME, identity_policies=[ident])
    assert _request(can(q))["resource"] == f"arn:aws:iam::{HOME}:role/X"


def test_a_partial_account_pattern_in_a_policy_leaves_impossible_unproved():
    """An account glob such as 1111* tells apart accounts no policy names: not proved complete."""
    ident = _p({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:*:9999*:table/*"})
    a = can(Query(USER, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:*:table/t", identity_policies=[ident]))
    assert a.answer == "unknown" and "9999*" in (a.reason or ""), a
    assert not a.scope[0].complete


def test_the_queried_account_glob_limits_the_accounts():
    ident = _p({"Effect": "Allow", "Action": "iam:GetRole", "Resource": f"arn:aws:iam::{HOME}:role/*"})
    a = can(Query(USER, "iam:GetRole", "arn:aws:iam::4444*:role/X", identity_policies=[ident]))
    assert a.answer == "impossible", a
    assert all(x.startswith("4444") for x in a.scope[0].examples)


# ---- property: search and concrete decider agree over accounts ----------------------------------------
ACCOUNTS = [HOME, OTHER, THIRD]
TABLE_PATTERNS = [
    "*",
    "arn:aws:dynamodb:*:*:table/*",
    f"arn:aws:dynamodb:*:{HOME}:table/*",
    f"arn:aws:dynamodb:us-east-1:{OTHER}:table/t",
    f"arn:aws:dynamodb:*:{THIRD}:table/*",
    "arn:aws:dynamodb:*:*:table/t",
]


@st.composite
def statements(draw, with_principal: bool):
    s: dict = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.sampled_from(["dynamodb:GetItem", "dynamodb:*", "dynamodb:Put*"])),
        "Resource": draw(st.lists(st.sampled_from(TABLE_PATTERNS), min_size=1, max_size=2)),
    }
    if with_principal:
        s["Principal"] = {"AWS": draw(st.sampled_from([HOME, OTHER, "*", USER, f"arn:aws:iam::{OTHER}:user/v"]))}
    if draw(st.booleans()):
        op = draw(st.sampled_from(["StringEquals", "StringNotEquals", "StringEqualsIfExists", "StringLike"]))
        s["Condition"] = {op: {"aws:ResourceAccount": draw(st.sampled_from([*ACCOUNTS, "*"]))}}
    return s


def _random_requests(rnd: random.Random, principal: str, pattern: str, n: int) -> list[Request]:
    """Requests inside the queried pattern, on tables of the named accounts and of one more."""
    tables = ["t"] if pattern.endswith("/t") else ["t", "u"]
    out = []
    for _ in range(n):
        acct = rnd.choice([*ACCOUNTS, "123456789012"])
        ctx = {"aws:ResourceAccount": acct} if rnd.random() < 0.7 else {}
        out.append(
            Request(
                principal=principal,
                action=rnd.choice(["dynamodb:GetItem", "dynamodb:PutItem"]),
                resource=f"arn:aws:dynamodb:us-east-1:{acct}:table/{rnd.choice(tables)}",
                resource_account=acct,
                context=ctx,
            )
        )
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(statements(False), min_size=1, max_size=2),
    st.one_of(st.none(), st.lists(statements(True), min_size=1, max_size=2)),
    st.sampled_from([USER, HOME, f"arn:aws:iam::{OTHER}:user/v"]),
    st.sampled_from(
        ["arn:aws:dynamodb:us-east-1:*:table/*", "arn:aws:dynamodb:*:*:table/t", "*", "arn:aws:dynamodb:*"]
    ),
    st.integers(0, 10**6),
)
def test_search_over_open_accounts_agrees_with_the_decider(ident_stmts, rp_stmts, principal, pattern, seed):
    """A witness names one account in its ARN (or none), as its resource account and as aws:ResourceAccount
    (can() re-decides it concretely); "impossible" holds for random concrete requests on tables
    of every account, named or not."""
    ident = _p(*ident_stmts)
    rp = _p(*rp_stmts, name="rp.json") if rp_stmts else None
    a = can(Query(principal, "dynamodb:*", pattern, identity_policies=[ident], resource_policy=rp, now=NOW))
    assert a.answer in ("possible", "impossible"), a
    event(a.answer)
    if a.answer == "possible":
        r = a.witness["request"]
        # The ARN names the resource account, or no account (an ARN shape without one, as S3's), or
        # is one of IAM's own (AWS managed) policies, arn:aws:iam::aws:policy/..., which count in
        # the caller's account (search/resources._account_comparisons); no other ARN names "aws".
        field = _account_field(r["resource"])
        managed = field == "aws" and r["resource"].split(":", 5)[5].startswith("policy/")
        assert field in (r["resource_account"], "") or managed
        assert r["context"].get("aws:ResourceAccount", r["resource_account"]) == r["resource_account"]
        return
    reqs = _random_requests(random.Random(seed), principal, pattern, 30)
    got = decide_many([DecideInput(request=r, identity_policies=[ident], resource_policy=rp) for r in reqs])
    allowed = [(r.resource, r.context) for r, d in zip(reqs, got) if d.decision == "allow"]
    assert not allowed, allowed


def test_a_fixed_aws_resource_account_picks_the_account():
    """--where aws:ResourceAccount=OTHER: only resources of OTHER are searched (the key is the
    resource owner's account)."""
    ident = _p({"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"})
    q = Query(USER, "iam:GetRole", "arn:aws:iam::*:role/X", identity_policies=[ident])
    q.where = {"aws:ResourceAccount": [OTHER]}
    a = can(q)
    assert a.answer == "impossible", a  # IAM has no resource policy: another account's role is out of reach
    assert a.scope[0].examples == [OTHER]
    q.where = {"aws:ResourceAccount": [HOME]}
    assert _request(can(q))["resource"] == f"arn:aws:iam::{HOME}:role/X"
