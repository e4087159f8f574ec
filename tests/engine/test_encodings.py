"""Micro-programs per encoding file: hand-written facts in, exact atoms out (clintest style).

Each row names the AWS rule it pins down. Facts use the same integers reasoner/facts.py emits.
"""

from __future__ import annotations

import clingo
import pytest

from reasoner.engine.solve import encoding


def atoms(facts: str) -> set[str]:
    ctl = clingo.Control(["--warn=none"])
    ctl.load(str(encoding("decide.lp")))
    ctl.add(
        "base",
        [],
        facts + "\n#show cond_holds/2. #show null_holds/2. #show action_ok/2. #show resource_ok/2."
        "\n#show principal_via/3. #show gate_failed/2. #show base_allow/1.",
    )
    ctl.ground([("base", [])])
    out: set[str] = set()
    ctl.solve(on_model=lambda m: out.update(str(s) for s in m.symbols(shown=True)))
    return out


# One identity policy 1 with statement 10 (allow) applied to request 1.
BASE = "req(1). req_policy(1,identity,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_action(10,1). action_match(1,1). stmt_has(10,resource). stmt_resource(10,1). resource_match(1,1)."
COND = BASE + " cond(10,100,5). cond_key(100,5)."

ROWS = [
    # match/action.lp
    ("action_listed_pattern_matches", BASE, {"action_ok(1,10)"}, set()),
    (
        "not_action_covers_unlisted_action",
        "req(1). req_policy(1,identity,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_has(10,not_action). stmt_not_action(10,2).",
        {"action_ok(1,10)"},
        set(),
    ),
    (
        "not_action_excludes_listed_action",
        "req(1). req_policy(1,identity,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_has(10,not_action). stmt_not_action(10,2). action_match(1,2).",
        set(),
        {"action_ok(1,10)"},
    ),
    # match/resource.lp
    (
        "missing_resource_element_means_attached_resource",
        "req(1). req_policy(1,resource,1). policy_stmt(1,10). stmt_effect(10,allow).",
        {"resource_ok(1,10)"},
        set(),
    ),
    ("resource_variable_without_value_never_matches", BASE + " pattern_var(1,7).", set(), {"resource_ok(1,10)"}),
    (
        "resource_variable_with_single_value_matches",
        BASE + " pattern_var(1,7). req_value(1,7,3). req_single(1,7).",
        {"resource_ok(1,10)"},
        set(),
    ),
    # conditions/operators.lp: absent key behaviour per operator form
    ("plain_operator_absent_key_false", COND + " cond_qualifier(100,none).", set(), {"cond_holds(1,100)"}),
    (
        "negated_operator_absent_key_true",
        COND + " cond_qualifier(100,none). cond_negated(100).",
        {"cond_holds(1,100)"},
        set(),
    ),
    (
        "if_exists_absent_key_true",
        COND + " cond_qualifier(100,none). cond_if_exists(100).",
        {"cond_holds(1,100)"},
        set(),
    ),
    ("for_any_value_absent_key_false", COND + " cond_qualifier(100,any).", set(), {"cond_holds(1,100)"}),
    ("for_all_values_absent_key_true", COND + " cond_qualifier(100,all).", {"cond_holds(1,100)"}, set()),
    (
        "for_all_values_one_value_outside_false",
        COND + " cond_qualifier(100,all). req_value(1,5,1). req_value(1,5,2). value_match(1,100,1).",
        set(),
        {"cond_holds(1,100)"},
    ),
    (
        "for_all_values_all_inside_true",
        COND
        + " cond_qualifier(100,all). req_value(1,5,1). req_value(1,5,2). value_match(1,100,1). value_match(1,100,2).",
        {"cond_holds(1,100)"},
        set(),
    ),
    (
        "for_any_value_negated_some_value_outside_true",
        COND + " cond_qualifier(100,any). cond_negated(100). req_value(1,5,1). req_value(1,5,2). value_match(1,100,1).",
        {"cond_holds(1,100)"},
        set(),
    ),
    (
        "negated_plain_false_when_any_value_matches",
        COND + " cond_qualifier(100,none). cond_negated(100). req_value(1,5,1). value_match(1,100,1).",
        set(),
        {"cond_holds(1,100)"},
    ),
    # conditions/null.lp
    (
        "null_true_holds_when_absent",
        BASE + " cond_null(10,100,5,true). null_key(100,5,true).",
        {"null_holds(1,100)"},
        set(),
    ),
    (
        "null_false_fails_when_absent",
        BASE + " cond_null(10,100,5,false). null_key(100,5,false).",
        set(),
        {"null_holds(1,100)"},
    ),
    (
        "null_false_holds_when_present",
        BASE + " cond_null(10,100,5,false). null_key(100,5,false). req_value(1,5,1).",
        {"null_holds(1,100)"},
        set(),
    ),
    # match/principal.lp
    (
        "principal_star_is_direct",
        "req(1). req_policy(1,resource,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_has(10,principal). stmt_principal(10,any,0). req_principal_is(1,anonymous,9,direct).",
        {"principal_via(1,10,direct)"},
        set(),
    ),
    (
        "not_principal_session_listed_but_account_unlisted_reaches_via_account",
        "req(1). req_policy(1,resource,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_has(10,not_principal). stmt_not_principal(10,arn,3). stmt_not_principal(10,arn,4). req_principal_is(1,arn,3,direct). req_principal_is(1,arn,4,role). req_principal_is(1,account,5,account).",
        {"principal_via(1,10,account)"},
        {"principal_via(1,10,direct)", "principal_via(1,10,role)"},
    ),
    # layers.lp
    (
        "scp_level_without_allow_fails_gate",
        BASE + " req_level(1,scp,0). req_level(1,scp,1). req_policy(1,scp(0),1).",
        {"gate_failed(1,scp(1))"},
        {"gate_failed(1,scp(0))"},
    ),
    ("cross_account_identity_alone_is_not_enough", BASE + " req_cross_account(1).", set(), {"base_allow(1)"}),
    ("same_account_identity_alone_is_enough", BASE, {"base_allow(1)"}, set()),
    ("boundary_without_allow_blocks_identity", BASE + " req_has_boundary(1).", set(), {"base_allow(1)"}),
    # protected.lp: "You cannot change the permissions defined in AWS managed policies" (IAM User
    # Guide, AWS managed policies): an allow of every policy does not get through.
    (
        "aws_protected_denies_over_an_allow",
        BASE + " req_aws(1,aws_protected,-2).",
        {"decision(1,explicit_deny)", "determining_stmt(1,aws_protected,-2)"},
        {"decision(1,allow)", "decision(1,implicit_deny)", "determining_stmt(1,identity,10)"},
    ),
    # GetCallerIdentity: "If an administrator adds a policy ... that explicitly denies access to the
    # sts:GetCallerIdentity action, you can still perform this operation" (AWS STS API Reference).
    (
        "aws_always_allowed_allows_over_an_explicit_deny",
        BASE.replace("stmt_effect(10,allow)", "stmt_effect(10,deny)") + " req_aws(1,aws_always_allowed,-1).",
        {"decision(1,allow)", "determining_stmt(1,aws_always_allowed,-1)"},
        {"decision(1,explicit_deny)", "decision(1,implicit_deny)", "determining_stmt(1,identity,10)"},
    ),
    (
        "aws_always_allowed_needs_no_policy",
        "req(1). req_aws(1,aws_always_allowed,-1).",
        {"decision(1,allow)"},
        {"decision(1,implicit_deny)", "missing_allow(1,identity)"},
    ),
]


