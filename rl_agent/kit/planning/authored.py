"""A task folder (planning/contract.py) read back as a plan: one Claude wrote, one a person wrote, or one a
recipe wrote. Every file is validated the way the run will read it, and a problem is a TaskFolderError naming
the file and the field or line.

Why a RecipePlan: from here on such a task runs exactly like a recipe task (spec.json with a CheckPlan, the
proof, the base model's answers scored, train, the task check as the verdict), through the same code; only
where the files came from and who planned it differ. What runs is what is on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rl_agent.kit.dataio.pairs import PairFileError, iter_jsonl_objects
from rl_agent.kit.planning.check_kinds import JUDGE, PROGRAM, CheckKind, prove_examples, read_example_rows
from rl_agent.kit.planning.contract import (
    CHECK_FILE,
    EXAMPLES_FILE,
    HELDOUT_FILE,
    RUBRIC_FILE,
    TASK_FILE,
    TRAIN_FILE,
    TaskFolderError,
    TaskMeta,
    check_source_problem,
    read_meta,
)
from rl_agent.kit.planning.recipe_spec import recipe_task_spec
from rl_agent.kit.planning.recipes.base import RecipePlan
from rl_agent.kit.planning.recipes.proof import ProofResult
from rl_agent.kit.planning.task_spec import TaskSpec
from rl_agent.kit.tracks.registry import JUDGED_TRACKS

AUTHOR = "claude"  # planned by the Agent SDK authoring session
TASK_DIR = "task_dir"  # a folder given with --task-dir (hand-written, or written by Claude Code)
CONTRACT_FILES = (TASK_FILE, CHECK_FILE, RUBRIC_FILE, EXAMPLES_FILE, TRAIN_FILE, HELDOUT_FILE)
MIN_RUBRIC_WORDS = 10
JUDGED_ALGORITHMS = JUDGED_TRACKS  # the tracks that train a judged check (Track.trains_judged_check)


@dataclass
class AuthoredPlan(RecipePlan):
    """A RecipePlan whose files are already in the run folder (read from them)."""

    check_kind: CheckKind = PROGRAM
    rubric: str | None = None
    planned_by: str = AUTHOR

    @property
    def check_path(self) -> str:
        return RUBRIC_FILE if self.check_kind == JUDGE else CHECK_FILE

    def write(self, run_dir: str | Path) -> dict[str, Path]:
        """Nothing to write: the files are in the run folder (this plan was read from them); their paths."""
        root = Path(run_dir).resolve()
        paths = {
            rel: (root / rel).resolve() for rel in (TASK_FILE, self.check_path, TRAIN_FILE, HELDOUT_FILE, EXAMPLES_FILE)
        }
        missing = [rel for rel, p in paths.items() if root not in p.parents or not p.is_file()]
        if missing:
            raise ValueError(f"the task folder's files are missing from {root}: {', '.join(missing)}")
        return paths


def check_folder(root: str | Path) -> TaskMeta:
    """Validate a task folder against the contract (task.json, the check or rubric, the examples, the data as
    the algorithm's track reads it); its task.json, or TaskFolderError naming the file and field or line."""
    root = Path(root)
    if not root.is_dir():
        raise TaskFolderError(f"{root}: no such task folder")
    meta = read_meta(root)
    if meta.check_kind == PROGRAM:
        path = root / CHECK_FILE
        if not path.is_file():
            raise TaskFolderError(f"{path}: missing (check_kind is program in {TASK_FILE})")
        problem = check_source_problem(_text(path))
        if problem:
            raise TaskFolderError(f"{path}: {problem}")
    else:
        path = root / RUBRIC_FILE
        if not path.is_file():
            raise TaskFolderError(f"{path}: missing (check_kind is claude_judge in {TASK_FILE})")
        if len(_text(path).split()) < MIN_RUBRIC_WORDS:
            raise TaskFolderError(
                f"{path}: a rubric needs at least {MIN_RUBRIC_WORDS} words saying what scores 1 and what scores 0"
            )
        if meta.algorithm not in JUDGED_ALGORITHMS:
            raise TaskFolderError(
                f"{root / TASK_FILE}: field 'algorithm': a judged check (claude_judge) trains with "
                f"{' or '.join(JUDGED_ALGORITHMS)}, got {meta.algorithm!r}"
            )
    try:
        read_example_rows(root / EXAMPLES_FILE)
    except ValueError as e:
        raise TaskFolderError(str(e)) from None
    _check_data(root, meta.algorithm)
    return meta


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise TaskFolderError(f"{path}: not UTF-8 text ({e.reason})") from None


def _check_data(root: Path, algorithm: str) -> None:
    """The training and held-out files as the algorithm's track loads them (rows, fields, no shared prompt)."""
    from rl_agent.kit.spec import RunSpec
    from rl_agent.kit.tracks.registry import get_track

    for rel in (TRAIN_FILE, HELDOUT_FILE):
        if not (root / rel).is_file():
            raise TaskFolderError(f"{root / rel}: missing")
    spec = RunSpec(
        model="task folder check",
        model_source="embedded",
        algorithm=algorithm,
        train_file=str(root / TRAIN_FILE),
        heldout_file=str(root / HELDOUT_FILE),
    )
    try:
        get_track(algorithm).load_data(spec)  # as the pipeline's data stage loads it
    except (PairFileError, ValueError) as e:
        raise TaskFolderError(f"data for {algorithm}: {e}") from None


def read_task_folder(root: str | Path, task: str | None = None, planned_by: str = TASK_DIR) -> AuthoredPlan:
    """The plan a task folder holds (validated by check_folder). `task`: the user's words, when there were any
    (else the statement stands for the task)."""
    root = Path(root).resolve()
    meta = check_folder(root)
    source = _text(root / (RUBRIC_FILE if meta.check_kind == JUDGE else CHECK_FILE))
    rows = read_example_rows(root / EXAMPLES_FILE)
    data = {
        rel: [row for _, _, row in iter_jsonl_objects(root / rel, error=ValueError)]
        for rel in (TRAIN_FILE, HELDOUT_FILE)
    }
    recipe = AUTHOR if planned_by == AUTHOR else meta.recipe or TASK_DIR
    who = {AUTHOR: "written by Claude for this task", TASK_DIR: "from the task folder"}.get(planned_by, "planned")
    return AuthoredPlan(
        recipe=recipe,
        task=task or meta.statement,
        params=meta.params,
        algorithm=meta.algorithm,
        statement=meta.statement,
        understood=f"{who}: {meta.statement}",
        check_source=source if meta.check_kind == PROGRAM else "",
        train=data[TRAIN_FILE],
        heldout=data[HELDOUT_FILE],
        good=[r.item for r in rows if r.kind == "good"],
        bad=[r.item for r in rows if r.kind == "bad"],
        check_kind=meta.check_kind,
        rubric=source if meta.check_kind == JUDGE else None,
        planned_by=planned_by,
    )


def prove_folder(root: str | Path) -> ProofResult:
    """The proof of a task folder (validated first): its check on its examples, failures naming file and line.
    TaskFolderError for a malformed folder; CheckRunError/CheckPathError when the check cannot run."""
    root = Path(root).resolve()
    meta = check_folder(root)
    path = RUBRIC_FILE if meta.check_kind == JUDGE else CHECK_FILE
    return prove_examples(root, path, root / EXAMPLES_FILE, meta.check_kind)


def plan_task_spec(plan: RecipePlan, **kw) -> TaskSpec:
    """spec.json for a recipe plan or a task folder's (the same spec; a folder's plan names who planned it and
    where its data came from, and a judged check carries its kind and rubric)."""
    spec = recipe_task_spec(plan, **kw)
    if not isinstance(plan, AuthoredPlan):
        return spec
    spec.planned_by = plan.planned_by
    spec.data.origin = "claude-generated" if plan.planned_by == AUTHOR else "file"
    spec.data.notes = (
        f"written by Claude through the run-folder authoring tools ({len(plan.train)} rows)"
        if plan.planned_by == AUTHOR
        else f"the task folder's {TRAIN_FILE} ({len(plan.train)} rows)"
    )
    spec.check.path, spec.check.kind, spec.check.rubric = plan.check_path, plan.check_kind, plan.rubric
    if plan.check_kind == JUDGE:
        spec.family = "style"  # a quality a grader judges, not a format a program checks
        spec.reward.source, spec.reward.judge = "claude", "claude"
        spec.reward.reason = f"the Claude grader with the task's rubric ({RUBRIC_FILE}), proven on its examples"
        if spec.grpo is not None:
            from rl_agent.kit.tracks.grpo.judged import judged_grpo_settings

            spec.grpo = judged_grpo_settings(spec.grpo, RUBRIC_FILE, EXAMPLES_FILE)
            spec.algorithm_reason = "a rubric the Claude grader applies to each sampled answer: online RL (RLAIF)"
    return spec
