"""SFT + LoRA: supervised fine-tuning on the answers to imitate, TRL's SFTTrainer.

Trains on prompt/completion rows, or on preference pairs (their chosen answers; the rejected ones are
ignored), with the loss on the completion only. Also the warm-up before DPO on a hub model whose answers
are far from the wanted style: `save_merged` writes the base model with the adapter merged in to merged/
in the run folder, a plain model folder that `rl-agent setup --model RUN/merged` then takes as its base.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from rl_agent.kit.settings import CommonSettings, RunBase
from rl_agent.kit.tracks.base import PREF_NOTE, STYLE_FIGURES, Track, style_checks, style_tips


class SFTSettings(CommonSettings):
    """Hyper-parameters of the SFT + LoRA script (names follow TRL's SFTConfig and PEFT's LoraConfig)."""

    max_steps: int = Field(60, ge=1, le=1_000_000)
    max_length: int = Field(128, ge=16)
    KIT_FIELDS = CommonSettings.KIT_FIELDS | {"save_merged"}

    save_merged: bool = Field(False, description="also save base + adapter merged to merged/ (a DPO warm-up)")

    @classmethod
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        return {**super().hub_defaults(device), "max_length": 512}


class SFTTrack(Track):
    name = "sft"
    title = "SFT + LoRA"
    help = "supervised fine-tuning on chosen answers or prompt/completion rows (a DPO warm-up, too)"
    settings_cls = SFTSettings
    plan_reason = "answers to imitate: supervised fine-tuning"
    train_kind = "completions"
    train_template = "train_sft.py.j2"
    plot_label = "loss (completion tokens)"
    figures = STYLE_FIGURES
    footnote = (
        "SFT never sees the rejected answers; "
        + PREF_NOTE[0].lower()
        + PREF_NOTE[1:]
        + " It is shown to tell whether imitating the chosen answers also moved the model away from the "
        "rejected ones."
    )

    def render_context(self, spec: RunBase, model_path: str) -> dict:
        ctx = super().render_context(spec, model_path)
        ctx["trl"]["completion_only_loss"] = True  # the loss covers the answer, not the prompt
        return {**ctx, "save_merged": spec.settings.save_merged}

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        return style_checks(report["before"], report["after"])

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        tips = style_tips(report, spec.settings.max_steps)
        if spec.model_source == "hub" and not spec.settings.save_merged:
            tips.append("As a warm-up for DPO: set sft.save_merged, re-run, then `rl-agent setup --model RUN/merged`.")
        tips.append("With pairs of better and worse answers, `--track dpo` also pushes away from the worse ones.")
        return tips
