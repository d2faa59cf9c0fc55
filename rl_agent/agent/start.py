"""Starting and resuming runs: the training environment, the model that fits, the track's settings and
data, the run folder, then the stage driver. `rl-agent setup` and `rl-agent resume` are thin wrappers.

Order matters for "nothing half-written": flags and data are validated before the run folder exists.
Failures a user can fix raise UserError with one line saying what and where.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

from rich.console import Console

from rl_agent.agent.repair.preflight import PreflightFailed, check_or_raise
from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.dataio.prepare import prepare_data
from rl_agent.kit.dataio.sources import DataError
from rl_agent.kit.models.environment import EnvironmentError_, TrainingEnv, ensure_training_env, missing_modules
from rl_agent.kit.models.hardware import ModelError, choose_model, hub_reachable, probe_hardware
from rl_agent.kit.models.tiny import default_cache_dir
from rl_agent.kit.pipeline.driver import Pipeline, StageError
from rl_agent.kit.pipeline.estimate import DEFAULT_BUDGET_MINUTES, EstimateOptions, TimeEstimator, smaller_choice
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError, RunState
from rl_agent.kit.pipeline.selection import supports_selection
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracking import TrackerError, check_report_to
from rl_agent.kit.tracks.registry import TRACKS, get_track


class UserError(RlAgentError, RuntimeError):
    """Something the user can fix; `code` is the exit status the command should end with."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def training_env(console: Console, yes: bool, confirm: Callable[[str], bool] | None = None) -> TrainingEnv:
    """The interpreter for training runs; asks before creating a venv unless --yes (refuses without a tty)."""
    if missing_modules(sys.executable) and not yes:
        if not sys.stdin.isatty() or confirm is None:
            raise UserError(
                "the training stack (torch, trl, ...) is not installed here; re-run with --yes to create a venv for it"
            )
        if not confirm("The training stack is missing. Create a venv for training and install it there?"):
            raise UserError("cancelled: no training environment")
    try:
        return ensure_training_env(default_cache_dir() / "train-env", log=console.print)
    except EnvironmentError_ as e:
        raise UserError(str(e)) from None


def setup_run(
    console: Console,
    *,
    track: str,
    offline: bool,
    model: str | None,
    run_dir: Path,
    steps: int | None,
    train: Path | None,
    heldout: Path | None,
    reward: str | None,
    max_cost: float | None,
    yes: bool,
    confirm: Callable[[str], bool] | None = None,
    data: str | None = None,
    columns: str | None = None,
    split: str = "train",
    heldout_share: float = 0.1,
    report_to: str = "none",
    time_budget: float | None = DEFAULT_BUDGET_MINUTES,
) -> tuple[RunFolder, dict]:
    """The main job end to end; returns the run folder and its report.

    Before training, a few real steps are timed and the run's time estimated (pipeline/estimate.py); on a
    CPU, over `time_budget` minutes (None or 0: no check) proposes fewer steps or a smaller model.

    `data` (any format `rl-agent check` reads) is checked, mapped and written as JSON Lines into the run
    folder's data/ first; `train` (--pairs) takes the track's own JSONL as it is."""
    started = time.time()
    if track not in TRACKS:
        raise UserError(f"--track must be one of {', '.join(TRACKS)}, not {track!r}")
    chosen = get_track(track)
    if not chosen.accepts_reward and (reward is not None or max_cost is not None):
        raise UserError(f"--reward and --max-cost are for online RL: add --track grpo (not {track})")
    folder = RunFolder(run_dir)
    if folder.state_path.exists():
        raise UserError(
            f"{folder.root} already holds a run; use `rl-agent resume {folder.root}` or choose another --run-dir"
        )

    if data is not None and train is not None:
        raise UserError("give the training data once: --data SOURCE (any format) or --pairs FILE (JSONL)")

    console.rule("[bold]Environment")
    env = training_env(console, yes, confirm)
    console.print(env.note)
    try:  # a missing tracker package is an error before training, not a crash inside it
        check_report_to(report_to, env.python)
    except TrackerError as e:
        raise UserError(str(e)) from None
    if data is not None:
        train, heldout = prepare(
            console, folder, chosen, data, columns=columns, split=split, heldout=heldout, heldout_share=heldout_share
        )

    console.rule("[bold]Model")
    hw = probe_hardware(env.python)
    console.print(
        f"hardware: {hw.describe()}" + ("" if hw.cuda else " - no CUDA GPU, so training falls back to the CPU")
    )
    hub = False if offline else hub_reachable()
    if not offline:
        console.print("Hugging Face hub: " + ("reachable" if hub else "not reachable, working offline"))
    try:
        choice = choose_model(hw, requested=model, hub=hub)
    except ModelError as e:
        raise UserError(str(e)) from None
    console.print(f"model: [bold]{choice.name}[/bold] ({choice.reason})")

    device = "cuda" if hw.cuda else "cpu"
    try:
        plan = chosen.setup(
            choice.settings_source, device, reward=reward, max_cost=max_cost, steps=steps, train=train, heldout=heldout
        )
        plan.settings.report_to = report_to
        spec = RunSpec(
            task=plan.task,
            algorithm=track,
            model=choice.name,
            model_source=choice.source,
            model_reason=choice.reason,
            device=device,
            precision=("bf16" if hw.bf16 else "fp16") if hw.cuda else "fp32",
            train_file=str(Path(plan.train_file).resolve()),
            heldout_file=str(Path(plan.heldout_file).resolve()),
            min_correct=plan.min_correct,
            **{track: plan.settings},
        )
        train_rows, held_rows = chosen.load_data(spec)
    except (PairFileError, ValueError) as e:
        raise UserError(str(e)) from None
    console.print(f"task: {spec.task}")
    for note in plan.notes:
        console.print(note)
    console.print(
        f"data: {len(train_rows)} training rows ({chosen.train_kind}), {len(held_rows)} held-out rows "
        f"(no prompt overlap)"
    )
    try:
        state = folder.create(spec)
    except RunFolderError as e:
        raise UserError(str(e)) from None
    state.python = env.python
    state.timings["environment"] = time.time() - started
    folder.save(state)
    console.print(f"run folder: {folder.root}")
    smaller, smaller_params = smaller_choice(choice, hub)
    options = EstimateOptions(
        budget_minutes=time_budget,
        yes=yes,
        ask=confirm if confirm is not None and sys.stdin.isatty() else None,
        steps_fixed=steps is not None,
        model_fixed=model is not None,
        smaller=smaller,
        smaller_params=smaller_params,
    )
    return folder, execute(folder, state, console, estimator=TimeEstimator(options))


