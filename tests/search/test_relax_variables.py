"""Policy variables whose value the search cannot abstract (search/relax.py, search/can.py): the
answer is "possible" when the query with the variable's key fixed to a sample value has a witness
(a smaller space; the witness is checked by the decider), "impossible" only when the relaxed
policies (Allow statements using a variable made to apply more, Deny statements using one left
out) allow no request, and "unknown" otherwise."""

from __future__ import annotations

from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy
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
