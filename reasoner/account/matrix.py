"""Requests against a snapshot, set at a time: `decide --snapshot --batch` and the access matrix.

`snapshot_input` is the one place a request named only by principal, action, resource and
context gets its policy layers from a snapshot (what `decide --snapshot` decides, via the
Authorizer). `access_matrix` decides principals x actions x resources: every cell's input is the
same as snapshot_input's, built from two halves the Authorizer gives (the principal's side does
not depend on the action or resource; the resource's side depends on the caller's account, the
action and the resource, reasoner/account/authorizer.py Authorizer.query), and the cells are
decided by engine.decide.decide_grid, one grounding per chunk of principals, principals with the
same policy stack in the same chunk, one request per class of cells with identical facts.
tests/account/test_matrix.py checks every cell against snapshot_input + decide.
"""

from __future__ import annotations

import itertools
import json
import os
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reasoner.account.authorizer import Authorizer
from reasoner.account.model import Entity, Snapshot, SnapshotUnknown
from reasoner.engine.answers import Decision
from reasoner.engine.batch import BATCH_CHUNK, Line, chunks, decode_line, numbered_lines, valid_id
from reasoner.engine.decide import GridRow, ResourceSide, decide_grid, decide_many
from reasoner.engine.facts import check_action_and_resource
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import open_input
from reasoner.policy.patterns import plain_glob_match
from reasoner.policy.request import DecideInput, Request

CELLS_PER_GROUNDING = 100_000  # cells of one chunk of principals (its requests are the classes among them)


def snapshot_input(
    snap: Snapshot,
    principal: str,
    action: str,
    resource: str,
    context: dict | None = None,
    auth: Authorizer | None = None,
) -> DecideInput:
    """The request with every policy layer the snapshot gives it (identity policies, boundary,
    tags, the resource's or trust policy, SCPs, RCPs, the endpoint policy when aws:SourceVpce
    names an endpoint of the snapshot).

    Raises SnapshotUnknown (with the reason) when the snapshot cannot give every layer: the
    principal's permissions or SCPs, the resource's policy, owner or RCPs, or the trust policy of
    a role to assume could not be read."""
    why = snap.unknown_reason_for(snap.entity(principal), resource)
    if why is not None:
        raise SnapshotUnknown(why)
    return (auth or Authorizer(snap)).decide_input(principal, action, resource, dict(context or {}))


# -- decide --snapshot --batch -----------------------------------------------------------------


def answer_snapshot_batch(
    snap: Snapshot, lines: IO[Any] | Iterable[str | bytes], source: str, context: dict | None = None
) -> Iterator[dict]:
    """Answer a JSONL batch whose lines name only the request ({"id", "request": {...}}): every
    layer from the snapshot, as `decide --snapshot` takes it. One answer per non-blank line, in
    order, shaped as `decide --batch`'s; a bad line is an error line (as in `decide --batch`), a
    request the snapshot cannot give every layer of is {"decision": null, "unknown": reason}."""
    auth = Authorizer(snap)
    for chunk in chunks(numbered_lines(lines), BATCH_CHUNK):
        slots: list[DecideInput | dict] = [_snapshot_line(snap, auth, line, source) for line in chunk]
        good = [s for s in slots if isinstance(s, DecideInput)]
        wheres = [f"{source}:{line.number}" for line, s in zip(chunk, slots) if isinstance(s, DecideInput)]
        decided = iter(decide_many(good, sources=wheres))
        for s in slots:
            yield next(decided).to_json_obj(with_mismatches=False) if isinstance(s, DecideInput) else s


def run_snapshot_batch(snap: Snapshot, path: str, out: IO[str]) -> int:
    """answer_snapshot_batch on a file ('-': stdin), one JSON line each; returns the count."""
    if path not in ("", "-") and not os.path.lexists(path):
        raise InputError("no such batch file", source=path)
    n = 0
    with open_input(path) as stream:
        for obj in answer_snapshot_batch(snap, stream, "<stdin>" if path == "-" else path):
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")
            n += 1
    return n


_REQUEST_LINE_KEYS = {"id", "request"}


