"""DPO + LoRA: offline preference pairs (prompt / chosen / rejected), TRL's DPOTrainer.

The embedded run adds TRL's `sft` loss on the chosen answer (`loss_type=["sigmoid", "sft"]`, the RPO
recipe): plain DPO on a model this small drives both answers' likelihood down and collapses into
gibberish within a few dozen steps.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rl_agent.kit.settings import CommonSettings, RunBase
from rl_agent.kit.tracks.base import PREF_NOTE, STYLE_FIGURES, Track, style_checks, style_tips

SFT_LOSS = "sft"  # TRL's loss_type for an SFT term on the chosen answer (RPO), beside DPO's sigmoid loss


class DPOSettings(CommonSettings):
    """Hyper-parameters of the DPO + LoRA script (names follow TRL's DPOConfig and PEFT's LoraConfig)."""

    beta: float = Field(0.1, gt=0)
    # DPO's sigmoid loss plus an SFT term on the chosen answer (RPO): see the module docstring.
    loss_type: list[str] = Field(default_factory=lambda: ["sigmoid", SFT_LOSS])
    loss_weights: list[float] | None = Field(default_factory=lambda: [1.0, 1.0])
    max_length: int = Field(128, ge=16)

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        return {**super().hub_defaults(device), "max_length": 512}


# Embedded-model schedule of a task-check run (see tests/e2e/test_recipe_runs.py, bench/tasks.py --run): 100 steps
# at the default lr 5e-4. On the version-2 model, 60 steps of a closing-line run left 2 of 31 answers running on
# into worked sums (correct 0.94) and 100 reached 0.00 -> 1.00 on the check with correctness 1.00 -> 1.00; a lower
# lr (1e-4, 2e-4) learned no prefix and still cost correctness; attention-only LoRA cost far more (1.00 -> 0.16).
# On the shipped version-3 model, closing reaches 0.77 on the check at 30 steps, 0.94 at 50 and 1.00 at 100.
EMBEDDED_TASK_SCHEDULE = {"max_steps": 100, "save_steps": 50, "logging_steps": 5}


class DPOTrack(Track):
    name = "dpo"
    title = "DPO + LoRA"
    help = "offline preference pairs (prompt/chosen/rejected)"
    settings_cls = DPOSettings
    train_kind = "pairs"
    trains_judged_check = True
    train_template = "train_dpo.py.j2"
    plot_label = "loss (DPO + SFT terms)"
    figures = STYLE_FIGURES
    footnote = PREF_NOTE
    plan_reason = "preference pairs written from the task: offline DPO"

    def task_check_settings(self, model_source: str, device: str) -> DPOSettings:
        if model_source == "embedded":
            return DPOSettings(**EMBEDDED_TASK_SCHEDULE)
        return DPOSettings(**DPOSettings.hub_defaults(device))

    def render_context(self, spec: RunBase, model_path: str) -> dict:
        return super().render_context(spec, model_path)

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        before, after = report["before"], report["after"]
        bar = spec.min_pref_accuracy
        return {f"pref_accuracy >= {bar}": after["pref_accuracy"] >= bar, **style_checks(before, after)}

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        before, after, steps = report["before"], report["after"], spec.settings.max_steps
        tips = []
        if after["pref_accuracy"] < 0.9:
            tips.append(
                f"Held-out preference accuracy is {after['pref_accuracy']:.2f}: train longer (--steps "
                f"{steps * 2}) or raise the learning rate a little."
            )
        tips += style_tips(report, steps)
        if after["mean_words"] < 1.5 and after["judge_score"] >= before["judge_score"]:
            tips.append("Answers are now one or two words: if that is too terse, lower the DPO beta or the SFT weight.")
        tips.append("For online RL with a verifier or Claude as grader, try `rl-agent setup --track grpo`.")
        return tips
