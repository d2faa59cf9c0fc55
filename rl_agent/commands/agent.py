"""`rl-agent new` (plain-English task -> spec -> run) and `rl-agent run SPEC` (re-run an edited spec)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def new(
    task: str = typer.Argument(..., help="The task in plain English."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir"),
    offline: bool = typer.Option(False, "--offline"),
    yes: bool = typer.Option(False, "--yes", "-y"),
    steps: Optional[int] = typer.Option(None, "--steps", min=1),
) -> None:
    """Turn a plain-English task into a spec (spec.json) and run it, repairing known failures."""
    raise typer.Exit(2)


def run(spec: Path = typer.Argument(..., help="A spec.json written by `rl-agent new`.")) -> None:
    """(Re)run an edited spec."""
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    app.command()(new)
    app.command()(run)
