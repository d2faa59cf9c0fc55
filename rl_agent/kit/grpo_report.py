"""The GRPO run report: reward curve, held-out before/after, the reward-hacking guard, grading failures.

Why a guard: online RL optimises whatever the reward measures, including its blind spots. So the
before/after is also scored by checks that training never optimised (a different judge, and a
length-controlled comparison on fixed held-out answers), and a run whose training reward climbs while
those checks do not is flagged in plain words. Every figure comes from the run's eval.json and
train_metrics.json.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.table import Table

from rl_agent.kit.report import _fmt as _fmt_value
from rl_agent.kit.report import _md_cell

# The reward must gain at least this much (rewards live in [0, 1]) from the first to the last fifth of
# training to count as "climbed"; smaller moves are within step-to-step noise on a few prompts per step.
REWARD_CLIMB_MIN = 0.05
SIDE_FIELDS = ("reward", "check", "match", "lc_margin", "lc_pref", "lc_shift", "mean_words", "ungraded")
FIELD_HELP = {
    "reward": "training reward on held-out prompts",
    "check": "held-out judge (never trained on)",
    "match": "answer equals the reference answer",
    "lc_margin": "length-controlled margin, nats/token",
    "lc_pref": "length-controlled preference",
    "lc_shift": "moved toward chosen vs base",
    "mean_words": "mean answer length, words",
    "ungraded": "answers the judges could not grade",
}


def _fmt(value: Any) -> str:
    return "n/a" if value is None else _fmt_value(value)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def reward_trend(curve: list[list[float]]) -> dict[str, Any]:
    """Mean training reward over the first and the last fifth of logged steps (at least one step each)."""
    rewards = [r for _, r in curve if r is not None and math.isfinite(r)]
    if not rewards:
        return {"steps_logged": 0, "first_fifth": None, "last_fifth": None, "gain": None, "climbed": False}
    k = max(1, len(rewards) // 5)
    first, last = _mean(rewards[:k]), _mean(rewards[-k:])
    return {"steps_logged": len(rewards), "window": k, "first_fifth": round(first, 4), "last_fifth": round(last, 4),
            "gain": round(last - first, 4), "climbed": last - first >= REWARD_CLIMB_MIN}


def _improved(before: float | None, after: float | None) -> bool | None:
    """True/False, or None when the figure could not be measured on one side."""
    if before is None or after is None:
        return None
    return after > before


def hacking_guard(trend: dict[str, Any], before: dict, after: dict, check_name: str) -> dict[str, Any]:
    """Flag a run whose training reward climbs while the held-out checks it never optimised do not."""
    check_up = _improved(before.get("check"), after.get("check"))
    lc_up = _improved(before.get("lc_margin"), after.get("lc_margin"))
    held_ok = check_up is True and lc_up is not False
    flagged = bool(trend["climbed"]) and not held_ok
    lc_text = ("no held-out chosen/rejected pairs, so no length-controlled check" if lc_up is None else
               f"length-controlled margin {_fmt(before['lc_margin'])} -> {_fmt(after['lc_margin'])} nats/token")
    check_text = f"held-out judge ({check_name}) {_fmt(before.get('check'))} -> {_fmt(after.get('check'))}"
    first, last = _fmt(trend["first_fifth"]), _fmt(trend["last_fifth"])
    if flagged:
        message = (f"Possible reward hacking: the training reward climbed ({first} -> {last}) but the checks that "
                   f"training never optimised did not improve ({check_text}; {lc_text}). The model may have "
                   "learned to please the reward rather than to do the task: read the side-by-side answers "
                   "before using this adapter, and tighten the reward where it can be gamed.")
    elif not trend["climbed"]:
        message = (f"The training reward did not climb ({first} -> {last}), so the model learned little from "
                   f"this reward; the held-out figures show what changed anyway ({check_text}; {lc_text}).")
    else:
        message = (f"No sign of reward hacking: the training reward climbed ({first} -> {last}) and the checks "
                   f"that training never optimised improved too ({check_text}; {lc_text}).")
    return {"flagged": flagged, "message": message, "check_improved": check_up, "lc_improved": lc_up}


def grading_summary(train_metrics: dict, eval_result: dict) -> dict[str, Any]:
    """Samples that could not be graded (by kind) and what grading cost, training and evaluation together."""
    train = train_metrics.get("grading", {})
    parts = {"training": train, **{f"evaluation ({k})": v for k, v in eval_result.get("grading", {}).items()}}
    failures: dict[str, int] = {}
    for part in parts.values():
        for kind, n in part.get("failures", {}).items():
            failures[kind] = failures.get(kind, 0) + n
    return {
        "failed": sum(failures.values()),
        "failures": failures,
        "training_failed": train.get("failed", 0),
        "cost_usd": round(sum(p.get("cost_usd", 0.0) or 0.0 for p in parts.values()), 6),
        "parts": parts,
    }


def verdict(trend: dict, before: dict, after: dict, guard: dict) -> dict[str, Any]:
    checks = {
        "training reward climbed (last fifth vs first fifth)": bool(trend["climbed"]),
        "held-out reward improved": _improved(before.get("reward"), after.get("reward")) is True,
        "held-out judge improved": guard["check_improved"] is True,
    }
    if guard["lc_improved"] is not None:
        checks["length-controlled check improved"] = guard["lc_improved"]
    return {"succeeded": all(checks.values()) and not guard["flagged"], "checks": checks}


def tune_next(trend: dict, after: dict, guard: dict, grading: dict, train_metrics: dict, spec) -> list[str]:
    """Concrete next moves derived from the figures."""
    s = spec.grpo
    tips: list[str] = []
    history = train_metrics.get("log_history", [])
    flat = [h["frac_reward_zero_std"] for h in history if h.get("frac_reward_zero_std") is not None]
    if guard["flagged"]:
        tips.append("The reward rose without the held-out checks: look at what the tuned answers have in common and "
                    "make the reward refuse it (a stricter verifier, or a rubric line against it).")
    if not trend["climbed"]:
        if flat and _mean(flat) > 0.5:
            tips.append(f"In {_mean(flat):.0%} of groups every answer got the same reward, which teaches nothing: "
                        "make the reward finer-grained, or pick prompts the model gets right only sometimes.")
        tips.append(f"Train longer (--steps {s.steps * 2}) or raise the learning rate a little "
                    f"(now {s.learning_rate:g}).")
    if after.get("reward") is not None and after["reward"] < 0.9 and trend["climbed"]:
        tips.append(f"The held-out reward is {after['reward']:.2f}: more steps (--steps {s.steps * 2}) may still help.")
    if grading["failed"]:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(grading["failures"].items()))
        tips.append(f"{grading['failed']} answers could not be graded ({kinds}); they got no reward rather than a "
                    "made-up one. Raise the judge timeout or --max-cost if that is more than a few.")
    if spec.model_source == "embedded":
        tips.append("This was the embedded tiny model: with network access, `rl-agent setup --track grpo --model "
                    "Qwen/Qwen3-0.6B` runs the same recipe on a real small model (vLLM generation on a GPU).")
    tips.append("To scale out, launch the rendered script with accelerate (see docs/scaling.md).")
    return tips


def build_report(state, eval_result: dict, train_metrics: dict, wall_seconds: float) -> dict[str, Any]:
    spec = state.spec
    before = {k: v for k, v in eval_result["before"].items() if k != "pair_logprobs"}
    after = {k: v for k, v in eval_result["after"].items() if k != "pair_logprobs"}
    curve = train_metrics.get("reward_curve", [])
    trend = reward_trend(curve)
    guard = hacking_guard(trend, before, after, spec.grpo.heldout_judge)
    grading = grading_summary(train_metrics, eval_result)
    return {
        "task": spec.task,
        "model": spec.model,
        "model_source": spec.model_source,
        "model_path": state.model_path,
        "device": spec.device,
        "precision": spec.precision,
        "algorithm": "grpo",
        "reward_spec": spec.grpo.reward,
        "heldout_judge": spec.grpo.heldout_judge,
        "steps": train_metrics.get("steps", spec.grpo.steps),
        "final_loss": train_metrics.get("final_loss"),
        "resumed_from": train_metrics.get("resumed_from"),
        "processes": train_metrics.get("processes", 1),
        "use_vllm": train_metrics.get("use_vllm", False),
        "wall_seconds": round(wall_seconds, 2),
        "stage_seconds": {k: round(v, 2) for k, v in state.timings.items()},
        "reward_trend": trend,
        "before": before,
        "after": after,
        "hacking": guard,
        "grading": grading,
        "verdict": verdict(trend, before, after, guard),
        "tune_next": tune_next(trend, after, guard, grading, train_metrics, spec),
        "reward_curve": curve,
        "settings": spec.grpo.model_dump(),
    }


def render_markdown(report: dict[str, Any], plot_name: str | None) -> str:
    b, a, t, g = report["before"], report["after"], report["reward_trend"], report["grading"]
    ok = "succeeded" if report["verdict"]["succeeded"] else "did NOT succeed"
    lines = [
        "# rl-agent run report: GRPO + LoRA",
        "",
        f"**Task:** {report['task']}  ",
        f"**Model:** `{report['model']}` ({report['model_source']}) on {report['device']} ({report['precision']})  ",
        f"**Reward:** `{report['reward_spec']}`; **held-out judge:** `{report['heldout_judge']}`  ",
        f"**Steps:** {report['steps']}, **training reward** first fifth {_fmt(t['first_fifth'])} -> last fifth "
        f"{_fmt(t['last_fifth'])}, **wall time:** {report['wall_seconds']:.0f} s  ",
        f"**Verdict:** the before/after {ok}.",
        "",
        "## Reward hacking check",
        "",
        ("**WARNING:** " if report["hacking"]["flagged"] else "") + report["hacking"]["message"],
        "",
        "## Held-out figures",
        "",
        "| figure | meaning | before | after |",
        "|---|---|---|---|",
    ]
    for key in SIDE_FIELDS:
        lines.append(f"| {key} | {FIELD_HELP[key]} | {_fmt(b.get(key))} | {_fmt(a.get(key))} |")
    lines += ["", "Checks: " + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in report["verdict"]["checks"].items())]
    if plot_name:
        lines += ["", f"![training reward]({plot_name})"]
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(g["failures"].items())) or "none"
    lines += ["", "## Grading", "",
              f"{g['failed']} answers could not be graded ({kinds}); they were given no reward instead of a made-up "
              f"one. Grading cost: ${g['cost_usd']:.4f}."]
    lines += ["", "## Held-out prompts, side by side", "", "| prompt | before | after |", "|---|---|---|"]
    for sb, sa in zip(b["samples"], a["samples"]):
        cells = [_md_cell(sb["prompt"]), _md_cell(sb["output"]), _md_cell(sa["output"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## What to tune next", ""] + [f"- {tip}" for tip in report["tune_next"]]
    lines += ["", "The reward is scored on held-out prompts with greedy answers. The held-out judge is a different "
              "judge that training never saw. The length-controlled figures compare the per-token log-probability "
              "of each held-out prompt's fixed chosen and rejected answers, so they cannot be moved by writing "
              "shorter or longer; lc_shift is the share of pairs the tuned model moved toward the chosen answer "
              "relative to the base model (the base model scores 0.50 by construction).", ""]
    return "\n".join(lines)


def print_report(console: Console, report: dict[str, Any]) -> None:
    b, a, t = report["before"], report["after"], report["reward_trend"]
    table = Table(title="Held-out prompts: base model vs tuned model", show_lines=True, expand=True)
    table.add_column("prompt", ratio=2)
    table.add_column("before", ratio=3)
    table.add_column("after", ratio=3)
    for sb, sa in zip(b["samples"], a["samples"]):
        table.add_row(sb["prompt"], sb["output"] or "(empty)", sa["output"] or "(empty)")
    console.print(table)
    figs = Table(title="Held-out figures")
    figs.add_column("figure")
    figs.add_column("meaning")
    figs.add_column("before", justify="right")
    figs.add_column("after", justify="right")
    for key in SIDE_FIELDS:
        figs.add_row(key, FIELD_HELP[key], _fmt(b.get(key)), _fmt(a.get(key)))
    console.print(figs)
    style = "bold red" if report["hacking"]["flagged"] else "bold"
    console.print(f"[{style}]Reward hacking check:[/{style}] {report['hacking']['message']}", highlight=False)
    g = report["grading"]
    console.print(f"Grading: {g['failed']} answers could not be graded, cost ${g['cost_usd']:.4f}.")
    ok = report["verdict"]["succeeded"]
    console.print(
        f"[bold]{'Succeeded' if ok else 'Did not succeed'}[/bold]: training reward {_fmt(t['first_fifth'])} -> "
        f"{_fmt(t['last_fifth'])} (first vs last fifth of {report['steps']} steps), "
        f"{report['wall_seconds']:.0f} s in all."
    )
    console.print("[bold]What to tune next[/bold]")
    for tip in report["tune_next"]:
        console.print(f"  - {tip}")
