"""The time keys of a principal's own credentials on every hop of a path (paths, privesc): the one
place their presence and range are decided, so that who-can, reach and privesc read a principal's
plain context the same way.

AWS, IAM User Guide, "AWS global condition context keys"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):

* aws:CurrentTime, aws:EpochTime: "always included in the request context": the time of the
  request, never before now for a request still to be made.
* aws:TokenIssueTime: "included in the request context only when the principal uses temporary
  credentials" (absent with an IAM user's long-term access keys; always present for a role
  session): the time the session was issued, never after now, and not earlier than the longest
  session still valid (AWS STS: role sessions at most 12 hours, GetSessionToken and
  GetFederationToken at most 36 hours).
"""

from __future__ import annotations

import datetime as dt

ROLE_SESSION_LIMIT = dt.timedelta(hours=12)
OTHER_SESSION_LIMIT = dt.timedelta(hours=36)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def is_role_session(principal_arn: str) -> bool:
    return ":role/" in principal_arn or ":assumed-role/" in principal_arn


def session_time_keys(principal_arn: str, now: dt.datetime) -> tuple[list[str], dict[str, list[tuple[str, str]]]]:
    """(keys that must be present, key -> excluded (family, value)) for a request made now or
    later with the principal's credentials."""
    limit = ROLE_SESSION_LIMIT if is_role_session(principal_arn) else OTHER_SESSION_LIMIT
    present = ["aws:TokenIssueTime"] if is_role_session(principal_arn) else []
    exclude = {
        "aws:TokenIssueTime": [("date_lt", iso(now - limit)), ("date_gt", iso(now))],
        "aws:CurrentTime": [("date_lt", iso(now))],
        "aws:EpochTime": [("numeric_lt", str(int(now.timestamp())))],
    }
    return present, exclude


def plain_time_context(principal_arn: str, now: dt.datetime) -> dict[str, list[str]]:
    """The time keys of the principal's plain request made now: the current time, and for a role a
    session issued now (an IAM user's long-term keys carry no aws:TokenIssueTime)."""
    out = {"aws:CurrentTime": [iso(now)], "aws:EpochTime": [str(int(now.timestamp()))]}
    if is_role_session(principal_arn):
        out["aws:TokenIssueTime"] = [iso(now)]
    return out