def prepare(
    console: Console,
    folder: RunFolder,
    track,
    data: str,
    *,
    columns: str | None,
    split: str,
    heldout: Path | None,
    heldout_share: float,
) -> tuple[Path, Path]:
    """`--data`: the data check, then canonical train/held-out JSONL in the run folder's data/."""
    console.rule("[bold]Data check")
    try:
        prepared = prepare_data(
            folder.root,
            data,
            reader=track.name,
            train_kind=track.train_kind,
            heldout_kind=track.heldout_kind,
            validation=supports_selection(track),
            columns=columns,
            split=split,
            heldout=str(heldout) if heldout else None,
            heldout_share=heldout_share,
        )
    except (DataError, ValueError) as e:
        raise UserError(str(e)) from None
    for line in prepared.report.lines():
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    return prepared.train_file, prepared.heldout_file


def resume_run(console: Console, run_dir: Path) -> tuple[RunFolder, dict | None]:
    """Continue a killed or failed run where it stopped; (folder, None) when it was already complete."""
    folder = RunFolder(run_dir)
    try:
        state = folder.load()
    except RunFolderError as e:
        raise UserError(str(e)) from None
    if state.status == "complete":
        console.print(f"{folder.root} is already complete; see {folder.path('report.md')}")
        return folder, None
    if not state.python or missing_modules(state.python):
        try:
            state.python = ensure_training_env(default_cache_dir() / "train-env", log=console.print).python
        except EnvironmentError_ as e:
            raise UserError(str(e)) from None
    done = ", ".join(state.stages_done) or "nothing"
    console.print(f"resuming {folder.root} (finished so far: {done})")
    return folder, execute(folder, state, console)


def execute(folder: RunFolder, state: RunState, console: Console, estimator: TimeEstimator | None = None) -> dict:
    """Preflight (agent/repair/preflight.py: safe fixes logged in repairs.md, the rest stop here), then the stages."""
    folder.save(state)  # preflight reads the run as saved (resume may have chosen a new interpreter)
    try:
        if check_or_raise(folder, say=lambda s: console.print(f"[bold yellow]{s}[/bold yellow]")):
            state = folder.load()
    except PreflightFailed as e:
        raise UserError(f"{e}\n(fix it and run `rl-agent resume {folder.root}`)") from None
    try:
        return Pipeline(folder, console, estimator=estimator).run(state)
    except (StageError, PairFileError, RunFolderError) as e:
        raise UserError(f"{e}  (fix it and run `rl-agent resume {folder.root}`)") from None
    except KeyboardInterrupt:
        raise UserError(f"interrupted; run `rl-agent resume {folder.root}` to continue", code=130) from None
