"""What the loop does with a failure no catalogue entry recognises, before it gives up: strategies that
work on classes of failure rather than on error strings.

1. The spec is the source of truth: if a rendered script differs from its spec's render (a hand edit),
   re-render it, keeping the edit as a .patch file (rerender.py).
2. Revert to what is known to work: if the settings differ from the recipe's defaults, find the culprit
   by short trial runs and revert it (revert.py).
Each strategy is tried once per loop; each returns a logged RepairRecord or None.
"""

from __future__ import annotations

from typing import Callable

from rl_agent.agent.repair.catalogue import Symptoms
from rl_agent.agent.repair.log import RepairLog, RepairRecord
from rl_agent.agent.repair.repairer import PatchRefused, apply_patch
from rl_agent.agent.repair.rerender import diff_summary, find_drift, rerender_patch
from rl_agent.agent.repair.revert import TRIAL_LOG, find_culprit, revert_patch, trial_lines
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError

STRATEGIES = ("rerender_from_spec", "revert_to_recipe")


def unrecognised_repair(
    folder: RunFolder, symptoms: Symptoms, attempt: int, tried: set[str], say: Callable[[str], None] = lambda s: None
) -> RepairRecord | None:
    """The first strategy not yet tried that has something to do; its repair applied and logged."""
    log = RepairLog(folder)
    for name in STRATEGIES:
        if name in tried:
            continue
        tried.add(name)
        found = _rerender(folder) if name == "rerender_from_spec" else _revert(folder, say)
        if found is None:
            continue
        title, diagnosis, patch, notes = found
        try:
            changes = apply_patch(folder, patch)
        except (PatchRefused, RunFolderError) as e:
            log.note(attempt, symptoms.error, f"{name}: patch refused: {e}")
            continue
        record = RepairRecord(
            attempt,
            name,
            title,
            symptoms.error,
            symptoms.error.splitlines()[0][:300],
            diagnosis,
            patch.to_dict(),
            notes + changes,
        )
        log.add(record)
        return record
    return None


def _rerender(folder: RunFolder):
    state = folder.load()
    drifts = find_drift(folder, state)
    if not drifts:
        return None
    patch = rerender_patch(drifts, state)
    return (
        "Script differs from its spec: re-rendered",
        "the run failed in a way nothing recognises, and a rendered script no longer matches what its spec "
        "renders (a hand edit); the spec is the source of truth",
        patch,
        diff_summary(drifts),
    )


def _revert(folder: RunFolder, say: Callable[[str], None]):
    say("unrecognised failure: looking for the changed setting behind it (short trial runs)")
    culprit, trials, why = find_culprit(folder)
    if culprit is None:
        RepairLog(folder)._append(
            {
                "by": "revert",
                "attempt": 0,
                "action": "revert_to_recipe",
                "target": TRIAL_LOG,
                "reason": f"no revert applied: {why}",
                "change": {"trials": trial_lines(trials)},
                "ok": False,
            }
        )
        return None
    patch = revert_patch(culprit, folder.load().spec)
    return (
        "Changed setting reverted to the recipe's value",
        f"the run failed in a way nothing recognises; {why}, so that change is the culprit "
        f"(the recipe's defaults are known to train this model)",
        patch,
        trial_lines(trials) + [f"trial log: {TRIAL_LOG}"],
    )
