"""What `rl-agent new` (a task -> spec.json -> a run that repairs itself) and `rl-agent run SPEC` (re-run an
edited spec) do, below the command layer: planning, re-run logic, checkpoint handling and the hand-over to
Claude. Failures a user can fix raise UserError (one line, an exit code).

A task comes one of three ways, and each becomes the same task folder in the run folder (planning/contract.py):
recipes with typed parameters (`--recipe NAME --set KEY=VALUE`, several combine), a task folder someone wrote
(`--task-dir DIR`), or words, which only Claude reads (the Agent SDK authoring session, with a key). Without
Claude, words are never guessed at: `new` lists the recipes closest to them and plans nothing (exit 2).

Order matters for "nothing half-written": the task is planned (and refused, if it must be) before the run
folder exists; the folder is created only once the plan and its data are valid.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence

from rich.console import Console
from rich.table import Table

from rl_agent.agent.repair.log import REPAIRS_MD
from rl_agent.agent.repair.loop import MAX_ATTEMPTS, LoopResult, algorithm_available, run_with_repairs
from rl_agent.agent.repair.repairer import ASIDE_DIR, invalidate
from rl_agent.agent.start import UserError, training_env
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.judges.agreement import AGREEMENT_FILE
from rl_agent.kit.pipeline.base_answers import BaseAnswerError, base_answers, read_prompts
from rl_agent.kit.pipeline.driver import validate_data
from rl_agent.kit.pipeline.report import print_report
from rl_agent.kit.pipeline.run_folder import RunFolder, RunFolderError, RunState
from rl_agent.kit.planning.authored import CONTRACT_FILES, TASK_DIR, plan_task_spec, read_task_folder
from rl_agent.kit.planning.check_kinds import JUDGE, prove_examples, score
from rl_agent.kit.planning.contract import TaskFolderError
from rl_agent.kit.planning.recipes import CheckItem, CheckPathError, CheckRunError, RecipeError, RecipePlan
from rl_agent.kit.planning.task_spec import SPEC_FILE, ModelPlan, TaskSpec, TaskSpecError
from rl_agent.kit.tracks.registry import get_track
from rl_agent.runtime.check_runner import resolve_check_path

NO_GUESS_EXIT = 2  # words without Claude: the recipes are suggested, nothing is planned


def validate_run_data(run_spec) -> None:
    """Check the data files the way the run's own pipeline (its track) will."""
    validate_data(run_spec)


def claude_available(offline: bool) -> bool:
    return not offline and bool(os.environ.get("ANTHROPIC_API_KEY", "").strip())


@dataclass(frozen=True)
class ModelChoice:
    name: str = "embedded:tiny-qwen3"
    source: Literal["embedded", "hub", "local"] = "embedded"
    reason: str = "offline: the embedded tiny Qwen3"
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"


def new_run(
    console: Console,
    task: str | None = None,
    *,
    recipes: Sequence[tuple[str, Sequence[str]]] = (),
    task_dir: Path | None = None,
    run_dir: Path | None,
    offline: bool,
    yes: bool,
    steps: int | None,
    plan_only: bool,
    confirm: Callable[[str], bool] | None = None,
    tune_budget: float | None = None,
) -> None:
    """Plan a task (recipes, a task folder, or words Claude reads), write it into the run folder with spec.json,
    prove its check, and run it, repairing known failures."""
    given = [
        what
        for what, ok in (
            ("a task in words", task is not None),
            ("--recipe", bool(recipes)),
            ("--task-dir", task_dir is not None),
        )
        if ok
    ]
    if len(given) != 1:
        raise UserError(
            "give exactly one of: --recipe NAME [--set KEY=VALUE ...] (rl-agent recipes lists them), "
            "--task-dir DIR (a task folder), or a task in words (read by Claude)"
            + (f"; got {' and '.join(given)}" if given else "")
        )
    folder = RunFolder(run_dir or Path("runs") / time.strftime("new-%Y%m%d-%H%M%S"))
    if folder.state_path.exists() or folder.path(SPEC_FILE).exists():
        raise UserError(
            f"{folder.root} already holds a run; edit its spec.json and use `rl-agent run`, or choose another --run-dir"
        )
    use_claude = claude_available(offline)
    if recipes:
        try:
            plan: RecipePlan = _plan_recipes(recipes)
        except RecipeError as e:
            raise UserError(str(e)) from None
    elif task_dir is not None:
        plan = _take_task_folder(Path(task_dir), folder)
    else:
        assert task is not None
        if not task.strip():
            raise UserError("the task is empty: say what the model should do, or use --recipe / --task-dir")
        if not use_claude:
            console.print(no_guess_message(task, offline), highlight=False, markup=False, soft_wrap=True)
            raise UserError(
                "nothing was planned: without Claude, rl-agent does not guess a task from words; pick a "
                "recipe above, or write a task folder",
                code=NO_GUESS_EXIT,
            )
        plan = _author_with_claude(task, folder, console)
    _new_plan_run(
        console,
        plan,
        folder,
        offline=offline,
        yes=yes,
        steps=steps,
        plan_only=plan_only,
        confirm=confirm,
        use_claude=use_claude,
        tune_budget=tune_budget,
    )


