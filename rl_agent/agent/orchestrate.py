"""What `rl-agent new "TASK"` (plain English -> spec.json -> a run that repairs itself) and `rl-agent run
SPEC` (re-run an edited spec) do, below the command layer: planning, re-run logic, checkpoint handling and
the hand-over to Claude. Failures a user can fix raise UserError (one line, an exit code).

Order matters for "nothing half-written": the task is planned (and refused, if it must be) before the run
folder exists; the folder is created only once the plan and its data are valid.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from rl_agent.agent.loop import (
    MAX_ATTEMPTS,
    REPAIRS_MD,
    LoopResult,
    algorithm_available,
    run_with_repairs,
)
from rl_agent.agent.repairer import ASIDE_DIR, invalidate
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import validate_data
from rl_agent.kit.pipeline.start import UserError, training_env
from rl_agent.kit.pipeline.base_answers import BaseAnswerError, base_answers, read_prompts
from rl_agent.kit.planning.planner import ModelChoice, Plan, PlanRefused, plan_task, write_plan_files
from rl_agent.kit.planning.authored import plan_task_spec
from rl_agent.kit.planning.check_kinds import prove, read_examples, score
from rl_agent.kit.planning.recipes import (
    CheckItem,
    CheckPathError,
    CheckRunError,
    RecipePlan,
    RecipeRefused,
    plan_recipe,
)
from rl_agent.kit.planning.task_spec import ModelPlan
from rl_agent.kit.pipeline.report import print_report
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError, RunState
from rl_agent.kit.planning.task_spec import SPEC_FILE, TaskSpec, TaskSpecError


def validate_run_data(run_spec) -> None:
    """Check the data files the way the run's own pipeline (its track) will."""
    validate_data(run_spec)


def claude_available(offline: bool) -> bool:
    return not offline and bool(os.environ.get("ANTHROPIC_API_KEY", "").strip())


def new_run(console: Console, task: str, *, run_dir: Path | None, offline: bool, yes: bool, steps: int | None,
            plan_only: bool, confirm: Callable[[str], bool] | None = None) -> None:
    """Turn a plain-English task into a spec (spec.json in the run folder) and run it, repairing known failures."""
    folder = RunFolder(run_dir or Path("runs") / time.strftime("new-%Y%m%d-%H%M%S"))
    if folder.state_path.exists() or folder.path(SPEC_FILE).exists():
        raise UserError(f"{folder.root} already holds a run; edit its spec.json and use `rl-agent run`, or choose another --run-dir")

    # 1. Plan (nothing is written until the plan is complete and valid). The recipe library first: a plan
    # that carries its own check program, proven on examples before anything trains.
    use_claude = claude_available(offline)
    try:
        recipe = plan_recipe(task)
        recipe_refusal = None
    except RecipeRefused as e:
        recipe, recipe_refusal = None, e
    if recipe is not None:
        _new_recipe_run(console, recipe, folder, offline=offline, yes=yes, steps=steps, plan_only=plan_only,
                        confirm=confirm, use_claude=use_claude)
        return
    try:  # the rule-based planner, kept for the bundled data sets it plans with the kit's own judges
        rules = plan_task(task, grpo_available=algorithm_available("grpo"))  # a refusal costs nothing
        # Only where the recipes read no requirement at all: a task they half-read (a requirement they
        # understood next to one they did not) would lose a requirement in the rule-based plan.
        usable = rules.spec.family in RULE_FAMILIES and not recipe_refusal.understood
        refused = None if usable else _as_needs_claude(recipe_refusal)
    except PlanRefused as e:
        refused = e if "claude" not in e.needs else _as_needs_claude(recipe_refusal)
    if refused is not None and not ("claude" in refused.needs and use_claude):
        raise UserError(str(refused))
    if refused is not None:  # Claude writes this task's check and data, proves the check, then it runs as a recipe
        plan = _author_with_claude(task, folder, console)
        _new_recipe_run(console, plan, folder, offline=offline, yes=yes, steps=steps, plan_only=plan_only,
                        confirm=confirm, use_claude=use_claude)
        return
    python = training_env(console, yes, confirm).python
    choice = _choose_model(python, offline, console)
    plan: Plan | None = None
    if use_claude:
        plan = _plan_with_claude(task, folder, console)
    if plan is None:
        try:
            plan = plan_task(task, model=choice, steps=steps, grpo_available=algorithm_available("grpo"))
        except PlanRefused as e:
            raise UserError(str(e)) from None
    elif steps:
        plan.spec.dpo.steps = steps
    spec = plan.spec
    if spec.needs and not plan_only:
        raise UserError(_needs_message(spec))
    _show_plan(console, spec)

    # 2. Write the plan (and its data), then the run.
    try:
        folder.root.mkdir(parents=True, exist_ok=True)
        write_plan_files(plan, folder.root)
        run_spec = spec.to_run_spec(folder.root)
        validate_run_data(run_spec)
    except (PairFileError, TaskSpecError, OSError) as e:
        for rel in plan.files:
            folder.path(rel).unlink(missing_ok=True)
        raise UserError(f"the plan's data is not usable: {e}") from None
    spec.write(folder.path(SPEC_FILE))
    console.print(f"plan: {folder.path(SPEC_FILE)} (edit it and re-run with `rl-agent run {folder.path(SPEC_FILE)}`)")
    if plan_only:
        if spec.needs:
            console.print(_needs_message(spec))
        return
    _start_run(folder, run_spec, python, console, use_claude)


