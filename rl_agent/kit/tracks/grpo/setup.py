"""From `rl-agent setup --track grpo` flags to GRPO settings: which task, reward and held-out judge.

The reward decides the default task: a verifier program needs a checkable task (the bundled arithmetic
task, where the reward is whether the final answer is right: RLVR); the offline terse judge or Claude
(RLAIF) grade the bundled terse task. The held-out judge is always a different one, because it is the check
training never optimised.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.prompts import BUILTIN_TASKS, bundled_prompts_path
from rl_agent.kit.judges.factory import is_remote
from rl_agent.kit.tracks.base import SetupPlan
from rl_agent.kit.tracks.grpo.config import GRPOSettings
from rl_agent.kit.tracks.grpo.scorers import plan_scorer

VERIFIER_TASK = "arithmetic"


class GRPOSetupError(RlAgentError, ValueError):
    """The flags do not make a GRPO run; the message is one line saying why."""


def task_for_reward(reward: str | None) -> str:
    """The bundled task a reward grades: `terse` and Claude grade terse answers; verifiers the strict format."""
    if reward is not None and (reward.strip() == "terse" or is_remote(reward)):
        return "terse"
    return VERIFIER_TASK


def grpo_settings(
    source: str, device: str, *, reward: str | None, max_cost: float | None, steps: int | None
) -> GRPOSettings:
    task = task_for_reward(reward)
    task_reward, task_check = BUILTIN_TASKS[task].reward, BUILTIN_TASKS[task].heldout_judge
    chosen = reward.strip() if reward else task_reward
    # Claude is graded against the offline terse judge; anything else against its task's other judge.
    check = "terse" if is_remote(chosen) else task_check if chosen != task_check else task_reward
    # Only the task's own verifier is known to check correctness; any other reward is treated as a style
    # reward, so the guard asks of it only that held-out correctness does not fall.
    verifies = BUILTIN_TASKS[task].reward_checks_correctness and chosen == task_reward
    settings = GRPOSettings.for_model(source, device).model_copy(
        update={"reward": chosen, "heldout_judge": check, "reward_checks_correctness": verifies}
    )
    if max_cost is not None:
        settings.judge_max_cost = max_cost
    if steps:
        settings.max_steps = steps
        settings.save_steps = min(settings.save_steps, max(1, steps // 2))
    return GRPOSettings.model_validate(settings.model_dump())  # re-run the cross-field checks


def grpo_setup(
    source: str,
    device: str,
    *,
    reward: str | None,
    max_cost: float | None,
    steps: int | None,
    train: Path | None,
    heldout: Path | None,
) -> SetupPlan:
    """Settings, task and data files for `setup --track grpo`; bad flags raise GRPOSetupError (nothing written)."""
    task = task_for_reward(reward)
    try:
        settings = grpo_settings(source, device, reward=reward, max_cost=max_cost, steps=steps)
    except ValidationError as e:
        raise GRPOSetupError(f"GRPO settings: {e.errors()[0]['msg']}") from None
    for judge in (settings.reward, settings.heldout_judge):
        try:
            plan = plan_scorer(judge)
        except ValueError as e:
            raise GRPOSetupError(f"judge {judge!r}: {e}") from None
        if plan.remote:
            from rl_agent.kit.judges.client import MissingAPIKey, resolve_api_key

            try:
                resolve_api_key()
            except MissingAPIKey as e:
                raise GRPOSetupError(str(e)) from None
    notes = [f"reward: {settings.reward}; held-out judge (never trained on): {settings.heldout_judge}"]
    return SetupPlan(
        settings,
        BUILTIN_TASKS[task].summary,
        train or bundled_prompts_path(task, "train"),
        heldout or bundled_prompts_path(task, "heldout"),
        notes,
    )
