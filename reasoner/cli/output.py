"""What every command shares: the console, the output format switch and `-` for standard input.

Data is printed as data: the consoles made here never read rich markup or emoji codes from the
strings they print (a Sid `[admin]` or an ARN with `:x:` prints as written), styles are applied
with `Text` objects, and control characters (terminal escape sequences in a Sid, ...) are shown
escaped (`\\x1b`). Colour is used only when the stream is a terminal and `NO_COLOR` is not set.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, cast

import typer
from rich.console import Console
from rich.text import Text

from reasoner.audit.findings import FINDINGS_KIND, FINDINGS_VERSION
from reasoner.envelope import envelope
from reasoner.errors import InputError
from reasoner.policy import catalogue
from reasoner.policy.document import MAX_DOCUMENT_BYTES, read_input
from reasoner.policy.validate import path_text

# -- text ------------------------------------------------------------------------------------------

# C0 controls but newline and tab, DEL and the C1 controls (CSI included).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape_control(m: re.Match) -> str:
    return f"\\x{ord(m[0]):02x}"


def clean(text: str) -> str:
    """`text` with every control character but newline and tab shown escaped (`\\x1b`)."""
    return _CONTROL.sub(_escape_control, unstdin(text))


def one_line(text: str) -> str:
    """`text` on one line: newlines and every other control character escaped."""
    return _CONTROL_ALL.sub(
        lambda m: {"\n": "\\n", "\r": "\\r", "\t": " "}.get(m[0]) or _escape_control(m), clean(text)
    )


def styled(text: str, style: str = "") -> Text:
    """Data in a style (never parsed as markup)."""
    return Text(clean(text), style=style)


def line(*parts: str | tuple[str, str]) -> Text:
    """One line of plain strings and (string, style) pairs; every part is data."""
    return Text.assemble(*((clean(p[0]), p[1]) if isinstance(p, tuple) else clean(p) for p in parts))


# -- consoles --------------------------------------------------------------------------------------


def color_enabled(stream: IO[str]) -> bool:
    """Colour and styles only on a terminal, and only when NO_COLOR is unset (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


class SafeConsole(Console):
    """A console whose strings are data: no markup, no emoji, control characters escaped."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs["markup"] = False
        kwargs["emoji"] = False
        kwargs["highlight"] = False
        return super().render_str(clean(text), **kwargs)


def console(*, stderr: bool = False) -> Console:
    """The console every command prints through (plain text when piped or under NO_COLOR)."""
    stream = sys.stderr if stderr else sys.stdout
    tty = bool(getattr(stream, "isatty", None) and stream.isatty())
    colour = color_enabled(stream)
    return SafeConsole(
        stderr=stderr,
        force_terminal=colour,
        no_color=not colour,
        markup=False,
        emoji=False,
        highlight=False,
        width=shutil.get_terminal_size().columns if tty else 160,
    )


# -- formats ---------------------------------------------------------------------------------------

FORMATS = ("table", "json")


def format_option(extra: tuple[str, ...] = ()) -> Any:
    """`--format table|json` (and the command's extra formats)."""
    return typer.Option("table", "--format", help=f"Output format: {' | '.join(FORMATS + extra)}.")


def json_option() -> Any:
    return typer.Option(False, "--json", help="Short for --format json.")


def output_format(fmt: str, as_json: bool, extra: tuple[str, ...] = ()) -> str:
    """The format asked for: `--json` is `--format json`; anything unknown is a usage error."""
    allowed = FORMATS + extra
    if fmt not in allowed:
        raise UsageProblem(f"--format {fmt!r}: expected one of {', '.join(allowed)}")
    if as_json:
        if fmt not in ("table", "json"):
            raise UsageProblem(f"--json and --format {fmt} contradict each other")
        return "json"
    return fmt


def print_json(obj: Any) -> None:
    """A JSON document as it is (the schema `prove --schema` prints, the IAM policy `collect
    --print-policy` prints); a command's result goes through print_result."""
    print(unstdin(json.dumps(obj, indent=2)))


# -- JSON results ----------------------------------------------------------------------------------

# Every command's `--json` output is one envelope (reasoner.envelope) of one of these document
# types, with its major version: bump it when a result changes incompatibly.
RESULT_VERSIONS: dict[str, int] = {
    "decide": 1,  # decide --json, and every line of decide --batch
    "decide-case": 1,
    "can": 1,
    "can-case": 1,
    "who-can": 1,
    "reach": 1,
    "reach-case": 1,
    "privesc": 1,
    "matrix": 1,
    "prove": 1,
    "diff": 1,
    "snapshot-diff": 1,
    "lint": 1,
    "check": 1,  # check-access-not-granted, check-no-public-access
    "actions": 1,
    "collection-report": 1,
    FINDINGS_KIND: FINDINGS_VERSION,  # audit --format json
}


def result_document(kind: str, result: Any) -> dict[str, Any]:
    """The envelope of a command's result (the one way every `--json` output is made)."""
    if kind not in RESULT_VERSIONS:
        raise KeyError(f"no JSON result type {kind!r} (add it to RESULT_VERSIONS)")
    return envelope(kind, RESULT_VERSIONS[kind], result, catalogue=catalogue.data_version())


def print_result(kind: str, result: Any) -> None:
    """Print a command's result as its `--json` document."""
    print_json(result_document(kind, result))


class EnvelopedLines(io.TextIOBase):
    """A text stream of JSON lines (`decide --batch`) whose every line is written as the envelope
    of one `kind` result: line N of the output answers line N of the input, and each line is a
    whole document (no header line to skip)."""

    def __init__(self, out: IO[str], kind: str):
        doc = result_document(kind, None)
        head = json.dumps({k: v for k, v in doc.items() if k != "result"}, separators=(",", ":"))
        self._head = head[:-1] + ',"result":'
        self._out = out
        self._partial = ""  # a line not yet ended (written in pieces)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for one in lines:
            if one.strip():
                self._out.write(self._head + one + "}\n")
        return len(text)

    def flush(self) -> None:
        self._out.flush()


def enveloped_lines(out: IO[str], kind: str) -> IO[str]:
    """`out`, each JSON line written to it wrapped in the envelope of a `kind` result."""
    return cast(IO[str], EnvelopedLines(out, kind))


class UsageProblem(Exception):
    """A usage error found after parsing (exit 2, one line)."""


# -- standard input --------------------------------------------------------------------------------

STDIN = "-"
STDIN_LABEL = "<stdin>"
_stdin_file: Path | None = None


def input_path(path: str | Path) -> Path:
    """A file to read: `-` is standard input (read once, kept in a temporary file whose name every
    message shows as <stdin>); anything else is the path itself."""
    global _stdin_file
    if str(path) != STDIN:
        return Path(path_text(str(path)))  # never '' for the current folder (issue 11)
    if _stdin_file is None:
        # Bounded like every input: at most the snapshot limit is ever read (a policy on stdin
        # is then held to its own, smaller limit by the loader).
        data = read_input(STDIN, MAX_DOCUMENT_BYTES)
        head = data.lstrip()[:1]
        suffix = ".json" if head in (b"{", b"[", b"") else ".yaml"
        folder = tempfile.mkdtemp(prefix="reasoner-stdin-")
        _stdin_file = Path(folder) / f"stdin{suffix}"
        _stdin_file.write_bytes(data)
    return _stdin_file


def input_paths(paths: list[str] | list[Path]) -> list[Path]:
    return [input_path(p) for p in paths]


def is_stdin(path: str | Path) -> bool:
    return str(path) == STDIN


def unstdin(text: str) -> str:
    """Messages name standard input <stdin>, never the temporary file holding it."""
    if _stdin_file is None:
        return text
    return text.replace(str(_stdin_file), STDIN_LABEL).replace(str(_stdin_file.parent), STDIN_LABEL)


def cleanup_stdin() -> None:
    global _stdin_file
    if _stdin_file is not None:
        shutil.rmtree(_stdin_file.parent, ignore_errors=True)
        _stdin_file = None


def command_line_error(message: str) -> InputError:
    return InputError(message, source="<command line>")
