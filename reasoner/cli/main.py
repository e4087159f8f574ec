"""Entry point: `reasoner COMMAND`. Domain errors become one stderr line and an exit code here,
and only here (see ExitCode); usage errors (a bad flag, a missing argument) too: `error: ...`,
exit 2.

Start-up is kept cheap: a command's module (and with it clingo, pydantic, rich, the catalogue) is
imported only when that command runs or its own help is asked for. `reasoner --help` lists the
commands from COMMANDS below (tests/cli/test_startup.py checks each summary is the first paragraph
of the command's docstring, and that this module imports none of those libraries)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from reasoner.errors import ExitCode, InputError, InternalError

# name -> (module in reasoner.cli, function, the first paragraph of its docstring: --help's summary)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "decide": (
        "decide_cmd",
        "decide_command",
        "Decide requests exactly as AWS does: allow, explicit deny or implicit deny, with reasons.",
    ),
    "can": (
        "can_cmd",
        "can_command",
        "Is there ANY request, in the space left open, that AWS would allow? A witness or a proof.",
    ),
    "check-access-not-granted": (
        "checks_cmd",
        "check_access_not_granted",
        "Fail (exit 1, with a witness) when the policy grants the action on the resource.",
    ),
    "check-no-public-access": (
        "checks_cmd",
        "check_no_public_access",
        "Fail (exit 1, with a witness) when anyone outside the account (or anonymous) gets access.",
    ),
    "actions": (
        "actions_cmd",
        "actions_command",
        "List the catalogue actions a pattern matches (case-insensitive), with resource types.",
    ),
    "diff": (
        "diff_cmd",
        "diff_command",
        "The requests NEW allows and OLD does not, and the reverse, proved exactly (with a witness each).",
    ),
    "lint": (
        "lint_cmd",
        "lint_command",
        "Statements that never change a decision (proved with the diff search) and actions the\n"
        "catalogue does not know. Exit 1 when there are findings.",
    ),
    "who-can": (
        "paths_cmd",
        "who_can_command",
        "Every principal of the snapshot that can do ACTION on RESOURCE, with its shortest path.",
    ),
    "reach": (
        "paths_cmd",
        "reach_command",
        "Every path from a principal to ACTION on RESOURCE (shortest first), or `impossible` with the scope.",
    ),
    "privesc": (
        "paths_cmd",
        "privesc_command",
        "Which principals can become admin-equivalent (iam:* on *), by which chain of techniques.",
    ),
    "matrix": (
        "matrix_cmd",
        "matrix_command",
        "The access matrix: every principal x action x resource of a snapshot, each as `decide --snapshot`.",
    ),
    "prove": (
        "prove_cmd",
        "prove_command",
        "Prove each invariant (with the scope), or list its violators, or say unknown or vacuous.",
    ),
    "collect": (
        "collect_cmd",
        "collect_command",
        "Collect IAM, resource policies, the organization and VPC endpoints into a snapshot folder.",
    ),
    "audit": (
        "audit_cmd",
        "audit_command",
        "Audit an account: findings with evidence (paths, statements, witnesses), never a guess.",
    ),
}


def load_command(name: str) -> Any:
    """The click command of COMMANDS[name], built by typer from its function (imported now)."""
    module, function, _ = COMMANDS[name]
    callback = getattr(importlib.import_module(f"reasoner.cli.{module}"), function)
    one = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)
    one.command(name)(callback)
    return typer.main.get_command(one)  # one command and no callback: the command itself


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands: those of COMMANDS are built on first access, others as registered."""

    def __init__(self, eager: dict[str, Any]) -> None:
        self._loaded: dict[str, Any] = dict(eager)

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def __setitem__(self, name: str, cmd: Any) -> None:
        self._loaded[name] = cmd

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (n for n in self._loaded if n not in COMMANDS)

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._loaded))

    def summary(self, name: str, limit: int) -> str | None:
        """The one-line help of a command without importing it (None: hidden)."""
        if name in COMMANDS and name not in self._loaded:
            return TyperCommand(name, help=COMMANDS[name][2]).get_short_help_str(limit)
        cmd = self[name]
        return None if cmd.hidden else cmd.get_short_help_str(limit)


class LazyGroup(TyperGroup):
    """The root group: commands load when resolved; the command list in --help loads none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _LazyCommands(dict(self.commands))

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only (TyperGroup's own would build every command)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        commands = self.commands
        assert isinstance(commands, _LazyCommands)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, s) for n in names if (s := commands.summary(n, limit)) is not None]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    name="reasoner",
    help="Exact AWS IAM policy reasoning on the clingo answer-set solver.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from reasoner import __version__

        print(f"reasoner {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Exact AWS IAM policy reasoning on the clingo answer-set solver."""


def _one_line(message: str) -> str:
    from reasoner.cli.output import one_line

    return one_line(message)


def _error(message: str, code: int) -> None:
    print(f"error: {_one_line(message)}", file=sys.stderr)
    sys.exit(code)


def _loaded(module: str, name: str) -> Any:
    """A class of a module already imported (a command that ran imported it), else None: an
    exception of that class cannot have been raised."""
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def _other_error(exc: Exception) -> None:
    """Errors of modules a command imported: invalid models, usage problems found after parsing."""
    validation = _loaded("pydantic", "ValidationError")
    if validation is not None and isinstance(exc, validation):
        from reasoner.policy.document import validation_to_input_error

        _error(validation_to_input_error(exc, "<command line>").one_line(), ExitCode.BAD_INPUT)
    usage = _loaded("reasoner.cli.output", "UsageProblem")
    if usage is not None and isinstance(exc, usage):
        _error(str(exc), ExitCode.BAD_INPUT)
    raise exc


def main() -> None:
    try:
        # In non-standalone mode click returns the code of a typer.Exit instead of raising it.
        code = app(standalone_mode=False, prog_name="reasoner")
        if isinstance(code, int) and code:
            sys.exit(code)
    except InputError as exc:
        if exc.source is None:  # raised from flags, not from a file
            exc = InputError(exc.message, source="<command line>", path=exc.path)
        _error(exc.one_line(), ExitCode.BAD_INPUT)
    except InternalError as exc:
        print(f"internal error (please report): {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(ExitCode.INTERNAL)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as exc:
        _usage_error(exc)
    except Exception as exc:
        _other_error(exc)
    finally:
        output = sys.modules.get("reasoner.cli.output")  # only it can have read standard input
        if output is not None:
            output.cleanup_stdin()


def _usage_error(exc: typer.TyperException) -> None:
    """Click's usage errors (bad flag, missing argument, bad value): one line, exit 2. With no
    command at all, the help (as click prints it)."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        print(exc.format_message(), file=sys.stderr)
        sys.exit(ExitCode.BAD_INPUT)
    code = getattr(exc, "exit_code", 1)
    _error(exc.format_message(), ExitCode.BAD_INPUT if code == 2 else code)


if __name__ == "__main__":
    main()
