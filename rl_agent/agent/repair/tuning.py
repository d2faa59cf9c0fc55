"""A bounded search for settings that pass, when a run completes but no checkpoint passes on validation.

Why: the schedules that work were found by hand for the embedded model; on another model or task nobody has
measured one. The run's own evidence says which way to move: the rule that failed on validation for the
checkpoint that came closest. Correctness fell (while the check rose) -> a lower learning rate with fewer
steps, then a stronger KL (beta), then an SFT term; the check (or the judge, or preference accuracy) did not
rise -> more steps, then a higher learning rate; hedges remain -> more steps. Each trial is a short run of its
own in .tune-trials/ (train, then every checkpoint scored on validation, never on the test prompts), logged with
its validation figures. The search stops at the first trial whose kept checkpoint passes every rule, or when
its trials or minutes (`--tune-budget`) run out; the winner's settings and checkpoints become the run's, and
the before/after on the test prompts then judges them once.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError, RunState
from rl_agent.kit.pipeline.selection import Selection, read_selection
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.dpo import SFT_LOSS

TRIALS_DIR = ".tune-trials"
TRIAL_LOG = "tune-trials.jsonl"
MAX_TRIALS = 4
DEFAULT_BUDGET_MINUTES = 20.0
CHECKPOINTS_PER_TRIAL = 5
MIN_TRIAL_STEPS = 20
MAX_TRIAL_STEPS = 400
DATA_FILES = ("train.jsonl", "validation.jsonl", "heldout.jsonl", "prompts.jsonl", "heldout_prompts.jsonl")


@dataclass(frozen=True)
class Move:
    """One proposed change of settings and the evidence it answers."""

    why: str
    changes: dict[str, Any]


@dataclass
class TrialResult:
    n: int
    why: str
    settings: dict[str, Any]  # the settings the trial trained with (only those the search moves)
    passed: bool
    kept_step: int | None
    figures: dict[str, Any]  # the kept checkpoint's validation figures
    failed: list[str]
    seconds: float
    error: str = ""

    def steps_seconds(self) -> float:
        """Seconds per training step this trial took (scoring included): what the next trial is costed at."""
        return self.seconds / self.settings["max_steps"] if self.settings.get("max_steps") and not self.error else 0.0


@dataclass
class SearchResult:
    winner: TrialResult | None
    trials: list[TrialResult] = field(default_factory=list)
    stopped: str = ""  # why the search ended without a winner
    unsatisfied: list[str] = field(default_factory=list)  # rules no trial satisfied

    def table(self) -> list[str]:
        return trials_table(self.trials)


SEARCHED = ("learning_rate", "max_steps", "beta", "loss_type", "loss_weights")


def searched_settings(s) -> dict[str, Any]:
    d = s.model_dump(mode="json")
    return {k: d[k] for k in SEARCHED if k in d}


def propose(failed: list[str], current: dict[str, Any]) -> list[Move]:
    """Settings moves for the rules that failed on validation, most likely first."""
    lr, steps = current["learning_rate"], current["max_steps"]
    fell = any(r.startswith("correct") for r in failed)
    low = any(r.startswith(("task check", "pref_accuracy", "judge_score", "format rate")) for r in failed)
    hedges = any(r.startswith("hedge_count") for r in failed)
    moves: list[Move] = []
    if fell:
        why = "correctness fell on validation" + (" while the check rose" if not low else "")
        moves.append(
            Move(
                f"{why}: lower learning rate, fewer steps",
                {"learning_rate": lr / 3, "max_steps": max(MIN_TRIAL_STEPS, steps // 2)},
            )
        )
        if "beta" in current:
            moves.append(Move(f"{why}: stronger KL to the base model (beta x 3)", {"beta": current["beta"] * 3}))
        if isinstance(current.get("loss_type"), list) and SFT_LOSS not in current["loss_type"]:
            moves.append(
                Move(
                    f"{why}: an SFT term on the chosen answers",
                    {
                        "loss_type": [*current["loss_type"], SFT_LOSS],
                        "loss_weights": [*(current.get("loss_weights") or [1.0] * len(current["loss_type"])), 1.0],
                    },
                )
            )
        moves.append(Move(f"{why}: a much lower learning rate", {"learning_rate": lr / 10}))
    elif low or hedges:
        what = "the check did not rise far enough" if low else "hedges remain"
        moves.append(Move(f"{what} on validation: more steps", {"max_steps": min(MAX_TRIAL_STEPS, steps * 2)}))
        if low:
            moves.append(Move(f"{what} on validation: a higher learning rate", {"learning_rate": lr * 3}))
    return moves


def search(
    folder: RunFolder,
    selection: Selection,
    *,
    budget_minutes: float = DEFAULT_BUDGET_MINUTES,
    max_trials: int = MAX_TRIALS,
    say: Callable[[str], None] = lambda s: None,
) -> SearchResult:
    """Trials from the run's evidence until one passes on validation, or the trials or minutes run out."""
    state = folder.load()
    base_settings = searched_settings(state.spec.settings)
    folder.path(TRIAL_LOG).unlink(missing_ok=True)  # trial folders stay: one with the same settings is resumed
    started = time.time()
    budget = budget_minutes * 60
    trials: list[TrialResult] = []
    tried: list[dict] = [base_settings]
    # the best evidence so far: (settings, failed rules, rank) - the run itself first
    best = (base_settings, selection.kept.failed if selection.kept else [], _rank(selection.kept))
    seconds_per_step = state.timings.get("train", 0.0) / max(1, base_settings["max_steps"])
    stopped = f"all {max_trials} trials used"
    queue = propose(best[1], best[0])
    while len(trials) < max_trials:
        move = next((m for m in queue if {**best[0], **m.changes} not in tried), None)
        if move is None:
            stopped = "no move left that the evidence supports"
            break
        settings = {**best[0], **move.changes}
        elapsed = time.time() - started
        need = seconds_per_step * settings["max_steps"]
        if elapsed + need > budget:
            stopped = (
                f"the tuning budget ({budget_minutes:g} min) leaves {max(0.0, budget - elapsed) / 60:.1f} min, "
                f"and the next trial needs about {need / 60:.1f} min"
            )
            break
        tried.append(settings)
        say(f"tuning trial {len(trials) + 1}: {move.why}: {_describe(move.changes)}")
        trial = _run_trial(folder, state, settings, len(trials) + 1, move.why)
        trials.append(trial)
        with open(folder.path(TRIAL_LOG), "a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(trial), ensure_ascii=False) + "\n")
        say("  " + trial_line(trial))
        if trial.steps_seconds():
            seconds_per_step = trial.steps_seconds()
        if trial.passed:
            return SearchResult(trial, trials)
        if not trial.error and _rank_trial(trial) >= best[2]:
            best = (settings, trial.failed, _rank_trial(trial))
            queue = propose(trial.failed, settings) + queue
    return SearchResult(None, trials, stopped, unsatisfied_rules(selection, trials))


def unsatisfied_rules(selection: Selection, trials: list[TrialResult]) -> list[str]:
    """The rules that failed for the run and in every trial; when each failed a different one, all of them (no
    setting satisfied them together)."""
    failed = [set(selection.kept.failed if selection.kept else [])] + [set(t.failed) for t in trials if not t.error]
    common = set.intersection(*failed) if failed else set()
    return sorted(common or set.union(*failed))


def _resumable(sub: RunFolder, spec: RunSpec) -> RunState | None:
    """The trial folder's state when it trained with exactly these settings on this model and data."""
    if not sub.state_path.is_file():
        return None
    try:
        st = sub.load()
    except RunFolderError:
        return None
    same = (
        st.spec.algorithm == spec.algorithm
        and st.spec.settings == spec.settings
        and st.spec.model == spec.model
        and st.spec.train_file == spec.train_file
    )
    if not same:
        return None
    st.spec = spec
    return st


def _trained(sub: RunFolder, steps: int) -> bool:
    """The folder's training finished all `steps` (re-running it would train past them)."""
    metrics = sub.path("out/train_metrics.json")
    try:
        return metrics.is_file() and json.loads(metrics.read_text(encoding="utf-8")).get("steps") == steps
    except ValueError:
        return False


def _rank(c) -> tuple:
    return (sum(c.checks.values()), c.figures.get("correct") or 0.0) if c else (0, 0.0)


def _rank_trial(t: TrialResult) -> tuple:
    return (t.figures.get("_rules_passed", 0), t.figures.get("correct") or 0.0)


def _describe(changes: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in changes.items())


def _run_trial(folder: RunFolder, state: RunState, settings: dict[str, Any], n: int, why: str) -> TrialResult:
    """Train with `settings` in a scratch run inside the run folder, then score its checkpoints on validation."""
    key = state.spec.algorithm
    data = state.spec.model_dump(mode="json")
    data[key].update(settings)
    data[key]["save_steps"] = max(1, settings["max_steps"] // CHECKPOINTS_PER_TRIAL)
    root = folder.path(TRIALS_DIR) / f"trial-{n}"
    if state.spec.check_file:  # the task check runs only from inside the folder it scores in: the trial's copy
        data["check_file"] = str(root / Path(state.spec.check_file).name)
    started = time.time()
    try:
        spec = RunSpec.model_validate(data)
        sub = RunFolder(root)
        st = _resumable(sub, spec)
        if st is None:  # a new trial; one with the same settings (an earlier search) continues where it stopped
            shutil.rmtree(root, ignore_errors=True)
            st = sub.create(spec)
        st.model_path, st.python = state.model_path, state.python
        for name in DATA_FILES:
            if folder.path(name).is_file():
                shutil.copyfile(folder.path(name), sub.path(name))
        if state.spec.check_file:
            shutil.copyfile(state.spec.check_file, spec.check_file)
        pipe = Pipeline(sub, Console(file=io.StringIO()))
        pipe.stage_render(st)
        if _trained(sub, settings["max_steps"]):  # resumed: its training finished, only the scoring is redone
            pipe.select_checkpoint(st)
        else:
            pipe.stage_train(st)
        sel = read_selection(root)
        if sel is None or sel.kept is None:
            raise StageError("the trial's checkpoints were not scored on validation")
        figs = {k: v for k, v in sel.kept.figures.items() if isinstance(v, (int, float))}
        figs["_rules_passed"] = sum(sel.kept.checks.values())
        return TrialResult(
            n, why, settings, sel.passed, sel.kept_step, figs, sel.kept.failed, round(time.time() - started, 1)
        )
    except (StageError, PairFileError, RunFolderError, ValueError, OSError) as e:
        return TrialResult(
            n, why, settings, False, None, {}, [], round(time.time() - started, 1), str(e).split("; see ")[0][:300]
        )


FIGURE_KEYS = ("task_check", "correct", "judge_score", "pref_accuracy", "hedge_count")


def trial_line(t: TrialResult) -> str:
    if t.error:
        return f"trial {t.n}: {_describe(t.settings)} -> error: {t.error} ({t.seconds:.0f} s)"
    figs = ", ".join(
        f"{k} {t.figures[k]:.2f}" if isinstance(t.figures[k], float) else f"{k} {t.figures[k]}"
        for k in FIGURE_KEYS
        if k in t.figures
    )
    verdict = "passes every rule" if t.passed else "fails: " + "; ".join(t.failed)
    return (
        f"trial {t.n}: {_describe(t.settings)} -> kept checkpoint {t.kept_step}, validation {figs}; {verdict} "
        f"({t.seconds:.0f} s)"
    )


def trials_table(trials: list[TrialResult]) -> list[str]:
    """Markdown table of the trials and their validation figures."""
    lines = [
        "| trial | why | settings | kept checkpoint | " + " | ".join(FIGURE_KEYS) + " | on validation | s |",
        "|---|---|---|---|" + "---|" * len(FIGURE_KEYS) + "---|---|",
    ]
    for t in trials:
        cells = [_fmt(t.figures.get(k)) for k in FIGURE_KEYS]
        verdict = ("error: " + t.error) if t.error else "passes" if t.passed else "fails: " + "; ".join(t.failed)
        lines.append(
            f"| {t.n} | {t.why} | {_describe(t.settings)} | {t.kept_step} | "
            + " | ".join(cells)
            + f" | {verdict} | {t.seconds:.0f} |"
        )
    return lines


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v)


def adopt(folder: RunFolder, trial: TrialResult) -> list[str]:
    """The winning trial's checkpoints and selection become the run's (the run's own kept aside in
    .tune-trials/before/); the caller sets its settings in run.json and spec.json and re-runs from render, so
    training finds its last checkpoint done and the selection is made again by the run's own pipeline."""
    src = folder.path(TRIALS_DIR) / f"trial-{trial.n}"
    before = folder.path(TRIALS_DIR) / "before"
    before.mkdir(parents=True, exist_ok=True)
    moved = []
    for name in ("out", "adapter"):
        if folder.path(name).exists():
            shutil.rmtree(before / name, ignore_errors=True)
            shutil.move(str(folder.path(name)), str(before / name))
        if (src / name).exists():
            shutil.move(str(src / name), str(folder.path(name)))
            moved.append(name)
    return [f"trial {trial.n}'s {', '.join(moved)} moved into the run (the run's own kept in {TRIALS_DIR}/before)"]
