"""The settings every run and every track share: the run-level fields (RunBase) and each track's common
schedule, batch, LoRA and scale-out settings (CommonSettings, TRL/PEFT names).

Why apart from rl_agent.kit.spec: the tracks read these, while RunSpec itself is built from the tracks'
settings blocks. With these below the tracks and RunSpec above them, imports run one way.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rl_agent.kit.launch.accelerate import Strategy, split_batch

# PEFT's own name for "every linear layer but the output head": it resolves on each model's own module names,
# so fused projections (Phi-3's qkv_proj/gate_up_proj, GPT-2's c_attn) are covered, not only Llama-style names.
# The training script records what it resolved to (train_metrics.json "lora_target_modules").
LORA_TARGETS = "all-linear"
# The names these settings had before they took TRL's (TrainingArguments, and ModelConfig for LoRA's targets).
OLD_NAMES = {
    "steps": "max_steps",
    "batch_size": "per_device_train_batch_size",
    "grad_accum": "gradient_accumulation_steps",
    "lora_targets": "lora_target_modules",
}


class CommonSettings(BaseModel):
    """Settings every track has: schedule, batch, LoRA, checkpointing, evaluation length (TRL/PEFT names),
    and scale-out. per_device_train_batch_size x gradient_accumulation_steps is the global batch of one optimizer step, the same at any
    num_processes: launched as N processes the script splits it (launch.split_batch)."""

    model_config = ConfigDict(extra="forbid")
    min_device_batch: ClassVar[int] = 1  # the smallest per-device batch the trainer accepts (KTO: 2)
    # The fields that are not the trainer config's arguments: LoRA's go to PEFT's LoraConfig, the rest are the
    # kit's (evaluation length, scale-out). Every other field is passed to <Algo>Config under its own name.
    KIT_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "max_new_tokens", "num_processes", "strategy"}
    )

    max_steps: int = Field(100, ge=1, le=1_000_000)
    learning_rate: float = Field(5e-4, gt=0, lt=1)
    per_device_train_batch_size: int = Field(
        8,
        ge=1,
        description="examples per step and device at one process; "
        "x gradient_accumulation_steps: the "
        "global batch, which N processes share",
    )
    gradient_accumulation_steps: int = Field(1, ge=1)
    gradient_checkpointing: bool = False
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0, lt=1)
    lora_target_modules: list[str] | str = LORA_TARGETS
    save_steps: int = Field(20, ge=1)
    logging_steps: int = Field(5, ge=1)
    seed: int = 0
    max_new_tokens: int = Field(40, ge=1)
    # Tracker TRL logs to (rl_agent.kit.tracking); "none" keeps runs free of tracker packages.
    report_to: Literal["none", "tensorboard", "trackio", "wandb"] = "none"
    num_processes: int = Field(1, ge=1, description=">1: train through `accelerate launch` (one process per GPU)")
    strategy: Strategy = "ddp"

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, data: Any) -> Any:
        """spec.json and run.json files written before the settings took TRL's names still load."""
        if isinstance(data, dict):
            for old, new in OLD_NAMES.items():
                if old in data:
                    if new in data:
                        raise ValueError(f"{old} and {new} are the same setting ({new}, TRL's name); give one")
                    data = {**{k: v for k, v in data.items() if k != old}, new: data[old]}
        return data

    @model_validator(mode="after")
    def _check_processes(self) -> "CommonSettings":
        if self.num_processes > 1:
            split_batch(
                self.per_device_train_batch_size,
                self.gradient_accumulation_steps,
                self.num_processes,
                self.min_device_batch,
            )
        return self

    def trl_args(self) -> dict[str, Any]:
        """The fields that are arguments of the trainer's config class, under TRL's names."""
        return {k: v for k, v in self.model_dump(mode="json").items() if k not in self.KIT_FIELDS}

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        """Gentler settings for a real 0.1-1B hub model (the class defaults suit the embedded tiny model)."""
        return {
            "max_steps": 200,
            "learning_rate": 5e-5,
            "per_device_train_batch_size": 4 if device == "cuda" else 2,
            "gradient_accumulation_steps": 4 if device == "cuda" else 8,
            "gradient_checkpointing": device == "cuda",
            "save_steps": 50,
            "logging_steps": 10,
            "max_new_tokens": 96,
        }

    @classmethod
    def for_model(cls, source: str, device: str):
        return cls() if source == "embedded" else cls(**cls.hub_defaults(device))


class RunBase(BaseModel):
    """One training run, complete enough to render and run the pipeline without any other input (the track
    settings blocks are added by rl_agent.kit.spec.RunSpec)."""

    model_config = ConfigDict(extra="forbid")

    task: str = "Terse, direct answers: no hedging, no filler openers."
    algorithm: str  # a track name (rl_agent.kit.tracks.registry); RunSpec defaults it
    model: str
    model_source: Literal["embedded", "hub", "local"]
    model_reason: str = ""
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    train_file: str = "train.jsonl"
    heldout_file: str = "heldout.jsonl"
    min_pref_accuracy: float = Field(0.9, ge=0, le=1, description="success bar for held-out preference accuracy")
    min_correct: float | None = Field(
        None,
        ge=0,
        le=1,
        description="floor for held-out correctness (share of "
        "answers stating the reference); None: only 'does not fall' is required",
    )
    check_file: str | None = Field(
        None,
        description="the task's own check program (check.py in the run folder); "
        "when set, its held-out pass rate is the run's success measure",
    )
    min_check_rate: float = Field(
        0.8, ge=0, le=1, description="success bar: share of tuned held-out answers the task check passes (score >= 0.9)"
    )
    check_kind: Literal["program", "claude_judge"] = Field(
        "program",
        description="program: check_file is a "
        "check.py; claude_judge: check_file is the rubric the "
        "Claude grader scores with",
    )

    @property
    def settings(self) -> CommonSettings:
        """The settings block of this run's track."""
        return getattr(self, self.algorithm)
