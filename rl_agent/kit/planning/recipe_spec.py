"""A plan (a recipe's, or a task folder's) as the editable spec.json of a run.

Why a separate step: the plan knows the task (data, check, examples); the spec also says how to train
(track, model, settings) and when the run succeeds (the task check's held-out pass rate). The check
travels as a file in the run folder, named in spec.json with its plain-words statement, so a person can
read what will count as success before anything trains.
"""

from __future__ import annotations

from rl_agent.kit.planning.recipes.base import CHECK_FILE, EXAMPLES_FILE, HELDOUT_FILE, TRAIN_FILE, RecipePlan
from rl_agent.kit.planning.task_spec import (
    CheckPlan,
    DataPlan,
    HeldoutPlan,
    ModelPlan,
    RewardPlan,
    SuccessPlan,
    TaskSpec,
)
from rl_agent.kit.tracks.grpo.scorers import TASK_CHECK_SPEC
from rl_agent.kit.tracks.registry import get_track

FAMILY = {"arithmetic": "checkable", "list_transform": "checkable", "terse": "style"}  # else "format"
MIN_CHECK_RATE = 0.8


def recipe_task_spec(
    plan: RecipePlan, *, model: ModelPlan, device: str = "cpu", precision: str = "fp32", steps: int | None = None
) -> TaskSpec:
    """The spec.json for a recipe plan: its data and check in the run folder, its track's settings."""
    reward_reason = f"the task's own check program ({CHECK_FILE}), proven on its good/bad examples before training"
    common = dict(
        task=plan.task,
        summary=_cut(plan.understood, 300),
        family=FAMILY.get(plan.recipe, "format"),
        planned_by="recipe",
        algorithm=plan.algorithm,
        model=model,
        device=device,
        precision=precision,
        check=CheckPlan(
            path=CHECK_FILE, statement=plan.statement, recipe=plan.recipe, params=plan.params, examples=EXAMPLES_FILE
        ),
        data=DataPlan(
            origin="rule-generated",
            train_file=TRAIN_FILE,
            notes=f"written by the recipe '{plan.recipe}' ({len(plan.train)} rows)",
        ),
        heldout=HeldoutPlan(file=HELDOUT_FILE, size=len(plan.heldout)),
        success=SuccessPlan(
            min_check_rate=MIN_CHECK_RATE,
            description=(
                f"the task check passes >= {MIN_CHECK_RATE} of the tuned model's held-out answers, more than the base "
                "model's, and correctness does not fall"
            ),
        ),
    )
    track = get_track(plan.algorithm)
    settings = track.task_check_settings(model.source, device)
    if steps:
        settings.max_steps, settings.save_steps = steps, min(settings.save_steps, max(1, steps // 2))
    reward = RewardPlan(source="verifier", judge=TASK_CHECK_SPEC, reason=reward_reason)
    return TaskSpec(**common, algorithm_reason=track.plan_reason, reward=reward, **{track.name: settings})


def _cut(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 3] + "..."
