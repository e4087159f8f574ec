"""ARN rules AWS enforces when it accepts a policy document (MalformedPolicyDocument otherwise).

AWS: IAM User Guide, "IAM policy elements: Variables and tags" -- in the Resource element "you can
use a policy variable ... only in the resource part of the ARN. This portion of the ARN appears
after the fifth colon (:). You can't use a variable to replace parts of the ARN before the fifth
colon, such as the service or account." Policy variables exist only in Version 2012-10-17
documents (before that `${...}` is plain text), so only those are checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def variable_before_fifth_colon(value: str) -> bool:
    """A Resource / NotResource ARN with a policy variable before its fifth colon. Colons inside
    a variable (`${aws:username}`) are not ARN separators. Only values that start as an ARN are
    judged; '*' and other shapes are left to the element's own checks."""
    if not value.startswith("arn:"):
        return False
    colons = 0
    i = 0
    while i < len(value) and colons < 5:
        if value.startswith("${", i):
            return True
        if value[i] == ":":
            colons += 1
        i += 1
    return False


def resource_variable_problem(version: str, statements: Iterable[Any]) -> tuple[str, tuple] | None:
    """The first Resource / NotResource value AWS rejects, as (message, JSON subpath from the
    document root, e.g. ('Statement', 0, 'Resource', 1)), or None."""
    if version != "2012-10-17":
        return None
    for i, st in enumerate(statements):
        for element in ("Resource", "NotResource"):
            for j, value in enumerate(getattr(st, element, None) or ()):
                if variable_before_fifth_colon(value):
                    return (
                        f"policy variable before the fifth colon of the ARN {value!r}: AWS allows "
                        "variables only in the resource part (MalformedPolicyDocument)",
                        ("Statement", i, element, j),
                    )
    return None
