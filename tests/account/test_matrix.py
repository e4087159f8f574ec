"""The access matrix and `decide --snapshot --batch` answer every cell exactly as a single
`decide --snapshot` does (snapshot_input + decide), on random small snapshots (hypothesis):
several roles and users with overlapping policy stacks (Action / NotAction, Deny, conditions on
tags and the caller, ${aws:username} resources), bucket policies that grant to named roles or the
account, a KMS key policy (the key policy must allow, AWS KMS "Key policies"), an RCP-bearing
organization, and a role's trust policy (sts:AssumeRole is decided by it)."""

from __future__ import annotations

import io
import json

from conftest import json_result, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.account.matrix import access_matrix, answer_snapshot_batch, expand_names, snapshot_input
from reasoner.account.model import SnapshotUnknown
from reasoner.account.snapshot import load_snapshot
from reasoner.engine.answers import Decision
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError

A = "111111111111"
B = "222222222222"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k1"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "sts:AssumeRole", "iam:DeleteRole"]
RESOURCES = [
    "arn:aws:s3:::data/k",
    "arn:aws:s3:::data",
    "arn:aws:s3:::logs/u0/k",
    "arn:aws:s3:::other/k",
    KEY,
    f"arn:aws:iam::{A}:role/r0",
    f"arn:aws:iam::{A}:role/aws-service-role/x",
    "*",
]
PATTERNS = ["*", "arn:aws:s3:::data/*", "arn:aws:s3:::data", "arn:aws:s3:::logs/${aws:username}/*", "arn:aws:kms:*"]
CONDITIONS = [
    None,
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},
    {"StringNotEquals": {"aws:PrincipalAccount": A}},
    {"Bool": {"aws:SecureTransport": "false"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/r*"}},
]

statement = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.sampled_from(["s3:GetObject", "s3:*", "kms:*", "*", "sts:AssumeRole", "iam:*"]),
        "Resource": st.sampled_from(PATTERNS),
        "Condition": st.sampled_from(CONDITIONS),
        "not_action": st.booleans(),
    }
)
grantee = st.sampled_from([{"AWS": f"arn:aws:iam::{A}:role/r0"}, {"AWS": A}, "*", {"AWS": f"arn:aws:iam::{B}:root"}])


def _doc(stmts, principal=None) -> dict:
    out = []
    for s in stmts:
        s = {k: v for k, v in s.items() if v is not None and k != "not_action"}
        if principal is not None:
            s["Principal"] = principal
        out.append(s)
    for s, src in zip(out, stmts):
        if src.get("not_action") and principal is None:
            s["NotAction"] = s.pop("Action")
    return {"Version": "2012-10-17", "Statement": out}


account = st.fixed_dictionaries(
    {
        "shared": st.lists(statement, min_size=1, max_size=2),
        "roles": st.lists(
            st.tuples(st.lists(statement, max_size=2), st.booleans(), st.booleans(), grantee),
            min_size=1,
            max_size=3,
        ),
        "users": st.lists(st.lists(statement, max_size=2), max_size=2),
        "data": st.lists(st.tuples(statement, grantee), max_size=2),
        "logs": st.lists(st.tuples(statement, grantee), max_size=1),
        "key": st.lists(st.tuples(statement, grantee), max_size=2),
        "rcp_deny_b": st.booleans(),
    }
)


def _bundle(acc) -> dict:
    shared = {"PolicyName": "shared", "Arn": f"arn:aws:iam::{A}:policy/shared", "DefaultVersionId": "v1"}
    shared["PolicyVersionList"] = [{"VersionId": "v1", "IsDefaultVersion": True, "Document": _doc(acc["shared"])}]
    roles = []
    for i, (stmts, tagged, attach, trustee) in enumerate(acc["roles"]):
        roles.append(
            {
                "RoleName": f"r{i}",
                "Path": "/",
                "Arn": f"arn:aws:iam::{A}:role/r{i}",
                "AssumeRolePolicyDocument": _doc(
                    [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": None}], trustee
                ),
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": _doc(stmts)}] if stmts else [],
                "AttachedManagedPolicies": [{"PolicyName": "shared", "PolicyArn": shared["Arn"]}] if attach else [],
                "Tags": [{"Key": "team", "Value": "data"}] if tagged else [],
            }
        )
    users = [
        {
            "UserName": f"u{i}",
            "Path": "/",
            "Arn": f"arn:aws:iam::{A}:user/u{i}",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": _doc(stmts)}] if stmts else [],
            "AttachedManagedPolicies": [{"PolicyName": "shared", "PolicyArn": shared["Arn"]}],
            "GroupList": [],
        }
        for i, stmts in enumerate(acc["users"])
    ]
    policies = []
    for name, arn in (("data", "arn:aws:s3:::data"), ("logs", "arn:aws:s3:::logs"), ("key", KEY)):
        if acc[name]:
            stmts = [dict(_doc([s], p)["Statement"][0]) for s, p in acc[name]]
            policies.append({"Resource": arn, "Account": A, "Policy": {"Version": "2012-10-17", "Statement": stmts}})
    rcp = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}],
    }
    if acc["rcp_deny_b"]:
        rcp["Statement"].append(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": B}},
            }
        )
    org = {
        "Id": "r-abcd",
        "Arn": "arn:aws:organizations::999999999999:root/o-abc123/r-abcd",
        "Policies": [{"Name": "Rcp", "Type": "RESOURCE_CONTROL_POLICY", "Content": rcp}],
        "Children": [{"Id": A, "Policies": [{"Name": "Rcp", "Type": "RESOURCE_CONTROL_POLICY", "Content": rcp}]}],
    }
    return {
        "authorization_details": {
            "RoleDetailList": roles,
            "UserDetailList": users,
            "GroupDetailList": [],
            "Policies": [shared],
        },
        "resource_policies": policies,
        "organization": org,
    }


