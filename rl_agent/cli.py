"""The `rl-agent` command line (Typer). Each command group lives in rl_agent/commands/<name>.py and
registers itself on the shared app, so this file only decides the order they appear in `--help`."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="rl-agent",
    help="Reinforcement learning (DPO / GRPO + LoRA) on small open models, with Claude as writer and grader.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES = ("setup", "agent", "tasks", "grading", "report", "check", "export", "try_cmd")

for _name in COMMAND_MODULES:
    importlib.import_module(f"rl_agent.commands.{_name}").register(app)


def main() -> None:  # pragma: no cover - console entry point is `app`
    app()
