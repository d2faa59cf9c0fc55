"""GRPO + LoRA (online RL): the model answers prompts, a reward grades each answer, TRL's GRPOTrainer.

Prompts instead of pairs, a reward instead of labels: a verifier program (RLVR) or a judge (the offline
terse judge, or Claude: RLAIF). The report adds the reward curve, the reward-hacking guard (grpo_guard.py)
and what grading cost; `accelerate launch` runs the same script on several processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rl_agent.kit.launch.process import child_env
from rl_agent.kit.settings import RunBase
from rl_agent.kit.tracks.base import Figure, Track
from rl_agent.kit.tracks.grpo import guard as grpo_guard
from rl_agent.kit.tracks.grpo import scorers as grpo_scorers
from rl_agent.kit.tracks.grpo.config import GRPOSettings

if TYPE_CHECKING:
    from rich.console import Console

EMBEDDED_TASK_SCHEDULE = {"max_steps": 30, "save_steps": 15}  # a task-check run on the embedded model


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
    online = True
    plan_reason = "a program can check each sampled answer: online RL (RLVR)"
    figures = (
        Figure("reward", "training reward on held-out prompts"),
        Figure("check", "held-out judge (never trained on)"),
        Figure("lc_margin", "length-controlled margin, nats/token"),
        Figure("lc_pref", "length-controlled preference"),
        Figure("lc_shift", "moved toward chosen vs base"),
        Figure("mean_words", "mean answer length, words"),
        Figure("ungraded", "answers the judges could not grade"),
    )
    footnote = (
        "The reward is scored on held-out prompts with greedy answers. The held-out judge is a different "
        "judge that training never saw. The length-controlled figures compare the per-token log-probability "
        "of each held-out prompt's fixed chosen and rejected answers, so they cannot be moved by writing "
        "shorter or longer; lc_shift is the share of pairs the tuned model moved toward the chosen answer "
        "relative to the base model (the base model scores 0.50 by construction)."
    )

    def stage_titles(self) -> dict[str, str]:
        return {**super().stage_titles(), "evaluate": "Before/after on held-out prompts, reward-hacking check"}

    def task_check_settings(self, model_source: str, device: str) -> GRPOSettings:
        """The task's own check is the reward (it already decides success, so it does not also check correctness)."""
        schedule = EMBEDDED_TASK_SCHEDULE if model_source == "embedded" else GRPOSettings.hub_defaults(device)
        return GRPOSettings(reward=grpo_scorers.TASK_CHECK_SPEC, reward_checks_correctness=False, **schedule)

    def check_judge(self, settings: dict) -> str | None:
        return settings.get("heldout_judge")

    def render_context(self, spec: RunBase, model_path: str) -> dict:
        try:
            extra = grpo_scorers.scorer_context(spec)
        except ValueError as e:
            raise ValueError(f"cannot render the GRPO scripts: {e}") from None
        ctx = {**super().render_context(spec, model_path), **extra}
        s = spec.settings
        ctx["trl"].update(
            warmup_steps=min(3, s.max_steps // 10),
            save_total_limit=2,  # GRPO keeps its last checkpoint (no validation selection)
            # vLLM generation (use_vllm, "auto" by default, is decided in the script): "colocate"
            # shares each training GPU; "server" uses a `vllm serve` at vllm_server_base_url
            # (see docs/scaling.md in rl-agent).
            vllm_mode="colocate",
            vllm_server_base_url=None,
            vllm_gpu_memory_utilization=0.3,
        )
        return ctx

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
        return {
            "reward_spec": s.reward,
            "heldout_judge": s.heldout_judge,
            "use_vllm": train_metrics.get("use_vllm", False),
            "reward_trend": trend,
            "hacking": guard,
            "grading": grpo_guard.grading_summary(train_metrics, eval_result),
            "reward_curve": curve,
            "anchors": train_metrics.get("anchors"),
            "group_positions": train_metrics.get("group_positions"),
        }

    def checks(self, report: dict, spec: RunBase) -> dict[str, bool]:
        return {
            **grpo_guard.checks(report["reward_trend"], report["before"], report["after"], report["hacking"]),
            **grpo_guard.drift_checks(report.get("anchors")),
        }

    def tips(self, report: dict, spec: RunBase, train_metrics: dict) -> list[str]:
        return grpo_guard.tune_next(
            report["reward_trend"], report["after"], report["hacking"], report["grading"], train_metrics, spec
        )

    def header_lines(self, report: dict) -> list[str]:
        t = report["reward_trend"]
        return [
            f"**Reward:** `{report['reward_spec']}`; **held-out judge:** `{report['heldout_judge']}`  ",
            f"**Steps:** {report['steps']}, **training reward** first fifth {grpo_guard.fmt(t['first_fifth'])} -> "
            f"last fifth {grpo_guard.fmt(t['last_fifth'])}, **wall time:** {report['wall_seconds']:.0f} s  ",
        ]

    def markdown_sections(self, report: dict) -> list[str]:
        return grpo_guard.markdown_sections(report)

    def console_lines(self, console: "Console", report: dict) -> None:
        grpo_guard.console_lines(console, report)

    def summary_line(self, report: dict) -> str:
        t = report["reward_trend"]
        return (
            f"training reward {grpo_guard.fmt(t['first_fifth'])} -> {grpo_guard.fmt(t['last_fifth'])} (first vs "
            f"last fifth of {report['steps']} steps), {report['wall_seconds']:.0f} s in all."
        )

    def setup(
        self,
        source: str,
        device: str,
        *,
        reward: str | None,
        max_cost: float | None,
        steps: int | None,
        train: Path | None,
        heldout: Path | None,
    ):
        from rl_agent.kit.tracks.grpo.setup import GRPOSetupError, grpo_setup

        try:
            return grpo_setup(
                source, device, reward=reward, max_cost=max_cost, steps=steps, train=train, heldout=heldout
            )
        except GRPOSetupError as e:
            raise ValueError(str(e)) from None
