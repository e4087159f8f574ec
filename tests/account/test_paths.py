"""Role assumption, service chains and paths (`who-can`, `reach`) through account snapshots.

Each rule cites the AWS behaviour it follows. Small snapshots are written inline so that every
test states its account."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, ROOT, json_result, run_cli
from snapshot_builders import A, B, allow, role, snapshot, trust, user

from reasoner.account.paths import Constraints, PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.cases import hop_label, load_case, reach_questions, who_can_questions
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.request import decide_input_from_obj

SNAPS = CORPUS / "account-snapshots"
SEED = ROOT / "cases" / "athena-vpce"


def can_reach(snap_file, start, action, resource, **cons):
    return PathFinder(load_snapshot(snap_file)).reach(start, action, resource, Constraints(**cons))


# -- role assumption (IAM User Guide: "How IAM roles differ from resource-based policies",
#    "Cross-account policy evaluation logic", STS AssumeRole) ----------------------------------------


def test_same_account_trust_naming_the_principal_needs_no_identity_permission(tmp_path):
    """Same account: a resource-based policy (the trust policy) that names the principal ARN is
    enough on its own."""
    f = snapshot(
        tmp_path,
        users=[user("u")],
        roles=[role("target", trust({"AWS": f"arn:aws:iam::{A}:user/u"}), [allow("s3:GetObject")])],
    )
    a = can_reach(f, "u", "s3:GetObject", "arn:aws:s3:::b/k")
    assert a.answer == "possible"
    assert [hop_label(h) for h in a.paths[0].hops] == ["assume sts:AssumeRole", "call s3:GetObject"]


def test_trust_naming_the_account_delegates_to_identity_policies(tmp_path):
    """Trust policy naming the account root: the caller also needs sts:AssumeRole in its own policies."""
    t = trust({"AWS": f"arn:aws:iam::{A}:root"})
    f = snapshot(tmp_path, users=[user("u")], roles=[role("target", t, [allow("s3:GetObject")])])
    assert can_reach(f, "u", "s3:GetObject", "arn:aws:s3:::b/k").answer == "impossible"
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("sts:AssumeRole", f"arn:aws:iam::{A}:role/target")])],
        roles=[role("target", t, [allow("s3:GetObject")])],
    )
    assert can_reach(f, "u", "s3:GetObject", "arn:aws:s3:::b/k").answer == "possible"


def test_cross_account_assume_needs_both_sides(tmp_path):
    """Cross account: the trust policy and the caller's identity policy must both allow."""
    t = trust({"AWS": f"arn:aws:iam::{A}:root"})
    good = snapshot(
        tmp_path, users=[user("u", [allow("sts:AssumeRole")])], roles=[role("x", t, [allow("s3:GetObject")], account=B)]
    )
    assert can_reach(good, "u", "s3:GetObject", "arn:aws:s3:::b/k").answer == "possible"
    bad = snapshot(
        tmp_path,
        users=[user("u", [allow("s3:*")])],
        roles=[role("x", trust({"AWS": f"arn:aws:iam::{A}:user/u"}), [allow("s3:GetObject")], account=B)],
    )
    a = can_reach(bad, "u", "s3:GetObject", "arn:aws:s3:::b/k")
    # u reaches the object itself (same-account S3), but not through x: no sts:AssumeRole allow.
    assert all(len(p.hops) == 1 for p in a.paths)


def test_role_chaining_and_conditions_that_remain(tmp_path):
    """Role chaining: a role session may assume another role; sts:ExternalId remains to be given."""
    f = snapshot(
        tmp_path,
        users=[user("u")],
        roles=[
            role("r1", trust({"AWS": f"arn:aws:iam::{A}:user/u"}), [allow("sts:AssumeRole")]),
            role(
                "r2",
                trust({"AWS": f"arn:aws:iam::{A}:role/r1"}, {"StringEquals": {"sts:ExternalId": "xyz"}}),
                [allow("dynamodb:GetItem")],
            ),
        ],
    )
    a = can_reach(f, "u", "dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{A}:table/t")
    assert a.answer == "possible"
    hops = a.paths[0].hops
    assert [h.resource.rsplit("/", 1)[-1] for h in hops[:2]] == ["r1", "r2"]
    assert hops[1].context.get("sts:ExternalId") == "xyz"


