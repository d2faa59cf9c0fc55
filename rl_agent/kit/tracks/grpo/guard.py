"""GRPO's part of the report: the reward trend, the reward-hacking guard, grading failures and cost.

Why a guard: online RL optimises whatever the reward measures, including its blind spots. So the
before/after is also scored by checks that training never optimised (a different judge, a
length-controlled comparison on fixed held-out answers, and, when held-out rows carry reference answers,
correctness itself), and a run whose training reward climbs while those checks do not is flagged in plain
words and its verdict is false. Every figure comes from the run's eval.json and train_metrics.json.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console

from rl_agent.kit.judges.drift import drift_checks  # noqa: F401  (GRPO's checks include it)

# The reward must gain at least this much (rewards live in [0, 1]) from the first to the last fifth of
# training to count as "climbed"; smaller moves are within step-to-step noise on a few prompts per step.
REWARD_CLIMB_MIN = 0.05
# Held-out correctness may wobble by this much without counting as a fall (as in the generic verdict).
CORRECT_TOLERANCE = 0.05


def fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


_fmt = fmt


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def reward_trend(curve: list[list[float]]) -> dict[str, Any]:
    """Mean training reward over the first and the last fifth of logged steps (at least one step each)."""
    rewards = [r for _, r in curve if r is not None and math.isfinite(r)]
    if not rewards:
        return {"steps_logged": 0, "first_fifth": None, "last_fifth": None, "gain": None, "climbed": False}
    k = max(1, len(rewards) // 5)
    first, last = _mean(rewards[:k]), _mean(rewards[-k:])
    return {
        "steps_logged": len(rewards),
        "window": k,
        "first_fifth": round(first, 4),
        "last_fifth": round(last, 4),
        "gain": round(last - first, 4),
        "climbed": last - first >= REWARD_CLIMB_MIN,
    }


def _improved(before: float | None, after: float | None) -> bool | None:
    """True/False, or None when the figure could not be measured on one side."""
    if before is None or after is None:
        return None
    return after > before


def truth_check(before: dict, after: dict, reward_checks_correctness: bool) -> bool | None:
    """Did held-out correctness do what the reward promises? A correctness reward must raise it; a style
    reward must at least not lower it. None when no held-out row has a reference answer."""
    b, a = before.get("correct"), after.get("correct")
    if b is None or a is None:
        return None
    return a > b if reward_checks_correctness else a >= b - CORRECT_TOLERANCE


def hacking_guard(
    trend: dict[str, Any],
    before: dict,
    after: dict,
    check_name: str,
    reward_checks_correctness: bool = False,
    pairwise: dict | None = None,
) -> dict[str, Any]:
    """Flag a run whose training reward climbs while the held-out checks it never optimised do not. `pairwise`: a
    judged task's win rate of after over before (pipeline/judged_winrate.py), the held-out reading then."""
    check_up = _improved(before.get("check"), after.get("check"))
    check_text = f"held-out judge ({check_name}) {_fmt(before.get('check'))} -> {_fmt(after.get('check'))}"
    if pairwise is not None and pairwise.get("rate") is not None:
        check_up = pairwise["rate"] > 0.5
        check_text = (
            f"pairwise win rate of after over before {pairwise['rate']:.2f} (the rubric read pairwise in "
            "both orders, never optimised)"
        )
    lc_up = _improved(before.get("lc_margin"), after.get("lc_margin"))
    truth = truth_check(before, after, reward_checks_correctness)
    held_ok = check_up is True and lc_up is not False and truth is not False
    flagged = bool(trend["climbed"]) and not held_ok
    lc_text = (
        "no held-out chosen/rejected pairs, so no length-controlled check"
        if lc_up is None
        else f"length-controlled margin {_fmt(before['lc_margin'])} -> {_fmt(after['lc_margin'])} nats/token"
    )
    if truth is not None:
        check_text += f"; held-out correctness {_fmt(before.get('correct'))} -> {_fmt(after.get('correct'))}"
    first, last = _fmt(trend["first_fifth"]), _fmt(trend["last_fifth"])
    if flagged:
        why = ""
        if truth is False:
            why = (
                " Held-out answers are not more often right"
                if reward_checks_correctness
                else " Held-out answers are less often right"
            ) + ", so the reward is being won without the task."
        message = (
            f"Possible reward hacking: the training reward climbed ({first} -> {last}) but the checks that "
            f"training never optimised did not improve ({check_text}; {lc_text}).{why} The model may have "
            "learned to please the reward rather than to do the task: read the side-by-side answers "
            "before using this adapter, and tighten the reward where it can be gamed."
        )
    elif not trend["climbed"]:
        message = (
            f"The training reward did not climb ({first} -> {last}), so the model learned little from "
            f"this reward; the held-out figures show what changed anyway ({check_text}; {lc_text})."
        )
    else:
        message = (
            f"No sign of reward hacking: the training reward climbed ({first} -> {last}) and the checks "
            f"that training never optimised improved too ({check_text}; {lc_text})."
        )
    return {"flagged": flagged, "message": message, "check_improved": check_up, "lc_improved": lc_up, "truth_ok": truth}


