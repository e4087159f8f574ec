"""Entry point: `reasoner COMMAND`. Domain errors become one stderr line and an exit code here,
and only here (see ExitCode)."""

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
from reasoner.cli.paths_cmd import privesc_command, reach_command, who_can_command
from reasoner.cli.prove_cmd import prove_command
from reasoner.errors import ExitCode, InputError, InternalError
from reasoner.policy.document import validation_to_input_error

app = typer.Typer(
    name="reasoner",
    help="Exact AWS IAM policy reasoning on the clingo answer-set solver.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


def main() -> None:
    try:
        # In non-standalone mode click returns the code of a typer.Exit instead of raising it.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except InputError as exc:
        if exc.source is None:  # raised from flags, not from a file
            exc = InputError(exc.message, source="<command line>", path=exc.path)
        print(f"error: {exc.one_line()}", file=sys.stderr)
        sys.exit(ExitCode.BAD_INPUT)
    except ValidationError as exc:
        print(f"error: {validation_to_input_error(exc, '<command line>').one_line()}", file=sys.stderr)
        sys.exit(ExitCode.BAD_INPUT)
    except InternalError as exc:
        print(f"internal error (please report): {exc}", file=sys.stderr)
        sys.exit(ExitCode.INTERNAL)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:
        # Usage errors of typer's (vendored) click arrive here in non-standalone mode.
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(ExitCode.BAD_INPUT)
        raise


if __name__ == "__main__":
    main()
