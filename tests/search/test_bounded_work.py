"""Issue 11, class 10: the searches bound their work by the input size or answer "unknown" past a
documented limit (README, "Input limits": search work), never run unbounded."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from reasoner.policy.document import parse_policy
from reasoner.policy.patterns import plain
from reasoner.policy.request import NamedPolicy
from reasoner.search import domains
from reasoner.search.can import Query, can
from reasoner.search.domains import AbstractionError, build_domain

USER = "arn:aws:iam::111122223333:user/u"


def test_a_long_literal_keeps_one_parent_link_per_state_not_one_word():
    """20,000 states reached by words of up to 20,000 characters: keeping each word would hold
    ~200 MB; parent links hold a few MB, and the witnesses are still exact."""
    literal = "a" * 20_000
    comparisons = [("string_like", plain(literal + "*")), ("string_like", plain("b*"))]
    tracemalloc.start()
    dom = build_domain("aws:principaltag/t", comparisons)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 60_000_000
    assert any(r.witness.startswith(literal) for r in dom.regions)
    assert {r.signature for r in dom.regions} == {(True, False), (False, True), (False, False)}


def test_past_the_state_limit_the_dimension_is_unknown(monkeypatch):
    monkeypatch.setattr(domains, "MAX_PRODUCT_STATES", 1_000)
    with pytest.raises(AbstractionError, match="automaton states"):
        build_domain("aws:principaltag/t", [("string_like", plain("a" * 5_000 + "*"))])


def test_past_the_step_limit_the_dimension_is_unknown(monkeypatch):
    monkeypatch.setattr(domains, "MAX_AUTOMATON_STEPS", 10_000)
    comparisons = [("arn_like", plain(f"arn:aws:s3:::b/k{i}")) for i in range(200)]
    with pytest.raises(AbstractionError, match="automaton steps"):
        build_domain("resource", comparisons)


def test_many_resource_patterns_answer_within_the_limit():
    """2,000 statements over a resource pattern: "unknown" with the reason, in bounded time."""
    statements = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/k{i}"} for i in range(2_000)
    ]
    pol = NamedPolicy("many.json", parse_policy({"Version": "2012-10-17", "Statement": statements}))
    start = time.monotonic()
    a = can(Query(USER, "s3:GetObject", "arn:aws:s3:::b/*", identity_policies=[pol]))
    assert time.monotonic() - start < 60
    assert a.answer == "unknown" and "automaton steps" in (a.reason or "")