def test_web_identity_provider_is_a_path_origin(tmp_path):
    """A trust policy naming an OIDC provider ("Federated") lets its users call
    AssumeRoleWithWebIdentity; the provider's claim conditions remain on the path (IAM User
    Guide, "Creating a role for web identity or OIDC federation")."""
    gh = f"arn:aws:iam::{A}:oidc-provider/token.actions.githubusercontent.com"
    t = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": gh},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}},
            }
        ],
    }
    f = snapshot(tmp_path, roles=[role("deploy", t, [allow("s3:PutObject")])])
    a = PathFinder(load_snapshot(f)).who_can("s3:PutObject", "arn:aws:s3:::b/k")
    paths = {p.principal: p.path for p in a.principals}
    assert set(paths) == {gh, f"arn:aws:iam::{A}:role/deploy"}
    first = paths[gh].hops[0]
    assert first.action == "sts:AssumeRoleWithWebIdentity"
    assert first.context["token.actions.githubusercontent.com:sub"].startswith("repo:octo/app:")


def test_role_sessions_carry_the_role_tags_and_nothing_else(tmp_path):
    """aws:PrincipalTag is the role's tags: a tag the role lacks is absent, not searched."""
    cond = {"StringEquals": {"aws:PrincipalTag/team": "data"}}
    f = snapshot(
        tmp_path,
        roles=[
            role("tagged", trust({"AWS": A}), [allow("s3:GetObject", condition=cond)], tags={"team": "data"}),
            role("untagged", trust({"AWS": A}), [allow("s3:GetObject", condition=cond)]),
        ],
    )
    a = PathFinder(load_snapshot(f)).who_can("s3:GetObject", "arn:aws:s3:::b/k")
    assert [p.principal.rsplit("/", 1)[-1] for p in a.principals] == ["tagged"]
    assert not a.unknown


def test_boundary_caps_the_role_session(tmp_path):
    """A permissions boundary limits the role's identity-based permissions."""
    bpol = {
        "Arn": f"arn:aws:iam::{A}:policy/b",
        "PolicyVersionList": [{"IsDefaultVersion": True, "Document": allow("s3:ListBucket")}],
    }
    f = snapshot(
        tmp_path,
        roles=[role("r", trust({"AWS": A}), [allow("s3:*")], boundary=f"arn:aws:iam::{A}:policy/b")],
        policies=[bpol],
    )
    pf = PathFinder(load_snapshot(f))
    assert not pf.who_can("s3:GetObject", "arn:aws:s3:::b/k").principals
    assert pf.who_can("s3:ListBucket", "arn:aws:s3:::b").principals


def test_scps_from_the_organization_tree(tmp_path):
    """SCPs of every level from the root down to the account must allow."""
    deny_s3 = {
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ]
    }
    org = {
        "Id": "r-abcd",
        "Arn": "arn:aws:organizations::999999999999:root/o-abc123/r-abcd",
        "Policies": [{"Name": "Full", "Type": "SERVICE_CONTROL_POLICY", "Content": allow("*")}],
        "Children": [
            {
                "Id": "ou-ab-1",
                "Policies": [{"Name": "NoS3", "Type": "SERVICE_CONTROL_POLICY", "Content": deny_s3}],
                "Children": [
                    {"Id": A, "Policies": [{"Name": "Full", "Type": "SERVICE_CONTROL_POLICY", "Content": allow("*")}]}
                ],
            }
        ],
    }
    f = snapshot(tmp_path, roles=[role("r", trust({"AWS": A}), [allow("*")])], organization=org)
    snap = load_snapshot(f)
    assert snap.org_id == "o-abc123" and snap.management_account == "999999999999"
    pf = PathFinder(snap)
    assert not pf.who_can("s3:GetObject", "arn:aws:s3:::b/k").principals
    assert pf.who_can("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{A}:table/t").principals


# -- service chains and endpoints (IAM User Guide: aws:CalledVia, forward access sessions,
#    aws:SourceVpce) -------------------------------------------------------------------------------


