"""The settings search as a repair: run it (agent/repair/tuning.py), then either adopt the winning trial (its settings
into run.json and spec.json, its checkpoints into the run) or log the trials table and the rules no setting
satisfied. Either way repairs.md shows every trial with its validation figures."""

from __future__ import annotations

import io
from typing import Callable

from rich.console import Console

from rl_agent.agent.repair.log import RepairLog, RepairRecord
from rl_agent.agent.repair.repairer import Patch, SetSpec, apply_patch
from rl_agent.agent.repair.tuning import CHECKPOINTS_PER_TRIAL, adopt, search
from rl_agent.kit.pipeline.driver import Pipeline
from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.pipeline.selection import read_selection
from rl_agent.kit.planning.task_spec import SPEC_FILE, TaskSpec

FAILURE_ID = "no_checkpoint_passes"
TITLE = "No checkpoint passes on validation: settings search"


def tune(
    folder: RunFolder, task: TaskSpec | None, attempt: int, budget_minutes: float, say: Callable[[str], None]
) -> tuple[RepairRecord | None, str]:
    """(the adopted repair, "") or (None, why nothing passed: the rules no setting satisfied and the stop)."""
    log = RepairLog(folder)
    sel = read_selection(folder.root)
    error = f"no checkpoint passes every rule of the verdict on validation: {sel.reason}" if sel else "no selection"
    if sel is None:
        log.note(attempt, error, "no validation figures to search from")
        return None, error
    say(
        f"no checkpoint passes on validation ({'; '.join(sel.kept.failed) if sel.kept else '?'}): searching "
        f"settings, at most {budget_minutes:g} min"
    )
    result = search(folder, sel, budget_minutes=budget_minutes, say=say)
    table = result.table()
    if result.winner is None:
        rules = " and ".join(result.unsatisfied) or "(none recorded)"
        msg = (
            f"no setting satisfied {rules} on validation: the run and {len(result.trials)} trial(s) "
            f"({result.stopped}); see the trials table in repairs.md"
        )
        log.note(attempt, error, msg, trials=table)
        say(msg)
        return None, msg
    w = result.winner
    state = folder.load()
    key = state.spec.algorithm
    values = {
        k: v
        for k, v in {**w.settings, "save_steps": max(1, w.settings["max_steps"] // CHECKPOINTS_PER_TRIAL)}.items()
        if getattr(state.spec.settings, k) != v
    }  # only what the trial changed
    changes = adopt(folder, w)
    patch = Patch(
        f"settings from trial {w.n} of {len(result.trials)} ({w.why}): "
        + ", ".join(f"{key}.{k} {getattr(state.spec.settings, k)!r} -> {v!r}" for k, v in values.items()),
        tuple(SetSpec(f"{key}.{k}", v) for k, v in values.items()),
        "render",
    )
    changes += apply_patch(folder, patch)
    # the scripts rendered with the winning settings; training is the trial's, done (re-running it would train
    # past its last step), so only the selection is made again, by the run's own pipeline, before the test
    state = folder.load()
    pipe = Pipeline(folder, Console(file=io.StringIO()))
    pipe.stage_render(state)
    pipe.select_checkpoint(state)
    state.stages_done = ["model", "data", "render", "train"]
    folder.save(state)
    changes.append("scripts re-rendered with them; the trial's checkpoints scored on validation again by the run")
    if task is not None:  # the winning settings written back into the plan people edit
        synced = task.synced_with(folder.load().spec, folder.root)
        if synced != task:
            synced.write(folder.path(SPEC_FILE))
            changes.append(f"{SPEC_FILE} updated to the winning settings")
    diagnosis = (
        f"the run completed but no checkpoint passed the verdict's rules on validation "
        f"({'; '.join(sel.kept.failed) if sel.kept else '?'}); trial {w.n} passes them all "
        f"(kept checkpoint {w.kept_step})"
    )
    record = RepairRecord(attempt, FAILURE_ID, TITLE, error, error[:300], diagnosis, patch.to_dict(), changes)
    log.add(record, trials=table)
    say(f"repair {attempt}: {TITLE}: {patch.summary}")
    return record, ""
