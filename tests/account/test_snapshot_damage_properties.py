"""Property (issue 11): random damage to the seed snapshot (a field of a principal, managed
policy or resource-policy entry dropped, retyped or the entry duplicated with a change) never
gives a confident answer that differs from the undamaged snapshot's. Every who-can answer over the
damaged snapshot is the same, or `unknown` for that principal, or the snapshot says it is
incomplete, or loading refuses it with an InputError.

Only damage a loader can see is drawn: fields AWS always writes (Arn, the trust policy, a
version's IsDefaultVersion and Document, an attachment's PolicyArn, a tag's Key) and the types of
every field. Dropping an optional field (a boundary, a tag, a whole entry) is a different valid
snapshot, not damage."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.account.paths import PathFinder
from reasoner.account.snapshot import load_snapshot
from reasoner.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "cases" / "athena-vpce" / "snapshot" / "snapshot.json").read_text())
QUESTIONS = [
    ("s3:GetObject", "arn:aws:s3:::examplecorp-business-data/revenuedata/x.parquet"),
    ("athena:StartQueryExecution", "arn:aws:athena:us-east-1:111122223333:workgroup/BizMetrics"),
    ("sts:AssumeRole", "arn:aws:iam::111122223333:role/ReportPublisher"),
]
# Fields AWS always writes: dropping one is damage the loader must see.
REQUIRED = {
    "role": ["Arn", "AssumeRolePolicyDocument"],
    "user": ["Arn"],
    "policy": ["Arn", "PolicyVersionList"],
    "resource": ["Resource", "Policy"],
}
RETYPED = [None, 0, True, "text", [], {}, [1], {"Key": 1}]


def _gaad(d: dict) -> dict:
    g = d["authorization_details"]
    return g if isinstance(g, dict) else g[0]


def _entries(d: dict) -> list[tuple[str, list, int]]:
    """Every (kind, list, index) of an entry damage can hit."""
    g = _gaad(d)
    out = [("role", g["RoleDetailList"], i) for i in range(len(g["RoleDetailList"]))]
    out += [("user", g["UserDetailList"], i) for i in range(len(g["UserDetailList"]))]
    out += [("policy", g["Policies"], i) for i in range(len(g["Policies"]))]
    out += [("resource", d["resource_policies"], i) for i in range(len(d["resource_policies"]))]
    return out


def _nested(entry: dict) -> list[tuple[dict, str]]:
    """(object, key) pairs inside an entry whose key AWS always writes."""
    out = []
    for m in entry.get("AttachedManagedPolicies") or []:
        out.append((m, "PolicyArn"))
    for t in entry.get("Tags") or []:
        out.append((t, "Key"))
    for v in entry.get("PolicyVersionList") or []:
        if v.get("IsDefaultVersion"):
            out += [(v, "IsDefaultVersion"), (v, "Document")]
    return out


@st.composite
def damaged(draw) -> tuple[str, dict]:
    d = copy.deepcopy(SEED)
    kind, items, i = draw(st.sampled_from(_entries(d)))
    entry = items[i]
    op = draw(st.sampled_from(["drop", "retype", "duplicate", "drop-nested", "retype-nested"]))
    nested = _nested(entry)
    if op.endswith("nested") and not nested:
        op = "retype"
    if op == "drop":
        key = draw(st.sampled_from(REQUIRED[kind]))
        entry.pop(key, None)
    elif op == "retype":
        key = draw(st.sampled_from(sorted(entry)))
        value = draw(st.sampled_from([v for v in RETYPED if type(v) is not type(entry[key])]))
        entry[key] = value
    elif op == "duplicate":
        twin = copy.deepcopy(entry)
        key = draw(st.sampled_from(sorted(k for k in twin if k not in ("Arn", "Resource"))))
        twin[key] = draw(st.sampled_from([v for v in RETYPED if v != twin[key]]))
        items.append(twin)
    else:
        obj, key = draw(st.sampled_from(nested))
        if op == "drop-nested":
            obj.pop(key)
        else:
            obj[key] = draw(st.sampled_from([v for v in RETYPED if type(v) is not type(obj[key])]))
    return f"{op} {kind}[{i}] {key}", d


def _answers(path: Path) -> tuple[bool, list[dict[str, str]]] | None:
    """(complete, per question {principal: possible | unknown}), or None when refused."""
    try:
        snap = load_snapshot(path)
    except InputError:
        return None
    finder = PathFinder(snap)
    out = []
    for action, resource in QUESTIONS:
        a = finder.who_can(action, resource)
        answers = {p.principal: "possible" for p in a.principals}
        answers.update({u.principal: "unknown" for u in a.unknown})
        out.append(answers)
    return snap.complete, out


BASE: list = []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=damaged())
def test_damage_is_never_a_confident_different_answer(tmp_path, case):
    what, d = case
    if not BASE:
        base = tmp_path / "seed.json"
        base.write_text(json.dumps(SEED))
        got = _answers(base)
        assert got is not None and got[0]
        BASE.append(got[1])
    f = tmp_path / "damaged.json"
    f.write_text(json.dumps(d))
    got = _answers(f)
    if got is None:
        return  # refused with one InputError line
    complete, answers = got
    if not complete:
        return  # every answer says the snapshot is incomplete
    for (action, resource), before, after in zip(QUESTIONS, BASE[0], answers):
        for principal in set(before) | set(after):
            was, now = before.get(principal, "impossible"), after.get(principal, "impossible")
            assert now == was or now == "unknown", f"{what}: {action} {resource}: {principal} {was} -> {now}"
