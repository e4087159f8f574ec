"""`decide --batch`: one JSON object per line in, one answer per line out, in order.

Every line is answered exactly as it would be alone: a bad line (malformed JSON or UTF-8, an id
that is not a string or an integer, nesting deeper than MAX_DEPTH, over MAX_LINE_BYTES, a
request or layer the checks reject) becomes an error line carrying its id when the id can be
read, and its FILE:LINE, and the other lines go on. A line never reads more than
MAX_LINE_BYTES + 1 bytes into memory, whatever the input holds.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from reasoner.engine.answers import Decision
from reasoner.engine.decide import decide_many
from reasoner.errors import InputError
from reasoner.policy.document import MAX_DEPTH, check_tree, json_loads, open_input
from reasoner.policy.request import DecideInput, PolicyCache, decide_input_from_obj

BATCH_CHUNK = 2500  # requests grounded together; bounds memory, and the unit of parallel work
MAX_LINE_BYTES = 2_000_000

BatchId = str | int | None


@dataclass(frozen=True, slots=True)
class Line:
    """One input line: its number (1-based), its bytes (at most MAX_LINE_BYTES + 1 of them)
    and whether it was longer than MAX_LINE_BYTES."""

    number: int
    data: bytes
    oversized: bool = False


def numbered_lines(stream: IO[Any] | Iterable[str | bytes]) -> Iterator[Line]:
    """The non-blank lines of a stream or an iterable of lines, each bounded: a file object
    (text or binary, e.g. sys.stdin) is read with readline(MAX_LINE_BYTES + 1), and the rest of
    an oversized line is skipped in bounded pieces."""
    binary = getattr(stream, "buffer", None)
    source = binary if binary is not None else stream
    readline = getattr(source, "readline", None)
    if readline is None:
        for number, item in enumerate(stream, start=1):
            data = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
            if data.strip():
                yield Line(number, data[: MAX_LINE_BYTES + 1], len(data.rstrip(b"\r\n")) > MAX_LINE_BYTES)
        return
    number = 0
    while True:
        piece = readline(MAX_LINE_BYTES + 1)
        if not piece:
            return
        number += 1
        complete = piece.endswith("\n" if isinstance(piece, str) else b"\n")
        rest = piece
        while not complete and len(rest) > MAX_LINE_BYTES // 2:  # skip the rest, a bounded piece at a time
            rest = readline(1 << 20)
            complete = not rest or rest.endswith("\n" if isinstance(rest, str) else b"\n")
        data = piece.encode("utf-8", "surrogateescape") if isinstance(piece, str) else piece
        if data.strip():
            yield Line(number, data, len(data.rstrip(b"\r\n")) > MAX_LINE_BYTES)


_SPECIAL = re.compile(rb'["{}\[\]]')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_NON_FINITE = re.compile(rb"NaN|Infinity|\d[eE]")  # what json_loads may turn into NaN / inf
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_AFTER_KEY = re.compile(rb"\s*:\s*")


def readable_id(data: bytes) -> BatchId:
    """The id of a line too long or too deep to parse, when it can be read: the value (a JSON
    string or an integer) of a top-level "id" key before the line is cut off."""
    depth = 0
    pos = 0
    while m := _SPECIAL.search(data, pos):
        if data[m.start()] == 0x22:  # a string
            s = _STRING.match(data, m.start())
            if s is None:
                return None  # cut off inside a string
            pos = s.end()
            if depth == 1 and s.group() == b'"id"':
                colon = _AFTER_KEY.match(data, pos)
                if colon:
                    return _id_value(data, colon.end())
        else:
            depth += 1 if data[m.start()] in b"{[" else -1
            pos = m.end()
    return None


def _id_value(data: bytes, start: int) -> BatchId:
    text = data[start : start + 1024].decode("utf-8", "replace")
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if valid_id(value) else None


def valid_id(value: Any) -> bool:
    """A batch id is a string or an integer (not a boolean, a float or a structure)."""
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def plainly_bounded(data: bytes) -> bool:
    """True when a JSON line surely passes check_tree: no number can be NaN or infinite (no
    NaN / Infinity literal, no exponent outside strings) and no bracket nests past MAX_DEPTH.
    A cheap scan of the text; when it cannot tell, check_tree walks the decoded tree (and names
    the JSON path of what is wrong)."""
    bare = _STRING.sub(b"", data)
    if _NON_FINITE.search(bare):
        return False
    brackets = _NOT_BRACKET.sub(b"", bare)
    if len(brackets) <= MAX_DEPTH:
        return True
    depth = 0
    for c in brackets:
        depth += 1 if c in b"[{" else -1
        if depth > MAX_DEPTH:
            return False
    return True


def parse_line(line: Line, source: str, cache: PolicyCache | None = None) -> DecideInput | tuple[BatchId, InputError]:
    """One line as a validated DecideInput, or (its id if readable, the error)."""
    obj = decode_line(line, source)
    if isinstance(obj, tuple):
        return obj
    ident = obj.get("id") if isinstance(obj, dict) else None
    if not valid_id(ident):
        ident = None
    try:
        return decide_input_from_obj(obj, source=f"{source}:{line.number}", cache=cache)
    except InputError as exc:
        return ident, exc


def decode_line(line: Line, source: str) -> Any | tuple[BatchId, InputError]:
    """One line decoded and checked as JSON no policy language refuses (size, UTF-8, syntax,
    depth, NaN), or (its id if readable, the error)."""
    where = f"{source}:{line.number}"
    if line.oversized:
        err = InputError(f"line is over the {MAX_LINE_BYTES}-byte limit", source=where)
        return readable_id(line.data), err
    try:
        text = line.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return readable_id(line.data), InputError(f"line is not UTF-8 text (byte {exc.start + 1})", source=where)
    try:
        obj = json_loads(text)
    except json.JSONDecodeError as exc:
        return readable_id(line.data), InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", source=where)
    except RecursionError:
        return readable_id(line.data), InputError(f"nested more than {MAX_DEPTH} deep", source=where)
    ident = obj.get("id") if isinstance(obj, dict) else None
    if not valid_id(ident):
        ident = None
    try:
        if not plainly_bounded(line.data):
            check_tree(obj, source=where)
    except InputError as exc:
        return ident, exc
    return obj


def answer_chunk(lines: list[Line], source: str) -> list[dict]:
    """Answer one chunk of lines in one grounding; one JSON object per line, in order."""
    cache = PolicyCache()
    parsed = [parse_line(line, source, cache) for line in lines]
    good = [p for p in parsed if isinstance(p, DecideInput)]
    wheres = [f"{source}:{line.number}" for line, p in zip(lines, parsed) if isinstance(p, DecideInput)]
    decided = iter(decide_many(good, sources=wheres))
    out = []
    for p in parsed:
        if isinstance(p, DecideInput):
            d = next(decided)
        else:
            ident, err = p
            d = Decision(id=ident, decision=None, error=err.one_line())
        out.append(d.to_json_obj(with_mismatches=False))
    return out


def _answer_lines(chunk: tuple[list[Line], str]) -> list[str]:
    lines, source = chunk
    return [json.dumps(o, separators=(",", ":")) + "\n" for o in answer_chunk(lines, source)]


def chunks(lines: Iterable[Line], size: int = BATCH_CHUNK) -> Iterator[list[Line]]:
    it = iter(lines)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def answer_batch(lines: IO[Any] | Iterable[str | bytes], source: str, workers: int | None = None) -> Iterator[dict]:
    """Answer a batch (a stream, or an iterable of lines); one dict per non-blank line, in order."""
    for text in _batch_output(lines, source, workers):
        yield json.loads(text)


def run_batch(stream: IO[Any] | Iterable[str | bytes], out: IO[str], source: str, workers: int | None = None) -> int:
    """Decide a JSONL batch, writing one output line per input line, in order. Returns the count.

    Each chunk of lines is grounded as one program. Chunks are independent, so on a batch of
    several chunks they are decided by one process per core and written back in order.
    """
    n = 0
    for text in _batch_output(stream, source, workers):
        out.write(text)
        n += 1
    return n


def _batch_output(stream: IO[Any] | Iterable[str | bytes], source: str, workers: int | None) -> Iterator[str]:
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    pieces = chunks(numbered_lines(stream))
    first = next(pieces, None)
    if first is None:
        return
    second = next(pieces, None)
    if second is None or workers <= 1:
        for chunk in itertools.chain([first], [second] if second else [], pieces):
            yield from _answer_lines((chunk, source))
        return
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        jobs = ((c, source) for c in itertools.chain([first, second], pieces))
        for lines in pool.imap(_answer_lines, jobs):
            yield from lines


def run_batch_file(path: str, out: IO[str], workers: int | None = None) -> int:
    """run_batch on a file (`-`: stdin), which must be a regular file: a directory, FIFO or
    device is refused before anything is read (open_input)."""
    if path not in ("", "-") and not os.path.lexists(path):
        raise InputError("no such batch file", source=path)
    with open_input(path) as stream:
        return run_batch(stream, out, "<stdin>" if path == "-" else path, workers)
