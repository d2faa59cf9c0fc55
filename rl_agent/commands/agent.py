"""`rl-agent new` and `rl-agent run SPEC`: parse, call rl_agent.agent.orchestrate, print errors.

`--recipe` and `--set` are read in command-line order, so each `--set` belongs to the `--recipe` before it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.console import Console
from typer.core import TyperCommand

from rl_agent.agent.orchestrate import new_run, rerun
from rl_agent.agent.start import UserError
from rl_agent.commands.setup import YesOption, fail

# `new` and `run` both take it: declared once (Typer's Annotated form).
TuneBudgetOption = Annotated[
    Optional[float],
    typer.Option(
        "--tune-budget",
        min=0,
        help="Minutes for the settings search when no checkpoint passes on validation (default 20; 0: none).",
    ),
]

ORDER_KEY = "rl_agent.option_order"


class OrderedCommand(TyperCommand):
    """Records the order options appeared in (one entry per occurrence) in ctx.meta, for --recipe/--set groups."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        try:
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            ctx.meta[ORDER_KEY] = [p.name for p in order]
        except Exception:  # noqa: BLE001 - a usage error: the real parse below reports it
            pass
        return super().parse_args(ctx, args)


def recipe_groups(recipes: list[str], sets: list[str], order: list[str]) -> list[tuple[str, list[str]]]:
    """[(recipe, its --set values)] from the two option lists and the order they appeared in."""
    groups: list[tuple[str, list[str]]] = []
    r, s = iter(recipes), iter(sets)
    for name in order:
        if name == "recipe":
            groups.append((next(r), []))
        elif name == "set_":
            value = next(s)
            if not groups:
                raise UserError(
                    f"--set {value} comes before any --recipe: write --recipe NAME first, then its --set KEY=VALUE"
                )
            groups[-1][1].append(value)
    return groups


def new(
    ctx: typer.Context,
    task: Optional[str] = typer.Argument(
        None,
        help="The task in words, for Claude to read (quote it). Without Claude "
        "nothing is guessed: the closest recipes are listed (exit 2).",
    ),
    recipe: List[str] = typer.Option(
        [], "--recipe", help="A recipe (rl-agent recipes lists them); repeat to combine several into one task."
    ),
    set_: List[str] = typer.Option([], "--set", help="KEY=VALUE: a parameter of the --recipe before it (repeat)."),
    task_dir: Optional[Path] = typer.Option(
        None,
        "--task-dir",
        help="A task folder (task.json, check.py, examples.jsonl, data/): copied into the run folder, proven, run.",
    ),
    run_dir: Optional[Path] = typer.Option(
        None, "--run-dir", help="Where the run writes everything (default runs/new-<time>)."
    ),
    offline: bool = typer.Option(False, "--offline", help="No hub, no Claude: the embedded model."),
    yes: YesOption = False,
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default depends on the model)."),
    plan_only: bool = typer.Option(
        False,
        "--plan-only",
        help="Write the task folder and spec.json, prove the check, and stop; run it later with `rl-agent run`.",
    ),
    tune_budget: TuneBudgetOption = None,
) -> None:
    """Plan a task (recipes, a task folder, or words Claude reads), prove its check, and run it, repairing known
    failures."""
    try:
        order = ctx.meta.get(ORDER_KEY, ["recipe"] * len(recipe) + ["set_"] * len(set_))
        groups = recipe_groups(recipe, set_, order)
        new_run(
            Console(),
            task,
            recipes=groups,
            task_dir=task_dir,
            run_dir=run_dir,
            offline=offline,
            yes=yes,
            steps=steps,
            plan_only=plan_only,
            confirm=typer.confirm,
            tune_budget=tune_budget,
        )
    except UserError as e:
        raise fail(str(e), e.code) from None


def run(
    spec_path: Path = typer.Argument(
        ..., metavar="SPEC", help="A spec.json written by `rl-agent new` (or its run folder)."
    ),
    yes: YesOption = False,
    offline: bool = typer.Option(False, "--offline", help="No Claude, even if ANTHROPIC_API_KEY is set."),
    tune_budget: TuneBudgetOption = None,
) -> None:
    """(Re)run a spec: after an edit, the stages the edit affects run again; a complete, unchanged run is left as is."""
    try:
        rerun(Console(), spec_path, yes=yes, offline=offline, confirm=typer.confirm, tune_budget=tune_budget)
    except UserError as e:
        raise fail(str(e), e.code) from None


def register(app: typer.Typer) -> None:
    app.command(cls=OrderedCommand)(new)
    app.command()(run)
