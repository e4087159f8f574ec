"""Which resource policy governs a resource: the one home of that mapping, used by every command
that selects resources by ARN or pattern (who-can's policy lookup in Snapshot, the invariants'
no-public / no-cross-account / never / only).

A policy is stored under its holder's ARN (the ARN its service's Get*Policy call takes); it
decides the requests on every resource it governs:

- S3 bucket `arn:aws:s3:::B`: the bucket and its objects `B/*` (S3 User Guide, "Bucket
  policies": a bucket policy grants access to the bucket and the objects in it).
- Glue Data Catalog `arn:aws:glue:R:A:catalog`: the catalog, its databases, tables, table
  versions, user-defined functions and connections (Glue Developer Guide, "Resource-based
  policies for AWS Glue": one policy per catalog, over the Data Catalog resources).
- API Gateway REST API `arn:aws:execute-api:R:A:ID/*` (or `...:ID`): every
  `ID/STAGE/METHOD/PATH` (API Gateway Developer Guide, "Access control with API Gateway resource
  policies"; the collector stores it under `ID/*`).
- DynamoDB table `arn:aws:dynamodb:R:A:table/T`: the table and its indexes `table/T/index/*`
  (DynamoDB PutResourcePolicy: "You can control index permissions using the base table's
  policy"; a stream `table/T/stream/L` has its own policy).
- Anything else (SQS queue, SNS topic, Lambda function or layer version, KMS key, Secrets Manager
  secret, ECR repository, DynamoDB stream, EventBridge bus, ...): itself, one policy per resource.

Patterns are globs (`*`, `?`); whether a pattern can name a governed resource is an exact
intersection of two globs, so no policy a pattern reaches is left out.
"""

from __future__ import annotations

from collections.abc import Container

from reasoner.policy.patterns import globs_meet, plain, plain_glob_match

_GLUE_CATALOG_CHILDREN = ("database/*", "table/*", "tableVersion/*", "userDefinedFunction/*", "connection/*")


def governed(holder: str) -> tuple[str, ...]:
    """The ARN patterns of every resource the policy held at `holder` decides (the holder first)."""
    parts = holder.split(":", 5)
    if len(parts) < 6:
        return (holder,)
    service, rest = parts[2], parts[5]
    if service == "s3" and "/" not in rest:
        return (holder, holder + "/*")
    if service == "glue" and rest == "catalog":
        prefix = holder[: -len("catalog")]
        return (holder, *(prefix + child for child in _GLUE_CATALOG_CHILDREN))
    if service == "execute-api":
        api = rest.split("/", 1)[0]
        base = ":".join(parts[:5]) + ":" + api
        return (base, base + "/*")
    if service == "dynamodb" and rest.startswith("table/") and rest.count("/") == 1:
        return (holder, holder + "/index/*")
    return (holder,)


def governs(holder: str, resource: str) -> bool:
    """Does the policy held at `holder` decide requests on this concrete resource ARN?"""
    return any(plain_glob_match(g, resource) for g in governed(holder))


def holders_of(resource: str) -> list[str]:
    """The ARNs a policy governing this concrete resource is held under: its own first, then its
    container's (the inverse of `governed`)."""
    out = [resource]
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return out
    service, rest = parts[2], parts[5]
    prefix = ":".join(parts[:5]) + ":"
    if service == "s3" and "/" in rest:
        out.append(prefix + rest.split("/", 1)[0])
    elif service == "glue" and rest.split("/", 1)[0] + "/*" in _GLUE_CATALOG_CHILDREN:
        out.append(prefix + "catalog")
    elif service == "execute-api":
        api = rest.split("/", 1)[0]
        out += [prefix + api + "/*", prefix + api]
    elif service == "dynamodb" and rest.startswith("table/") and "/index/" in rest:
        out.append(prefix + rest.split("/index/", 1)[0])
    return [h for h in dict.fromkeys(out) if governs(h, resource)]


def governing_holder(resource: str, holders: Container[str]) -> str | None:
    """Of the holders with a policy, the one whose policy governs the concrete resource: its own
    policy first, else its container's (a bucket for an object, the catalog for a table, ...)."""
    return next((h for h in holders_of(resource) if h in holders), None)


def reaches(pattern: str, holder: str) -> bool:
    """Can the resource pattern name some resource the holder's policy governs?"""
    p = plain(pattern)
    return any(globs_meet(p, plain(g)) for g in governed(holder))


def search_scopes(pattern: str, holder: str) -> list[tuple[str, bool]]:
    """Resources to search the holder's policy over so that every resource the pattern names and
    the policy governs is covered, and nothing the policy does not govern: (resource, exact),
    where exact means every resource of it is named by the pattern (otherwise a witness must be
    checked against the pattern). A pattern that names the holder itself names its policy: every
    resource the policy governs is searched (a bucket's ARN covers its objects)."""
    if plain_glob_match(pattern, holder):
        return [(g, True) for g in governed(holder)]
    out: list[tuple[str, bool]] = []
    for g in governed(holder):
        if not globs_meet(plain(pattern), plain(g)):
            continue
        if _within(pattern, g):
            out.append((pattern, True))
        else:
            out.append((g, _within(g, pattern)))
    return list(dict.fromkeys(out))


def _within(a: str, b: str) -> bool:
    """Every string the glob `a` matches, the glob `b` matches (sufficient test: b's wildcards are
    only `*`, and b matches a's text with a's wildcards read as characters)."""
    return "?" not in b and plain_glob_match(b, a)
