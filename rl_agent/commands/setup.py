"""`rl-agent setup` (the main job) and `rl-agent resume`: parse, call rl_agent.agent.start, print."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rl_agent.agent.start import UserError, resume_run, setup_run
from rl_agent.kit.pipeline.estimate import DEFAULT_BUDGET_MINUTES
from rl_agent.kit.pipeline.report import print_report
from rl_agent.kit.tracks.registry import DEFAULT_TRACK, TRACKS

TRACK_HELP = "; ".join(f"{name}: {t.help}" for name, t in TRACKS.items())


# An option several commands take, declared once (Typer's Annotated form).
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before creating the training environment.")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr and a non-zero exit; callers `raise fail(...)`."""
    Console(stderr=True).print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def default_run_dir() -> Path:
    return Path("runs") / time.strftime("setup-%Y%m%d-%H%M%S")


def setup(
    offline: bool = typer.Option(
        False, "--offline", help="Do not use the Hugging Face hub: train the embedded tiny model."
    ),
    model: Optional[str] = typer.Option(None, "--model", help="Hub model id (owner/name) or a local model folder."),
    run_dir: Optional[Path] = typer.Option(
        None, "--run-dir", help="Where the run writes everything (default runs/setup-<time>)."
    ),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default depends on the model)."),
    pairs: Optional[Path] = typer.Option(
        None,
        "--pairs",
        help="Training data (JSONL; pairs for dpo, prompts for grpo, "
        "prompt/completion for sft, prompt/completion/label for kto); default bundled.",
    ),
    heldout: Optional[Path] = typer.Option(
        None,
        "--heldout",
        help="Held-out rows never trained on; default the bundled set (with --data: a seeded split of it).",
    ),
    yes: YesOption = False,
    track: str = typer.Option(DEFAULT_TRACK, "--track", help=TRACK_HELP),
    reward: Optional[str] = typer.Option(
        None,
        "--reward",
        help="GRPO reward, a judge spec: default the bundled "
        "task's verifier program; 'terse' (offline judge); 'claude' (RLAIF).",
    ),
    max_cost: Optional[float] = typer.Option(
        None, "--max-cost", min=0, help="USD cap on Claude grading for the whole GRPO run (default 1.0)."
    ),
    data: Optional[str] = typer.Option(
        None,
        "--data",
        help="Your dataset: a .jsonl/.json/.csv/.parquet file or a hub "
        "dataset id, in any TRL standard type (see `rl-agent check`).",
    ),
    columns: Optional[str] = typer.Option(
        None, "--columns", help="Map --data column names, e.g. question=prompt,good=chosen,bad=rejected."
    ),
    split: str = typer.Option("train", "--split", help="Split of a hub dataset given with --data."),
    heldout_share: float = typer.Option(
        0.1,
        "--heldout-share",
        min=0.01,
        max=0.9,
        help="With --data and no --heldout: share of prompts held out (seeded split).",
    ),
    report_to: str = typer.Option(
        "none", "--report-to", help="Tracker TRL logs to: none, tensorboard, trackio or wandb."
    ),
    time_budget: float = typer.Option(
        DEFAULT_BUDGET_MINUTES,
        "--time-budget",
        min=0,
        metavar="MINUTES",
        help="On a CPU, a training time estimated over this proposes fewer steps or a "
        "smaller model (--yes picks); 0 turns the check off.",
    ),
) -> None:
    """Set up and run the starter recipe end to end: environment, model, data, training + LoRA, before/after report."""
    console = Console()
    try:
        folder, report = setup_run(
            console,
            track=track,
            offline=offline,
            model=model,
            run_dir=run_dir or default_run_dir(),
            steps=steps,
            train=pairs,
            heldout=heldout,
            reward=reward,
            max_cost=max_cost,
            yes=yes,
            confirm=typer.confirm,
            data=data,
            columns=columns,
            split=split,
            heldout_share=heldout_share,
            report_to=report_to,
            time_budget=time_budget,
        )
    except UserError as e:
        raise fail(str(e), e.code) from None
    show(console, folder.root, report)


def resume(run_dir: Path = typer.Argument(..., help="A run folder made by `rl-agent setup`.")) -> None:
    """Continue a killed or failed run from where it stopped (training from its last checkpoint)."""
    console = Console()
    try:
        folder, report = resume_run(console, run_dir)
    except UserError as e:
        raise fail(str(e), e.code) from None
    if report is not None:
        show(console, folder.root, report)


def show(console: Console, root: Path, report: dict) -> None:
    """Print the before/after; exit 1 when its verdict failed, as `new` and `run` do, so that a script or CI
    calling setup never takes a run whose answers did not pass for a success."""
    console.rule("[bold]Before / after")
    print_report(console, report)
    plot = TRACKS[report["algorithm"]].plot_name
    console.print(f"report: {root / 'report.md'} (and report.json, {plot})")
    if not report["verdict"]["succeeded"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(resume)
