"""GRPO settings for a judged task: Claude with the task's own rubric is the reward, online.

Why a separate step: a judged task (rubric.md, proven on its examples like a check program) trains like a
program-checked one, except that its reward is the Claude grader. It grades each prompt's group of answers in
one request (relative grading, judges/group.py) through the grade cache, the concurrency limit and the
run's cost cap; without the bundled terse calibration examples (they grade terseness, not this task); and the
task's proven good and bad examples are the anchors graded again during training to watch for judge drift
(judges/drift.py). The held-out verdict stays the task's check (the same rubric, graded one answer at a time)
plus a pairwise before/after win rate (pipeline/judged_winrate.py).
"""

from __future__ import annotations

from rl_agent.kit.tracks.grpo.config import GRPOSettings

CLAUDE_REWARD = "claude"
ANCHOR_READINGS = 3  # anchor gradings during training besides the first and the last


def judged_grpo_settings(settings: GRPOSettings, rubric_file: str, examples_file: str) -> GRPOSettings:
    """`settings` with the Claude rubric reward, group grading and the anchors (validated again)."""
    update = {
        "reward": CLAUDE_REWARD,
        "rubric": rubric_file,
        "judge_calibration": False,
        "judge_group": True,
        "anchors": examples_file,
        "anchor_every": max(1, settings.max_steps // ANCHOR_READINGS),
        "reward_checks_correctness": False,
    }
    return GRPOSettings.model_validate({**settings.model_dump(), **update})
