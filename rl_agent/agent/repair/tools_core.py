"""Plain functions on one run folder, for agents (the Claude Agent SDK tools wrap functions like these):
look (status, log, before/after, the catalogue's diagnosis), change (spec, a rendered file), run (a stage,
or the whole repair loop). Every change goes through repairer.apply_patch, so it is confined to the run
folder, validated, and invalidates the stages it affects.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from rich.console import Console

from rl_agent.agent.repair.catalogue import CATALOGUE, Context, Symptoms, diagnose
from rl_agent.agent.repair.loop import LoopResult, load_task, run_with_repairs
from rl_agent.agent.repair.repairer import EditFile, Patch, SetSpec, apply_patch
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import LOG_FILE, Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder
from rl_agent.kit.planning.task_spec import SPEC_FILE


def status(run_dir: Path) -> dict[str, Any]:
    state = RunFolder(run_dir).load()
    return {
        "status": state.status,
        "stages_done": state.stages_done,
        "error": state.error,
        "next_stage": next((s for s in STAGES if s not in state.stages_done), None),
    }


def read_log(run_dir: Path, lines: int = 60) -> str:
    """The last `lines` lines of train.log (progress bars flattened)."""
    path = RunFolder(run_dir).path(LOG_FILE)
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n")
    return "\n".join([ln for ln in text.splitlines() if ln.strip()][-max(1, lines) :])


def compare(run_dir: Path) -> dict[str, Any] | None:
    """Before/after figures and the verdict (report.json), plus the plan's checks (outcome.json)."""
    folder = RunFolder(run_dir)
    if not folder.path("report.json").is_file():
        return None
    rep = json.loads(folder.path("report.json").read_text(encoding="utf-8"))
    keys = ("pref_accuracy", "mean_words", "hedge_count", "judge_score")
    out = {side: {k: rep[side].get(k) for k in keys} for side in ("before", "after")}
    out["verdict"] = rep["verdict"]
    if folder.path("outcome.json").is_file():
        out["plan_checks"] = json.loads(folder.path("outcome.json").read_text(encoding="utf-8"))
    return out


def explain_failure(run_dir: Path) -> dict[str, Any] | None:
    """What the catalogue makes of the run's last failure: the entry, its cause, and the patch it would apply
    (not applied). None when the run has not failed or the failure is not a known one."""
    folder = RunFolder(run_dir)
    state = folder.load()
    if state.status != "failed" or not state.error:
        return None
    stage = next((s for s in STAGES if s not in state.stages_done), None)
    symptoms = Symptoms(state.error, read_log(run_dir, 400), stage)
    found = diagnose(symptoms, CATALOGUE)
    if found is None:
        return None
    entry, match = found
    patch = entry.fix(Context(folder, state, symptoms, match, load_task(folder)))
    return {
        "failure": entry.id,
        "title": entry.title,
        "cause": entry.cause,
        "evidence": match.group(0)[:300],
        "patch": patch.to_dict() if patch else None,
    }


def patch_spec(run_dir: Path, changes: dict[str, Any], reason: str) -> list[str]:
    """Set spec fields by dotted name (e.g. {"dpo.learning_rate": 1e-4}); scripts re-render on the next run."""
    folder = RunFolder(run_dir)
    done = apply_patch(folder, Patch(reason, tuple(SetSpec(k, v) for k, v in changes.items()), "render"))
    task = load_task(folder)
    if task is not None:
        task.synced_with(folder.load().spec, folder.root).write(folder.path(SPEC_FILE))
    return done


def patch_file(run_dir: Path, path: str, old: str, new: str, reason: str) -> list[str]:
    """Replace the exact text `old` with `new` in a file of the run folder (a rendered script, say)."""
    stage = "evaluate" if Path(path).name == "evaluate.py" else "train"
    return apply_patch(
        RunFolder(run_dir), Patch(reason, (EditFile(path, re.escape(old), new.replace("\\", r"\\")),), stage)
    )


def run_step(run_dir: Path, step: str = "all") -> dict[str, Any]:
    """Run one stage (its earlier stages must be done) or all remaining ones; never raises for a failed stage."""
    folder = RunFolder(run_dir)
    state = folder.load()
    pipe = Pipeline(folder, Console(file=io.StringIO(), width=120))
    try:
        if step == "all":
            pipe.run(state)
        else:
            if step not in STAGES:
                raise ValueError(f"step must be one of {', '.join(STAGES)} or all")
            missing = [s for s in STAGES[: STAGES.index(step)] if s not in state.stages_done]
            if missing:
                raise ValueError(f"run {', '.join(missing)} before {step}")
            state.stages_done = [s for s in state.stages_done if STAGES.index(s) < STAGES.index(step)]
            getattr(pipe, f"stage_{step}")(state)
            state.stages_done.append(step)
            state.status, state.error = ("complete" if step == "report" else "running"), None
            folder.save(state)
    except (StageError, PairFileError) as e:
        state = folder.load()
        state.status, state.error = "failed", str(e)
        folder.save(state)
    return status(run_dir)


def render(run_dir: Path) -> dict[str, Any]:
    return run_step(run_dir, "render")


def repair(run_dir: Path, max_attempts: int = 3) -> LoopResult:
    """The deterministic repair loop (catalogue fixes only) on this run."""
    return run_with_repairs(RunFolder(run_dir), max_attempts=max_attempts)
