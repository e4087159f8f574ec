"""Errors a user can cause, each rendered as one line naming the file and the JSON path."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every `reasoner` command (documented in the README)."""

    OK = 0
    DENIED = 1  # decide --fail-on-deny saw a deny; a check failed; an invariant is violated
    BAD_INPUT = 2  # malformed file, unknown operator or action, bad ARN, oversized input
    INTERNAL = 3  # the search and the concrete decider disagree: a bug, never silent
    UNKNOWN = 4  # a check could not be decided (a pattern outside the abstraction): see the reason


MAX_MESSAGE_CHARS = 500


def json_path(loc: tuple | list) -> str:
    """('Statement', 0, 'Effect') -> '$.Statement[0].Effect'."""
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out


class InputError(Exception):
    """Bad user input: a file, a JSON path inside it and what is wrong there."""

    def __init__(self, message: str, *, source: str | None = None, path: tuple | list = ()):
        self.message = message
        self.source = source
        self.path = tuple(path)
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """FILE: $.path: message, on one line and bounded: the message never carries the input
        at length (a 100,000-character literal, an expanded YAML alias)."""
        where = self.source or "<input>"
        message = " ".join(self.message.splitlines())
        if len(message) > MAX_MESSAGE_CHARS:
            message = f"{message[:MAX_MESSAGE_CHARS]}... ({len(message) - MAX_MESSAGE_CHARS} more characters)"
        return f"{where}: {json_path(self.path)}: {message}"

    def within(self, source: str | None = None, prefix: tuple | list = ()) -> InputError:
        """The same error seen from an enclosing document (a batch line, a case file)."""
        return InputError(
            self.message,
            source=self.source if self.source and source is None else (source or self.source),
            path=tuple(prefix) + self.path,
        )


class InternalError(Exception):
    """A disagreement between two parts of the reasoner that must never happen."""
