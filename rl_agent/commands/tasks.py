"""`rl-agent recipes` (the recipes, their parameters and one example each) and `rl-agent prove DIR` (a task
folder's proof alone: exit 0 proven; 1 not proven, or the check crashed on an example; 2 a folder that breaks
the contract, or a judged check without a key)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from rl_agent.commands.setup import fail

PROVEN, NOT_PROVEN, MALFORMED = 0, 1, 2


def recipes() -> None:
    """List the recipes with their parameters (name, type, default, meaning) and one example command each."""
    from rl_agent.kit.planning.recipes.library import RECIPES, example_command, parameters

    console = Console(highlight=False, soft_wrap=True)
    console.print(
        "Recipes: rl-agent new --recipe NAME --set KEY=VALUE ... (repeat --recipe to combine: an answer "
        "must pass every part).",
        markup=False,
    )
    for module in RECIPES:
        console.print()
        console.print(f"[bold]{module.NAME}[/bold]: {module.DESCRIPTION}")
        for p in parameters(module):
            default = "required" if p.default is None else f"default {p.default}"
            console.print(f"  {p.name} ({p.kind}; {default}): {p.meaning}", markup=False)
        console.print(f"  e.g. {example_command(module)}", markup=False)


def prove(
    task_dir: Path = typer.Argument(
        ...,
        metavar="DIR",
        help="A task folder: task.json, check.py (or rubric.md), examples.jsonl, data/train.jsonl, data/heldout.jsonl.",
    ),
) -> None:
    """Prove a task folder's check on its examples (every good >= 0.9, every bad <= 0.1), naming each example it
    gets wrong. Exit 0: proven; 1: not proven (or the check crashed on an example); 2: the folder breaks the
    contract."""
    import os

    from rl_agent.kit.planning.authored import check_folder, prove_folder
    from rl_agent.kit.planning.contract import TaskFolderError
    from rl_agent.kit.planning.recipes import CheckPathError, CheckRunError

    console = Console(highlight=False, soft_wrap=True)
    try:
        meta = check_folder(task_dir)
    except TaskFolderError as e:
        raise fail(f"not a task folder under the contract: {e}", MALFORMED) from None
    if meta.check_kind == "claude_judge" and not os.environ.get("ANTHROPIC_API_KEY", "").strip():
        raise fail("the check is rubric.md, scored by the Claude grader: set ANTHROPIC_API_KEY to prove it", MALFORMED)
    try:
        proof = prove_folder(task_dir)
    except CheckPathError as e:
        raise fail(f"the check cannot run: {e}", MALFORMED) from None
    except CheckRunError as e:  # a check that crashes, hangs or returns a non-score on an example: a bug in it
        raise fail(f"check NOT proven: {e}", NOT_PROVEN) from None
    console.print(proof.message(), markup=False)
    if not proof.passed:
        raise typer.Exit(NOT_PROVEN)


def register(app: typer.Typer) -> None:
    app.command()(recipes)
    app.command()(prove)