def _plan_recipes(groups: Sequence[tuple[str, Sequence[str]]]) -> RecipePlan:
    from rl_agent.kit.planning.recipes.library import plan_recipes

    return plan_recipes(groups)


def no_guess_message(task: str, offline: bool) -> str:
    """What `new "words"` says without Claude: the recipes, closest first by shared words (suggestions, labelled as
    such), each with its command line; the task-folder way; the Claude ways."""
    from rl_agent.kit.planning.recipes.library import example_command, suggest

    lines = [
        "rl-agent does not guess a plan from words without Claude"
        + (" (--offline)" if offline else " (no ANTHROPIC_API_KEY)")
        + ": nothing was planned or trained.",
        "",
        "Suggestions only: the recipes, closest first by the words your task shares with each recipe's name, "
        "description and parameters. Check the parameters before you run one.",
        "",
    ]
    for module, shared in suggest(task):
        said = f"   (shares: {', '.join(shared)})" if shared else ""
        lines += [f"  {module.NAME}: {module.DESCRIPTION}{said}", f"      {example_command(module)}"]
    lines += [
        "",
        "Recipes combine: repeat --recipe ... --set ... (an answer must pass all of them), e.g.",
        "      rl-agent new --recipe length --set max=25 --recipe plain_text --set ban=bullets",
        "Every parameter, its type and default: rl-agent recipes",
        "None fits? Write a task folder (task.json, check.py, examples.jsonl, data/train.jsonl, "
        "data/heldout.jsonl), prove it with `rl-agent prove DIR`, then run `rl-agent new --task-dir DIR`.",
        "With Claude: in Claude Code, the rl-agent plugin's /rl-agent:new maps your words to a recipe or writes "
        'the task folder (no API key needed); or set ANTHROPIC_API_KEY and run `rl-agent new "..."` without '
        "--offline.",
    ]
    return "\n".join(lines)


def _take_task_folder(src: Path, folder: RunFolder) -> RecipePlan:
    """A task folder someone wrote, validated where it is, then copied (its contract files only) into the run
    folder and read back from there: what runs is the run folder's copy."""
    try:
        read_task_folder(src)
    except TaskFolderError as e:
        raise UserError(f"the task folder does not follow the contract: {e}") from None
    if src.resolve() != folder.root.resolve():
        for rel in CONTRACT_FILES:
            if (src / rel).is_file():
                dest = folder.path(rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src / rel, dest)
    return read_task_folder(folder.root, planned_by=TASK_DIR)


def _start_run(
    folder: RunFolder, run_spec, python: str, console: Console, use_claude: bool, tune_budget: float | None = None
) -> None:
    """Create the run folder's state (nothing earlier wrote run.json) and run it with repairs."""
    _run_state(folder, _new_state(folder, run_spec), python, console, use_claude, tune_budget)


def _new_state(folder: RunFolder, run_spec) -> RunState:
    try:
        return folder.create(run_spec)
    except RunFolderError as e:
        raise UserError(str(e)) from None


def _run_state(
    folder: RunFolder,
    state: RunState,
    python: str,
    console: Console,
    use_claude: bool,
    tune_budget: float | None = None,
) -> None:
    """Save the run's state with the interpreter it trains with, then run it with repairs."""
    state.python = python
    folder.save(state)
    _execute(folder, console, use_claude, tune_budget)


