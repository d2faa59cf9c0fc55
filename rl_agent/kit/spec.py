"""Typed run specs: what to train, on what, with which settings. Saved as run.json in the run folder.

Why pydantic: specs come from files users edit (and later from Claude), so every field is validated with
a message that names it, instead of failing deep inside a training script.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class DPOSettings(BaseModel):
    """Hyper-parameters of the DPO + LoRA script (names follow TRL's DPOConfig and PEFT's LoraConfig)."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(100, ge=1, le=1_000_000)
    learning_rate: float = Field(5e-4, gt=0, lt=1)
    beta: float = Field(0.1, gt=0)
    # DPO's sigmoid loss plus an SFT term on the chosen answer (RPO): without the SFT term a small model
    # pushes both answers' likelihood down and collapses into gibberish within a few dozen steps.
    loss_type: list[str] = Field(default_factory=lambda: ["sigmoid", "sft"])
    loss_weights: list[float] | None = Field(default_factory=lambda: [1.0, 1.0])
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(128, ge=16)
    gradient_checkpointing: bool = False
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_targets: list[str] | str = Field(default_factory=lambda: list(LORA_TARGETS))
    save_steps: int = Field(20, ge=1)
    logging_steps: int = Field(5, ge=1)
    seed: int = 0
    max_new_tokens: int = Field(40, ge=1)
    # issue-10: tracker TRL logs to (rl_agent.kit.tracking); "none" keeps runs free of tracker packages.
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = "none"

    @classmethod
    def for_model(cls, source: str, device: str) -> "DPOSettings":
        """Defaults tuned for the embedded tiny model, or for a real 0.1-1B model from the hub."""
        if source == "embedded":
            return cls()
        return cls(
            steps=200,
            learning_rate=5e-5,
            batch_size=4 if device == "cuda" else 2,
            grad_accum=4 if device == "cuda" else 8,
            max_length=512,
            gradient_checkpointing=device == "cuda",
            save_steps=50,
            logging_steps=10,
            max_new_tokens=96,
        )


DEFAULT_GRPO_REWARD = "python:rl_agent.kit.grpo_verifiers:short_answer"


class GRPOSettings(BaseModel):
    """Hyper-parameters and grading of the GRPO + LoRA script (names follow TRL's GRPOConfig).

    `reward` and `heldout_judge` are judge specs in the kit's vocabulary (rl_agent.kit.judges.factory):
    a verifier program when the task is checkable (RLVR), `claude` otherwise (RLAIF). The held-out judge
    must differ from the reward: it is the check training never optimised (the reward-hacking guard).
    """

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(16, ge=1, le=1_000_000)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    beta: float = Field(0.0, ge=0, description="KL penalty; 0 loads no reference model (faster, less memory)")
    loss_type: str = "dapo"
    num_generations: int = Field(4, ge=2, description="answers sampled per prompt (the GRPO group)")
    batch_size: int = Field(32, ge=1, description="completions per device per step; a multiple of num_generations")
    grad_accum: int = Field(1, ge=1)
    max_completion_length: int = Field(16, ge=1)
    temperature: float = Field(1.0, gt=0)
    gradient_checkpointing: bool = False
    use_vllm: Literal["auto"] | bool = "auto"
    num_processes: int = Field(1, ge=1, description=">1: train through `accelerate launch` (one process per GPU)")
    strategy: Literal["ddp", "fsdp", "deepspeed"] = "ddp"
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_targets: list[str] | str = Field(default_factory=lambda: list(LORA_TARGETS))
    save_steps: int = Field(8, ge=1)
    logging_steps: int = Field(1, ge=1, description="1 gives a reward point per step (the reward curve)")
    seed: int = 0
    max_new_tokens: int = Field(24, ge=1, description="answer length at evaluation")
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = "none"  # issue-10: see rl_agent.kit.tracking
    reward: str = DEFAULT_GRPO_REWARD
    heldout_judge: str = "terse"
    judge_max_cost: float | None = Field(1.0, ge=0, description="USD cap on Claude grading for the whole run")
    judge_timeout: float = Field(30.0, gt=0)
    judge_concurrency: int = Field(8, ge=1)
    rubric: str | None = Field(None, description="Claude rubric file; None: the bundled terse rubric")

    @model_validator(mode="after")
    def _check(self) -> "GRPOSettings":
        if self.batch_size % self.num_generations:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of num_generations "
                             f"({self.num_generations}): GRPO scores whole groups of answers")
        if self.heldout_judge.strip() == self.reward.strip():
            raise ValueError("heldout_judge must differ from reward: the held-out check is what training never "
                             "optimised")
        return self

    @classmethod
    def for_model(cls, source: str, device: str) -> "GRPOSettings":
        """Defaults tuned for the embedded tiny model, or for a real 0.1-1B model from the hub."""
        if source == "embedded":
            return cls()
        return cls(
            steps=200,
            learning_rate=5e-5,
            batch_size=16 if device == "cuda" else 8,
            grad_accum=2 if device == "cuda" else 4,
            num_generations=8,
            max_completion_length=256,
            gradient_checkpointing=device == "cuda",
            save_steps=50,
            logging_steps=1,
            max_new_tokens=128,
        )


class RunSpec(BaseModel):
    """One training run, complete enough to render and run the pipeline without any other input."""

    model_config = ConfigDict(extra="forbid")

    task: str = "Terse, direct answers: no hedging, no filler openers."
    algorithm: Literal["dpo", "grpo"] = "dpo"
    model: str
    model_source: Literal["embedded", "hub", "local"]
    model_reason: str = ""
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    train_file: str = "train.jsonl"
    heldout_file: str = "heldout.jsonl"
    dpo: DPOSettings = Field(default_factory=DPOSettings)
    grpo: GRPOSettings = Field(default_factory=GRPOSettings)
    min_pref_accuracy: float = Field(0.9, ge=0, le=1, description="success bar for held-out preference accuracy")
