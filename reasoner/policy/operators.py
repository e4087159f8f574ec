"""The condition operators AWS accepts, parsed into (qualifier, family, negated, if_exists).

AWS: IAM User Guide, "IAM JSON policy elements: Condition operators" and
"Set operators for multivalued context keys" (ForAnyValue / ForAllValues).
"""

from __future__ import annotations

from dataclasses import dataclass

# name -> (comparison family, negated). The family is what the value comparison does;
# negation, IfExists and the set qualifiers are handled by the encodings.
BASE_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string_equals", False),
    "StringNotEquals": ("string_equals", True),
    "StringEqualsIgnoreCase": ("string_equals_ic", False),
    "StringNotEqualsIgnoreCase": ("string_equals_ic", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("numeric_eq", False),
    "NumericNotEquals": ("numeric_eq", True),
    "NumericLessThan": ("numeric_lt", False),
    "NumericLessThanEquals": ("numeric_le", False),
    "NumericGreaterThan": ("numeric_gt", False),
    "NumericGreaterThanEquals": ("numeric_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary_equals", False),
    "IpAddress": ("ip_address", False),
    "NotIpAddress": ("ip_address", True),
    # ArnEquals and ArnLike behave the same: both match segment-wise with wildcards.
    "ArnEquals": ("arn_like", False),
    "ArnLike": ("arn_like", False),
    "ArnNotEquals": ("arn_like", True),
    "ArnNotLike": ("arn_like", True),
    "Null": ("null", False),
}

QUALIFIERS = {"ForAnyValue": "any", "ForAllValues": "all"}
_QUALIFIERS_CI = {k.lower(): k for k in QUALIFIERS}
_BASE_CI = {k.lower(): k for k in BASE_OPERATORS}


@dataclass(frozen=True)
class Operator:
    name: str  # as written in the policy
    family: str
    negated: bool
    if_exists: bool
    qualifier: str  # "none" | "any" | "all"


def parse_operator(name: str) -> Operator:
    """Parse 'ForAnyValue:StringLikeIfExists' and friends; ValueError names what is unknown.

    Names are matched case-insensitively: AWS's own published RCP examples use
    'ForAnyValue:Stringlike' (scp-rcp-examples/.../STS-protect-IAMRA-session-tags.json).
    """
    qualifier = "none"
    base = name
    if ":" in name:
        prefix, base = name.split(":", 1)
        prefix = _QUALIFIERS_CI.get(prefix.lower(), prefix)
        if prefix not in QUALIFIERS:
            raise ValueError(
                f"unknown set operator {prefix!r} in condition operator {name!r} (expected ForAnyValue or ForAllValues)"
            )
        qualifier = QUALIFIERS[prefix]
    if_exists = False
    if base.lower().endswith("ifexists") and base.lower() != "ifexists":
        if_exists = True
        base = base[: -len("IfExists")]
    base = _BASE_CI.get(base.lower(), base)
    if base not in BASE_OPERATORS:
        hint = _closest(base)
        raise ValueError(f"unknown condition operator {name!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
    family, negated = BASE_OPERATORS[base]
    if family == "null" and (if_exists or qualifier != "none"):
        raise ValueError(f"condition operator {name!r}: Null takes no IfExists or set operator")
    return Operator(name=name, family=family, negated=negated, if_exists=if_exists, qualifier=qualifier)


def _closest(word: str) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(BASE_OPERATORS), n=1, cutoff=0.6)
    return match[0] if match else None