def _snapshot_line(snap: Snapshot, auth: Authorizer, line: Line, source: str) -> DecideInput | dict:
    where = f"{source}:{line.number}"
    decoded = decode_line(line, source)
    if isinstance(decoded, tuple):
        ident, err = decoded
        return _error_line(ident, err)
    ident = decoded.get("id") if isinstance(decoded, dict) else None
    try:
        if not isinstance(decoded, dict):
            raise InputError("a line must be a JSON object", source=where)
        if not valid_id(ident):
            ident = None
            if decoded.get("id") is not None:
                raise InputError("id must be a string or an integer", source=where, path=("id",))
        extra = sorted(set(decoded) - _REQUEST_LINE_KEYS)
        if extra:
            raise InputError(
                f"with --snapshot a line names only the request ('id', 'request'): the snapshot gives every "
                f"policy layer, drop {extra[0]!r}",
                source=where,
                path=(extra[0],),
            )
        if "request" not in decoded:
            raise InputError("required field 'request' is missing", source=where)
        req = _request(decoded["request"], where)
        try:
            inp = snapshot_input(snap, req.principal, req.action, req.resource, req.context, auth)
        except SnapshotUnknown as exc:
            return {"id": ident, "decision": None, "error": None, "unknown": exc.reason}
        except InputError as exc:
            # Snapshot.entity names the principal as who-can's --from.
            path = ("request", "principal") if exc.path[:1] == ("from",) else ("request",) + exc.path
            raise InputError(exc.message, source=where, path=path) from None
        return DecideInput(request=inp.request, id=ident, **_layers(inp))
    except InputError as exc:
        return _error_line(ident, exc)


def _request(obj: Any, where: str) -> Request:
    from pydantic import ValidationError

    from reasoner.policy.document import validation_to_input_error

    try:
        req = Request.model_validate(obj)
    except ValidationError as exc:
        raise validation_to_input_error(exc, where, ("request",)) from None
    if req.resource_account is not None:
        raise InputError(
            "with --snapshot the snapshot says who owns the resource: drop resource_account",
            source=where,
            path=("request", "resource_account"),
        )
    return req


def _layers(inp: DecideInput) -> dict:
    return {
        "identity_policies": inp.identity_policies,
        "resource_policy": inp.resource_policy,
        "permission_boundary": inp.permission_boundary,
        "session_policy": inp.session_policy,
        "scps": inp.scps,
        "rcps": inp.rcps,
        "vpc_endpoint_policy": inp.vpc_endpoint_policy,
        "management_account": inp.management_account,
    }


def _error_line(ident: Any, err: InputError) -> dict:
    return Decision(id=ident, decision=None, error=err.one_line()).to_json_obj(with_mismatches=False)


# -- the access matrix ---------------------------------------------------------------------------


@dataclass
class Matrix:
    """principals x actions x resources. cells[p][a][r] indexes `answers`: distinct answers, each
    a `decide --batch` answer without its id ({"decision", "error", "decided_by",
    "determining_statements", "missing_allow"}), or {"decision": null, "unknown": reason}."""

    principals: list[str]
    actions: list[str]
    resources: list[str]
    answers: list[dict] = field(default_factory=list)
    cells: list[list[array]] = field(default_factory=list)
    requests_decided: int = 0  # requests grounded (one per class of cells with identical facts)

    def answer(self, p: int, a: int, r: int) -> dict:
        return self.answers[self.cells[p][a][r]]

    def rows(self) -> Iterator[tuple[str, str, str, dict]]:
        """(principal, action, resource, answer) for every cell, principal-major."""
        for p, principal in enumerate(self.principals):
            for a, action in enumerate(self.actions):
                row = self.cells[p][a]
                for r, resource in enumerate(self.resources):
                    yield principal, action, resource, self.answers[row[r]]

    def counts(self) -> dict[str, int]:
        """Cells per outcome: allow, explicit_deny, implicit_deny, unknown, error."""
        per_answer = [0] * len(self.answers)
        for rows in self.cells:
            for row in rows:
                for i in row:
                    per_answer[i] += 1
        out: dict[str, int] = {}
        for answer, n in zip(self.answers, per_answer):
            kind = answer["decision"] or ("unknown" if "unknown" in answer else "error")
            out[kind] = out.get(kind, 0) + n
        return out