def _single(snap, principal, action, resource, context=None) -> dict:
    """What `decide --snapshot` answers for one cell (without the id)."""
    try:
        inp = snapshot_input(snap, principal, action, resource, context)
    except SnapshotUnknown as exc:
        return {"decision": None, "error": None, "unknown": exc.reason}
    except InputError as exc:  # `decide --snapshot` refuses it (exit 2): the cell is this error
        return _without_id(Decision(decision=None, error=exc.one_line()).to_json_obj(with_mismatches=False))
    obj = decide_many([inp])[0].to_json_obj(with_mismatches=False)
    obj.pop("id")
    return obj


def _singles(snap, asks: list[tuple[str, str, str]], context: dict) -> list[dict]:
    """_single for many cells, the decidable ones decided in one call."""
    out: list = []
    todo = []
    for principal, action, resource in asks:
        try:
            todo.append((len(out), snapshot_input(snap, principal, action, resource, context)))
            out.append(None)
        except (SnapshotUnknown, InputError):
            out.append(_single(snap, principal, action, resource, context))
    for (i, _), d in zip(todo, decide_many([inp for _, inp in todo])):
        out[i] = _without_id(d.to_json_obj(with_mismatches=False))
    return out


def _without_id(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if k != "id"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(acc=account, secure=st.booleans())
def test_every_matrix_cell_is_the_single_decision(acc, secure, tmp_path):
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(_bundle(acc)))
    snap = load_snapshot(f)
    principals = sorted(a for a, e in snap.principals.items() if e.kind != "federated")
    context = {"aws:SecureTransport": "true" if secure else "false"}
    m = access_matrix(snap, principals, ACTIONS, RESOURCES, context, workers=1)
    assert m.requests_decided <= len(principals) * len(ACTIONS) * len(RESOURCES)
    cells = [(p, a, r) for p in range(len(principals)) for a in range(len(ACTIONS)) for r in range(len(RESOURCES))]
    # Each cell's input as `decide --snapshot` builds it, decided in one decide_many call (which
    # answers every input as it would be alone: tests/engine/test_batch.py).
    expected = _singles(snap, [(principals[p], ACTIONS[a], RESOURCES[r]) for p, a, r in cells], context)
    for (p, a, r), want in zip(cells, expected):
        assert m.answer(p, a, r) == want, (principals[p], ACTIONS[a], RESOURCES[r])