def _start_run(folder: RunFolder, run_spec, python: str, console: Console, use_claude: bool) -> None:
    """Create the run folder's state (nothing earlier wrote run.json) and run it with repairs."""
    _run_state(folder, _new_state(folder, run_spec), python, console, use_claude)


def _new_state(folder: RunFolder, run_spec) -> RunState:
    try:
        return folder.create(run_spec)
    except RunFolderError as e:
        raise UserError(str(e)) from None


def _run_state(folder: RunFolder, state: RunState, python: str, console: Console, use_claude: bool) -> None:
    """Save the run's state with the interpreter it trains with, then run it with repairs."""
    state.python = python
    folder.save(state)
    _execute(folder, console, use_claude)


# Families the rule-based planner still plans offline: the bundled data sets with the kit's own judges. Format
# tasks go through the recipe library, whose checks are proven on examples (or are refused).
RULE_FAMILIES = ("style", "checkable")


def _as_needs_claude(refusal: RecipeRefused | None) -> PlanRefused:
    text = str(refusal) if refusal is not None else "no offline plan covers this task"
    return PlanRefused(f"this task needs Claude: {text}", needs=["claude"])


def _new_recipe_run(console: Console, recipe: RecipePlan, folder: RunFolder, *, offline: bool, yes: bool,
                    steps: int | None, plan_only: bool, confirm: Callable[[str], bool] | None,
                    use_claude: bool) -> None:
    """A recipe plan (or one Claude authored): write its check, data and spec.json; prove the check on its own
    examples; score the base model's held-out answers with it; then train and evaluate with the check as the
    success measure."""
    python = training_env(console, yes, confirm).python
    choice = _choose_model(python, offline, console)
    spec = plan_task_spec(recipe, model=ModelPlan(name=choice.name, source=choice.source, reason=choice.reason),
                          device=choice.device, precision=choice.precision, steps=steps)
    if spec.algorithm == "grpo" and not algorithm_available("grpo"):
        spec.needs = ["grpo"]
    _show_plan(console, spec)
    console.print(f"check: {spec.check.statement}", highlight=False)
    try:
        folder.root.mkdir(parents=True, exist_ok=True)
        recipe.write(folder.root)
        run_spec = spec.to_run_spec(folder.root)
        validate_run_data(run_spec)
    except (PairFileError, TaskSpecError, OSError, ValueError) as e:
        raise UserError(f"the plan's data is not usable: {e}") from None
    spec.write(folder.path(SPEC_FILE))
    console.print(f"plan: {folder.path(SPEC_FILE)} (edit it and re-run with `rl-agent run {folder.path(SPEC_FILE)}`)")
    _prove(folder, spec, console)
    if plan_only:
        if spec.needs:
            console.print(_needs_message(spec))
        return
    if spec.needs:
        raise UserError(_needs_message(spec))
    if not _base_model_check(folder, spec, run_spec, python, console):
        return
    _start_run(folder, run_spec, python, console, use_claude)


