"""`rl-agent report RUN_DIR`: show a finished run's before/after again, from its report.json."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from rl_agent.commands.setup import fail
from rl_agent.kit.pipeline.report import print_report


def report(
    run_dir: Path = typer.Argument(..., help="A run folder made by `rl-agent setup`, `new` or `run`."),
    as_json: bool = typer.Option(False, "--json", help="Print report.json instead of the tables."),
) -> None:
    """Print a finished run's side-by-side before/after, figures and what to tune next."""
    path = run_dir / "report.json"
    if not path.is_file():
        state = run_dir / "run.json"
        hint = f"; it is unfinished, run `rl-agent resume {run_dir}`" if state.is_file() else ""
        raise fail(f"{run_dir}: no report.json{hint}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise fail(f"{path}: unreadable report ({e})") from None
    if as_json:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    try:
        print_report(Console(), data)
    except (KeyError, ValueError) as e:
        raise fail(f"{path}: not a report this version can show ({e})") from None
    typer.echo(f"full report: {run_dir / 'report.md'}")


def register(app: typer.Typer) -> None:
    app.command()(report)
