"""The repair loop: run the pipeline; on a failure read what it left, diagnose it from the catalogue, patch
inside the run folder, re-run the affected stages; at most `max_attempts` repairs.

Why a wrapper and not changes to the pipeline: the pipeline stays the one way a run executes (setup, resume
and this loop share it), and every repair is visible as a patch plus a record in repairs.jsonl/repairs.md
(the error, the diagnosis, the patch, the outcome), not as hidden retries.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from rich.console import Console

from rl_agent.agent.repair.catalogue import CATALOGUE, Context, KnownFailure, Symptoms, diagnose
from rl_agent.agent.repair.log import RepairLog, RepairRecord
from rl_agent.agent.repair.repairer import PatchRefused, apply_patch
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import LOG_FILE, NotSelected, Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunFolderError, write_json_atomic
from rl_agent.kit.planning.task_spec import SPEC_FILE, TaskSpec, TaskSpecError, assess_outcome

MAX_ATTEMPTS = 3
OUTCOME_FILE = "outcome.json"  # the verdict plus the plan's own checks, for the last completed attempt
LOG_WINDOW = 200_000  # characters of this attempt's log the catalogue searches

Status = Literal["succeeded", "unrecognised", "unfixable", "exhausted", "refused"]


def algorithm_available(algorithm: str) -> bool:
    """Whether this build has a track for `algorithm` (the planner refuses plans it cannot run)."""
    from rl_agent.kit.tracks.registry import TRACKS

    return algorithm in TRACKS


# ---- the loop -----------------------------------------------------------------------------------------------


@dataclass
class LoopResult:
    ok: bool
    status: Status
    repairs: list[RepairRecord] = field(default_factory=list)
    report: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None  # verdict + the plan's checks
    message: str = ""
    symptoms: Symptoms | None = None  # of the last failure, when not ok

    @property
    def attempts(self) -> int:
        return len(self.repairs)


def load_task(folder: RunFolder) -> TaskSpec | None:
    path = folder.path(SPEC_FILE)
    if not path.is_file():
        return None
    try:
        return TaskSpec.read(path)
    except TaskSpecError:
        return None


def run_with_repairs(
    folder: RunFolder,
    *,
    console: Console | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    catalogue: tuple[KnownFailure, ...] = CATALOGUE,
    on_event: Callable[[str], None] | None = None,
    tune_budget: float | None = None,
) -> LoopResult:
    """Run the run in `folder` to completion, repairing known failures; at most `max_attempts` repairs.
    `tune_budget`: minutes for the settings search when no checkpoint passes on validation (agent/repair/tuning.py;
    None: its default, 0: no search)."""
    from rl_agent.agent.repair.tuning import DEFAULT_BUDGET_MINUTES

    console = console or Console(file=io.StringIO(), width=120)
    say = on_event or (lambda s: None)
    log = RepairLog(folder)
    task = load_task(folder)
    repairs: list[RepairRecord] = []
    fallbacks_tried: set[str] = set()
    budget = DEFAULT_BUDGET_MINUTES if tune_budget is None else tune_budget
    tuning: str | None = None if budget > 0 else "off"  # None: not yet; "tuned"/"unsatisfied": the search's end
    while True:
        # Preflight (rl_agent/agent/repair/preflight.py): safe fixes before any process starts, logged as repairs.
        from rl_agent.agent.repair.preflight import preflight

        fixed, blocked = preflight(folder, task, attempt=len(repairs) + 1, say=say)
        repairs.extend(fixed)
        task = load_task(folder) or task
        if blocked:
            msg = "; ".join(f.line for f in blocked)
            log.note(len(repairs) + 1, msg, "stopped before the run: preflight found what it cannot fix safely")
            return LoopResult(False, "unfixable", repairs, None, None, msg, Symptoms(msg))
        state = folder.load()
        symptoms, report, outcome = _attempt(folder, state, task, console, halt_unselected=tuning is None)
        if (
            symptoms is not None
            and symptoms.error.startswith(NOT_SELECTED)
            and (len(repairs) >= max_attempts or diagnose(symptoms, catalogue) is None)
        ):
            # no checkpoint passes on validation and no catalogue entry knows why: search settings (the test
            # prompts are still unread); a known cause (undertrained: too few steps) takes the catalogue's repair
            from rl_agent.agent.repair.tuning_repair import tune

            if repairs:
                repairs[-1].outcome = f"failed again: {symptoms.error}"
                log.outcome(repairs[-1].attempt, repairs[-1].outcome)
            record, message = tune(folder, task, len(repairs) + 1, budget, say)
            if record is not None:
                repairs.append(record)
                tuning = "tuned"
            else:
                tuning = f"unsatisfied: {message}"
            continue
        if symptoms is not None and tuning and tuning.startswith("unsatisfied") and symptoms.stage is None:
            msg = tuning.removeprefix("unsatisfied: ")
            log.note(len(repairs) + 1, symptoms.error, f"gave up: {msg}")
            return LoopResult(False, "unfixable", repairs, report, outcome, msg, symptoms)
        if symptoms is not None and tuning == "tuned" and symptoms.stage is None:  # say no honestly
            msg = f"the tuned settings pass every rule on validation, but not on the held-out test: {symptoms.error}"
            repairs[-1].outcome = f"failed on test: {symptoms.error}"
            log.outcome(repairs[-1].attempt, repairs[-1].outcome)
            return LoopResult(False, "unfixable", repairs, report, outcome, msg, symptoms)
        if symptoms is None:
            if repairs:
                repairs[-1].outcome = "fixed"
                log.outcome(repairs[-1].attempt, "fixed: the run completed and succeeded")
            return LoopResult(True, "succeeded", repairs, report, outcome, "the run completed and succeeded")
        if repairs:
            repairs[-1].outcome = f"failed again: {symptoms.error}"
            log.outcome(repairs[-1].attempt, repairs[-1].outcome)
        attempt = len(repairs) + 1
        if len(repairs) >= max_attempts:
            msg = f"still failing after {max_attempts} repairs: {symptoms.error}"
            log.note(attempt, symptoms.error, "gave up: no repair attempts left")
            return LoopResult(False, "exhausted", repairs, report, outcome, msg, symptoms)
        found = diagnose(symptoms, catalogue)
        if found is None:  # strategies for classes of failure (rl_agent/agent/repair/fallbacks.py)
            from rl_agent.agent.repair.fallbacks import unrecognised_repair

            record = unrecognised_repair(folder, symptoms, attempt, fallbacks_tried, say)
            if record is not None:
                repairs.append(record)
                say(f"repair {attempt}: {record.title}: {record.patch['summary']}")
                continue
            log.note(attempt, symptoms.error, "not recognised: no catalogue entry matches")
            return LoopResult(
                False, "unrecognised", repairs, report, outcome, _unrecognised(folder, symptoms), symptoms
            )
        entry, match = found
        ctx = Context(folder, folder.load(), symptoms, match, task)
        patch = entry.fix(ctx)
        if patch is None:
            log.note(
                attempt,
                symptoms.error,
                f"recognised as {entry.id} ({entry.cause}) but not fixable from inside the run folder",
            )
            return LoopResult(
                False,
                "unfixable",
                repairs,
                report,
                outcome,
                f"{entry.title}: {entry.cause}; this needs a person",
                symptoms,
            )
        try:
            changes = apply_patch(folder, patch)
        except (PatchRefused, RunFolderError) as e:
            log.note(attempt, symptoms.error, f"patch refused: {e}")
            return LoopResult(False, "refused", repairs, report, outcome, f"patch refused: {e}", symptoms)
        if task is not None:  # keep spec.json (the plan people edit) in step with the repaired run
            synced = task.synced_with(folder.load().spec, folder.root)
            if synced != task:
                task = synced
                task.write(folder.path(SPEC_FILE))
                changes.append(f"{SPEC_FILE} updated to match")
        evidence = match.group(0).removeprefix("error: ")[:300]
        record = RepairRecord(
            attempt, entry.id, entry.title, symptoms.error, evidence, entry.cause, patch.to_dict(), changes
        )
        log.add(record)
        repairs.append(record)
        say(f"repair {attempt}: {entry.title}: {patch.summary}")


def _unrecognised(folder: RunFolder, symptoms: Symptoms) -> str:
    """What to tell a person about a failure nothing here recognised. A verdict that fails on the held-out test
    after the kept checkpoint passed every rule on validation is named as such: validation could not see it, so
    no settings search ran (it reads validation only), and what helps is more (or more varied) data."""
    from rl_agent.kit.pipeline.selection import read_selection

    sel = read_selection(folder.root) if symptoms.stage is None else None
    if sel is None or not sel.passed:
        return f"not a known failure: {symptoms.error}"
    return (
        f"the run completed and checkpoint {sel.kept_step} passed every rule on validation "
        f"({sel.validation_rows} prompts), but the held-out test says no: {symptoms.error.removeprefix('verdict: ')}. "
        "Validation could not see this failure, so no settings search ran; a larger or more varied training file "
        "(validation is carved from it) or other settings in spec.json (then `rl-agent run`) are the next step"
    )


NOT_SELECTED = "no checkpoint passes on validation"  # the error of a run halted before its test (NotSelected)


def _attempt(
    folder: RunFolder, state, task: TaskSpec | None, console: Console, halt_unselected: bool = False
) -> tuple[Symptoms | None, dict | None, dict | None]:
    """One pass of the pipeline: (None, report, outcome) on success, else (symptoms, report?, outcome?).
    `halt_unselected`: stop after training when no checkpoint passes on validation (the test is not read)."""
    log_path = folder.path(LOG_FILE)
    offset = log_path.stat().st_size if log_path.is_file() else 0
    try:
        pipeline = Pipeline(folder, console)
        pipeline.halt_unselected = halt_unselected
        report = pipeline.run(state)
    except NotSelected:
        # like a failed verdict (stage None), on validation: its rules and the kept checkpoint's answers
        from rl_agent.kit.pipeline.selection import read_selection

        sel = read_selection(folder.root)
        kept = sel.kept if sel else None
        rules = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in (kept.checks if kept else {}).items())
        answers: tuple[str, ...] = ()
        val = folder.path("validation.json")
        if kept and val.is_file():
            steps = {c["step"]: c for c in json.loads(val.read_text(encoding="utf-8"))["checkpoints"]}
            answers = tuple(s["output"] for s in steps.get(kept.step, {}).get("figures", {}).get("samples", []))
        return (
            Symptoms(
                f"{NOT_SELECTED} ({rules})",
                _new_log(log_path, offset),
                None,
                answers,
                folder.load().spec.settings.max_new_tokens,
            ),
            None,
            None,
        )
    except (StageError, PairFileError) as e:
        state = folder.load()
        stage = next((s for s in STAGES if s not in state.stages_done), None)
        if isinstance(e, PairFileError):  # raised in-process: record it in the log like a script's error
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(f"\n[rl-agent] {stage} stage failed: {e}\n")
        return Symptoms(str(e), _new_log(log_path, offset), stage), None, None
    outcome = assess_outcome(task, report)
    write_json_atomic(folder.path(OUTCOME_FILE), outcome)
    if outcome["succeeded"]:
        return None, report, outcome
    failed = ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in outcome["checks"].items())
    answers = tuple(s["output"] for s in report["after"].get("samples", []))
    return (
        Symptoms(
            f"verdict: the before/after did not succeed ({failed})",
            _new_log(log_path, offset),
            None,
            answers,
            folder.load().spec.settings.max_new_tokens,
        ),
        report,
        outcome,
    )


def _new_log(path: Path, offset: int) -> str:
    """What this attempt appended to the log (carriage-return progress bars flattened to lines)."""
    if not path.is_file():
        return ""
    with open(path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", "replace")
    return text.replace("\r", "\n")[-LOG_WINDOW:]