class _Answers:
    """Distinct answers, numbered."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.items: list[dict] = []
        self._decisions: dict[tuple, int] = {}

    def add_decision(self, d: Decision) -> int:
        """add() for a decision, without dumping the ones seen before."""
        key = (d.decision, d.error, d.decided_by, tuple(d.determining_statements), tuple(d.missing_allow))
        i = self._decisions.get(key)
        if i is None:
            i = self._decisions[key] = self.add(_without_id(d))
        return i

    def add(self, obj: dict) -> int:
        key = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        i = self.index.get(key)
        if i is None:
            i = self.index[key] = len(self.items)
            self.items.append(obj)
        return i


def access_matrix(
    snap: Snapshot,
    principals: Sequence[str],
    actions: Sequence[str],
    resources: Sequence[str],
    context: dict | None = None,
    workers: int | None = None,
) -> Matrix:
    """Decide every (principal, action, resource): the same answers as snapshot_input + decide
    on each cell. Principals are snapshot principals (ARN or unambiguous name); actions must be in
    the catalogue and resources ARNs or '*' (InputError otherwise)."""
    entities = [_named("principals", snap.entity, p) for p in principals]
    for action in actions:
        _named("actions", check_action_and_resource, action, "*")
    for resource in resources:
        _named("resources", check_action_and_resource, "sts:GetCallerIdentity", resource)
    job = _Job(snap, entities, list(actions), list(resources), dict(context or {}))
    matrix = Matrix([e.arn for e in entities], list(actions), list(resources))
    answers = _Answers()
    matrix.cells = [[array("i") for _ in actions] for _ in entities]
    order = sorted(range(len(entities)), key=lambda i: job.stack_key(i))
    per_chunk = max(1, CELLS_PER_GROUNDING // max(1, len(actions) * len(resources)))
    groups = [order[i : i + per_chunk] for i in range(0, len(order), per_chunk)]
    for group, (local, rows, decided) in zip(groups, _run(job, groups, workers)):
        matrix.requests_decided += decided
        remap = [answers.add(obj) for obj in local]
        for p, row in zip(group, rows):
            for a, cells in enumerate(row):
                matrix.cells[p][a] = array("i", (remap[i] for i in cells))
    matrix.answers = answers.items
    return matrix


def _named(axis: str, check: Any, *args: Any) -> Any:
    """check(*args), its InputError naming the matrix axis instead of a JSON path."""
    try:
        return check(*args)
    except InputError as exc:
        raise InputError(f"--{axis}: {exc.message}", source="<command line>") from None


_JOB: _Job | None = None  # the job a forked worker answers chunks of


def _run(job: _Job, groups: list[list[int]], workers: int | None) -> Iterator[tuple[list[dict], list, int]]:
    global _JOB
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers <= 1 or len(groups) < 2:
        yield from (job.chunk(g) for g in groups)
        return
    import multiprocessing

    _JOB = job
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap(_chunk_in_worker, groups)
    finally:
        _JOB = None


def _chunk_in_worker(group: list[int]) -> tuple[list[dict], list, int]:
    assert _JOB is not None
    return _JOB.chunk(group)


class _Job:
    """One matrix: the principals' sides, the resource sides per (caller account, action,
    resource), and the unknowns, computed once; chunk() answers a group of principals."""

    def __init__(self, snap: Snapshot, entities: list[Entity], actions: list[str], resources: list[str], context: dict):
        self.snap, self.entities, self.actions, self.resources, self.context = (
            snap,
            entities,
            actions,
            resources,
            context,
        )
        self.auth = Authorizer(snap)
        self._sides: dict[tuple[str, int, int], ResourceSide | InputError] = {}
        self._resource_unknown = [snap.unknown_reason_for(None, r) for r in resources]

    def stack_key(self, p: int) -> tuple:
        """Principals with the same policy stack sort together (one chunk grounds them)."""
        e = self.entities[p]
        return (e.account, tuple(id(x.policy) for x in e.identity_policies), id(e.boundary), e.arn)

    def side(self, account: str, arn: str, a: int, r: int) -> ResourceSide | InputError:
        """The resource side of (caller account, action, resource), from the Authorizer."""
        key = (account, a, r)
        hit = self._sides.get(key)
        if hit is None:
            try:
                inp = self.auth.decide_input(arn, self.actions[a], self.resources[r], dict(self.context))
                hit = ResourceSide(inp.request.resource, inp.request.resource_account, inp.resource_policy, inp.rcps)
            except InputError as exc:
                hit = exc
            self._sides[key] = hit
        return hit

    def base(self, e: Entity) -> DecideInput | InputError:
        """The principal's side: any cell's input (its action and resource are replaced per cell)."""
        first: InputError | None = None
        for a, r in itertools.product(range(len(self.actions)), range(len(self.resources))):
            try:
                return self.auth.decide_input(e.arn, self.actions[a], self.resources[r], dict(self.context))
            except InputError as exc:
                first = first or exc
        assert first is not None
        return first

    def chunk(self, group: list[int]) -> tuple[list[dict], list, int]:
        """Answers of a group of principals: (distinct answers, per principal per action the
        answer index of each resource, requests decided)."""
        answers = _Answers()
        rows: list = []
        grid_rows: list[GridRow] = []
        grid_of: list[tuple[int, list[list[int | None]]]] = []  # (row slot, fixed answers per cell)
        for p in group:
            e = self.entities[p]
            fixed = self._fixed(e, answers)
            base = self.base(e) if not e.incomplete else None
            if isinstance(base, InputError):
                err = answers.add(_cell_error(base))
                fixed = [[err if f is None else f for f in row] for row in fixed]
                base = None
            rows.append(fixed)
            if base is None or all(f is not None for row in fixed for f in row):
                continue
            sides = [self._row_sides(e, a, fixed[a], answers) for a in range(len(self.actions))]
            grid_rows.append(GridRow(base, sides))
            grid_of.append((len(rows) - 1, fixed))
        decided = 0
        if grid_rows:
            for (slot, fixed), per_action in zip(grid_of, decide_grid(grid_rows, self.actions)):
                for a, (class_of, decisions) in enumerate(per_action):
                    decided += len(decisions)
                    ids = [answers.add_decision(d) for d in decisions]
                    todo = iter(class_of)
                    fixed[a] = [ids[next(todo)] if f is None else f for f in fixed[a]]
                rows[slot] = fixed
        return answers.items, rows, decided

    def _fixed(self, e: Entity, answers: _Answers) -> list[list[int | None]]:
        """Per action and resource: the answer when it is known without deciding (unknown), else None."""
        row: list[int | None] = []
        for r, why in enumerate(self._resource_unknown):
            if e.incomplete or why is not None:
                reason = self.snap.unknown_reason_for(e, self.resources[r])
                row.append(answers.add({"decision": None, "error": None, "unknown": reason}))
            else:
                row.append(None)
        return [list(row) for _ in self.actions]

    def _row_sides(self, e: Entity, a: int, fixed: list[int | None], answers: _Answers) -> list[ResourceSide]:
        """The resource sides of the cells still to decide (a side error answers its cell)."""
        out = []
        for r, f in enumerate(fixed):
            if f is not None:
                continue
            side = self.side(e.account, e.arn, a, r)
            if isinstance(side, InputError):
                fixed[r] = answers.add(_cell_error(side))
            else:
                out.append(side)
        return out


def _cell_error(err: InputError) -> dict:
    return _without_id(Decision(decision=None, error=err.one_line()))


def _without_id(d: Decision) -> dict:
    obj = d.to_json_obj(with_mismatches=False)
    obj.pop("id", None)
    return obj


# -- naming principals, actions and resources --------------------------------------------------


def expand_names(snap: Snapshot, spec: str, kind: str) -> list[str]:
    """A matrix axis from its command-line form: comma-separated items, each a name, a glob
    (`*`, `?`) or `@FILE` (one item per line). Principals: snapshot principal ARNs or names,
    globs over their ARNs. Actions: catalogue names, globs over the catalogue. Resources: ARNs or
    the literal `*`; a glob names the snapshot's resources it matches (resource policies'
    resources, roles, users, groups, managed policies)."""
    items: list[str] = []
    for item in (i.strip() for i in spec.split(",")):
        if not item:
            continue
        if item.startswith("@"):
            items += [x.strip() for x in Path(item[1:]).read_text().splitlines() if x.strip() and not x.startswith("#")]
        else:
            items.append(item)
    out: list[str] = []
    for item in items:
        out += _expand_item(snap, item, kind)
    if not out:
        raise InputError(f"--{kind}: no {kind} named by {spec!r}", source="<command line>")
    return list(dict.fromkeys(out))


def _expand_item(snap: Snapshot, item: str, kind: str) -> list[str]:
    pattern = "*" in item or "?" in item
    if kind == "actions":
        if not pattern:
            return [item]
        hits = catalogue.expand(item)
        if not hits:
            raise InputError(f"--actions: no catalogue action matches {item!r}", source="<command line>")
        return hits
    if kind == "principals":
        if not pattern:
            return [_named("principals", snap.entity, item).arn]
        return sorted(
            arn for arn, e in snap.principals.items() if e.kind != "federated" and plain_glob_match(item, arn)
        )
    if not pattern or item == "*":
        return [item]
    known = [*snap.resource_policies, *snap.principals, *snap.groups, *snap.managed_policies]
    return sorted(r for r in dict.fromkeys(known) if r.startswith("arn:") and plain_glob_match(item, r))
