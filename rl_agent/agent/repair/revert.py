"""Revert to what is known to work: find which changed setting breaks a run, by short trial runs.

Why: when a run fails in a way nothing recognises, its settings often differ from the recipe's defaults
(the track's `settings_cls.for_model`), which are known to train this model. Reverting the
changed settings one at a time (then by halves) and re-running a few steps shows which change the failure
follows; the smallest revert that makes it disappear is applied and explained. Bounded in trials and time;
every trial is logged (revert-trials.jsonl in the run folder, and repairs.md through the loop's record).

Trials run in `.revert-trials/` inside the run folder, so nothing is written outside it.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from rl_agent.agent.repair.repairer import MoveAside, Patch, SetSpec
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError, RunState
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.registry import get_track

TRIALS_DIR = ".revert-trials"
TRIAL_LOG = "revert-trials.jsonl"
TRIAL_STEPS = 3
MAX_TRIALS = 8
MAX_SECONDS = 600.0
# Settings a short trial cannot judge (it sets its own steps) or that do not change what training does.
NOT_TRIED = {
    "steps",
    "save_steps",
    "logging_steps",
    "max_new_tokens",
    "seed",
    "reward",
    "heldout_judge",
    "judge_max_cost",
    "judge_timeout",
    "judge_concurrency",
    "rubric",
    "num_processes",
    "strategy",
    "use_vllm",
}


@dataclass
class Trial:
    n: int
    reverted: list[str]
    settings: dict[str, Any]
    ok: bool
    error: str
    seconds: float


@dataclass
class Culprit:
    """The smallest revert found, with the trials that show it."""

    fields: list[str]
    values: dict[str, Any]  # field -> the recipe's value
    was: dict[str, Any]
    trials: list[Trial] = field(default_factory=list)


def recipe(spec: RunSpec):
    return get_track(spec.algorithm).settings_cls.for_model(spec.model_source, spec.device)


def changed_settings(spec: RunSpec) -> dict[str, tuple[Any, Any]]:
    """Settings that differ from the recipe's defaults: name -> (current, recipe)."""
    key = spec.algorithm
    cur = getattr(spec, key).model_dump(mode="json")
    ref = recipe(spec).model_dump(mode="json")
    return {k: (cur[k], ref[k]) for k in cur if k not in NOT_TRIED and cur[k] != ref[k]}


def find_culprit(
    folder: RunFolder, *, max_trials: int = MAX_TRIALS, max_seconds: float = MAX_SECONDS, steps: int = TRIAL_STEPS
) -> tuple[Culprit | None, list[Trial], str]:
    """Trials: the run as it is (must fail in a few steps), then one revert at a time, then by halves.
    Returns (culprit or None, trials, why)."""
    state = folder.load()
    changed = changed_settings(state.spec)
    trials: list[Trial] = []
    (folder.path(TRIAL_LOG)).unlink(missing_ok=True)
    if not changed:
        return None, trials, "the settings are the recipe's defaults: there is nothing to revert"
    started = time.time()

    def trial(names: list[str]) -> Trial | None:
        if len(trials) >= max_trials or time.time() - started > max_seconds:
            return None
        t = _run_trial(folder, state, {n: changed[n][1] for n in names}, len(trials) + 1, steps)
        trials.append(t)
        with open(folder.path(TRIAL_LOG), "a", encoding="utf-8") as f:
            f.write(json.dumps(t.__dict__, ensure_ascii=False) + "\n")
        return t

    first = trial([])
    if first is None or first.ok:
        return (
            None,
            trials,
            (f"the failure does not show in a {steps}-step trial, so reverting cannot be tested cheaply"),
        )
    names = list(changed)
    for name in names:  # one at a time: the smallest revert
        t = trial([name])
        if t is None:
            break
        if t.ok:
            return _culprit([name], changed, trials), trials, f"reverting {name} alone makes the failure disappear"
    t = trial(names)  # every changed setting reverted: the recipe, known to work
    if t is None or not t.ok:
        return (
            None,
            trials,
            (
                "the failure stays even with the recipe's defaults: it is not caused by the settings"
                if t is not None
                else "out of trials before a revert made the failure disappear"
            ),
        )
    pool = names
    while len(pool) > 1:  # no single revert is enough: keep the half that still fixes it
        for half in (pool[: len(pool) // 2], pool[len(pool) // 2 :]):
            t = trial(half)
            if t is not None and t.ok:
                pool = half
                break
        else:
            break
    return _culprit(pool, changed, trials), trials, f"reverting {', '.join(pool)} together makes the failure disappear"


def revert_patch(culprit: Culprit, spec: RunSpec) -> Patch:
    key = spec.algorithm
    what = ", ".join(f"{key}.{n} {culprit.was[n]!r} -> {culprit.values[n]!r}" for n in culprit.fields)
    return Patch(
        f"revert to the recipe's value: {what} (found by {len(culprit.trials)} short trial runs, see {TRIAL_LOG})",
        tuple(SetSpec(f"{key}.{n}", culprit.values[n]) for n in culprit.fields) + (MoveAside("out/checkpoint-*"),),
        "render",
    )


def _culprit(names: list[str], changed: dict, trials: list[Trial]) -> Culprit:
    return Culprit(names, {n: changed[n][1] for n in names}, {n: changed[n][0] for n in names}, list(trials))


def _run_trial(folder: RunFolder, state: RunState, reverts: dict[str, Any], n: int, steps: int) -> Trial:
    """Train `steps` steps with `reverts` applied, in a scratch run inside the run folder."""
    key = state.spec.algorithm
    data = state.spec.model_dump(mode="json")
    data[key].update(reverts)
    data[key].update({"max_steps": steps, "save_steps": steps + 1, "logging_steps": 1})
    root = folder.path(TRIALS_DIR) / f"trial-{n}"
    shutil.rmtree(root, ignore_errors=True)
    started = time.time()
    try:
        spec = RunSpec.model_validate(data)
        sub = RunFolder(root)
        st = sub.create(spec)
        st.model_path, st.python = state.model_path, state.python
        for name in ("train.jsonl", "heldout.jsonl", "prompts.jsonl", "heldout_prompts.jsonl"):
            if folder.path(name).is_file():
                shutil.copyfile(folder.path(name), sub.path(name))
        pipe = Pipeline(sub, Console(file=io.StringIO()))
        if "data" not in state.stages_done:
            pipe.stage_data(st)
        pipe.stage_render(st)
        pipe.stage_train(st)
        ok, error = True, ""
    except (StageError, PairFileError, RunFolderError, ValueError, OSError) as e:
        ok, error = False, str(e).split("; see ")[0][:300]
    finally:
        for big in ("out", "adapter", "model"):
            shutil.rmtree(root / big, ignore_errors=True)
    return Trial(n, sorted(reverts), reverts, ok, error, round(time.time() - started, 1))


def trial_lines(trials: list[Trial]) -> list[str]:
    """One line per trial, for repairs.md."""
    return [
        f"trial {t.n}: revert {', '.join(t.reverted) or 'nothing'} -> {'runs' if t.ok else 'fails: ' + t.error}"
        f" ({t.seconds:.0f} s)"
        for t in trials
    ]


def trial_log_path(folder: RunFolder) -> Path:
    return folder.path(TRIAL_LOG)