def _prove(folder: RunFolder, spec: TaskSpec, console: Console) -> None:
    """The check must accept every good example and reject every bad one, or nothing trains."""
    try:
        good, bad = read_examples(folder.path(spec.check.examples))
        proof = prove(folder.root, spec.check.path, good, bad, spec.check.kind)
    except (CheckRunError, CheckPathError, ValueError) as e:
        raise UserError(f"check NOT proven, nothing will train: {e}") from None
    if not proof.passed:
        raise UserError(proof.message() + f"\n  (fix {folder.path(spec.check.path)} or its examples, then "
                        f"`rl-agent run {folder.path(SPEC_FILE)}`)")
    console.print(proof.message())


def _base_model_check(folder: RunFolder, spec: TaskSpec, run_spec, python: str, console: Console) -> bool:
    """Score the base model's held-out answers with the check; if they already pass there is nothing to learn."""
    rows = read_prompts(Path(run_spec.heldout_file))
    model = run_spec.model
    if run_spec.model_source == "embedded":
        from rl_agent.kit.models.tiny import embedded_model_dir

        model = str(embedded_model_dir())
    chat_kwargs = {"enable_thinking": False} if spec.algorithm == "grpo" else {}
    try:
        answers = base_answers(python, model, [r["prompt"] for r in rows], chat_kwargs=chat_kwargs,
                               max_new_tokens=run_spec.settings.max_new_tokens,
                               offline=run_spec.model_source != "hub")
        scores = score(folder.root, spec.check.path,
                       [CheckItem(r["prompt"], a, r.get("reference")) for r, a in zip(rows, answers)], spec.check.kind)
    except (BaseAnswerError, CheckRunError, CheckPathError) as e:
        raise UserError(str(e)) from None
    console.print(f"base model on the held-out prompts: the check passes {scores.pass_rate:.2f} of its answers "
                  f"({scores.graded} graded); e.g. {answers[0][:80]!r}", highlight=False)
    if scores.already_passes():
        console.print(f"nothing to learn: the base model already passes the check on {scores.pass_rate:.2f} of the "
                      f"held-out prompts; no run was started", highlight=False)
        return False
    return True


def rerun(console: Console, spec_path: Path, *, yes: bool, offline: bool,
          confirm: Callable[[str], bool] | None = None) -> None:
    """(Re)run a spec: after an edit, the stages the edit affects run again; a complete, unchanged run is left as is."""
    if spec_path.is_dir():
        spec_path = spec_path / SPEC_FILE
    try:
        task = TaskSpec.read(spec_path)
    except TaskSpecError as e:
        raise UserError(str(e)) from None
    if task.needs:
        raise UserError(_needs_message(task))
    folder = RunFolder(spec_path.resolve().parent)
    try:
        run_spec = task.to_run_spec(folder.root)
        validate_run_data(run_spec)
    except (TaskSpecError, PairFileError, ValueError) as e:
        raise UserError(f"{spec_path}: {e}") from None
    if task.check is not None:  # an edited check (or its examples) is proven again before anything runs
        _prove(folder, task, console)
    python = training_env(console, yes, confirm).python
    if folder.state_path.exists():
        try:
            state = folder.load()
        except RunFolderError as e:
            raise UserError(str(e)) from None
        changed = _changed_fields(state.spec.model_dump(mode="json"), run_spec.model_dump(mode="json"))
        if not changed and state.status == "complete":
            console.print(f"{folder.root}: the spec is unchanged and the run is complete; see {folder.path('report.md')}")
            return
        if changed:
            stage = _first_stage_for(changed)
            console.print(f"spec changed: {', '.join(changed)}; re-running from the {stage} stage")
            state.spec = run_spec
            invalidate(folder, state, stage)
            if stage != "report" and any(c.startswith(f"{run_spec.algorithm}.") or c in ("model", "train_file", "algorithm")
                                         for c in changed):
                _move_checkpoints_aside(folder)
    else:
        state = _new_state(folder, run_spec)
    _run_state(folder, state, python, console, claude_available(offline))


