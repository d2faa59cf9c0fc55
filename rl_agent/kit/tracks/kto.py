"""KTO + LoRA: unpaired feedback (single answers marked desirable or not), TRL's KTOTrainer.

For data that comes as thumbs up / thumbs down rather than as pairs: each row is a prompt, one answer
and a boolean label. The held-out set is still pairs, so the before/after is the same as DPO's.
`tools/make_bundled_unpaired.py` derives the bundled set from the bundled terse pairs.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from rl_agent.kit.settings import CommonSettings, RunBase
from rl_agent.kit.tracks.base import PREF_NOTE, STYLE_FIGURES, Track, style_checks, style_tips


class KTOSettings(CommonSettings):
    """Hyper-parameters of the KTO + LoRA script (names follow TRL's KTOConfig and PEFT's LoraConfig)."""

    min_device_batch: ClassVar[int] = 2  # KTO's KL estimate pairs answers within each device's batch

    # Lower than DPO's: without DPO's SFT term, KTO at 5e-4 made the embedded model terse but wrong on a fifth
    # of held-out questions ("Which continent is Italy in?" -> "Warsaw."); at 1e-4 it stays right (1.00).
    learning_rate: float = Field(1e-4, gt=0, lt=1)
    beta: float = Field(0.1, gt=0)
    desirable_weight: float = Field(1.0, gt=0, description="raise when good answers are rarer than bad ones")
    undesirable_weight: float = Field(1.0, gt=0)
    max_length: int = Field(128, ge=16)

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        return {**super().hub_defaults(device), "max_length": 512}


class KTOTrack(Track):
    name = "kto"
    title = "KTO + LoRA"
    help = "unpaired feedback: prompt/completion rows labelled true (good) or false (bad)"
    settings_cls = KTOSettings
    plan_reason = "answers marked good or bad: KTO"
    train_kind = "unpaired"
    train_template = "train_kto.py.j2"
    bundled_dataset = "terse_unpaired"
    plot_label = "loss (KTO)"
    figures = STYLE_FIGURES
    footnote = PREF_NOTE

    def render_context(self, spec: RunBase, model_path: str) -> dict:
        return super().render_context(spec, model_path)

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        bar = spec.min_pref_accuracy
        return {
            f"pref_accuracy >= {bar}": report["after"]["pref_accuracy"] >= bar,
            **style_checks(report["before"], report["after"]),
        }

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        after, steps = report["after"], spec.settings.max_steps
        tips = []
        if after["pref_accuracy"] < spec.min_pref_accuracy:
            tips.append(
                f"Held-out preference accuracy is {after['pref_accuracy']:.2f}: train longer (--steps "
                f"{steps * 2}), or raise the weight of the rarer label."
            )
        return tips + style_tips(report, steps)
