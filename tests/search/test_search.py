"""The symbolic search (`reasoner can`) and its finite abstraction.

Soundness both ways, by hypothesis: a witness is always allowed by the concrete decider (can()
raises otherwise), and when the search says impossible, random concrete requests drawn from
the same space (values built from the policy's own literals, near misses and fresh strings)
are never allowed.
"""

from __future__ import annotations

import json
import random
import re

import pytest
from conftest import json_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.engine.decide import decide_many
from reasoner.policy.document import parse_policy
from reasoner.policy.patterns import plain
from reasoner.policy.request import DecideInput, NamedPolicy, Request
from reasoner.search.can import Query, can
from reasoner.search.domains import build_domain, signature

USER = "arn:aws:iam::111122223333:user/u"


def _p(*statements) -> NamedPolicy:
    return NamedPolicy("p.json", parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))


# ---- domains ---------------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["string_equals", "string_like", "string_equals_ic"]),
            st.text(alphabet="aB*?", min_size=0, max_size=4),
        ),
        min_size=1,
        max_size=4,
    ),
    st.text(alphabet="abAB:x", max_size=6),
)
def test_every_string_value_falls_in_a_region(comparisons, value):
    """Completeness: the signature of any value is the signature of some region."""
    dom = build_domain("k", [(f, plain(p)) for f, p in comparisons])
    assert signature(dom.comparisons, value) in {r.signature for r in dom.regions}
    for r in dom.regions:
        assert signature(dom.comparisons, r.witness) == r.signature


@given(
    st.lists(
        st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0"]),
        min_size=1,
        max_size=3,
    ),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_every_ipv4_address_falls_in_a_region(cidrs, n):
    import ipaddress

    dom = build_domain("aws:sourceip", [("ip_address", plain(c)) for c in cidrs])
    assert signature(dom.comparisons, str(ipaddress.IPv4Address(n))) in {r.signature for r in dom.regions}


def test_arn_regions_respect_components():
    comps = [("arn_like", plain("arn:aws:s3:::examplecorp-business-data/*")), ("arn_like", plain("arn:aws:s3:::*"))]
    sigs = {r.signature for r in build_domain("resource", comps).regions}
    assert sigs == {(True, True), (False, True), (False, False)}


def test_mixed_kinds_are_not_claimed_complete():
    dom = build_domain("aws:sourceip", [("ip_address", plain("10.0.0.0/8")), ("string_like", plain("10.*"))])
    assert not dom.complete


# ---- can ---------------------------------------------------------------------------------------------
def test_impossible_names_its_scope():
    pol = _p(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        }
    )
    a = can(
        Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[pol], where={"aws:SourceIp": ["192.0.2.1"]})
    )
    assert a.answer == "impossible"
    b = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[pol]))
    assert b.answer == "possible" and b.witness["request"]["context"]["aws:SourceIp"].startswith("10.")
    assert any(d.name == "aws:sourceip" and d.regions >= 2 for d in b.scope)


def test_unknown_when_kinds_mix_and_nothing_found():
    pol = _p(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringLike": {"aws:SourceIp": "192.*"}},
        }
    )
    a = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[pol]))
    assert a.answer == "unknown" and "not proved complete" in a.reason


