"""GRPO's settings (names follow TRL's GRPOConfig): what to sample, how to reward it, how to grade.

Why a file of its own (TRL's grpo_config.py beside grpo_trainer.py): the setup, the scorers and the judged-task
settings build GRPOSettings without importing the track.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from rl_agent.kit.settings import CommonSettings

VERIFIERS = "rl_agent.runtime.verifiers"
# The default is real RLVR: is the final answer right (the bundled arithmetic task), not does it look right.
DEFAULT_GRPO_REWARD = "python:rl_agent.runtime.final_number:final_number"
DEFAULT_HELDOUT_JUDGE = "python:rl_agent.runtime.correctness:correctness_score"
# Where these modules lived before (spec.json files name them); migrated on load to rl_agent/runtime/.
_MOVED = {
    "python:rl_agent.kit.grpo_verifiers:": f"python:{VERIFIERS}:",
    "python:rl_agent.kit.tracks.grpo_verifiers:": f"python:{VERIFIERS}:",
    "python:rl_agent.kit.judges.final_number:": "python:rl_agent.runtime.final_number:",
    "python:rl_agent.kit.judges.correctness:": "python:rl_agent.runtime.correctness:",
}


class GRPOSettings(CommonSettings):
    """Hyper-parameters and grading of the GRPO + LoRA script (names follow TRL's GRPOConfig).

    `reward` and `heldout_judge` are judge specs in the kit's vocabulary (rl_agent.kit.judges.factory). The
    held-out judge must differ from the reward: it is the check training never optimised (the reward-hacking
    guard). `reward_checks_correctness` says the reward verifies answers against the reference (then the
    guard wants held-out correctness to rise, not merely not to fall).
    """

    KIT_FIELDS = CommonSettings.KIT_FIELDS | {
        "use_vllm",
        "reward",
        "reward_checks_correctness",
        "heldout_judge",
        "judge_max_cost",
        "judge_timeout",
        "judge_concurrency",
        "rubric",
        "judge_calibration",
        "judge_group",
        "anchors",
        "anchor_every",
    }

    max_steps: int = Field(30, ge=1, le=1_000_000)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    beta: float = Field(0.0, ge=0, description="KL penalty; 0 loads no reference model (faster, less memory)")
    loss_type: str = "dapo"
    num_generations: int = Field(4, ge=2, description="answers sampled per prompt (the GRPO group)")
    per_device_train_batch_size: int = Field(
        32,
        ge=1,
        description="completions per step (x grad_accum: the global batch, which N "
        "processes share); a multiple of num_generations",
    )
    max_completion_length: int = Field(24, ge=1, description="a worked sum is 15 tokens of the embedded model")
    temperature: float = Field(1.0, gt=0)
    use_vllm: Literal["auto"] | bool = "auto"
    save_steps: int = Field(8, ge=1)
    logging_steps: int = Field(1, ge=1, description="1 gives a reward point per step (the reward curve)")
    max_new_tokens: int = Field(24, ge=1, description="answer length at evaluation")
    reward: str = DEFAULT_GRPO_REWARD
    reward_checks_correctness: bool = True
    heldout_judge: str = DEFAULT_HELDOUT_JUDGE
    judge_max_cost: float | None = Field(1.0, ge=0, description="USD cap on Claude grading for the whole run")
    judge_timeout: float = Field(30.0, gt=0)
    judge_concurrency: int = Field(8, ge=1)
    rubric: str | None = Field(None, description="Claude rubric file; None: the bundled terse rubric")
    judge_calibration: bool = Field(
        True,
        description="the bundled terse calibration examples in the Claude judge's "
        "prefix; off for a task's own rubric (they grade terseness)",
    )
    judge_group: bool = Field(
        False,
        description="Claude grades each prompt's num_generations answers together in one "
        "request (relative grading, kit/judges/group.py); evaluation grades one at a time",
    )
    anchors: str | None = Field(
        None,
        description="examples file (the task's proven good and bad answers) the Claude "
        "reward's rubric grades again, uncached, every anchor_every steps: judge drift",
    )
    anchor_every: int = Field(10, ge=1, description="steps between anchor gradings")

    @field_validator("reward", "heldout_judge")
    @classmethod
    def _migrate(cls, value: str) -> str:
        for old, new in _MOVED.items():
            value = value.replace(old, new)
        return value

    @model_validator(mode="after")
    def _check(self) -> "GRPOSettings":
        if self.per_device_train_batch_size % self.num_generations:
            raise ValueError(
                f"per_device_train_batch_size ({self.per_device_train_batch_size}) must be a multiple of num_generations "
                f"({self.num_generations}): GRPO scores whole groups of answers"
            )
        if self.heldout_judge.strip() == self.reward.strip():
            raise ValueError(
                "heldout_judge must differ from reward: the held-out check is what training never optimised"
            )
        return self

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        return {
            **super().hub_defaults(device),
            "per_device_train_batch_size": 16 if device == "cuda" else 8,
            "gradient_accumulation_steps": 2 if device == "cuda" else 4,
            "num_generations": 8,
            "max_completion_length": 256,
            "logging_steps": 1,
            "max_new_tokens": 128,
        }
