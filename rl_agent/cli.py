"""The `rl-agent` command line (Typer). Each command group lives in rl_agent/commands/<name>.py and
registers itself on the shared app, so this file only decides the order they appear in `--help`."""

from __future__ import annotations

import importlib

import typer

from rl_agent import __version__

app = typer.Typer(
    name="rl-agent",
    help="Reinforcement learning (DPO / GRPO + LoRA) on small open models, with Claude as writer and grader.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"rl-agent {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
    ),
) -> None:
    """Reinforcement learning (DPO / GRPO + LoRA) on small open models, with Claude as writer and grader."""


COMMAND_MODULES = ("setup", "agent", "tasks", "grading", "report", "check", "export", "try_cmd")

for _name in COMMAND_MODULES:
    importlib.import_module(f"rl_agent.commands.{_name}").register(app)


def main() -> None:  # pragma: no cover - console entry point is `app`
    app()