def test_searched_variable_is_fixed_to_a_sample_for_a_witness():
    # The caller's tag is free in a query without a snapshot: the search fixes it to a sample value
    # (search/can.py _with_variables_fixed) and finds an object under that prefix.
    pol = _p({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"})
    a = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/*", resource_account="111122223333", identity_policies=[pol]))
    assert a.answer == "possible" and a.witness is not None
    team = {k.lower(): v for k, v in a.witness["request"]["context"].items()}["aws:principaltag/team"]
    assert a.witness["request"]["resource"].startswith(f"arn:aws:s3:::b/{team}/")
    fixed = can(
        Query(
            USER,
            "s3:GetObject",
            "arn:aws:s3:::b/*",
            resource_account="111122223333",
            identity_policies=[pol],
            where={"aws:PrincipalTag/team": ["red"]},
        )
    )
    assert fixed.answer == "possible" and fixed.witness["request"]["resource"].startswith("arn:aws:s3:::b/red/")


def test_for_all_values_empty_set_is_found():
    """ForAllValues holds on an absent key: the search must find the empty-set request."""
    pol = _p(
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:PutObject",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["env"]}},
        },
    )
    a = can(Query(USER, "s3:PutObject", "arn:aws:s3:::b/k", identity_policies=[pol]))
    assert a.answer == "possible" and "aws:TagKeys" not in a.witness["request"]["context"]


def test_all_lists_distinct_ways_smallest_first():
    pol = _p(
        {
            "Sid": "Vpce",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        },
        {
            "Sid": "Via",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}},
        },
    )
    a = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[pol]), all_witnesses=True)
    ctxs = [w["request"]["context"] for w in a.witnesses]
    assert {"aws:SourceVpce": "vpce-1"} in ctxs and {"aws:CalledVia": ["athena.amazonaws.com"]} in ctxs
    assert len(ctxs) >= 3  # each alone, and both together
    sizes = [sum(len(v) if isinstance(v, list) else 1 for v in c.values()) for c in ctxs]
    assert sizes == sorted(sizes)


def test_calledvia_first_and_last_follow_the_list():
    pol = _p(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:CalledViaFirst": "cloudformation.amazonaws.com",
                    "aws:CalledViaLast": "dynamodb.amazonaws.com",
                }
            },
        }
    )
    a = can(
        Query(
            USER,
            "kms:Decrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            identity_policies=[pol],
            resource_policy=_p(
                {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"}
            ),
        )
    )
    assert a.answer == "possible"
    assert a.witness["request"]["context"]["aws:CalledVia"] == [
        "cloudformation.amazonaws.com",
        "dynamodb.amazonaws.com",
    ]


# ---- property: search and concrete decider agree ----------------------------------------------------
KEY = "aws:PrincipalTag/team"
ops = st.sampled_from(
    [
        "StringEquals",
        "StringNotEquals",
        "StringLike",
        "StringNotLike",
        "StringEqualsIgnoreCase",
        "ForAnyValue:StringEquals",
        "ForAllValues:StringLike",
        "StringEqualsIfExists",
        "ForAnyValue:StringNotLike",
    ]
)
vals = st.lists(st.sampled_from(["red", "Red", "r*", "?ed", "blue", "b*e"]), min_size=1, max_size=2)


@st.composite
def statements(draw):
    s = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "s3:Get*", "s3:Put*"])),
        "Resource": draw(st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a?"])),
    }
    cond = {}
    for _ in range(draw(st.integers(0, 2))):
        cond.setdefault(draw(ops), {})[draw(st.sampled_from([KEY, "aws:CalledVia"]))] = draw(vals)
    if draw(st.booleans()):
        cond.setdefault("Null", {})["aws:SourceVpce"] = draw(st.sampled_from(["true", "false"]))
    if cond:
        s["Condition"] = cond
    return s


POOL = ["red", "Red", "rex", "ed", "Xed", "blue", "bxe", "b", "", "athena.amazonaws.com", "zzz"]


def _random_requests(rnd: random.Random, n: int) -> list[tuple[str, str, dict]]:
    out = []
    for _ in range(n):
        ctx = {}
        if rnd.random() < 0.7:
            ctx[KEY] = rnd.choice(POOL)
        if rnd.random() < 0.6:
            ctx["aws:CalledVia"] = rnd.sample(POOL, rnd.randint(1, 3))
        if rnd.random() < 0.5:
            ctx["aws:SourceVpce"] = "vpce-1"
        out.append(
            (
                rnd.choice(["s3:GetObject", "s3:PutObject", "s3:GetObjectAcl"]),
                rnd.choice(["arn:aws:s3:::b/ab", "arn:aws:s3:::b/long/key", "arn:aws:s3:::c/x"]),
                ctx,
            )
        )
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statements(), min_size=1, max_size=3), st.integers(0, 10**6))
def test_search_and_concrete_decider_agree(stmts, seed):
    pol = NamedPolicy("p.json", parse_policy({"Version": "2012-10-17", "Statement": stmts}))
    a = can(Query(USER, "s3:*", "arn:aws:s3:::*", resource_account="111122223333", identity_policies=[pol]))
    assert a.answer in ("possible", "impossible")
    if a.answer == "possible":
        return  # can() already re-decided the witness concretely (InternalError otherwise)
    rnd = random.Random(seed)
    reqs = _random_requests(rnd, 40)
    got = decide_many(
        [
            DecideInput(request=Request(principal=USER, action=ac, resource=rs, context=ctx), identity_policies=[pol])
            for ac, rs, ctx in reqs
        ]
    )
    assert all(d.decision != "allow" for d in got), [
        (r, d.decision) for r, d in zip(reqs, got) if d.decision == "allow"
    ]


# ---- CLI -----------------------------------------------------------------------------------------------
def test_can_cli_json_and_exit_codes(tmp_path, cli):
    f = tmp_path / "p.json"
    f.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": "*",
                        "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": ["athena.amazonaws.com"]}},
                    }
                ],
            }
        )
    )
    proc = cli(
        "can",
        "--principal",
        USER,
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
        "-i",
        str(f),
        "--without-via",
        "athena.amazonaws.com",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    assert json_result(proc.stdout)["answer"] == "impossible"
    proc = cli(
        "can", "--principal", USER, "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/k", "-i", str(f), "--json"
    )
    out = json_result(proc.stdout)
    assert out["answer"] == "possible"
    # The printed command reproduces the witness.
    args = __import__("shlex").split(out["decide_command"])[1:] + ["--json"]
    again = cli(*args)
    assert again.returncode == 0 and json_result(again.stdout)["decision"] == "allow"


def test_checks_exit_codes(tmp_path, cli):
    public = tmp_path / "bucket.json"
    public.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
                ],
            }
        )
    )
    proc = cli("check-no-public-access", str(public), "--account", "111122223333")
    assert proc.returncode == 1 and "fail" in proc.stdout
    private = tmp_path / "private.json"
    private.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111122223333:role/r"},
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::b/*",
                    }
                ],
            }
        )
    )
    proc = cli("check-no-public-access", str(private), "--account", "111122223333")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = cli(
        "check-access-not-granted", "cases/athena-vpce/policies/bizmetrics-query-role.json", "--action", "s3:Delete*"
    )
    assert proc.returncode == 0
    proc = cli(
        "check-access-not-granted",
        "cases/athena-vpce/policies/bizmetrics-query-role.json",
        "--action",
        "s3:PutObject",
        "--json",
    )
    assert proc.returncode == 1 and json_result(proc.stdout)["witness"]["request"]["action"] == "s3:PutObject"
    assert re.search(r"reasoner decide", proc.stdout)


def test_empty_rcp_level_allows_nothing_for_supported_services_only():
    """An RCP level without policies allows nothing (AWS Organizations, RCP evaluation), but
    RCPs only apply to the services that support them (s3 does, athena does not)."""
    allow = _p({"Effect": "Allow", "Action": "*", "Resource": "*"})
    s3 = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[allow], rcps=[[]]))
    assert s3.answer == "impossible"
    athena = can(
        Query(
            USER,
            "athena:GetWorkGroup",
            "arn:aws:athena:us-east-1:111122223333:workgroup/w",
            identity_policies=[allow],
            rcps=[[]],
        )
    )
    assert athena.answer == "possible"


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["string_equals", "string_like", "arn_like"]),
                st.text(alphabet="a/:*?", min_size=0, max_size=5),
            ),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=3,
    ),
    st.text(alphabet="ab/:x", max_size=8),
)
def test_grouped_regions_are_complete(groups, value):
    """With OR-groups (a Resource element, a condition's values) and settled-state pruning, the
    group signature of any value is still the signature of some region, and witnesses are exact."""
    gs = [[(f, plain(p)) for f, p in g] for g in groups]
    dom = build_domain("k", [c for g in gs for c in g], groups=gs)
    assert dom.signature(value) in {r.signature for r in dom.regions}
    for r in dom.regions:
        assert dom.signature(r.witness) == r.signature


def test_identity_policies_for_anonymous_are_an_error_not_dropped():
    from reasoner.errors import InputError

    allow = _p({"Effect": "Allow", "Action": "*", "Resource": "*"})
    with pytest.raises(InputError, match="anonymous principal has no identity policies"):
        can(Query("anonymous", "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[allow]))
