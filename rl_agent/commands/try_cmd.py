"""`rl-agent try RUN_DIR "PROMPT"`: base vs tuned answers side by side (prompts also from stdin, one a line)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rl_agent.commands.setup import fail
from rl_agent.kit.export.rundir import RunDirError, read_run
from rl_agent.kit.export.try_model import try_prompts


def try_(
    run_dir: Path = typer.Argument(..., help="A finished run folder."),
    prompts: Optional[List[str]] = typer.Argument(None, help="Prompts; none or '-' reads them from stdin, one a line."),
    max_new_tokens: Optional[int] = typer.Option(
        None, "--max-new-tokens", min=1, help="Answer length (default the run's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON Lines instead of a table."),
) -> None:
    """Ask the base model and the tuned model the same prompts; show both answers, scored by the run's check."""
    items = [p for p in (prompts or []) if p != "-"]
    if not items or "-" in (prompts or []):
        if sys.stdin.isatty() and not items:
            raise fail('give a prompt: rl-agent try RUN_DIR "PROMPT" (or pipe prompts in, one a line)')
        if not sys.stdin.isatty():
            items += [line.strip() for line in sys.stdin if line.strip()]
    if not items:
        raise fail("no prompts given (arguments or stdin)")
    try:
        results, check = try_prompts(read_run(run_dir), items, max_new_tokens)
    except RunDirError as e:
        raise fail(str(e)) from None
    if as_json:
        for r in results:
            print(json.dumps({**r.to_dict(), "check": check}, ensure_ascii=False))
        return
    table = Table(title=f"base vs tuned (check: {check})", show_lines=True)
    for col in ("prompt", "base model", "tuned model"):
        table.add_column(col, overflow="fold")

    def cell(a) -> Text:  # Text, not markup: model output may hold [brackets]
        text = Text(a.output)
        if a.score is not None:
            text.append(f"\nscore {a.score:.2f}", style="dim")
        return text

    for r in results:
        table.add_row(Text(r.prompt), cell(r.base), cell(r.tuned))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("try")(try_)
