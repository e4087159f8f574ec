"""Policy variables whose value the search cannot abstract (search/relax.py, search/can.py): the
answer is "possible" when the query with the variable's key fixed to a sample value has a witness
(a smaller space; the witness is checked by the decider), "impossible" only when the relaxed
policies (Allow statements using a variable made to apply more, Deny statements using one left
out) allow no request, and "unknown" otherwise."""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy, Request
from reasoner.search.can import Query, can
from reasoner.search.relax import relax_variables

ROLE = "arn:aws:iam::111122223333:role/r"
OBJECT = "arn:aws:s3:::b/k"
ORG_CONDITION = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


def _p(*statements: dict) -> NamedPolicy:
    return NamedPolicy("p.json", parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


def _allow(action: str, resource: str = "*", condition: dict | None = None) -> dict:
    st = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {**st, "Condition": condition} if condition else st


def test_searched_variable_gets_a_witness_with_its_key_fixed():
    """aws:ResourceOrgID = ${aws:PrincipalOrgID}: both keys free in the snapshot-less query; with
    aws:PrincipalOrgID fixed to a sample, the search finds aws:ResourceOrgID equal to it."""
    q = Query(
        principal=ROLE,
        action="s3:GetObject",
        resource=OBJECT,
        identity_policies=[_p(_allow("s3:*", "*", ORG_CONDITION))],
    )
    a = can(q)
    assert a.answer == "possible" and a.witness is not None
    ctx = {k.lower(): v for k, v in a.witness["request"]["context"].items()}
    assert ctx["aws:principalorgid"] == ctx["aws:resourceorgid"]


def test_variable_in_a_resource_gets_a_witness_inside_the_pattern():
    """A Resource entry with ${aws:RequestedRegion}: with the region fixed, an object key of the
    asked bucket that the filled entry matches is a witness."""
    pol = _p(_allow("s3:GetObject", "arn:aws:s3:::*-image-registry-${aws:RequestedRegion}/*"))
    q = Query(principal=ROLE, action="s3:GetObject", resource="arn:aws:s3:::bucket-499/*", identity_policies=[pol])
    a = can(q)
    assert a.answer == "possible" and a.witness is not None
    assert a.witness["request"]["resource"].startswith("arn:aws:s3:::bucket-499/")


def test_another_condition_that_fails_proves_impossible_despite_the_variable():
    """IAM policy elements: a condition block is the AND of its keys; the statement needs
    aws:SourceVpce = vpce-1, which the query rules out, whatever the variable's value."""
    cond = {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}", "aws:SourceVpce": "vpce-1"}}
    q = Query(
        principal=ROLE,
        action="s3:GetObject",
        resource=OBJECT,
        where={"aws:SourceVpce": ["vpce-2"]},
        identity_policies=[_p(_allow("s3:*", "*", cond))],
    )
    a = can(q)
    assert a.answer == "impossible" and "searched policy variable" in (a.reason or "")
    assert can(relax_variables(q) or q).answer == "impossible"


def test_resource_variable_on_another_action_proves_impossible():
    """The only statement with a variable in its Resource grants another action: no request of
    the space is allowed even with that entry widened to '*'."""
    pol = _p(
        _allow("s3:PutObject", "arn:aws:s3:::b-${aws:RequestedRegion}/*"), _allow("s3:ListBucket", "arn:aws:s3:::b")
    )
    q = Query(principal=ROLE, action="s3:GetObject", resource="arn:aws:s3:::b-*/*", identity_policies=[pol])
    assert can(q).answer == "impossible"


def test_deny_with_a_variable_does_not_hide_the_allow():
    """A Deny that uses a searched variable: with the variable's key fixed, a request it does not
    deny is found (never 'impossible' from the relaxed policies, which leave the Deny out)."""
    deny = {
        "Effect": "Deny",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
    }
    q = Query(principal=ROLE, action="s3:GetObject", resource=OBJECT, identity_policies=[_p(_allow("s3:*"), deny)])
    assert can(q).answer == "possible"


def test_relaxation_only_widens_allows_and_drops_denies():
    allow = _allow(
        "s3:GetObject",
        "arn:aws:s3:::${aws:username}/*",
        {"StringEquals": {"aws:SourceVpce": "v", "aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
    )
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:username}-x/*"}
    q = relax_variables(
        Query(principal=ROLE, action="s3:GetObject", resource=OBJECT, identity_policies=[_p(allow, deny)])
    )
    assert q is not None
    (st,) = q.identity_policies[0].policy.Statement
    assert (
        st.Effect == "Allow"
        and st.Resource == ["arn:aws:s3:::*/*"]
        and st.Condition == {"StringEquals": {"aws:SourceVpce": ["v"]}}
    )


def test_universal_checks_are_not_relaxed():
    """goal deny asks whether some request is NOT allowed: relaxing allows would hide one."""
    q = Query(
        principal=ROLE,
        action="s3:GetObject",
        resource=OBJECT,
        goal="deny",
        identity_policies=[_p(_allow("s3:*", "*", ORG_CONDITION))],
    )
    a = can(q)
    assert a.answer != "impossible" or "searched policy variable" not in (a.reason or "")


def test_sample_value_that_misses_stays_unknown_never_impossible():
    """The caller's organization must be o-real and the resource's equal to it: the sample value
    misses, the relaxed policies allow; a request exists (both o-real) but is not found: unknown."""
    cond = {"StringEquals": {"aws:PrincipalOrgID": "o-real", "aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}
    q = Query(principal=ROLE, action="s3:GetObject", resource=OBJECT, identity_policies=[_p(_allow("s3:*", "*", cond))])
    assert can(q).answer == "unknown"


def test_widened_resource_keeps_its_literal_parts():
    """The caller may assume only roles named ..._${aws:PrincipalAccount}, under a condition on a
    searched variable: widening the variable to '*' still leaves every other role out."""
    st = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": "arn:aws:iam::*:role/SharingRole_${aws:PrincipalAccount}",
        "Condition": ORG_CONDITION,
    }
    target = "arn:aws:iam::111122223333:role/other"
    trust = _p({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"})
    q = Query(
        principal=ROLE, action="sts:AssumeRole", resource=target, identity_policies=[_p(st)], resource_policy=trust
    )
    assert can(q).answer == "impossible"


# ---- property: the fallback against the decider ---------------------------------------------------------
# IAM User Guide, "Policy variables" and "Policy evaluation logic": whatever values the request
# context gives the variables, a request is allowed only by an applicable Allow and not denied.
ACCOUNT = "111122223333"
VAR_RESOURCES = {
    "s3": ["arn:aws:s3:::b/${aws:PrincipalTag/team}/*", "arn:aws:s3:::*-reg-${aws:RequestedRegion}/*"],
    "iam": ["arn:aws:iam::*:role/R_${aws:PrincipalAccount}"],
}
PLAIN_RESOURCES = ["*", "arn:aws:s3:::b/team-a/*", "arn:aws:s3:::x-reg-us-east-1/*", f"arn:aws:iam::{ACCOUNT}:role/R_x"]
VAR_CONDITIONS = [
    ORG_CONDITION,
    {"StringNotEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}},
    {"StringEquals": {"aws:RequestedRegion": "${aws:PrincipalTag/r}"}},
    {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}", "aws:SourceVpce": "vpce-1"}},
]
PLAIN_CONDITIONS = [{"StringEquals": {"aws:SourceVpce": "vpce-1"}}, {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}]
# Query action -> (queried resource, the concrete ARNs decided: the resource itself or ARNs inside the pattern).
QUERIED = {
    "s3:GetObject": [
        ("arn:aws:s3:::b/team-a/k", ["arn:aws:s3:::b/team-a/k"]),
        ("arn:aws:s3:::x-reg-eu-west-1/k", ["arn:aws:s3:::x-reg-eu-west-1/k"]),
        ("arn:aws:s3:::b/*", ["arn:aws:s3:::b/team-a/k", "arn:aws:s3:::b/team-b/k", "arn:aws:s3:::b/k"]),
        ("arn:aws:s3:::*-reg-*/*", ["arn:aws:s3:::x-reg-us-east-1/k", "arn:aws:s3:::y-reg-eu-west-1/k"]),
    ],
    "sts:AssumeRole": [
        (f"arn:aws:iam::{ACCOUNT}:role/R_{ACCOUNT}", [f"arn:aws:iam::{ACCOUNT}:role/R_{ACCOUNT}"]),
        (
            f"arn:aws:iam::{ACCOUNT}:role/R_*",
            [f"arn:aws:iam::{ACCOUNT}:role/R_{ACCOUNT}", f"arn:aws:iam::{ACCOUNT}:role/R_x"],
        ),
    ],
}
# Each key absent or set to one of two values: equalities between keys (and with the ARNs above) both
# hold and fail. The first org and region are the search's sample values (domains.HINTS).
CONTEXT_VALUES = {
    "aws:PrincipalOrgID": ["o-exampleorgid", "o-bbbb2222"],
    "aws:ResourceOrgID": ["o-exampleorgid", "o-bbbb2222"],
    "aws:RequestedRegion": ["us-east-1", "eu-west-1"],
    "aws:PrincipalTag/r": ["us-east-1", "eu-west-1"],
    "aws:PrincipalTag/team": ["team-a", "team-b"],
    "aws:SourceVpce": ["vpce-1", "vpce-2"],
}
TRUST = _p({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"})


@st.composite
def _statements(draw) -> dict:
    s: dict = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "sts:AssumeRole"])),
        "Resource": draw(st.sampled_from([*VAR_RESOURCES["s3"], *VAR_RESOURCES["iam"], *PLAIN_RESOURCES])),
    }
    condition = draw(st.sampled_from([None, None, *VAR_CONDITIONS, *PLAIN_CONDITIONS]))
    return {**s, "Condition": condition} if condition else s


def _contexts(statements: list[dict], where: dict[str, list[str]]) -> list[dict]:
    """Every combination of absent / each value for the keys the statements mention (a fixed key
    keeps its value)."""
    text = json.dumps(statements).lower()
    keys = [k for k in CONTEXT_VALUES if k.lower() in text or k in where]
    options = [[None, *CONTEXT_VALUES[k]] if k not in where else where[k] for k in keys]
    return [{k: v for k, v in zip(keys, combo) if v is not None} for combo in itertools.product(*options)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_statements(), min_size=1, max_size=3),
    st.sampled_from(sorted(QUERIED)),
    st.integers(0, 3),
    st.booleans(),
)
def test_searched_variable_answers_agree_with_the_decider_for_every_variable_value(stmts, action, pick, fix_vpce):
    """Soundness of the fallback (relax_variables, _with_variables_fixed) against the decider: an
    'impossible' must hold whatever values the context gives the variables' keys (or none), since
    IAM fills each variable from the request; a 'possible' witness must be allowed when decided again."""
    resource, concrete = QUERIED[action][pick % len(QUERIED[action])]
    where = {"aws:SourceVpce": ["vpce-2"]} if fix_vpce else {}
    q = Query(
        principal=ROLE,
        action=action,
        resource=resource,
        resource_account=ACCOUNT,
        where=where,
        identity_policies=[_p(*stmts)],
        resource_policy=TRUST if action == "sts:AssumeRole" else None,
    )
    a = can(q)
    relaxed = "searched policy variable" in (a.reason or "")
    event(f"{a.answer}{' (relaxed)' if relaxed else ''}")
    if a.answer == "possible":
        assert a.witness is not None
        again = decide_many([q.decide_input(Request.model_validate(a.witness["request"]))], raise_errors=True)
        assert again[0].decision == "allow", (a.witness["request"], stmts)
    if a.answer != "impossible":
        return
    requests = [
        Request(principal=ROLE, action=action, resource=arn, resource_account=ACCOUNT, context=ctx)
        for arn in concrete
        for ctx in _contexts(stmts, where)
    ]
    got = decide_many([q.decide_input(r) for r in requests], raise_errors=True)
    allowed = [(r.resource, r.context) for r, d in zip(requests, got) if d.decision == "allow"]
    assert not allowed, (a.reason, stmts, allowed[:3])