@pytest.mark.parametrize("name,facts,present,absent", ROWS, ids=[r[0] for r in ROWS])
def test_encoding_micro_program(name, facts, present, absent):
    got = atoms(facts)
    assert present <= got, (present - got, got)
    assert not (absent & got), absent & got


def _search_models(facts: str) -> list[set[str]]:
    ctl = clingo.Control(["--warn=none", "0"])
    ctl.load(str(encoding("decide.lp")))
    ctl.load(str(encoding("search.lp")))
    ctl.add("base", [], facts + "\n#show req_aws/3.")
    ctl.ground([("base", [])])
    out: list[set[str]] = []
    ctl.solve(on_model=lambda m: out.append({str(s) for s in m.symbols(shown=True)}))
    return out


def test_search_takes_the_aws_rules_of_the_picked_action_and_resource():
    """search.lp: aws_rule_for(A,X,L,S) decides the picked action A on the picked resource
    region X (none: one concrete resource); a search for an allow then finds none there."""
    allow_all = (
        "req(1). req_policy(1,identity,1). policy_stmt(1,10). stmt_effect(10,allow). stmt_action(10,1)."
        " stmt_has(10,resource). stmt_resource(10,1). action_region(7). action_hit(7,1)."
    )
    regions = " resource_region(20). resource_region(21). resource_hit(20,1). resource_hit(21,1)."
    protected = " aws_rule_for(7,21,aws_protected,-4)."
    models = _search_models(allow_all + regions + protected)
    assert models and all("pick_resource(20)" in m and not any(a.startswith("req_aws") for a in m) for m in models)
    assert _search_models(allow_all + " resource_match(1,1). aws_rule_for(7,none,aws_protected,-3).") == []
    got = _search_models("req(1). action_region(7). aws_rule_for(7,none,aws_always_allowed,-1).")
    assert got and all("req_aws(1,aws_always_allowed,-1)" in m for m in got)
