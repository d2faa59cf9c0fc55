"""Typed run specs: what to train, on what, with which settings. Saved as run.json in the run folder.

Why pydantic: specs come from files users edit (and later from Claude), so every field is validated with
a message that names it, instead of failing deep inside a training script.

`algorithm` names a track in the registry; each track's settings live in a block named after it (`dpo`,
`grpo`, `sft`, `kto`), so run.json and spec.json files written before the tracks/ layout load unchanged.
The blocks are generated from the registry, so a new track needs no edit here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from rl_agent.kit.tracks.base import CommonSettings
from rl_agent.kit.tracks.registry import TRACKS, get_track


class _RunSpecBase(BaseModel):
    """One training run, complete enough to render and run the pipeline without any other input."""

    model_config = ConfigDict(extra="forbid")

    task: str = "Terse, direct answers: no hedging, no filler openers."
    algorithm: str = "dpo"
    model: str
    model_source: Literal["embedded", "hub", "local"]
    model_reason: str = ""
    device: Literal["cpu", "cuda"] = "cpu"
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    train_file: str = "train.jsonl"
    heldout_file: str = "heldout.jsonl"
    min_pref_accuracy: float = Field(0.9, ge=0, le=1, description="success bar for held-out preference accuracy")
    min_correct: float | None = Field(None, ge=0, le=1, description="floor for held-out correctness (share of "
                                      "answers stating the reference); None: only 'does not fall' is required")
    check_file: str | None = Field(None, description="the task's own check program (check.py in the run folder); "
                                   "when set, its held-out pass rate is the run's success measure")
    min_check_rate: float = Field(0.8, ge=0, le=1, description="success bar: share of tuned held-out answers the "
                                  "task check passes (score >= 0.9)")
    check_kind: Literal["program", "claude_judge"] = Field("program", description="program: check_file is a "
                                                           "check.py; claude_judge: check_file is the rubric the "
                                                           "Claude grader scores with")

    @field_validator("algorithm")
    @classmethod
    def _known_track(cls, value: str) -> str:
        get_track(value)  # raises with the list of tracks
        return value

    @property
    def settings(self) -> CommonSettings:
        """The settings block of this run's track."""
        return getattr(self, self.algorithm)


RunSpec = create_model(
    "RunSpec",
    __base__=_RunSpecBase,
    __module__=__name__,
    **{name: (track.settings_cls, Field(default_factory=track.settings_cls)) for name, track in TRACKS.items()},
)