def _new_plan_run(
    console: Console,
    plan: RecipePlan,
    folder: RunFolder,
    *,
    offline: bool,
    yes: bool,
    steps: int | None,
    plan_only: bool,
    confirm: Callable[[str], bool] | None,
    use_claude: bool,
    tune_budget: float | None = None,
) -> None:
    """A plan (recipes', a task folder's, or Claude's): write its task folder and spec.json; prove the check on its
    own examples; score the base model's held-out answers with it; then train and evaluate with the check as the
    success measure."""
    python = training_env(console, yes, confirm).python
    choice = _choose_model(python, offline, console)
    spec = plan_task_spec(
        plan,
        model=ModelPlan(name=choice.name, source=choice.source, reason=choice.reason),
        device=choice.device,
        precision=choice.precision,
        steps=steps,
    )
    if not algorithm_available(spec.algorithm):
        spec.needs = [spec.algorithm]
    _show_plan(console, spec)
    console.print(f"check: {spec.check.statement}", highlight=False, markup=False)
    for note in plan.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    try:
        folder.root.mkdir(parents=True, exist_ok=True)
        plan.write(folder.root)
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
    _start_run(folder, run_spec, python, console, use_claude, tune_budget)


def _prove(folder: RunFolder, spec: TaskSpec, console: Console) -> None:
    """The check must accept every good example and reject every bad one, or nothing trains."""
    try:
        proof = prove_examples(folder.root, spec.check.path, folder.path(spec.check.examples), spec.check.kind)
    except (CheckRunError, CheckPathError, ValueError) as e:
        raise UserError(f"check NOT proven, nothing will train: {e}") from None
    if not proof.passed:
        raise UserError(
            proof.message() + f"\n  (fix {folder.path(spec.check.path)} or its examples, then "
            f"`rl-agent run {folder.path(SPEC_FILE)}`)"
        )
    console.print(proof.message())


def _base_model_check(folder: RunFolder, spec: TaskSpec, run_spec, python: str, console: Console) -> bool:
    """Score the base model's held-out answers with the check; if they already pass there is nothing to learn."""
    rows = read_prompts(Path(run_spec.heldout_file))
    model = run_spec.model
    if run_spec.model_source == "embedded":
        from rl_agent.kit.models.tiny import embedded_model_dir

        model = str(embedded_model_dir())
    try:  # asked exactly as the evaluation asks (thinking off, the family's stop tokens)
        answers = base_answers(
            python,
            model,
            [r["prompt"] for r in rows],
            max_new_tokens=run_spec.settings.max_new_tokens,
            offline=run_spec.model_source != "hub",
        )
        scores = score(
            folder.root,
            spec.check.path,
            [CheckItem(r["prompt"], a, r.get("reference")) for r, a in zip(rows, answers)],
            spec.check.kind,
        )
    except (BaseAnswerError, CheckRunError, CheckPathError) as e:
        raise UserError(str(e)) from None
    console.print(
        f"base model on the held-out prompts: the check passes {scores.pass_rate:.2f} of its answers "
        f"({scores.graded} graded); e.g. {answers[0][:80]!r}",
        highlight=False,
    )
    if spec.check.kind == JUDGE:  # before "already passes": a lenient judge would pass everything
        _judge_agreement(folder, spec, rows, answers, scores.scores, console)
    if scores.already_passes():
        console.print(
            f"nothing to learn: the base model already passes the check on {scores.pass_rate:.2f} of the "
            f"held-out prompts; no run was started",
            highlight=False,
        )
        return False
    if get_track(spec.algorithm).online and scores.graded and scores.mean == 0:
        console.print(
            "no reward signal: every held-out answer of the base model scores 0 on the check, so the "
            "sampled answers would be rewarded 0 and nothing learnt; no run was started (a stronger model "
            f"in spec.json, then `rl-agent run {folder.path(SPEC_FILE)}`, may have one)",
            highlight=False,
        )
        return False
    return True


def _judge_agreement(
    folder: RunFolder,
    spec: TaskSpec,
    rows: list[dict],
    answers: list[str],
    scores: list[float | None],
    console: Console,
) -> None:
    """A judged check must read the rubric the same way twice on the base model's own answers (judges/agreement.py),
    or nothing trains; the figures go to judge_agreement.json for the report."""
    from rl_agent.kit.judges.agreement import judge_agreement
    from rl_agent.kit.judges.base import GradeItem

    _, rubric = resolve_check_path(folder.root, spec.check.path)
    items = [GradeItem(r["prompt"], a, r.get("reference")) for r, a in zip(rows, answers)]
    result = judge_agreement(items, scores, rubric)
    folder.path(AGREEMENT_FILE).write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
    if not result.passed:
        raise UserError(result.message())
    console.print(result.message(), highlight=False, markup=False)


