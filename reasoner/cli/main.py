"""Entry point: `reasoner COMMAND`. Domain errors become one stderr line and an exit code here,
and only here (see ExitCode); usage errors (a bad flag, a missing argument) too: `error: ...`,
exit 2."""

from __future__ import annotations

import sys

import typer
from pydantic import ValidationError

from reasoner.cli.actions_cmd import actions_command
from reasoner.cli.audit_cmd import audit_command
from reasoner.cli.can_cmd import can_command
from reasoner.cli.checks_cmd import check_access_not_granted, check_no_public_access
from reasoner.cli.collect_cmd import collect_command
from reasoner.cli.decide_cmd import decide_command
from reasoner.cli.diff_cmd import diff_command
from reasoner.cli.lint_cmd import lint_command
from reasoner.cli.output import UsageProblem, cleanup_stdin, one_line
from reasoner.cli.paths_cmd import privesc_command, reach_command, who_can_command
from reasoner.cli.prove_cmd import prove_command
from reasoner.errors import ExitCode, InputError, InternalError
from reasoner.policy.document import validation_to_input_error

app = typer.Typer(
    name="reasoner",
    help="Exact AWS IAM policy reasoning on the clingo answer-set solver.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("decide")(decide_command)
app.command("can")(can_command)
app.command("check-access-not-granted")(check_access_not_granted)
app.command("check-no-public-access")(check_no_public_access)
app.command("actions")(actions_command)
app.command("diff")(diff_command)
app.command("lint")(lint_command)
app.command("who-can")(who_can_command)
app.command("reach")(reach_command)
app.command("privesc")(privesc_command)
app.command("prove")(prove_command)
app.command("collect")(collect_command)
app.command("audit")(audit_command)


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


def _error(message: str, code: int) -> None:
    print(f"error: {one_line(message)}", file=sys.stderr)
    sys.exit(code)


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
    except ValidationError as exc:
        _error(validation_to_input_error(exc, "<command line>").one_line(), ExitCode.BAD_INPUT)
    except UsageProblem as exc:
        _error(str(exc), ExitCode.BAD_INPUT)
    except InternalError as exc:
        print(f"internal error (please report): {one_line(str(exc))}", file=sys.stderr)
        sys.exit(ExitCode.INTERNAL)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except typer.TyperException as exc:
        _usage_error(exc)
    finally:
        cleanup_stdin()


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
