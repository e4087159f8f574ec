"""Property: `who-can` and the concrete decider agree on random small accounts.

- every hop of every reported path is allowed by the concrete decider (no false witness);
- a principal reported unable is denied on concrete requests drawn from the same space (the
  direct call with sampled contexts, and the call through Athena) - no missed access.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.account.paths import Constraints, PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.decide import decide_many
from reasoner.policy.request import decide_input_from_obj

A = "111111111111"
BUCKET = "arn:aws:s3:::data"
OBJECT = BUCKET + "/k"
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
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},
    {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}},
    {"Bool": {"aws:ViaAWSService": "false"}},
]
CONTEXTS = [
    {},
    {"aws:SourceIp": "10.1.2.3"},
    {"aws:SourceIp": "192.0.2.1"},
    {"aws:CalledVia": ["athena.amazonaws.com"], "aws:ViaAWSService": True},
]

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
    out = {
        "authorization_details": {"RoleDetailList": roles, "UserDetailList": [], "GroupDetailList": [], "Policies": []}
    }
    if acc["bucket"]:
        stmts = [dict(s, Principal={"AWS": f"arn:aws:iam::{A}:role/r0"}) for s in acc["bucket"]]
        out["resource_policies"] = [{"Resource": BUCKET, "Account": A, "Policy": _doc(stmts)}]
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acc=account)
def test_who_can_agrees_with_the_concrete_decider(acc, tmp_path):
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(_bundle(acc)))
    snap = load_snapshot(f)
    finder = PathFinder(snap)
    answer = finder.who_can("s3:GetObject", OBJECT, Constraints())
    assert not answer.unknown
    # No false witness: every hop of every path is allowed.
    lines = [h.witness for p in answer.principals for h in p.path.hops]
    if lines:
        got = decide_many([decide_input_from_obj(line) for line in lines])
        assert [d.decision for d in got] == ["allow"] * len(lines)
    # No missed access: principals reported unable are denied on sampled concrete requests.
    # A context with CalledVia [athena] exists only after the principal started a query (the
    # service-chain rule), so it is sampled only for principals that may start one directly.
    able = {p.principal for p in answer.principals}
    workgroup = f"arn:aws:athena:us-east-1:{A}:workgroup/w"
    direct = [c for c in CONTEXTS if "aws:CalledVia" not in c]
    for e in snap.principals.values():
        if e.arn in able:
            continue
        triggers = decide_many(
            [finder.auth.decide_input(e.arn, "athena:StartQueryExecution", workgroup, c) for c in direct]
        )
        contexts = CONTEXTS if any(d.decision == "allow" for d in triggers) else direct
        got = decide_many([finder.auth.decide_input(e.arn, "s3:GetObject", OBJECT, c) for c in contexts])
        assert all(d.decision != "allow" for d in got), (e.arn, [(c, d.decision) for c, d in zip(contexts, got)])
