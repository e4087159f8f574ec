"""`reasoner diff`: the requests NEW allows and OLD does not, and the reverse.

Hand-written pairs whose difference is known, the Quacky before/after pairs whose answer can be
stated (with the reason), the CLI's exit codes, and a hypothesis property: every reported witness
is allowed by NEW and denied by OLD by the concrete decider, and a "same" answer holds on random
concrete requests drawn from the same space.
"""

from __future__ import annotations

import json
import random

import pytest
from conftest import CORPUS, json_result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reasoner.audit.diff import PLACEHOLDER_PRINCIPAL, PolicySet, diff, load_policy_set
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.document import parse_policy
from reasoner.policy.principals import parse_principal
from reasoner.policy.request import DecideInput, NamedPolicy, Request

QUACKY = CORPUS / "quacky-samples"
ACCOUNT = "111122223333"


def _set(*statements, name: str = "p.json") -> PolicySet:
    return PolicySet(name, [NamedPolicy(name, parse_policy({"Version": "2012-10-17", "Statement": list(statements)}))])


def _file(tmp_path, name: str, *statements) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return str(path)


def _actions(direction) -> set[str]:
    return {c.action for c in direction.classes}


GET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


# ---- hand-written pairs ------------------------------------------------------------------------------
def test_adding_an_action_is_new_access_and_nothing_else():
    """Action lists the actions a statement allows (IAM JSON policy elements: Action)."""
    a = diff(_set(GET), _set({**GET, "Action": ["s3:GetObject", "s3:PutObject"]}))
    assert a.added.answer == "differs" and _actions(a.added) == {"s3:PutObject"}
    assert a.removed.answer == "same" and "every region" in a.removed.reason


def test_widening_a_resource_adds_the_resources_outside_the_old_pattern():
    """Resource ARNs match component-wise with * and ? (IAM JSON policy elements: Resource)."""
    old = {**GET, "Resource": "arn:aws:s3:::b/private/*"}
    a = diff(_set(old), _set(GET))
    assert a.added.answer == "differs" and _actions(a.added) == {"s3:GetObject"}
    (c,) = a.added.classes
    assert c.witness["resource"].startswith("arn:aws:s3:::b/") and not c.witness["resource"].startswith(
        "arn:aws:s3:::b/private/"
    )
    assert all("arn:aws:s3:::b/private/*" in r.not_matches for r in c.resources)
    assert a.removed.answer == "same"


