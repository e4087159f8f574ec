"""Time is real (issue 10, item 6), reasoner/search/instants.py. IAM User Guide, "AWS global
condition context keys": aws:CurrentTime and aws:EpochTime are the request's date and time, always
present: one instant, and `can` asks about requests sent from now on. aws:TokenIssueTime is present
only with temporary credentials, at most the request time and no older than the longest session
(AWS STS API Reference: AssumeRole DurationSeconds <= 43200, GetSessionToken / GetFederationToken
<= 129600 for IAM users, 3600 for the root user); access keys carry none."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from reasoner.policy.document import parse_policy
from reasoner.policy.request import NamedPolicy
from reasoner.policy.values import parse_date
from reasoner.search.can import Query, can
from reasoner.search.instants import ROLE_SESSION_MAX_AGE, USER_SESSION_MAX_AGE, iso

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
SESSION = "arn:aws:sts::111122223333:assumed-role/R/s"
USER = "arn:aws:iam::111122223333:user/u"


def _ask(principal: str, condition: dict):
    pol = NamedPolicy(
        "p.json",
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}],
            }
        ),
    )
    return can(Query(principal, "s3:GetObject", "arn:aws:s3:::b/k", identity_policies=[pol], now=NOW))


def test_a_past_instant_is_not_a_request_sent_from_now_on():
    assert _ask(USER, {"NumericLessThan": {"aws:EpochTime": "1700000000"}}).answer == "impossible"
    assert _ask(USER, {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}).answer == "impossible"


def test_current_time_and_epoch_time_are_one_instant():
    a = _ask(USER, {"NumericGreaterThan": {"aws:EpochTime": str(NOW + 10)}})
    ctx = a.witness["request"]["context"]
    assert int(ctx["aws:EpochTime"]) > NOW + 10
    assert parse_date(ctx["aws:CurrentTime"]) == int(ctx["aws:EpochTime"])
    both = {"NumericGreaterThan": {"aws:EpochTime": str(NOW + 100)}, "DateLessThan": {"aws:CurrentTime": iso(NOW + 50)}}
    assert _ask(USER, both).answer == "impossible"


def test_long_term_credentials_carry_no_token_issue_time():
    """An IAM user with access keys: no aws:TokenIssueTime; with GetSessionToken credentials it is
    recent. A condition on an old issue time fails either way."""
    assert _ask(USER, {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}).answer == "impossible"
    assert _ask(USER, {"Null": {"aws:TokenIssueTime": "true"}}).answer == "possible"


def test_a_role_session_always_carries_a_recent_token_issue_time():
    assert _ask(SESSION, {"Null": {"aws:TokenIssueTime": "true"}}).answer == "impossible"
    assert _ask(SESSION, {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}).answer == "impossible"
    a = _ask(SESSION, {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}})
    ctx = a.witness["request"]["context"]
    age = parse_date(ctx["aws:CurrentTime"]) - parse_date(ctx["aws:TokenIssueTime"])
    assert 0 <= age <= ROLE_SESSION_MAX_AGE


def test_a_role_session_is_at_most_12_hours_old_a_user_session_36():
    """Issued before 08:00 on the 15th, used after 21:00: 13 hours, too old for a role session,
    fine for an IAM user's GetSessionToken credentials."""
    cond = {
        "DateLessThan": {"aws:TokenIssueTime": iso(NOW)},
        "DateGreaterThan": {"aws:CurrentTime": iso(NOW + 13 * 3600)},
    }
    assert _ask(SESSION, cond).answer == "impossible"
    a = _ask(USER, cond)
    assert a.answer == "possible"
    ctx = a.witness["request"]["context"]
    assert parse_date(ctx["aws:CurrentTime"]) - parse_date(ctx["aws:TokenIssueTime"]) <= USER_SESSION_MAX_AGE


OPS = ["DateLessThan", "DateGreaterThan", "DateLessThanEquals", "DateGreaterThanEquals", "DateEquals"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(OPS),
            st.sampled_from(["aws:CurrentTime", "aws:TokenIssueTime", "aws:EpochTime"]),
            st.integers(-2 * 86400, 3 * 86400),
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([SESSION, USER]),
    st.integers(0, 10**6),
)
def test_impossible_holds_for_every_real_request_time(conditions, principal, seed):
    """Whenever the search says impossible, no sampled real (request time >= now, issue time in its
    session bound) request is allowed by the concrete rules of the three date comparisons."""
    condition: dict = {}
    for op, key, offset in conditions:
        value = str(NOW + offset) if key == "aws:EpochTime" else iso(NOW + offset)
        condition.setdefault(op, {})[key] = value
    a = _ask(principal, condition)
    if a.answer != "impossible":
        return
    from reasoner.engine.decide import decide_many
    from reasoner.policy.request import DecideInput, Request

    rnd = random.Random(seed)
    bound = ROLE_SESSION_MAX_AGE if principal == SESSION else USER_SESSION_MAX_AGE
    inputs = []
    for _ in range(30):
        t = NOW + rnd.choice([0, 1, rnd.randint(0, 4 * 86400)])
        ctx = {"aws:CurrentTime": datetime.fromtimestamp(t, tz=UTC).isoformat(), "aws:EpochTime": str(t)}
        if principal == SESSION or rnd.random() < 0.5:
            ctx["aws:TokenIssueTime"] = iso(t - rnd.choice([0, bound, rnd.randint(0, bound)]))
        pol = NamedPolicy(
            "p.json",
            parse_policy(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
                    ],
                }
            ),
        )
        inputs.append(
            DecideInput(
                request=Request(principal=principal, action="s3:GetObject", resource="arn:aws:s3:::b/k", context=ctx),
                identity_policies=[pol],
            )
        )
    allowed = [i.request.context for i, d in zip(inputs, decide_many(inputs)) if d.decision == "allow"]
    assert not allowed, allowed
