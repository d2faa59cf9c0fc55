"""The run report: what changed on held-out prompts, the final loss, and what to tune next.

Written as report.json (for programs and later issues), report.md (for people) and shown as a Rich
side-by-side table. Every figure comes from the run's own eval.json and train_metrics.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rl_agent.kit.run_folder import write_json_atomic

SIDE_FIELDS = ("pref_accuracy", "mean_words", "hedge_count", "judge_score")


def verdict(before: dict, after: dict, min_pref_accuracy: float) -> dict[str, Any]:
    """Did the run succeed? Preference accuracy reached the bar and the judge and hedge count improved."""
    checks = {
        f"pref_accuracy >= {min_pref_accuracy}": after["pref_accuracy"] >= min_pref_accuracy,
        "judge_score improved": after["judge_score"] > before["judge_score"],
        "hedge_count improved": after["hedge_count"] < before["hedge_count"]
        or (before["hedge_count"] == 0 and after["hedge_count"] == 0),
    }
    return {"succeeded": all(checks.values()), "checks": checks}


def tune_next(before: dict, after: dict, final_loss: float, steps: int, model_source: str) -> list[str]:
    """Concrete next moves, derived from the figures rather than a fixed list."""
    tips: list[str] = []
    if after["pref_accuracy"] < 0.9:
        tips.append(f"Held-out preference accuracy is {after['pref_accuracy']:.2f}: train longer (--steps {steps * 2}) "
                    "or raise the learning rate a little.")
    if after["hedge_count"] > 0:
        tips.append(f"{after['hedge_count']} hedge/filler phrases remain after tuning: add pairs whose rejected side "
                    "uses those phrases.")
    if final_loss < 0.05:
        tips.append("The final loss is near zero: the adapter separates the training pairs completely. More and more "
                    "varied pairs (rl-agent pairs --task ...) will generalise better than more steps.")
    if after["mean_words"] < 1.5 and after["judge_score"] >= before["judge_score"]:
        tips.append("Answers are now one or two words: if that is too terse, lower the DPO beta or the SFT weight.")
    if model_source == "embedded":
        tips.append("This was the embedded tiny model: with network access, `rl-agent setup --model Qwen/Qwen3-0.6B` "
                    "runs the same recipe on a real small model.")
    tips.append("For online RL with a verifier or Claude as grader, try `rl-agent setup --track grpo`.")
    return tips


def build_report(state, eval_result: dict, train_metrics: dict, wall_seconds: float) -> dict[str, Any]:
    spec = state.spec
    if spec.algorithm == "grpo":  # reward curve, reward-hacking guard, grading failures: see grpo_report.py
        from rl_agent.kit import grpo_report

        return grpo_report.build_report(state, eval_result, train_metrics, wall_seconds)
    before, after = eval_result["before"], eval_result["after"]
    losses = [[h["step"], h["loss"]] for h in train_metrics.get("log_history", []) if "loss" in h]
    return {
        "task": spec.task,
        "model": spec.model,
        "model_source": spec.model_source,
        "model_path": state.model_path,
        "device": spec.device,
        "precision": spec.precision,
        "algorithm": spec.algorithm,
        "steps": train_metrics.get("steps", spec.dpo.steps),
        "final_loss": train_metrics.get("final_loss"),
        "resumed_from": train_metrics.get("resumed_from"),
        "wall_seconds": round(wall_seconds, 2),
        "stage_seconds": {k: round(v, 2) for k, v in state.timings.items()},
        "before": before,
        "after": after,
        "verdict": verdict(before, after, spec.min_pref_accuracy),
        "tune_next": tune_next(before, after, train_metrics.get("final_loss", 1.0), spec.dpo.steps, spec.model_source),
        "loss_curve": losses,
        "settings": spec.dpo.model_dump(),
    }


def _fmt(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def render_markdown(report: dict[str, Any], plot_name: str | None) -> str:
    if report["algorithm"] == "grpo":
        from rl_agent.kit import grpo_report

        return grpo_report.render_markdown(report, plot_name)
    b, a = report["before"], report["after"]
    ok = "succeeded" if report["verdict"]["succeeded"] else "did NOT succeed"
    lines = [
        f"# rl-agent run report: {report['algorithm'].upper()} + LoRA",
        "",
        f"**Task:** {report['task']}  ",
        f"**Model:** `{report['model']}` ({report['model_source']}) on {report['device']} ({report['precision']})  ",
        f"**Steps:** {report['steps']}, **final training loss:** {report['final_loss']:.4f}, "
        f"**wall time:** {report['wall_seconds']:.0f} s  ",
        f"**Verdict:** the before/after {ok}.",
        "",
        "## Held-out figures",
        "",
        "| figure | before | after |",
        "|---|---|---|",
    ]
    for key in SIDE_FIELDS:
        lines.append(f"| {key} | {_fmt(b[key])} | {_fmt(a[key])} |")
    lines += ["", "Checks: " + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in report["verdict"]["checks"].items())]
    if plot_name:
        lines += ["", f"![training loss]({plot_name})"]
    lines += ["", "## Held-out prompts, side by side", "", "| prompt | before | after |", "|---|---|---|"]
    for sb, sa in zip(b["samples"], a["samples"]):
        cells = [_md_cell(sb["prompt"]), _md_cell(sb["output"]), _md_cell(sa["output"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## What to tune next", ""] + [f"- {t}" for t in report["tune_next"]]
    lines += ["", "Preference accuracy is DPO's reward accuracy on held-out pairs: how often the tuned model raises "
              "the chosen answer's log-probability, relative to the base model, more than the rejected one's. "
              "The base model ties with itself on every pair, which counts as chance (0.50).", ""]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return (text[:140] + "...") if len(text) > 143 else (text or "*(empty)*")


def write_report(folder_root: Path, report: dict[str, Any], plot_name: str | None) -> None:
    (folder_root / "report.md").write_text(render_markdown(report, plot_name), encoding="utf-8")
    write_json_atomic(folder_root / "report.json", report)  # last: its presence means the run completed


def print_report(console: Console, report: dict[str, Any]) -> None:
    if report["algorithm"] == "grpo":
        from rl_agent.kit import grpo_report

        return grpo_report.print_report(console, report)
    b, a = report["before"], report["after"]
    table = Table(title="Held-out prompts: base model vs tuned model", show_lines=True, expand=True)
    table.add_column("prompt", ratio=2)
    table.add_column("before", ratio=3)
    table.add_column("after", ratio=3)
    for sb, sa in zip(b["samples"], a["samples"]):
        table.add_row(sb["prompt"], sb["output"] or "(empty)", sa["output"] or "(empty)")
    console.print(table)
    figs = Table(title="Held-out figures")
    figs.add_column("figure")
    figs.add_column("before", justify="right")
    figs.add_column("after", justify="right")
    for key in SIDE_FIELDS:
        figs.add_row(key, _fmt(b[key]), _fmt(a[key]))
    console.print(figs)
    ok = report["verdict"]["succeeded"]
    console.print(
        f"[bold]{'Succeeded' if ok else 'Did not succeed'}[/bold]: final loss {report['final_loss']:.4f} after "
        f"{report['steps']} steps, {report['wall_seconds']:.0f} s in all."
    )
    console.print("[bold]What to tune next[/bold]")
    for tip in report["tune_next"]:
        console.print(f"  - {tip}")