def test_endpoint_listed_in_the_snapshot_is_the_only_way_in(tmp_path):
    """With endpoints in the snapshot, aws:SourceVpce is absent or one of them (closed world)."""
    cond = {"StringEquals": {"aws:SourceVpce": "vpce-unlisted"}}
    f = snapshot(
        tmp_path,
        roles=[role("r", trust({"AWS": A}), [allow("s3:GetObject", condition=cond)])],
        vpc_endpoints=[{"VpcEndpointId": "vpce-listed", "ServiceName": "com.amazonaws.us-east-1.s3"}],
    )
    assert not PathFinder(load_snapshot(f)).who_can("s3:GetObject", "arn:aws:s3:::b/k").principals
    cond = {"StringEquals": {"aws:SourceVpce": "vpce-listed"}}
    f = snapshot(
        tmp_path,
        roles=[role("r", trust({"AWS": A}), [allow("s3:GetObject", condition=cond)])],
        vpc_endpoints=[{"VpcEndpointId": "vpce-listed", "ServiceName": "com.amazonaws.us-east-1.s3"}],
    )
    a = PathFinder(load_snapshot(f)).who_can("s3:GetObject", "arn:aws:s3:::b/k")
    assert a.principals[0].path.hops[0].context["aws:SourceVpce"] == "vpce-listed"
    a = PathFinder(load_snapshot(f)).who_can(
        "s3:GetObject", "arn:aws:s3:::b/k", Constraints(not_from_vpce=("vpce-listed",))
    )
    assert not a.principals


def test_service_hop_has_no_endpoint(tmp_path):
    """A forward-access-session hop does not carry the caller's aws:SourceVpce, so a policy that
    needs the endpoint on S3 itself cannot be met through Athena (the post's warning)."""
    f = snapshot(
        tmp_path,
        roles=[
            role(
                "r",
                trust({"AWS": A}),
                [
                    allow("athena:StartQueryExecution"),
                    allow("s3:GetObject", condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}}),
                ],
            )
        ],
    )
    a = can_reach(f, "r", "s3:GetObject", "arn:aws:s3:::b/k")
    assert a.answer == "possible" and all(len(p.hops) == 1 for p in a.paths)
    assert (
        can_reach(f, "r", "s3:GetObject", "arn:aws:s3:::b/k", without_via=()).paths[0].hops[0].context["aws:SourceVpce"]
        == "vpce-1"
    )


def test_without_via_removes_every_route_through_the_service(tmp_path):
    cond = {"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}
    f = snapshot(
        tmp_path,
        roles=[
            role("r", trust({"AWS": A}), [allow("athena:StartQueryExecution"), allow("s3:GetObject", condition=cond)])
        ],
    )
    a = can_reach(f, "r", "s3:GetObject", "arn:aws:s3:::b/k")
    assert [hop_label(h) for h in a.paths[0].hops][-1] == "service s3:GetObject via athena.amazonaws.com"
    assert (
        can_reach(f, "r", "s3:GetObject", "arn:aws:s3:::b/k", without_via=("athena.amazonaws.com",)).answer
        == "impossible"
    )


# -- the seed, account-scale -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "index", range(len(load_case(SEED).spec.reach)), ids=[q.id for q in load_case(SEED).spec.reach]
)
def test_seed_reach_questions(index, seed_reach):
    q, a, ok = seed_reach[index]
    assert ok, (q.id, a.answer, [[hop_label(h) for h in p.hops] for p in a.paths], a.unknown)


@pytest.fixture(scope="module")
def seed_reach():
    return reach_questions(load_case(SEED))


def test_seed_who_can_questions():
    for q, a, ok in who_can_questions(load_case(SEED)):
        assert ok, (q.id, [p.principal for p in a.principals], a.unknown)


def test_every_witness_is_allowed_by_the_concrete_decider(seed_reach):
    """Soundness: every hop of every reported path is a request the concrete decider allows."""
    lines = [h.witness for _, a, _ in seed_reach for p in a.paths for h in p.hops]
    assert lines
    decisions = decide_many([decide_input_from_obj(line) for line in lines])
    assert [d.decision for d in decisions] == ["allow"] * len(lines)