# ---- helpers ------------------------------------------------------------------------------------------------

def _choose_model(python: str, offline: bool, console: Console) -> ModelChoice:
    """The model that fits this machine, as `rl-agent setup` picks it (offline: the embedded model)."""
    from rl_agent.kit.models.hardware import ModelError, choose_model, hub_reachable, probe_hardware

    hw = probe_hardware(python)
    device = "cuda" if hw.cuda else "cpu"
    precision = ("bf16" if hw.bf16 else "fp16") if hw.cuda else "fp32"
    try:
        c = choose_model(hw, requested=None, hub=False if offline else hub_reachable())
    except ModelError as e:
        raise UserError(str(e)) from None
    return ModelChoice(c.name, c.source, c.reason, device, precision)  # type: ignore[arg-type]


def _author_with_claude(task: str, folder: RunFolder, console: Console) -> RecipePlan:
    """Claude's proven plan for a task the offline recipes refuse; UserError (nothing trains) if never proven."""
    from rl_agent.agent.claude_author import AuthorError, author_with_claude

    console.print("the offline recipes cannot plan this task: Claude writes its check, examples and data, and "
                  "proves the check before anything trains", highlight=False)
    try:
        return author_with_claude(task, folder.root,
                                  on_event=lambda s: console.print(s[:300], highlight=False, markup=False))
    except AuthorError as e:
        raise UserError(str(e)) from None
    except ImportError as e:  # claude-agent-sdk is not installed in this build
        raise UserError(f"this task needs Claude to write its check, but the Claude Agent SDK is not available ({e})"
                        ) from None


def _plan_with_claude(task: str, folder: RunFolder, console: Console) -> Plan | None:
    """Claude's plan, or None (with the reason shown) so the rule-based planner takes over."""
    try:
        from rl_agent.agent.claude_agent import plan_with_claude
    except ImportError as e:
        console.print(f"Claude planning is not available in this build ({e}); using the rule-based planner")
        return None
    created = not folder.root.exists()
    try:
        spec = plan_with_claude(task, folder.root)
    except Exception as e:  # noqa: BLE001 - any failure of the remote planner falls back to the rules
        console.print(f"Claude could not plan the task ({e}); using the rule-based planner")
        if created and folder.root.is_dir() and not any(folder.root.iterdir()):
            folder.root.rmdir()
        return None
    spec.planned_by = "claude"
    return Plan(spec)


def _needs_message(spec: TaskSpec) -> str:
    parts = []
    if "grpo" in spec.needs:
        parts.append(f"this is a {spec.family} task: the plan trains with GRPO rewarded by {spec.reward.judge}, but "
                     "this build's pipeline runs DPO only (the GRPO track is not available yet)")
    if "claude" in spec.needs:
        parts.append("the plan needs Claude (set ANTHROPIC_API_KEY and run without --offline)")
    return "; ".join(parts) + ". Use --plan-only to write the plan without running it."