def test_dropping_a_condition_adds_absent_and_outside_values():
    """IpAddress fails when aws:SourceIp is outside the range, and when the key is absent (a plain
    operator on a missing key does not match: Condition operators, "if the key ... is not present")."""
    old = {**GET, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
    a = diff(_set(old), _set(GET))
    (c,) = a.added.classes
    (ip,) = c.context
    assert ip.key == "aws:SourceIp" and ip.absent
    assert ip.values and not any(v.startswith("10.") for v in ip.values)  # outside 10.0.0.0/8, typed as IPs
    assert "aws:SourceIp" not in c.witness["context"]  # the smallest witness leaves the key out
    assert a.removed.answer == "same"


def test_adding_a_deny_removes_exactly_what_it_denies():
    """An explicit Deny overrides every Allow (Policy evaluation logic)."""
    allow = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    a = diff(_set(allow), _set(allow, deny))
    assert a.added.answer == "same"
    assert a.removed.answer == "differs" and _actions(a.removed) == {"s3:DeleteObject"}
    assert a.removed.classes[0].other_side.startswith("NEW denies it")


def test_reordering_statements_and_actions_is_no_difference():
    """Statement order does not matter, and action names are case-insensitive (Action element)."""
    s1 = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    }
    s2 = {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/secret/*"}
    s1b = {**s1, "Action": ["S3:putobject", "s3:getobject"]}
    a = diff(_set(s1, s2), _set(s2, s1b))
    assert (a.added.answer, a.removed.answer) == ("same", "same")


def test_a_policy_set_is_the_union_of_its_policies(tmp_path):
    """Several identity policies of one principal: an allow in any of them counts."""
    d = tmp_path / "old"
    d.mkdir()
    _file(d, "a.json", GET)
    _file(d, "b.yaml", {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"})
    (d / "notes.txt").write_text("ignored: not a policy file")
    merged = _file(tmp_path, "merged.json", {**GET, "Action": ["s3:PutObject", "s3:GetObject"]})
    assert len(load_policy_set(str(d)).policies) == 2
    a = diff(load_policy_set(str(d)), load_policy_set(merged))
    assert (a.added.answer, a.removed.answer) == ("same", "same")
    listed = load_policy_set(f"{d / 'a.json'},{d / 'b.yaml'}")
    assert [p.name for p in listed.policies] == [str(d / "a.json"), str(d / "b.yaml")]


def test_kms_and_trust_actions_count_for_identity_policies():
    """KMS and role trust need the resource policy's allow (Policy evaluation logic): identity
    policies are compared with a resource side that delegates to IAM, as the default key policy."""
    a = diff(_set(GET), _set({**GET, "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*"}))
    assert "kms:Decrypt" in _actions(a.added)
    c = next(c for c in a.added.classes if c.action == "kms:Decrypt")
    assert c.witness["resource"].startswith("arn:aws:kms:")  # an ARN of the action's own type


def test_cross_account_resources_are_compared_too():
    a = diff(_set(GET), _set({**GET, "Action": ["s3:GetObject", "s3:PutObject"]}), resource_account="444455556666")
    assert _actions(a.added) == {"s3:PutObject"} and a.added.classes[0].witness["resource_account"] == "444455556666"


def test_resource_policy_principals_come_from_the_cover():
    """Principal "*" includes anonymous callers (Principal element); a grant to one role does not."""
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    role = {**public, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}}
    a = diff(_set(public), _set(role))
    assert a.kind == "resource" and "anonymous" in a.principals
    assert a.added.answer == "same"
    assert a.removed.answer == "differs"
    assert any("anonymous" in c.principals for c in a.removed.classes)


def test_aws_username_exists_only_for_iam_users():
    """aws:username is in the request context of IAM users only (global condition keys): a role
    session never matches StringNotLike's complement, a user named *@domain.com does."""
    pair = QUACKY / "iam/exp_single/iam_policy_allow_adding_deleting_users"
    old, new = load_policy_set(str(pair / "initial.json")), load_policy_set(str(pair / "fixed.json"))
    as_role = diff(old, new)  # StringNotLike on an absent key holds: OLD allows every user ARN
    assert (as_role.added.answer, as_role.removed.answer) == ("same", "differs")
    assert any("only IAM users" in n for n in as_role.notes)
    as_user = diff(old, new, principal=f"arn:aws:iam::{ACCOUNT}:user/bob@domain.com")
    assert (as_user.added.answer, as_user.removed.answer) == ("differs", "same")
    assert all(c.witness["resource"].endswith("@domain.com") for c in as_user.added.classes)


def test_unknown_when_a_searched_variable_decides():
    """A Resource with a policy variable whose value is searched is outside the abstraction."""
    var = {**GET, "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}
    a = diff(_set(var), _set(var))
    assert a.added.answer == "unknown" and "policy variable" in a.added.reason


def test_limit_cuts_the_enumeration_and_says_so():
    new = _set({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], "Resource": "*"})
    a = diff(_set(), new, limit=2)
    assert len(a.added.classes) == 2 and not a.added.all_listed and "more not listed" in a.added.reason
    full = diff(_set(), new)
    assert _actions(full.added) == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"} and full.added.all_listed


# ---- Quacky pairs ------------------------------------------------------------------------------------
OG = QUACKY / "og" / "exp_multiple"


@pytest.mark.parametrize(
    "pair, added, removed",
    [
        # Allow sns:* + Allow NotAction sns:Delete* (everything) vs Allow sns:* + Deny sns:Delete*:
        # Quacky says "more-permissive".
        ("delete/delete-more-permissive", "same", "differs"),
        # NumericLessThanEqualsIfExists 10 or NumericGreaterThanIfExists 10 on s3:max-keys (a Numeric
        # key) covers every request: Quacky says "equivalent".
        ("numeric/numeric-equivalent", "same", "same"),
        # s3:prefix ${aws:username}/* vs home/*: each allows what the other does not ("incomparable").
        ("prefix/s3-prefix-incomparable", "differs", "differs"),
    ],
)
def test_quacky_og_pairs_match_quackys_verdicts(pair, added, removed):
    a = diff(load_policy_set(str(OG / f"{pair}-1.json")), load_policy_set(str(OG / f"{pair}-2.json")))
    assert (a.added.answer, a.removed.answer) == (added, removed)


def test_quacky_delete_pair_removes_sns_deletes_and_every_other_service():
    a = diff(
        load_policy_set(str(OG / "delete/delete-more-permissive-1.json")),
        load_policy_set(str(OG / "delete/delete-more-permissive-2.json")),
    )
    sns = [c for c in a.removed.classes if c.service == "sns"]
    assert sns and all(c.action.startswith("sns:Delete") and c.other_side.startswith("NEW denies") for c in sns)
    assert sum(c.actions.count for c in a.removed.classes if c.service != "sns") > 10_000  # NotAction covers them


def test_quacky_allow_all_except_delete_fix_adds_bucket_and_account_actions():
    """fixed.json adds account-level actions on "*" and the bucket ARN to s3:* (the Deny stays):
    it only grants more."""
    pair = QUACKY / "s3/exp_single/s3_allow_all_except_delete"
    a = diff(load_policy_set(str(pair / "initial.json")), load_policy_set(str(pair / "fixed.json")))
    assert a.removed.answer == "same"
    assert {"s3:ListAllMyBuckets", "s3:CreateJob"} <= _actions(a.added)
    assert any(r.example == "arn:aws:s3:::mybucket" for c in a.added.classes for r in c.resources)
    assert "s3:DeleteBucket" not in _actions(a.added)  # still denied on the bucket


def test_quacky_ec2_instances_fix_widens_start_stop_to_slashless_arns():
    """initial: Start/StopInstances on arn:aws:ec2:*:*:*/*; fixed: on arn:aws:ec2:* (a plain glob
    over the whole ARN), both with the tag condition, plus the Describe* actions on "*"."""
    pair = QUACKY / "ec2/exp_single/ec2_allow_some_instances"
    a = diff(load_policy_set(str(pair / "initial.json")), load_policy_set(str(pair / "fixed.json")))
    assert a.removed.answer == "same"
    start = next(c for c in a.added.classes if c.action == "ec2:StartInstances")
    assert "/" not in start.witness["resource"].split(":", 5)[5]
    assert start.witness["context"] == {"ec2:ResourceTag/CodProyecto": "2014_2263"}


def test_quacky_ebs_volume_fix_limits_volume_size():
    """fixed moves volume/* under NumericLessThanEquals ec2:VolumeSize 16: larger or absent sizes
    are removed (a plain operator fails on an absent key)."""
    pair = QUACKY / "ec2/exp_single/ec2_limit_ebs_volume_size"
    a = diff(load_policy_set(str(pair / "initial.json")), load_policy_set(str(pair / "fixed.json")))
    assert a.added.answer == "same"
    (c,) = a.removed.classes
    assert c.action == "ec2:RunInstances" and ":volume/" in c.witness["resource"]
    (size,) = c.context
    assert size.absent and all(float(v) > 16 for v in size.values)


# ---- property: witnesses and "same" answers against the concrete decider ---------------------------
KEY = "aws:PrincipalTag/team"


@st.composite
def statements(draw):
    s = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Action": draw(
            st.sampled_from(["s3:GetObject", "s3:*", "s3:Get*", "s3:Put*", ["s3:GetObject", "s3:PutObject"]])
        ),
        "Resource": draw(st.sampled_from(["*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/a?", "arn:aws:s3:::c/*"])),
    }
    cond = {}
    for _ in range(draw(st.integers(0, 2))):
        op = draw(
            st.sampled_from(
                [
                    "StringEquals",
                    "StringNotEquals",
                    "StringLike",
                    "ForAnyValue:StringEquals",
                    "StringEqualsIfExists",
                    "IpAddress",
                    "NotIpAddress",
                ]
            )
        )
        if "Ip" in op:
            cond.setdefault(op, {})["aws:SourceIp"] = draw(st.sampled_from(["10.0.0.0/8", "10.1.0.0/16"]))
        else:
            cond.setdefault(op, {})[KEY] = draw(
                st.lists(st.sampled_from(["red", "r*", "blue"]), min_size=1, max_size=2)
            )
    if cond:
        s["Condition"] = cond
    return s


POOL = ["red", "rex", "blue", "Red", "x"]


def _random_requests(rnd: random.Random, n: int) -> list[Request]:
    out = []
    for _ in range(n):
        ctx = {}
        if rnd.random() < 0.7:
            ctx[KEY] = rnd.choice(POOL)
        if rnd.random() < 0.6:
            ctx["aws:SourceIp"] = rnd.choice(["10.0.0.1", "10.1.2.3", "192.0.2.1"])
        out.append(
            Request(
                principal=PLACEHOLDER_PRINCIPAL,
                action=rnd.choice(["s3:GetObject", "s3:PutObject", "s3:GetObjectAcl"]),
                resource=rnd.choice(["arn:aws:s3:::b/ab", "arn:aws:s3:::b/long/key", "arn:aws:s3:::c/x"]),
                resource_account=ACCOUNT,
                context=ctx,
            )
        )
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(statements(), min_size=0, max_size=3),
    st.lists(statements(), min_size=0, max_size=3),
    st.integers(0, 10**6),
)
def test_witnesses_and_same_answers_agree_with_the_concrete_decider(old_stmts, new_stmts, seed):
    old, new = _set(*old_stmts, name="old.json"), _set(*new_stmts, name="new.json")
    a = diff(old, new, limit=4)
    for direction, gain, lose in (("added", new, old), ("removed", old, new)):
        d = getattr(a, direction)
        assert d.answer in ("differs", "same"), d.reason
        if d.answer == "differs":
            reqs = [Request.model_validate(c.witness) for c in d.classes]
            got = decide_many(
                [DecideInput(request=r, identity_policies=p.policies) for r in reqs for p in (gain, lose)]
            )
            assert all(g.decision == "allow" and lo.decision != "allow" for g, lo in zip(got[::2], got[1::2]))
        else:
            reqs = _random_requests(random.Random(seed), 30)
            got = decide_many(
                [DecideInput(request=r, identity_policies=p.policies) for r in reqs for p in (gain, lose)]
            )
            bad = [
                (r, g.decision, lo.decision)
                for r, g, lo in zip(reqs, got[::2], got[1::2])
                if g.decision == "allow" and lo.decision != "allow"
            ]
            assert not bad, bad


ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
CALLERS = [
    "anonymous",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/s",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/other/s",
    f"arn:aws:iam::{ACCOUNT}:user/u",
    "arn:aws:sts::444455556666:assumed-role/x/s",
    "arn:aws:iam::444455556666:root",
]


@st.composite
def bucket_statements(draw):
    s = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"])),
        "Principal": draw(st.sampled_from(["*", {"AWS": ROLE}, {"AWS": ACCOUNT}, {"AWS": "444455556666"}])),
        "Action": draw(st.sampled_from(["s3:GetObject", "s3:*", "s3:Put*"])),
        "Resource": draw(st.sampled_from(["arn:aws:s3:::b/*", "arn:aws:s3:::b/a?"])),
    }
    if draw(st.booleans()):
        s["Condition"] = {
            draw(st.sampled_from(["StringEquals", "StringNotEquals"])): {
                "aws:PrincipalAccount": draw(st.sampled_from([ACCOUNT, "444455556666"]))
            }
        }
    return s


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(bucket_statements(), min_size=1, max_size=3),
    st.lists(bucket_statements(), min_size=1, max_size=3),
    st.integers(0, 10**6),
)
def test_resource_policy_diffs_agree_with_the_concrete_decider(old_stmts, new_stmts, seed):
    """Over the principal cover: callers of other accounts carry an allow-all identity policy (as
    Access Analyzer assumes), callers of the owner account none."""
    from reasoner.search.cover import ALLOW_ALL, ALLOW_ALL_FILE

    old, new = _set(*old_stmts, name="old.json"), _set(*new_stmts, name="new.json")
    a = diff(old, new, limit=3)
    rnd = random.Random(seed)
    allow_all = [NamedPolicy(str(ALLOW_ALL_FILE), ALLOW_ALL)]

    def inp(r: Request, side: PolicySet) -> DecideInput:
        # Anonymous, service and web identity callers have no identity policies (the cover has each).
        kind = parse_principal(r.principal).type
        outside = kind not in ("anonymous", "service", "web_identity") and ACCOUNT not in r.principal
        return DecideInput(request=r, identity_policies=allow_all if outside else [], resource_policy=side.policies[0])

    for direction, gain, lose in (("added", new, old), ("removed", old, new)):
        d = getattr(a, direction)
        assert d.answer in ("differs", "same"), d.reason
        if d.answer == "differs":
            reqs = [Request.model_validate(c.witness) for c in d.classes]
        else:
            reqs = [
                Request(
                    principal=rnd.choice(CALLERS),
                    action=rnd.choice(["s3:GetObject", "s3:PutObject"]),
                    resource=rnd.choice(["arn:aws:s3:::b/ab", "arn:aws:s3:::b/key"]),
                    resource_account=ACCOUNT,
                )
                for _ in range(20)
            ]
        got = decide_many([inp(r, p) for r in reqs for p in (gain, lose)])
        flips = [g.decision == "allow" and lo.decision != "allow" for g, lo in zip(got[::2], got[1::2])]
        assert all(flips) if d.answer == "differs" else not any(flips), (direction, reqs, flips)


# ---- CLI ---------------------------------------------------------------------------------------------
def test_cli_check_no_new_access_exit_codes(tmp_path, cli):
    old = _file(tmp_path, "old.json", GET)
    wider = _file(tmp_path, "new.json", {**GET, "Action": ["s3:GetObject", "s3:PutObject"]})
    narrower = _file(tmp_path, "narrow.json", {**GET, "Resource": "arn:aws:s3:::b/public/*"})
    proc = cli("diff", old, wider, "--check", "no-new-access")
    assert proc.returncode == 1, proc.stderr
    assert "fail" in proc.stdout and "s3:PutObject" in proc.stdout and "reasoner decide" in proc.stdout
    proc = cli("diff", old, narrower, "--check", "no-new-access", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json_result(proc.stdout)
    assert out["added"]["answer"] == "same" and out["removed"] is None
    proc = cli("diff", old, narrower, "--json")  # a plain diff answers both ways and exits 0
    out = json_result(proc.stdout)
    assert proc.returncode == 0 and out["removed"]["answer"] == "differs"
    # The printed command reproduces the witness (NEW allows it).
    c = json_result(cli("diff", old, wider, "--json").stdout)["added"]["classes"][0]
    again = cli(*__import__("shlex").split(c["decide_new"])[1:], "--json")
    assert json_result(again.stdout)["decision"] == "allow"


def test_cli_unknown_and_bad_input(tmp_path, cli):
    var = _file(tmp_path, "var.json", {**GET, "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"})
    proc = cli("diff", var, var, "--check", "no-new-access")
    assert proc.returncode == 4 and "unknown" in proc.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{**GET, "Effect": "Alow"}]}))
    proc = cli("diff", str(bad), var)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"error: {bad}: $.Statement[0].Effect:") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    public = _file(tmp_path, "bucket.json", {**GET, "Principal": "*"})
    proc = cli("diff", public, var)
    assert proc.returncode == 2 and f"{public}: $.Statement[0].Principal:" in proc.stderr


def test_bad_inputs_name_the_file(tmp_path):
    """Errors main.py prints as one line (exit 2): file and JSON path, no traceback."""
    public = _file(tmp_path, "bucket.json", {**GET, "Principal": "*"})
    ident = _file(tmp_path, "ident.json", GET)
    with pytest.raises(InputError, match="an identity policy cannot have Principal") as exc:
        diff(load_policy_set(public), load_policy_set(ident), kind="identity")
    assert exc.value.source == public and exc.value.path == ("Statement", 0, "Principal")
    with pytest.raises(InputError, match="cannot read file") as exc:
        load_policy_set(str(tmp_path / "missing.json"))
    assert exc.value.source.endswith("missing.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .json or .yaml"):
        load_policy_set(str(tmp_path / "empty"))


def test_two_resource_policies_on_one_side_are_rejected():
    public = {**GET, "Principal": "*"}
    two = PolicySet("two", _set(public, name="a.json").policies + _set(public, name="b.json").policies)
    with pytest.raises(InputError, match="one resource-based policy"):
        diff(two, _set(public))