def grading_summary(train_metrics: dict, eval_result: dict) -> dict[str, Any]:
    """Samples that could not be graded (by kind) and what grading cost, training and evaluation together."""
    train = train_metrics.get("grading", {})
    parts = {"training": train, **{f"evaluation ({k})": v for k, v in eval_result.get("grading", {}).items()}}
    if train_metrics.get("anchors"):  # the judge's anchors, graded again during training (judges/drift.py)
        parts["judge anchors"] = train_metrics["anchors"]
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


def checks(trend: dict, before: dict, after: dict, guard: dict) -> dict[str, bool]:
    """GRPO's own checks; the report adds the correctness checks every track shares."""
    out = {
        "training reward climbed (last fifth vs first fifth)": bool(trend["climbed"]),
        "held-out reward improved": _improved(before.get("reward"), after.get("reward")) is True,
        "held-out judge improved": guard["check_improved"] is True,
    }
    if guard["lc_improved"] is not None:
        out["length-controlled check improved"] = guard["lc_improved"]
    if guard.get("truth_ok") is not None:
        out["held-out correctness kept up with the reward"] = guard["truth_ok"]
    out["no reward hacking flagged"] = not guard["flagged"]
    return out


def tune_next(trend: dict, after: dict, guard: dict, grading: dict, train_metrics: dict, spec) -> list[str]:
    """Concrete next moves derived from the figures."""
    s = spec.settings
    tips: list[str] = []
    history = train_metrics.get("log_history", [])
    flat = [h["frac_reward_zero_std"] for h in history if h.get("frac_reward_zero_std") is not None]
    if guard["flagged"]:
        tips.append(
            "The reward rose without the held-out checks: look at what the tuned answers have in common and "
            "make the reward refuse it (a stricter verifier, or a rubric line against it)."
        )
    if guard.get("truth_ok") is False:
        tips.append(
            "Held-out correctness did not follow the reward: reward the right answer, not its form (a "
            "verifier that compares the parsed answer with the reference), or give correctness most of the "
            "weight next to any format term."
        )
    if not trend["climbed"]:
        if flat and _mean(flat) > 0.5:
            tips.append(
                f"In {_mean(flat):.0%} of groups every answer got the same reward, which teaches nothing: "
                "make the reward finer-grained, or pick prompts the model gets right only sometimes."
            )
        tips.append(
            f"Train longer (--steps {s.max_steps * 2}) or raise the learning rate a little (now {s.learning_rate:g})."
        )
    if after.get("reward") is not None and after["reward"] < 0.9 and trend["climbed"]:
        tips.append(
            f"The held-out reward is {after['reward']:.2f}: more steps (--steps {s.max_steps * 2}) may still help."
        )
    if grading["failed"]:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(grading["failures"].items()))
        tips.append(
            f"{grading['failed']} answers could not be graded ({kinds}); they got no reward rather than a "
            "made-up one. Raise the judge timeout or --max-cost if that is more than a few."
        )
    if spec.model_source == "embedded":
        tips.append(
            "This was the embedded tiny model: with network access, `rl-agent setup --track grpo --model "
            "Qwen/Qwen3-0.6B` runs the same recipe on a real small model (vLLM generation on a GPU)."
        )
    tips.append("To scale out, launch the rendered script with accelerate (see docs/scaling.md).")
    return tips


def markdown_sections(report: dict[str, Any]) -> list[str]:
    g = report["grading"]
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(g["failures"].items())) or "none"
    anchors = report.get("anchors")
    drift = [("**WARNING:** " if anchors["flagged"] else "") + anchors["message"], ""] if anchors else []
    return [
        "## Reward hacking check",
        "",
        ("**WARNING:** " if report["hacking"]["flagged"] else "") + report["hacking"]["message"],
        "",
        *drift,
        "## Grading",
        "",
        f"{g['failed']} answers could not be graded ({kinds}); they were given no reward instead of a made-up "
        f"one. Grading cost: ${g['cost_usd']:.4f}.",
        "",
        *_position_lines(report.get("group_positions")),
    ]


def _position_lines(means: list | None) -> list[str]:
    """Group grading: the mean training score by the position an answer was shown at (shuffled per group)."""
    if not means:
        return []
    shown = ", ".join(fmt(m) for m in means)
    return [
        f"Each prompt's answers were graded together, shown in a shuffled order (out/group_orders.jsonl); mean "
        f"score by shown position 1..{len(means)}: {shown} (a position the judge favours would stand out).",
        "",
    ]


def console_lines(console: Console, report: dict[str, Any]) -> None:
    style = "bold red" if report["hacking"]["flagged"] else "bold"
    console.print(f"[{style}]Reward hacking check:[/{style}] {report['hacking']['message']}", highlight=False)
    anchors = report.get("anchors")
    if anchors:
        style = "bold red" if anchors["flagged"] else "bold"
        console.print(f"[{style}]Judge drift:[/{style}] {anchors['message']}", highlight=False)
    g = report["grading"]
    console.print(f"Grading: {g['failed']} answers could not be graded, cost ${g['cost_usd']:.4f}.")