def _show_plan(console: Console, spec: TaskSpec) -> None:
    table = Table(title="Plan", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("task", spec.summary),
        ("family", spec.family),
        ("algorithm", f"{spec.algorithm.upper()} + LoRA ({spec.algorithm_reason})"),
        ("reward", f"{spec.reward.source}: {spec.reward.judge}"),
        ("model", f"{spec.model.name} ({spec.model.source})"),
        ("data", f"{spec.data.origin}: {spec.data.train_file}"),
        ("held out", f"{spec.heldout.file} ({spec.heldout.size} items)"),
        ("success", spec.success.description or f"pref_accuracy >= {spec.success.min_pref_accuracy}"),
        ("planned by", spec.planned_by),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)


def _changed_fields(old: dict, new: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed_fields(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out


def _first_stage_for(changed: list[str]) -> str:
    """The earliest pipeline stage an edit affects."""
    if any(c in ("model", "model_source") for c in changed):
        return "model"
    if any(c in ("train_file", "heldout_file") for c in changed):
        return "data"
    if all(c in ("min_pref_accuracy", "min_correct", "min_check_rate", "task", "model_reason") for c in changed):
        return "report"
    return "render"


def _move_checkpoints_aside(folder: RunFolder) -> None:
    """Settings changed: continuing from old checkpoints would mix two runs."""
    ckpts = sorted(folder.path("out").glob("checkpoint-*"))
    if not ckpts:
        return
    dest = folder.path(ASIDE_DIR) / time.strftime("%Y%m%d-%H%M%S")
    dest.mkdir(parents=True, exist_ok=True)
    for c in ckpts:
        shutil.move(str(c), str(dest / c.name))


def _execute(folder: RunFolder, console: Console, use_claude: bool) -> None:
    console.print(f"run folder: {folder.root}")
    try:
        result = run_with_repairs(folder, console=console,
                                  on_event=lambda s: console.print(f"[bold yellow]{s}[/bold yellow]"))
    except (RunFolderError, OSError) as e:
        raise UserError(str(e)) from None
    except KeyboardInterrupt:
        raise UserError(f"interrupted; run `rl-agent resume {folder.root}` to continue", code=130) from None
    if not result.ok and result.status == "unrecognised" and use_claude:
        result = _claude_repair(folder, console, result)
    _finish(folder, console, result)


def _claude_repair(folder: RunFolder, console: Console, result: LoopResult) -> LoopResult:
    try:
        from rl_agent.agent.claude_agent import run_claude_agent
    except ImportError:
        return result
    left = MAX_ATTEMPTS - result.attempts
    if left <= 0:
        return result
    console.print(f"not a known failure; handing the run to Claude ({left} repair attempt(s) left)")
    outcome = run_claude_agent(folder.root, max_attempts=left)
    if outcome.ok:
        report_path = folder.path("report.json")
        report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
        return LoopResult(True, "succeeded", result.repairs, report=report,
                          message="repaired by Claude: " + outcome.summary)
    result.message += f"; Claude could not repair it either ({outcome.error or outcome.stop})"
    return result


def _finish(folder: RunFolder, console: Console, result: LoopResult) -> None:
    if result.repairs:
        console.rule("[bold]Repairs")
        for r in result.repairs:
            console.print(f"{r.attempt}. {r.title}: {r.patch['summary']} -> {r.outcome or 'pending'}")
        console.print(f"details: {folder.path(REPAIRS_MD)}")
    report_path = folder.path("report.json")
    if result.report is not None and report_path.is_file():
        console.rule("[bold]Before / after")
        print_report(console, result.report)
        if result.outcome:
            extra = {k: v for k, v in result.outcome["checks"].items() if k not in result.report["verdict"]["checks"]}
            for k, v in extra.items():
                console.print(f"plan check {k}: {'yes' if v else 'no'}")
    if not result.ok:
        raise UserError(f"{result.message}  (see {folder.path(REPAIRS_MD) if result.repairs else folder.path('train.log')}; "
                   f"fix it and run `rl-agent resume {folder.root}`)", code=1)
    console.print(f"report: {folder.path('report.md')}")