def rerun(
    console: Console,
    spec_path: Path,
    *,
    yes: bool,
    offline: bool,
    confirm: Callable[[str], bool] | None = None,
    tune_budget: float | None = None,
) -> None:
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
    if task.check is not None and task.check.kind == JUDGE and not folder.state_path.exists():
        # nothing trained yet (e.g. stopped by the judge agreement check): the judge is read twice again first
        if not _base_model_check(folder, task, run_spec, python, console):
            return
    if folder.state_path.exists():
        try:
            state = folder.load()
        except RunFolderError as e:
            raise UserError(str(e)) from None
        changed = _changed_fields(state.spec.model_dump(mode="json"), run_spec.model_dump(mode="json"))
        if not changed and state.status == "complete":
            console.print(
                f"{folder.root}: the spec is unchanged and the run is complete; see {folder.path('report.md')}"
            )
            return
        if changed:
            stage = _first_stage_for(changed)
            console.print(f"spec changed: {', '.join(changed)}; re-running from the {stage} stage")
            state.spec = run_spec
            invalidate(folder, state, stage)
            if stage != "report" and any(
                c.startswith(f"{run_spec.algorithm}.") or c in ("model", "train_file", "algorithm") for c in changed
            ):
                _move_checkpoints_aside(folder)
    else:
        state = _new_state(folder, run_spec)
    _run_state(folder, state, python, console, claude_available(offline), tune_budget)


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
    """Claude's proven plan for a task in words (the Agent SDK authoring session writes the task folder into the
    run folder); UserError (nothing trains) if never proven."""
    from rl_agent.agent.claude.author import AuthorError, author_with_claude

    console.print(
        "Claude reads the task and writes its task folder (check, examples, data), proving the check "
        "before anything trains",
        highlight=False,
    )
    try:
        return author_with_claude(
            task, folder.root, on_event=lambda s: console.print(s[:300], highlight=False, markup=False)
        )
    except AuthorError as e:
        raise UserError(str(e)) from None
    except ImportError as e:  # claude-agent-sdk is not installed in this build
        raise UserError(
            f"a task in words needs Claude, but the Claude Agent SDK is not available ({e}); use "
            "--recipe (rl-agent recipes) or --task-dir"
        ) from None


def _needs_message(spec: TaskSpec) -> str:
    parts = []
    for name in spec.needs:
        if name != "claude":
            parts.append(f"the plan trains with {name}, which this build has no track for")
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


def _execute(folder: RunFolder, console: Console, use_claude: bool, tune_budget: float | None = None) -> None:
    console.print(f"run folder: {folder.root}")
    try:
        result = run_with_repairs(
            folder,
            console=console,
            tune_budget=tune_budget,
            on_event=lambda s: console.print(f"[bold yellow]{s}[/bold yellow]"),
        )
    except (RunFolderError, OSError) as e:
        raise UserError(str(e)) from None
    except KeyboardInterrupt:
        raise UserError(f"interrupted; run `rl-agent resume {folder.root}` to continue", code=130) from None
    if not result.ok and result.status == "unrecognised" and use_claude:
        result = _claude_repair(folder, console, result)
    _finish(folder, console, result)


def _claude_repair(folder: RunFolder, console: Console, result: LoopResult) -> LoopResult:
    try:
        from rl_agent.agent.claude.agent import run_claude_agent
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
        return LoopResult(
            True, "succeeded", result.repairs, report=report, message="repaired by Claude: " + outcome.summary
        )
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
        see = folder.path(REPAIRS_MD) if result.repairs else folder.path("train.log")
        if report_path.is_file() and folder.path(SPEC_FILE).is_file():  # it ran to its verdict: change the plan
            then = f"edit {folder.path(SPEC_FILE)} and run `rl-agent run {folder.root}`"
        else:
            then = f"fix it and run `rl-agent resume {folder.root}`"
        raise UserError(f"{result.message}  (see {see}; {then})", code=1)
    console.print(f"report: {folder.path('report.md')}")
