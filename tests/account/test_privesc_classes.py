"""privesc at account scale answers exactly as the straightforward evaluation does: one request per
resource class (reasoner/account/classes.py) against every check asked on its own, and the
breadth-first paths against the list-copying reference, on small generated accounts."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import deque

import pytest
from conftest import ROOT
from snapshot_builders import A, allow, role, snapshot, trust, user

from reasoner.account.authorizer import Authorizer
from reasoner.account.classes import resource_class
from reasoner.account.hops import HopCheck
from reasoner.account.privesc import PrincipalPrivesc, Privesc
from reasoner.account.snapshot import load_snapshot

sys.path.insert(0, str(ROOT / "bench"))
import gen_account  # noqa: E402

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module", params=[(30, 0), (40, 3)], ids=["30-roles-seed-0", "40-roles-seed-3"])
def generated(request, tmp_path_factory):
    n_roles, seed = request.param
    f = tmp_path_factory.mktemp("gen") / f"account-{n_roles}-{seed}.json"
    f.write_text(json.dumps(gen_account.generate(n_roles, n_buckets=20, seed=seed)))
    return f


def _answers(results: list[PrincipalPrivesc]) -> dict:
    return {r.principal: r.to_json() for r in results}


def test_classes_answer_as_every_check_on_its_own(generated):
    """Statuses, admin flags, reasons and the paths shown are identical with and without classes
    (resource classes, and callers of one class per technique sharing their representative's
    bindings: classes.caller_class_on_pattern)."""
    pv = Privesc(load_snapshot(generated), now=NOW)
    fast = pv.run()
    slow = Privesc(load_snapshot(generated), now=NOW, by_class=False).run()
    assert _answers(fast) == _answers(slow)
    assert any(r.status == "proved" for r in fast) and any(r.status == "no" for r in fast)
    assert pv.merged_pairs > 0  # caller classes did form


def _reference_chains(pv: Privesc, e, become) -> dict:
    chain = {e.arn: []}
    queue = deque([e.arn])
    while queue:
        cur = queue.popleft()
        for st in become.get(cur, []):
            if st.target not in chain and st.target in pv.snap.principals:
                chain[st.target] = chain[cur] + [st]
                queue.append(st.target)
    return chain


def _reference_escalations(pv: Privesc, chain: dict, arn: str, grants, joins) -> list:
    steps, paths = chain[arn], []
    for g in grants.get(arn, []):
        if g.target == arn:
            paths.append(steps + [g])
        elif g.target in chain:
            paths.append(steps + [g] + chain[g.target])
        elif g.target in pv.snap.groups:
            members = [u for u in chain if g.target in pv.snap.principals[u].groups]
            if members:
                paths.append(steps + [g] + chain[members[0]])
    for j, group in joins.get(arn, []):
        grp = pv.snap.groups.get(group) if group else None
        if j.target in chain and grp and pv._admin_group(pv.snap.principals[j.target], grp):
            paths.append(steps + [j] + chain[j.target])
    return paths


def _reference_paths(pv: Privesc, e, become, grants, joins, new_role_admin) -> PrincipalPrivesc:
    """The straightforward evaluation: every chain as a list, every candidate path built, sorted."""
    chain = _reference_chains(pv, e, become)
    paths, unknown = [], []
    for arn, steps in chain.items():
        adm = pv._admin.get(arn + "|")
        if adm:
            paths.append(steps)
        elif adm is None:
            unknown.append(f"{arn}: {pv._reasons.get(arn + '|', 'unknown')}")
    for arn, steps in chain.items():
        paths += _reference_escalations(pv, chain, arn, grants, joins)
        paths += [steps + [st] for st in new_role_admin.get(arn, [])]
    paths.sort(key=lambda p: (any(s.assumes for s in p), len(p)))
    if paths:
        return PrincipalPrivesc(e.arn, True, paths[:5])
    if unknown:
        return PrincipalPrivesc(e.arn, None, [], reason="; ".join(unknown[:3]))
    return PrincipalPrivesc(e.arn, False)


def test_paths_are_the_reference_breadth_first_paths(generated):
    pv = Privesc(load_snapshot(generated), now=NOW)
    edges = pv.edges()
    for e in pv.snap.principals.values():
        assert pv._paths(e, edges).to_json() == _reference_paths(pv, e, *edges).to_json()


def test_paths_prefer_proved_then_short_in_order_found(tmp_path):
    """Five paths at most: those resting on no precondition first, then the shortest, ties in the
    order found (the chain to an admin before a grant through the same identity)."""
    admin = allow("*")
    roles = [role(f"r{i}", trust({"AWS": f"arn:aws:iam::{A}:root"}), [admin]) for i in range(7)]
    f = snapshot(tmp_path, users=[user("u", [allow("sts:AssumeRole")])], roles=roles)
    pv = Privesc(load_snapshot(f), now=NOW)
    edges = pv.edges()
    u = pv.snap.entity(f"arn:aws:iam::{A}:user/u")
    got = pv._paths(u, edges)
    assert got.to_json() == _reference_paths(pv, u, *edges).to_json()
    assert [p[0].target.rsplit("/", 1)[-1] for p in got.paths] == ["r0", "r1", "r2", "r3", "r4"]


# -- resource classes (IAM User Guide, "Policy evaluation logic"; "IAM JSON policy elements:
#    Resource"): what may and may not share a class ------------------------------------------------


def _classes(f):
    """resource_class of (principal, action, resource) on one loaded snapshot."""
    snap = load_snapshot(f)
    auth = Authorizer(snap, NOW)
    return lambda who, action, resource: resource_class(auth.query(HopCheck(snap.entity(who), action, resource)))


def test_roles_a_statement_matches_alike_share_a_class(tmp_path):
    pol = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{A}:role/app-*"},
            {"Effect": "Deny", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{A}:role/app-secret"},
        ],
    }
    svc = trust({"Service": "ec2.amazonaws.com"})
    roles = [role(n, svc) for n in ("app-a", "app-b", "app-secret", "other")]
    f = snapshot(tmp_path, users=[user("u", [pol])], roles=roles)
    u = f"arn:aws:iam::{A}:user/u"

    classes = _classes(f)

    def cls(name):
        return classes(u, "iam:PassRole", f"arn:aws:iam::{A}:role/{name}")

    assert cls("app-a") == cls("app-b")
    assert cls("app-a") != cls("app-secret")  # the Deny names it
    assert cls("app-a") != cls("other")  # the Allow does not match


def test_protected_roles_and_variables_are_not_merged(tmp_path):
    """AWS refuses changes to service-linked roles whatever the policies say (IAM API Reference,
    UnmodifiableEntity); a Resource with a policy variable matches by the request context."""
    svc = trust({"Service": "ec2.amazonaws.com"})
    roles = [role("plain", svc), role("other", svc)]
    var = allow("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/${{aws:username}}-*")
    f = snapshot(tmp_path, users=[user("u", [allow("iam:*")]), user("v", [var])], roles=roles)
    u, v = f"arn:aws:iam::{A}:user/u", f"arn:aws:iam::{A}:user/v"
    classes = _classes(f)
    plain = classes(u, "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/plain")
    assert plain == classes(u, "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/other")
    protected = classes(u, "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/aws-service-role/ec2.amazonaws.com/x")
    assert plain is not None and protected is not None and plain != protected
    assert classes(v, "iam:PutRolePolicy", f"arn:aws:iam::{A}:role/plain") is None


def test_trust_policies_with_one_document_share_a_class(tmp_path):
    """A role's trust policy is evaluated without the role's own name: roles trusting the account
    with the same document are asked once for a caller."""
    root = trust({"AWS": f"arn:aws:iam::{A}:root"})
    f = snapshot(
        tmp_path,
        users=[user("u", [allow("sts:AssumeRole")])],
        roles=[role("a", root), role("b", root), role("c", trust({"AWS": f"arn:aws:iam::{A}:user/u"}))],
    )
    u = f"arn:aws:iam::{A}:user/u"

    classes = _classes(f)

    def cls(name):
        return classes(u, "sts:AssumeRole", f"arn:aws:iam::{A}:role/{name}")

    assert cls("a") == cls("b") != cls("c")
