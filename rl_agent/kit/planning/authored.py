"""A plan Claude wrote into the run folder (check or rubric, data, examples, statement), as a RecipePlan.

Why a RecipePlan: from here on a Claude-authored task runs exactly like a recipe task (spec.json with a
CheckPlan, the proof, the base model's answers scored, train, the task check as the verdict), through the
same code; only where the files came from and who planned it differ. The files are read back from the run
folder and validated here, so what runs is what is on disk, not what a session said it wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rl_agent.kit.dataio.pairs import iter_jsonl_objects
from rl_agent.kit.planning.check_kinds import JUDGE, PROGRAM, RUBRIC_FILE, CheckKind, read_examples
from rl_agent.kit.planning.recipe_spec import recipe_task_spec
from rl_agent.kit.planning.recipes.base import CHECK_FILE, EXAMPLES_FILE, HELDOUT_FILE, TRAIN_FILE, RecipePlan
from rl_agent.kit.planning.task_spec import TaskSpec

AUTHOR = "claude"
STATEMENT_FILE = "data/statement.json"  # {"statement": ..., "algorithm": ..., "check_kind": ...}


@dataclass
class AuthoredPlan(RecipePlan):
    """A RecipePlan (recipe "claude") whose files the authoring tools already wrote into the run folder."""

    check_kind: CheckKind = PROGRAM
    rubric: str | None = None

    @property
    def check_path(self) -> str:
        return RUBRIC_FILE if self.check_kind == JUDGE else CHECK_FILE

    def write(self, run_dir: str | Path) -> dict[str, Path]:
        """Nothing to write: the files are in the run folder (this plan was read from them); their paths."""
        root = Path(run_dir).resolve()
        paths = {rel: (root / rel).resolve() for rel in (self.check_path, TRAIN_FILE, HELDOUT_FILE, EXAMPLES_FILE)}
        missing = [rel for rel, p in paths.items() if root not in p.parents or not p.is_file()]
        if missing:
            raise ValueError(f"the authored plan's files are missing from {root}: {', '.join(missing)}")
        return paths


def read_authored(run_dir: str | Path, task: str) -> AuthoredPlan:
    """The plan the authoring session left in `run_dir`; ValueError naming the file when one is missing/bad."""
    root = Path(run_dir).resolve()
    meta = json.loads((root / STATEMENT_FILE).read_text(encoding="utf-8"))
    kind = meta.get("check_kind", PROGRAM)
    check_file = root / (RUBRIC_FILE if kind == JUDGE else CHECK_FILE)
    if not check_file.is_file():
        raise ValueError(f"{check_file}: not written")
    source = check_file.read_text(encoding="utf-8")
    good, bad = read_examples(root / EXAMPLES_FILE)
    rows = {rel: [row for _, _, row in iter_jsonl_objects(root / rel, error=ValueError)]
            for rel in (TRAIN_FILE, HELDOUT_FILE)}
    statement = meta["statement"]
    return AuthoredPlan(
        recipe=AUTHOR, task=task, params={}, algorithm=meta["algorithm"], statement=statement,
        understood=f"written by Claude for this task: {statement}",
        check_source=source if kind == PROGRAM else "", train=rows[TRAIN_FILE], heldout=rows[HELDOUT_FILE],
        good=good, bad=bad, check_kind=kind, rubric=source if kind == JUDGE else None)


def plan_task_spec(plan: RecipePlan, **kw) -> TaskSpec:
    """spec.json for a recipe plan or an authored one (the same spec; an authored plan names Claude as its
    planner and data author, and a judged check carries its kind and rubric)."""
    spec = recipe_task_spec(plan, **kw)
    if not isinstance(plan, AuthoredPlan):
        return spec
    spec.planned_by = AUTHOR
    spec.data.origin = "claude-generated"
    spec.data.notes = f"written by Claude through the run-folder authoring tools ({len(plan.train)} rows)"
    spec.check.path, spec.check.kind, spec.check.rubric = plan.check_path, plan.check_kind, plan.rubric
    if plan.check_kind == JUDGE:
        spec.family = "style"  # a quality a grader judges, not a format a program checks
        spec.reward.source, spec.reward.judge = "claude", "claude"
        spec.reward.reason = f"the Claude grader with the task's rubric ({RUBRIC_FILE}), proven on its examples"
    return spec