def _snap(tmp_path):
    acc = {
        "shared": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}],
        "roles": [([], True, True, {"AWS": A}), ([], False, False, "*")],
        "users": [[{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": None}]],
        "data": [({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/*"}, {"AWS": A})],
        "logs": [],
        "key": [({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}, {"AWS": A})],
        "rcp_deny_b": False,
    }
    f = tmp_path / "snap.json"
    f.write_text(json.dumps(_bundle(acc)))
    return f, load_snapshot(f)


def test_matrix_in_worker_processes_is_the_serial_matrix(tmp_path):
    _, snap = _snap(tmp_path)
    principals = sorted(snap.principals)
    serial = access_matrix(snap, principals, ACTIONS, RESOURCES, workers=1)
    import reasoner.account.matrix as matrix

    old = matrix.CELLS_PER_GROUNDING
    matrix.CELLS_PER_GROUNDING = len(ACTIONS) * len(RESOURCES)  # one principal per chunk: several chunks
    try:
        pooled = access_matrix(snap, principals, ACTIONS, RESOURCES, workers=2)
    finally:
        matrix.CELLS_PER_GROUNDING = old
    assert list(serial.rows()) == list(pooled.rows())


def test_axes_from_lists_globs_and_files(tmp_path):
    _, snap = _snap(tmp_path)
    listing = tmp_path / "who.txt"
    listing.write_text("# roles\nr0\n\nu0\n")
    assert expand_names(snap, f"@{listing}", "principals") == [f"arn:aws:iam::{A}:role/r0", f"arn:aws:iam::{A}:user/u0"]
    assert expand_names(snap, "arn:aws:iam::*:role/*,r0", "principals") == [
        f"arn:aws:iam::{A}:role/r0",
        f"arn:aws:iam::{A}:role/r1",
    ]
    assert "s3:GetObject" in expand_names(snap, "s3:Get*", "actions")
    assert expand_names(snap, "arn:aws:s3:::*,*", "resources") == ["arn:aws:s3:::data", "*"]


def test_snapshot_batch_lines_name_only_the_request(tmp_path):
    _, snap = _snap(tmp_path)
    req = {"principal": f"arn:aws:iam::{A}:role/r0", "action": "s3:GetObject", "resource": "arn:aws:s3:::data/k"}
    lines = [
        json.dumps({"id": "ok", "request": req}),
        json.dumps({"id": 2, "request": {**req, "action": "s3:PutObject", "context": {"aws:SecureTransport": True}}}),
        "{broken",
        json.dumps({"id": "layers", "request": req, "identity_policies": []}),
        json.dumps({"id": "who", "request": {**req, "principal": "nobody"}}),
        json.dumps({"id": "typo", "request": {**req, "action": "s3:GetObjekt"}}),
        json.dumps({"id": "owner", "request": {**req, "resource_account": B}}),
        json.dumps({"id": 1.5, "request": req}),
    ]
    got = list(answer_snapshot_batch(snap, io.StringIO("\n".join(lines) + "\n"), "b.jsonl"))
    assert [g["id"] for g in got] == ["ok", 2, None, "layers", "who", "typo", "owner", None]
    assert {k: v for k, v in got[0].items() if k != "id"} == _single(
        snap, req["principal"], "s3:GetObject", req["resource"]
    )
    assert got[1]["decision"] == _single(snap, req["principal"], "s3:PutObject", req["resource"])["decision"]
    assert got[2]["error"].startswith("b.jsonl:3: $: malformed JSON")
    assert "b.jsonl:4: $.identity_policies: with --snapshot a line names only the request" in got[3]["error"]
    assert got[4]["error"].startswith("b.jsonl:5: $.request.principal: no single principal 'nobody'")
    assert "did you mean 's3:GetObject'" in got[5]["error"] and got[5]["error"].startswith("b.jsonl:6: ")
    assert "drop resource_account" in got[6]["error"]
    assert got[7]["error"] == "b.jsonl:8: $.id: id must be a string or an integer"


def test_snapshot_batch_unknown_when_a_layer_could_not_be_read(tmp_path):
    bundle = json.loads((_snap(tmp_path)[0]).read_text())
    bundle["authorization_details"]["RoleDetailList"][0]["AttachedManagedPolicies"].append(
        {"PolicyName": "gone", "PolicyArn": f"arn:aws:iam::{A}:policy/gone"}
    )
    f = tmp_path / "broken.json"
    f.write_text(json.dumps(bundle))
    snap = load_snapshot(f)
    req = {"principal": f"arn:aws:iam::{A}:role/r0", "action": "s3:GetObject", "resource": "arn:aws:s3:::data/k"}
    (got,) = answer_snapshot_batch(snap, [json.dumps({"id": 1, "request": req})], "b")
    assert got["decision"] is None and got["error"] is None and "gone" in got["unknown"]
    m = access_matrix(snap, [req["principal"]], ["s3:GetObject"], [req["resource"]], workers=1)
    assert m.answer(0, 0, 0) == {k: v for k, v in got.items() if k != "id"}


def test_cli_matrix_and_snapshot_batch(tmp_path):
    f, snap = _snap(tmp_path)
    proc = run_cli("matrix", str(f), "-p", "arn:aws:iam::*", "-a", "s3:GetObject,s3:PutObject", "-r", "arn:aws:s3:::*")
    assert proc.returncode == 0, proc.stderr
    assert "3 principals x 2 actions x 1 resources = 6 cells" in proc.stdout
    proc = run_cli("matrix", str(f), "-p", "r0", "-a", "s3:GetObject", "-r", "arn:aws:s3:::data/k", "--json")
    m = json_result(proc.stdout)
    assert m["answers"][m["cells"][0][0][0]] == _single(
        snap, f"arn:aws:iam::{A}:role/r0", "s3:GetObject", "arn:aws:s3:::data/k"
    )
    proc = run_cli("matrix", str(f), "-p", "r0", "-a", "s3:GetObjekt", "-r", "*")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--actions" in proc.stderr
    line = {"id": 1, "request": {"principal": "r0", "action": "s3:GetObject", "resource": "arn:aws:s3:::data/k"}}
    proc = run_cli("decide", "--snapshot", str(f), "--batch", "-", stdin=json.dumps(line) + "\n")
    assert proc.returncode == 0, proc.stderr
    assert json_result(proc.stdout)["decision"] == m["answers"][m["cells"][0][0][0]]["decision"]
    proc = run_cli("decide", "--snapshot", str(f), "--batch", "-", "--identity-policy", str(f), stdin="")
    assert proc.returncode == 2 and "drop --identity-policy" in proc.stderr
