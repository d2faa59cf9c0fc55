"""GRPO + LoRA (online RL): the model answers prompts, a reward grades each answer, TRL's GRPOTrainer.

Prompts instead of pairs, a reward instead of labels: a verifier program (RLVR) or a judge (the offline
terse judge, or Claude: RLAIF). The report adds the reward curve, the reward-hacking guard (grpo_guard.py)
and what grading cost; `accelerate launch` runs the same script on several processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from rl_agent.kit.launch.process import child_env
from rl_agent.kit.settings import CommonSettings, RunBase
from rl_agent.kit.tracks import grpo_guard, grpo_scorers
from rl_agent.kit.tracks.base import Figure, Track

if TYPE_CHECKING:
    from rich.console import Console

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

    steps: int = Field(30, ge=1, le=1_000_000)
    learning_rate: float = Field(1e-3, gt=0, lt=1)
    beta: float = Field(0.0, ge=0, description="KL penalty; 0 loads no reference model (faster, less memory)")
    loss_type: str = "dapo"
    num_generations: int = Field(4, ge=2, description="answers sampled per prompt (the GRPO group)")
    batch_size: int = Field(32, ge=1, description="completions per step (x grad_accum: the global batch, which N "
                            "processes share); a multiple of num_generations")
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
    judge_calibration: bool = Field(True, description="the bundled terse calibration examples in the Claude judge's "
                                    "prefix; off for a task's own rubric (they grade terseness)")
    judge_group: bool = Field(False, description="Claude grades each prompt's num_generations answers together in one "
                              "request (relative grading, kit/judges/group.py); evaluation grades one at a time")
    anchors: str | None = Field(None, description="examples file (the task's proven good and bad answers) the Claude "
                                "reward's rubric grades again, uncached, every anchor_every steps: judge drift")
    anchor_every: int = Field(10, ge=1, description="steps between anchor gradings")

    @field_validator("reward", "heldout_judge")
    @classmethod
    def _migrate(cls, value: str) -> str:
        for old, new in _MOVED.items():
            value = value.replace(old, new)
        return value

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
    def hub_defaults(cls, device: str) -> dict[str, Any]:
        return {**super().hub_defaults(device), "batch_size": 16 if device == "cuda" else 8,
                "grad_accum": 2 if device == "cuda" else 4, "num_generations": 8, "max_completion_length": 256,
                "logging_steps": 1, "max_new_tokens": 128}


class GRPOTrack(Track):
    name = "grpo"
    title = "GRPO + LoRA, online RL"
    help = "online RL: the model's own answers graded by a verifier or a judge (data: prompts)"
    settings_cls = GRPOSettings
    train_kind = "prompts"
    heldout_kind = "prompts"
    train_template = "train_grpo.py.j2"
    eval_template = "evaluate_grpo.py.j2"
    plot_name = "reward.png"
    plot_label = "reward"
    accepts_reward = True
    trains_judged_check = True
    length_setting = "max_completion_length"
    figures = (
        Figure("reward", "training reward on held-out prompts"),
        Figure("check", "held-out judge (never trained on)"),
        Figure("lc_margin", "length-controlled margin, nats/token"),
        Figure("lc_pref", "length-controlled preference"),
        Figure("lc_shift", "moved toward chosen vs base"),
        Figure("mean_words", "mean answer length, words"),
        Figure("ungraded", "answers the judges could not grade"),
    )
    footnote = ("The reward is scored on held-out prompts with greedy answers. The held-out judge is a different "
                "judge that training never saw. The length-controlled figures compare the per-token log-probability "
                "of each held-out prompt's fixed chosen and rejected answers, so they cannot be moved by writing "
                "shorter or longer; lc_shift is the share of pairs the tuned model moved toward the chosen answer "
                "relative to the base model (the base model scores 0.50 by construction).")

    def stage_titles(self) -> dict[str, str]:
        return {**super().stage_titles(), "evaluate": "Before/after on held-out prompts, reward-hacking check"}

    def check_judge(self, settings: dict) -> str | None:
        return settings.get("heldout_judge")

    def render_context(self, spec: RunBase, model_path: str) -> dict:
        try:
            extra = grpo_scorers.scorer_context(spec)
        except ValueError as e:
            raise ValueError(f"cannot render the GRPO scripts: {e}") from None
        s = spec.settings
        return {**super().render_context(spec, model_path), **extra, "beta": s.beta, "loss_type": s.loss_type}

    def script_env(self, spec: RunBase, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The API key reaches the scripts only when they grade with Claude."""
        s = spec.settings
        remote = any(grpo_scorers.plan_scorer(x).remote for x in (s.reward, s.heldout_judge))
        return child_env(offline=spec.model_source != "hub", keep_secrets=remote, extra=extra)

    def clean_side(self, side: dict) -> dict:
        return {k: v for k, v in side.items() if k != "pair_logprobs"}

    def report_extras(self, state, eval_result: dict, train_metrics: dict) -> dict[str, Any]:
        s = state.spec.settings
        curve = train_metrics.get("reward_curve", [])
        trend = grpo_guard.reward_trend(curve)
        before, after = (self.clean_side(eval_result[k]) for k in ("before", "after"))
        win = (eval_result.get("task_check") or {}).get("win_rate")  # a judged task's pairwise before/after
        guard = grpo_guard.hacking_guard(trend, before, after, s.heldout_judge, s.reward_checks_correctness, win)
        return {"reward_spec": s.reward, "heldout_judge": s.heldout_judge,
                "use_vllm": train_metrics.get("use_vllm", False),
                "reward_trend": trend, "hacking": guard,
                "grading": grpo_guard.grading_summary(train_metrics, eval_result), "reward_curve": curve,
                "anchors": train_metrics.get("anchors"), "group_positions": train_metrics.get("group_positions")}

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        return {**grpo_guard.checks(report["reward_trend"], report["before"], report["after"], report["hacking"]),
                **grpo_guard.drift_checks(report.get("anchors"))}

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        return grpo_guard.tune_next(report["reward_trend"], report["after"], report["hacking"], report["grading"],
                                    train_metrics, spec)

    def header_lines(self, report: dict) -> list[str]:
        t = report["reward_trend"]
        return [f"**Reward:** `{report['reward_spec']}`; **held-out judge:** `{report['heldout_judge']}`  ",
                f"**Steps:** {report['steps']}, **training reward** first fifth {grpo_guard.fmt(t['first_fifth'])} -> "
                f"last fifth {grpo_guard.fmt(t['last_fifth'])}, **wall time:** {report['wall_seconds']:.0f} s  "]

    def markdown_sections(self, report: dict) -> list[str]:
        return grpo_guard.markdown_sections(report)

    def console_lines(self, console: "Console", report: dict) -> None:
        grpo_guard.console_lines(console, report)

    def summary_line(self, report: dict) -> str:
        t = report["reward_trend"]
        return (f"training reward {grpo_guard.fmt(t['first_fifth'])} -> {grpo_guard.fmt(t['last_fifth'])} (first vs "
                f"last fifth of {report['steps']} steps), {report['wall_seconds']:.0f} s in all.")

    def setup(self, source: str, device: str, *, reward: str | None, max_cost: float | None,
              steps: int | None, train: Path | None, heldout: Path | None):
        from rl_agent.kit.tracks.grpo_setup import GRPOSetupError, grpo_setup

        try:
            return grpo_setup(source, device, reward=reward, max_cost=max_cost, steps=steps, train=train,
                              heldout=heldout)
        except GRPOSetupError as e:
            raise ValueError(str(e)) from None