def test_reach_and_who_can_through_the_cli():
    snap = str(SEED / "snapshot" / "snapshot.json")
    obj = "arn:aws:s3:::examplecorp-business-data/revenuedata/service_revenue/part-0000.parquet"
    proc = run_cli("reach", snap, "--from", "BizMetricsQuery", "--action", "s3:GetObject", "--resource", obj, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json_result(proc.stdout)
    assert data["answer"] == "possible" and data["paths"][0]["hops"][-1]["called_via"] == ["athena.amazonaws.com"]
    proc = run_cli(
        "reach",
        snap,
        "--from",
        "BizMetricsQuery",
        "--action",
        "s3:GetObject",
        "--resource",
        obj,
        "--without-via",
        "athena.amazonaws.com",
    )
    assert proc.returncode == 0 and "impossible" in proc.stdout
    proc = run_cli("who-can", snap, "--action", "s3:GetObject", "--resource", obj)
    assert proc.returncode == 0 and "BizMetricsQuery" in proc.stdout and "sso-admin" in proc.stdout
    proc = run_cli("reach", "--case", str(SEED))
    assert proc.returncode == 0, proc.stdout[-2000:]


# -- IAMSpy's expectations, re-checked (regression; their fixtures are not all valid AWS) -----------

IAMSPY = SNAPS / "iamspy-tests"
IAMSPY_CASES = [
    c for c in json.loads((IAMSPY / "expected.json").read_text())["cases"] if c["test"] in ("can_i", "who_can")
]
# Where AWS semantics (or the fixture's validity) differ from IAMSpy's answer: what we answer and why.
IAMSPY_DEVIATIONS = {
    # `"Principal": "arn:..."` as a bare string: AWS rejects such a policy ("Principal must be "*"
    # or an object"); the policy is skipped and answers about its resource are unknown.
    "cross-account-rp.json": "unknown",
    "resource-s3-allow-testing.json": "unknown",
    "resource-s3-deny-testing2.json": "unknown",
}


@pytest.mark.parametrize("case", IAMSPY_CASES, ids=lambda c: f"{c['test']}-{'-'.join(sum(c['files'].values(), []))}")
def test_iamspy_expectations(case):
    files = [IAMSPY / f for k in ("gaads", "resources", "scps") for f in case["files"].get(k, [])]
    snap = load_snapshot(files)
    pf = PathFinder(snap)
    args = case["args"]
    deviation = next((v for f, v in IAMSPY_DEVIATIONS.items() if f in case["files"].get("resources", [])), None)
    if case["test"] == "can_i":
        src, action, res = args[:3]
        conds, strict = (args[3] if len(args) > 3 else []) or [], len(args) > 5 and bool(args[5])
        cons = Constraints(where=tuple(tuple(x.split("=", 1)) for x in conds), strict=strict)
        if src not in snap.principals:
            # IAMSpy answers False for a principal its GAAD does not have; we refuse the question.
            with pytest.raises(InputError, match="no single principal"):
                snap.entity(src)
            return
        e = snap.entity(src)
        routes, unknown = pf.routes([e], action, res, cons)[e.arn]
        got = "unknown" if unknown and not routes else bool(routes)
    else:
        action, res = args[:2]
        conds, strict = (args[2] if len(args) > 2 else []) or [], len(args) > 4 and bool(args[4])
        cons = Constraints(where=tuple(tuple(x.split("=", 1)) for x in conds), strict=strict)
        a = pf.who_can(action, res, cons)
        got = "unknown" if a.unknown else sorted(p.principal for p in a.principals)
    assert got == (deviation or case["expected"])


def test_printed_decide_commands_reproduce_the_allow(seed_reach):
    """Each hop prints a ready `reasoner decide --snapshot ...` command; running it gives allow."""
    import shlex

    commands = list(dict.fromkeys(h.decide_command for _, a, _ in seed_reach for p in a.paths[:1] for h in p.hops))
    assert all(c.startswith("reasoner decide --snapshot ") for c in commands)
    for cmd in commands[:5]:
        proc = run_cli(*shlex.split(cmd)[1:], "--json")
        assert proc.returncode == 0, proc.stderr
        assert json_result(proc.stdout)["decision"] == "allow", cmd


def test_decide_snapshot_refuses_extra_layers():
    proc = run_cli(
        "decide",
        "--snapshot",
        str(SEED / "snapshot" / "snapshot.json"),
        "--principal",
        "Admin",
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::b/k",
        "--boundary",
        "x.json",
    )
    assert proc.returncode == 2 and "--snapshot gives every policy layer" in proc.stderr
