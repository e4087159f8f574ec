"""Property: `who-can` and the concrete decider agree on random small accounts, with the
requests AWS can actually send (reasoner/account/origin.py: a first call comes from outside with
a public aws:SourceIp, or through a VPC endpoint with aws:SourceVpce / SourceVpc / VpcSourceIp and
no aws:SourceIp; aws:SecureTransport and the time are always sent).

- every hop of every reported path is allowed by the concrete decider, also once the keys AWS
  always sends and the origin's network keys are filled in (no false or unsendable witness), and
  no first call uses an endpoint --not-from-vpce names;
- a principal reported unable is denied on every request of a brute-force grid: direct calls
  from every realistic origin, role assumption up to two hops, and the Athena service chain
  (reasoner/data/service_chains.json) with aws:SourceIp public, private or absent - no missed access.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.account.paths import Constraints, PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many

A = "111111111111"
BUCKET = "arn:aws:s3:::data"
OBJECT = BUCKET + "/k"
WORKGROUP = f"arn:aws:athena:us-east-1:{A}:workgroup/w"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:*", "athena:StartQueryExecution", "sts:AssumeRole"]
RESOURCES = [
    "*",
    BUCKET + "/*",
    "arn:aws:s3:::other/*",
    f"arn:aws:athena:*:{A}:workgroup/*",
    f"arn:aws:iam::{A}:role/*",
]
CONDITIONS = [
    None,
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},  # never a first call's aws:SourceIp
    {"IpAddress": {"aws:SourceIp": "52.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "52.0.0.0/8"}},
    {"IpAddress": {"aws:SourceIp": "52.0.0.0/8"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}},  # never both
    {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
    {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}},
    {"Null": {"aws:SecureTransport": "true"}},  # always sent
    {"Bool": {"aws:SecureTransport": "false"}},
    {"Null": {"aws:SourceIp": "true"}},
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},
    {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}},
    {"Bool": {"aws:ViaAWSService": "false"}},
]
ENDPOINTS = [
    [],
    [{"VpcEndpointId": "vpce-1", "VpcId": "vpc-1", "ServiceName": "com.amazonaws.us-east-1.s3"}],
]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
ALWAYS = {"aws:CurrentTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(NOW.timestamp()))}

statement = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.sampled_from(ACTIONS),
        "Resource": st.sampled_from(RESOURCES),
        "Condition": st.sampled_from(CONDITIONS),
    }
)


def _doc(stmts):
    return {"Version": "2012-10-17", "Statement": [{k: v for k, v in s.items() if v is not None} for s in stmts]}


account = st.fixed_dictionaries(
    {
        "roles": st.lists(
            st.tuples(
                st.lists(statement, min_size=1, max_size=3),
                st.booleans(),
                st.sampled_from(["account", "r0", "service"]),
            ),
            min_size=1,
            max_size=4,
        ),
        "bucket": st.lists(statement, min_size=0, max_size=2),
        "endpoints": st.sampled_from(ENDPOINTS),
        "not_from_vpce": st.sampled_from([(), ("vpce-1",)]),
    }
)


def _bundle(acc) -> dict:
    roles = []
    for i, (stmts, tagged, trust) in enumerate(acc["roles"]):
        principal = {
            "account": {"AWS": f"arn:aws:iam::{A}:root"},
            "r0": {"AWS": f"arn:aws:iam::{A}:role/r0"},
            "service": {"Service": "ec2.amazonaws.com"},
        }[trust]
        roles.append(
            {
                "RoleName": f"r{i}",
                "Arn": f"arn:aws:iam::{A}:role/r{i}",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
                },
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": _doc(stmts)}],
                "AttachedManagedPolicies": [],
                "Tags": [{"Key": "team", "Value": "data"}] if tagged else [],
            }
        )
    out: dict = {
        "authorization_details": {"RoleDetailList": roles, "UserDetailList": [], "GroupDetailList": [], "Policies": []}
    }
    if acc["bucket"]:
        stmts = [dict(s, Principal={"AWS": f"arn:aws:iam::{A}:role/r0"}) for s in acc["bucket"]]
        out["resource_policies"] = [{"Resource": BUCKET, "Account": A, "Policy": _doc(stmts)}]
    if acc["endpoints"]:
        out["vpc_endpoints"] = acc["endpoints"]
    return out


def first_call_origins(acc, service: str = "s3") -> list[dict]:
    """Every realistic network origin of a caller's own request to `service` (a grid: two public
    addresses, each endpoint the path may use), with aws:SecureTransport true and false. A request
    reaches AWS through an endpoint of its own service only (an S3 endpoint carries no STS call:
    AWS PrivateLink, "Access AWS services through AWS PrivateLink"); a snapshot that lists no
    endpoint may have any."""
    banned = set(acc["not_from_vpce"])
    out: list[dict] = [{"aws:SourceIp": "52.1.2.3"}, {"aws:SourceIp": "3.3.3.3"}]
    listed = [
        (e["VpcEndpointId"], e["VpcId"]) for e in acc["endpoints"] if e["ServiceName"].rsplit(".", 1)[-1] == service
    ]
    unlisted = [("vpce-1", "vpc-1"), ("vpce-2", "vpc-2")] if not acc["endpoints"] else []
    for vpce, vpc in listed or unlisted:
        if vpce not in banned:
            out.append({"aws:SourceVpce": vpce, "aws:SourceVpc": vpc, "aws:VpcSourceIp": "10.1.2.3"})
    return [{**o, **ALWAYS, "aws:SecureTransport": s} for o in out for s in ("true", "false")]


# A forward access session of Athena: no VPC keys; aws:SourceIp the caller's, Athena's or none.
ATHENA_HOP = [
    {**ALWAYS, "aws:SecureTransport": "true", "aws:CalledVia": ["athena.amazonaws.com"], **ip}
    for ip in ({"aws:SourceIp": "52.1.2.3"}, {"aws:SourceIp": "10.1.2.3"}, {})
]


def _allowed(finder, arn, action, resource, contexts) -> bool:
    got = decide_many([finder.auth.decide_input(arn, action, resource, c) for c in contexts])
    return any(d.decision == "allow" for d in got)


def identities_within_two_assumptions(finder, snap, acc, start) -> set[str]:
    reached, frontier = {start}, [start]
    for _ in range(2):
        nxt = []
        for cur in frontier:
            for role in snap.principals.values():
                if role.kind == "role" and role.arn not in reached:
                    if _allowed(finder, cur, "sts:AssumeRole", role.arn, first_call_origins(acc, "sts")):
                        reached.add(role.arn)
                        nxt.append(role.arn)
        frontier = nxt
    return reached


def completions(hop) -> list[dict]:
    """The hop's context with what AWS always sends and the origin's network keys filled in:
    the requests AWS can send that the witness stands for."""
    ctx = {**ALWAYS, "aws:SecureTransport": "true", **hop.context}
    if hop.called_via:
        return [ctx]
    vpc_keys = ("aws:SourceVpce", "aws:SourceVpc", "aws:VpcSourceIp")
    endpoint = {"aws:SourceVpce": "vpce-9", "aws:SourceVpc": "vpc-9", "aws:VpcSourceIp": "10.1.2.3"}
    if any(k in ctx for k in vpc_keys):
        return [{**endpoint, **ctx}]
    if "aws:SourceIp" in ctx:
        return [ctx]
    return [{"aws:SourceIp": "52.1.2.3", **ctx}, {**endpoint, **ctx}]


def assert_realistic_first_call(hop, acc) -> None:
    ctx = hop.context
    assert not ("aws:SourceIp" in ctx and "aws:SourceVpce" in ctx), hop.context
    if "aws:SourceIp" in ctx:
        assert ipaddress.ip_address(ctx["aws:SourceIp"]).is_global, hop.context
    assert ctx.get("aws:SourceVpce") not in acc["not_from_vpce"], hop.context
    assert "aws:VpcSourceIp" not in ctx or "aws:SourceIp" not in ctx, hop.context


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acc=account)
def test_who_can_agrees_with_the_concrete_decider(acc, tmp_path):
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(_bundle(acc)))
    snap = load_snapshot(f)
    finder = PathFinder(snap)
    answer = finder.who_can("s3:GetObject", OBJECT, Constraints(not_from_vpce=acc["not_from_vpce"]))
    assert not answer.unknown
    # No false witness: every hop of every path is allowed, as a request AWS can send.
    for p in answer.principals:
        for h in p.path.hops:
            if not h.called_via:
                assert_realistic_first_call(h, acc)
            assert _allowed(finder, h.principal, h.action, h.resource, completions(h)), (p.principal, h.to_json())
    # No missed access: principals reported unable are denied on the whole grid.
    able = {p.principal for p in answer.principals}
    origins = first_call_origins(acc)
    for e in snap.principals.values():
        if e.arn in able:
            continue
        for arn in identities_within_two_assumptions(finder, snap, acc, e.arn):
            assert not _allowed(finder, arn, "s3:GetObject", OBJECT, origins), (e.arn, arn, "direct")
            if _allowed(finder, arn, "athena:StartQueryExecution", WORKGROUP, first_call_origins(acc, "athena")):
                assert not _allowed(finder, arn, "s3:GetObject", OBJECT, ATHENA_HOP), (e.arn, arn, "athena")
