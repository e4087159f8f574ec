"""Property tests (hypothesis).

1. The glob matcher agrees with Python's fnmatch-derived regular expressions.
2. Differential: the ASP decider agrees with an independent, direct Python reading of the IAM
   documentation on random identity policies (Action/NotAction, Resource/NotResource, Allow/Deny,
   String operators with ForAnyValue/ForAllValues/IfExists/negation, absent and multivalued keys).
3. Metamorphic: adding a matching Deny statement always yields explicit_deny; action case
   never changes a decision.
"""

from __future__ import annotations

import fnmatch
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.patterns import arn_match, glob_match, plain
from reasoner.policy.request import DecideInput, NamedPolicy, Request

ALPHA = "ab/:"
texts = st.text(alphabet=ALPHA, max_size=6)
patterns = st.text(alphabet=ALPHA + "*?", max_size=6)


@given(patterns, texts)
def test_glob_matches_like_fnmatch(pattern, value):
    expected = re.fullmatch(fnmatch.translate(pattern), value, re.DOTALL) is not None
    assert glob_match(plain(pattern), value) == expected


@given(
    st.lists(st.text(alphabet="ab*?", max_size=3), min_size=6, max_size=6),
    st.lists(st.text(alphabet="ab", max_size=3), min_size=6, max_size=6),
)
def test_arn_matching_is_component_wise(pattern_parts, value_parts):
    pattern = "arn:" + ":".join(pattern_parts[1:])
    value = "arn:" + ":".join(value_parts[1:])
    expected = all(glob_match(plain(p), v) for p, v in zip(pattern_parts[1:], value_parts[1:]))
    assert arn_match(plain(pattern), value) == expected


# ---- differential test against a direct reading of the docs -----------------------------------
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket"]
RESOURCES = ["arn:aws:s3:::b/x", "arn:aws:s3:::b/y", "arn:aws:s3:::c"]
KEY = "aws:PrincipalTag/team"
VALUES = ["red", "blue", "Red"]
OPS = ["StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringLike", "StringNotLike"]


def _ref_match(op: str, pattern: str, value: str) -> bool:
    if "IgnoreCase" in op:
        return pattern.lower() == value.lower()
    if "Like" in op:
        return re.fullmatch(fnmatch.translate(pattern), value, re.DOTALL) is not None
    return pattern == value


def _ref_condition(name: str, values: list[str], ctx: list[str]) -> bool:
    """IAM User Guide, "Condition operators" and "Set operators for multivalued context keys"."""
    qual, _, op = name.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    negated = "Not" in op
    base = op.replace("Not", "")
    if not ctx:
        if if_exists or qual == "ForAllValues":
            return True
        if qual == "ForAnyValue":
            return False
        return negated
    hits = [any(_ref_match(base, p, v) for p in values) for v in ctx]
    ok = [(not h) if negated else h for h in hits]
    if qual == "ForAnyValue":
        return any(ok)
    if qual == "ForAllValues":
        return all(ok)
    return (not any(hits)) if negated else any(hits)


def _ref_statement_applies(stmt: dict, action: str, resource: str, ctx: list[str]) -> bool:
    if "Action" in stmt:
        a_ok = any(_ref_match("StringLike", p.lower(), action.lower()) for p in stmt["Action"])
    else:
        a_ok = not any(_ref_match("StringLike", p.lower(), action.lower()) for p in stmt["NotAction"])
    if "Resource" in stmt:
        r_ok = any(_ref_match("StringLike", p, resource) for p in stmt["Resource"])
    else:
        r_ok = not any(_ref_match("StringLike", p, resource) for p in stmt["NotResource"])
    c_ok = all(
        _ref_condition(op, vals, ctx) for op, block in stmt.get("Condition", {}).items() for vals in block.values()
    )
    return a_ok and r_ok and c_ok


def _ref_decide(statements: list[dict], action: str, resource: str, ctx: list[str]) -> str:
    applying = [s for s in statements if _ref_statement_applies(s, action, resource, ctx)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "explicit_deny"
    return "allow" if applying else "implicit_deny"


action_pats = st.sampled_from(["s3:*", "s3:Get*", "S3:GETOBJECT", "s3:?utObject", "s3:List*", "ec2:*"])
resource_pats = st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/?", "arn:aws:s3:::c", "arn:aws:s3:::*"])
op_names = st.builds(
    lambda q, op, ie: f"{q}{op}{'IfExists' if ie else ''}",
    st.sampled_from(["", "ForAnyValue:", "ForAllValues:"]),
    st.sampled_from(OPS),
    st.booleans(),
)
conditions = st.dictionaries(
    op_names,
    st.builds(lambda v: {KEY: v}, st.lists(st.sampled_from(VALUES + ["r*", "?ed"]), min_size=1, max_size=2)),
    max_size=2,
)


@st.composite
def statements(draw):
    s = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    s["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(action_pats, min_size=1, max_size=2)
    )
    s["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = draw(
        st.lists(resource_pats, min_size=1, max_size=2)
    )
    cond = draw(conditions)
    if cond:
        s["Condition"] = cond
    return s


requests = st.tuples(
    st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), st.lists(st.sampled_from(VALUES), max_size=2, unique=True)
)


def _input(stmts: list[dict], action: str, resource: str, ctx: list[str]) -> DecideInput:
    policy = parse_policy({"Version": "2012-10-17", "Statement": stmts})
    context = {KEY: ctx} if ctx else {}
    return DecideInput(
        request=Request(
            principal="arn:aws:iam::111122223333:user/u", action=action, resource=resource, context=context
        ),
        identity_policies=[NamedPolicy(name="p", policy=policy)],
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=3), st.lists(requests, min_size=1, max_size=8))
def test_decider_agrees_with_reference(stmts, reqs):
    got = decide_many([_input(stmts, *r) for r in reqs])
    for (action, resource, ctx), d in zip(reqs, got):
        assert d.error is None
        assert d.decision == _ref_decide(stmts, action, resource, ctx), (stmts, action, resource, ctx)


@settings(max_examples=60, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=3), requests)
def test_matching_deny_always_wins_and_action_case_is_irrelevant(stmts, req):
    action, resource, ctx = req
    deny = {"Effect": "Deny", "Action": [action.upper()], "Resource": [resource]}
    base, with_deny, upper = decide_many(
        [_input(stmts, *req), _input(stmts + [deny], *req), _input(stmts, action.swapcase(), resource, ctx)]
    )
    assert with_deny.decision == "explicit_deny"
    assert upper.decision == base.decision
