"""`rl-agent setup` (the main job) and `rl-agent resume`."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from rl_agent.kit.data import PairFileError, bundled_pairs_path
from rl_agent.kit.environment import EnvironmentError_, TrainingEnv, ensure_training_env, missing_modules
from rl_agent.kit.hardware import ModelError, choose_model, hub_reachable, probe_hardware
from rl_agent.kit.pipeline import StageError, pipeline_class, validate_data
from rl_agent.kit.report import print_report
from rl_agent.kit.run_folder import RunFolder, RunFolderError
from rl_agent.kit.spec import DPOSettings, RunSpec
from rl_agent.kit.tiny_model import default_cache_dir


def fail(message: str, code: int = 2) -> typer.Exit:
    """One clear line on stderr and a non-zero exit; callers `raise fail(...)`."""
    Console(stderr=True).print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def training_env(console: Console, yes: bool) -> TrainingEnv:
    """The interpreter for training runs; asks before creating a venv unless --yes (refuses without a tty)."""
    if missing_modules(sys.executable) and not yes:
        if not sys.stdin.isatty():
            raise fail("the training stack (torch, trl, ...) is not installed here; re-run with --yes to create a venv for it")
        if not typer.confirm("The training stack is missing. Create a venv for training and install it there?"):
            raise fail("cancelled: no training environment")
    try:
        return ensure_training_env(default_cache_dir() / "train-env", log=console.print)
    except EnvironmentError_ as e:
        raise fail(str(e)) from None


def default_run_dir() -> Path:
    return Path("runs") / time.strftime("setup-%Y%m%d-%H%M%S")


def setup(
    offline: bool = typer.Option(False, "--offline", help="Do not use the Hugging Face hub: train the embedded tiny model."),
    model: Optional[str] = typer.Option(None, "--model", help="Hub model id (owner/name) or a local model folder."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Where the run writes everything (default runs/setup-<time>)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default depends on the model)."),
    pairs: Optional[Path] = typer.Option(None, "--pairs", help="Training pairs (JSONL prompt/chosen/rejected); default the bundled set."),
    heldout: Optional[Path] = typer.Option(None, "--heldout", help="Held-out pairs never trained on; default the bundled set."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before creating the training environment."),
    track: str = typer.Option("dpo", "--track", help="dpo: offline preference pairs. grpo: online RL, the model's "
                              "own answers graded by a verifier or a judge (--pairs/--heldout then take prompts)."),
    reward: Optional[str] = typer.Option(None, "--reward", help="GRPO reward, a judge spec: default the bundled "
                                         "task's verifier program; 'terse' (offline judge); 'claude' (RLAIF)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", min=0, help="USD cap on Claude grading for the "
                                             "whole GRPO run (default 1.0)."),
) -> None:
    """Set up and run the starter recipe end to end: environment, model, pairs, DPO + LoRA, before/after report."""
    console = Console()
    started = time.time()
    if track not in ("dpo", "grpo"):
        raise fail(f"--track must be 'dpo' or 'grpo', not {track!r}")
    if track == "dpo" and (reward is not None or max_cost is not None):
        raise fail("--reward and --max-cost are for online RL: add --track grpo")
    folder = RunFolder(run_dir or default_run_dir())
    if folder.state_path.exists():
        raise fail(f"{folder.root} already holds a run; use `rl-agent resume {folder.root}` or choose another --run-dir")

    # 1. Environment
    console.rule("[bold]Environment")
    env = training_env(console, yes)
    console.print(env.note)

    # 2. Model that fits
    console.rule("[bold]Model")
    hw = probe_hardware(env.python)
    console.print(f"hardware: {hw.describe()}" + ("" if hw.cuda else " - no CUDA GPU, so training falls back to the CPU"))
    hub = False if offline else hub_reachable()
    if not offline:
        console.print("Hugging Face hub: " + ("reachable" if hub else "not reachable, working offline"))
    try:
        choice = choose_model(hw, requested=model, hub=hub)
    except ModelError as e:
        raise fail(str(e)) from None
    console.print(f"model: [bold]{choice.name}[/bold] ({choice.reason})")

    # 3-4. Task and data (validated before anything is written)
    device = "cuda" if hw.cuda else "cpu"
    if track == "grpo":
        from rl_agent.kit.grpo_setup import GRPOSetupError, grpo_spec

        try:
            spec, train_n, held_n = grpo_spec(
                model=choice.name, model_source=choice.source, model_reason=choice.reason, device=device,
                precision=("bf16" if hw.bf16 else "fp16") if hw.cuda else "fp32", reward=reward, max_cost=max_cost,
                steps=steps, prompts=pairs, heldout=heldout)
        except (GRPOSetupError, PairFileError) as e:
            raise fail(str(e)) from None
        console.print(f"task: {spec.task}")
        console.print(f"reward: {spec.grpo.reward}; held-out judge (never trained on): {spec.grpo.heldout_judge}")
        console.print(f"data: {train_n} training prompts, {held_n} held-out prompts (no prompt overlap)")
        _create_and_run(folder, spec, env.python, started, console)
        return
    settings = DPOSettings.for_model(choice.source, device)
    if steps:
        settings.steps = steps
        settings.save_steps = min(settings.save_steps, max(1, steps // 2))
    spec = RunSpec(
        model=choice.name,
        model_source=choice.source,
        model_reason=choice.reason,
        device=device,
        precision=("bf16" if hw.bf16 else "fp16") if hw.cuda else "fp32",
        train_file=str((pairs or bundled_pairs_path("train")).resolve()),
        heldout_file=str((heldout or bundled_pairs_path("heldout")).resolve()),
        dpo=settings,
    )
    try:
        train, held = validate_data(spec)
    except PairFileError as e:
        raise fail(str(e)) from None
    console.print(f"task: {spec.task}")
    console.print(f"data: {len(train)} training pairs, {len(held)} held-out pairs (no prompt overlap)")
    _create_and_run(folder, spec, env.python, started, console)


def _create_and_run(folder: RunFolder, spec: RunSpec, python: str, started: float, console: Console) -> None:
    try:
        state = folder.create(spec)
    except RunFolderError as e:
        raise fail(str(e)) from None
    state.python = python
    state.timings["environment"] = time.time() - started
    folder.save(state)
    console.print(f"run folder: {folder.root}")
    _execute(folder, state, console)


def resume(run_dir: Path = typer.Argument(..., help="A run folder made by `rl-agent setup`.")) -> None:
    """Continue a killed or failed run from where it stopped (training from its last checkpoint)."""
    console = Console()
    folder = RunFolder(run_dir)
    try:
        state = folder.load()
    except RunFolderError as e:
        raise fail(str(e)) from None
    if state.status == "complete":
        console.print(f"{folder.root} is already complete; see {folder.path('report.md')}")
        return
    if not state.python or missing_modules(state.python):
        try:
            state.python = ensure_training_env(default_cache_dir() / "train-env", log=console.print).python
        except EnvironmentError_ as e:
            raise fail(str(e)) from None
    done = ", ".join(state.stages_done) or "nothing"
    console.print(f"resuming {folder.root} (finished so far: {done})")
    _execute(folder, state, console)


def _execute(folder: RunFolder, state, console: Console) -> None:
    from rl_agent.agent.preflight import PreflightFailed, check_or_raise

    folder.save(state)  # preflight reads the run as saved (resume may have chosen a new interpreter)
    try:  # preflight (agent/preflight.py): safe fixes logged in repairs.md, the rest stop the run here
        if check_or_raise(folder, say=lambda s: console.print(f"[bold yellow]{s}[/bold yellow]")):
            state = folder.load()
    except PreflightFailed as e:
        raise fail(f"{e}\n(fix it and run `rl-agent resume {folder.root}`)") from None
    pipeline = pipeline_class(state.spec.algorithm)(folder, console, default_cache_dir())
    try:
        report = pipeline.run(state)
    except (StageError, PairFileError, RunFolderError) as e:
        raise fail(f"{e}  (fix it and run `rl-agent resume {folder.root}`)") from None
    except KeyboardInterrupt:
        raise fail(f"interrupted; run `rl-agent resume {folder.root}` to continue", code=130) from None
    console.rule("[bold]Before / after")
    print_report(console, report)
    plot = "reward.png" if state.spec.algorithm == "grpo" else "loss.png"
    console.print(f"report: {folder.path('report.md')} (and report.json, {plot})")


def register(app: typer.Typer) -> None:
    app.command()(setup)
    app.command()(resume)
