"""`rl-agent new "TASK"` and `rl-agent run SPEC`: parse, call rl_agent.agent.orchestrate, print errors."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from rl_agent.agent.orchestrate import new_run, rerun
from rl_agent.commands.setup import fail
from rl_agent.kit.pipeline.start import UserError


def new(
    task: str = typer.Argument(..., help="What the model should do better, in plain English (quote it)."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Where the run writes everything (default runs/new-<time>)."),
    offline: bool = typer.Option(False, "--offline", help="No hub, no Claude: the rule-based planner and the embedded model."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before creating the training environment."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default depends on the model)."),
    plan_only: bool = typer.Option(False, "--plan-only", help="Write spec.json (and its data) and stop; run it later with `rl-agent run`."),
) -> None:
    """Turn a plain-English task into a spec (spec.json in the run folder) and run it, repairing known failures."""
    try:
        new_run(Console(), task, run_dir=run_dir, offline=offline, yes=yes, steps=steps, plan_only=plan_only,
                confirm=typer.confirm)
    except UserError as e:
        raise fail(str(e), e.code) from None


def run(
    spec_path: Path = typer.Argument(..., metavar="SPEC", help="A spec.json written by `rl-agent new` (or its run folder)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before creating the training environment."),
    offline: bool = typer.Option(False, "--offline", help="No Claude, even if ANTHROPIC_API_KEY is set."),
) -> None:
    """(Re)run a spec: after an edit, the stages the edit affects run again; a complete, unchanged run is left as is."""
    try:
        rerun(Console(), spec_path, yes=yes, offline=offline, confirm=typer.confirm)
    except UserError as e:
        raise fail(str(e), e.code) from None


def register(app: typer.Typer) -> None:
    app.command()(new)
    app.command()(run)
