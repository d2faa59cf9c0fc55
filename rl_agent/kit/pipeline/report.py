"""The run report, one for every track: what changed on held-out prompts, whether the answers are still
right, the verdict, and what to tune next.

Written as report.json (for programs), report.md (for people) and shown as Rich tables. Every figure
comes from the run's own eval.json and train_metrics.json. The track supplies its figures, its own
checks and tips and any extra sections (GRPO: the reward trend and the reward-hacking guard); this module
adds what every track shares, above all correctness: a run that changes the way the model answers while
its answers become wrong is a failure, said in plain words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rl_agent.kit.judges.drift import drift_checks
from rl_agent.kit.pipeline.run_folder import write_json_atomic
from rl_agent.kit.pipeline.selection import markdown_section as selection_section
from rl_agent.kit.pipeline.verdict import (
    TASK_CHECK,
    correctness,
    correctness_tips,
    verdict_checks,
)
from rl_agent.kit.tracks.base import CORRECT, Figure, Track
from rl_agent.kit.tracks.registry import get_track


def build_report(
    state, track: Track, eval_result: dict, train_metrics: dict, wall_seconds: float, *, estimate: dict | None = None
) -> dict[str, Any]:
    spec = state.spec
    before, after = track.clean_side(eval_result["before"]), track.clean_side(eval_result["after"])
    report: dict[str, Any] = {
        "task": spec.task,
        "model": spec.model,
        "model_source": spec.model_source,
        "model_path": state.model_path,
        "device": spec.device,
        "precision": spec.precision,
        "algorithm": spec.algorithm,
        "steps": train_metrics.get("steps", track.settings(spec).max_steps),
        "final_loss": train_metrics.get("final_loss"),
        "resumed_from": train_metrics.get("resumed_from"),
        # What LoRA wrapped on this model (the settings' target_modules, e.g. all-linear, resolved by PEFT).
        "lora_target_modules": train_metrics.get("lora_target_modules"),
        # Scale-out: the training processes and the global batch of one optimizer step in all of them together.
        "processes": train_metrics.get("processes", 1),
        "global_batch": train_metrics.get("global_batch"),
        "wall_seconds": round(wall_seconds, 2),
        "stage_seconds": {k: round(v, 2) for k, v in state.timings.items()},
        # The train stage's wall time, and the estimate made before it started (pipeline/estimate.py).
        "train_seconds": round(state.timings["train"], 2) if "train" in state.timings else None,
        "estimate": estimate,
        "before": before,
        "after": after,
    }
    report.update(track.report_extras(state, eval_result, train_metrics))
    corr = correctness(before, after, spec.min_correct)
    task_check = eval_result.get("task_check")
    if task_check is not None:  # the task's own proven check is the success measure, not the track's proxies
        before[TASK_CHECK.key], after[TASK_CHECK.key] = (task_check[s]["pass_rate"] for s in ("before", "after"))
        report["task_check"] = {
            s: {k: task_check[s][k] for k in ("pass_rate", "mean", "graded")} for s in ("before", "after")
        }
        if task_check.get("win_rate"):  # a judged task: the pairwise before/after (pipeline/judged_winrate.py)
            report["task_check"]["win_rate"] = task_check["win_rate"]
    checks = verdict_checks(track, spec, report, eval_result["after"], has_check=task_check is not None)
    if task_check is not None:
        checks.update(drift_checks(report.get("anchors")))  # a judged task: the judge must not drift in training
    if eval_result.get("judge_agreement"):  # a judged task: the judge read twice before training
        report["judge_agreement"] = eval_result["judge_agreement"]
    report["correctness"] = corr
    report["verdict"] = {"succeeded": all(checks.values()), "checks": checks}
    report["tune_next"] = correctness_tips(corr) + track.tips(report, spec, train_metrics)
    report["settings"] = track.settings(spec).model_dump()
    return report


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def figures(track: Track, report: dict | None = None) -> tuple[Figure, ...]:
    extra = (TASK_CHECK,) if report is not None and "task_check" in report else ()
    return (*extra, *track.figures, CORRECT)


def render_markdown(report: dict[str, Any], plot_name: str | None) -> str:
    track = get_track(report["algorithm"])
    b, a = report["before"], report["after"]
    ok = "succeeded" if report["verdict"]["succeeded"] else "did NOT succeed"
    lines = [
        f"# rl-agent run report: {track.title}",
        "",
        f"**Task:** {report['task']}  ",
        f"**Model:** `{report['model']}` ({report['model_source']}) on {report['device']} ({report['precision']})  ",
        *track.header_lines(report),
        *(
            [f"**LoRA targets:** {', '.join(report['lora_target_modules'])}  "]
            if report.get("lora_target_modules")
            else []
        ),
        *training_time_lines(report),
        f"**Verdict:** the before/after {ok}.",
        "",
        "## Correctness",
        "",
        report.get("correctness", {}).get("message", "Correctness was not measured."),
        "",
        *track.markdown_sections(report),
        *judge_lines(report),
        *selection_section(report),
        "## Held-out figures",
        "",
        "| figure | meaning | before | after |",
        "|---|---|---|---|",
    ]
    for fig in figures(track, report):
        lines.append(f"| {fig.key} | {fig.meaning} | {_fmt(b.get(fig.key))} | {_fmt(a.get(fig.key))} |")
    lines += [
        "",
        "Checks: " + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in report["verdict"]["checks"].items()),
    ]
    if plot_name:
        lines += ["", f"![training {plot_name.removesuffix('.png')}]({plot_name})"]
    lines += ["", "## Held-out prompts, side by side", "", "| prompt | before | after |", "|---|---|---|"]
    for sb, sa in zip(b["samples"], a["samples"]):
        cells = [_md_cell(sb["prompt"]), _md_cell(sb["output"]) + _mark(sb), _md_cell(sa["output"]) + _mark(sa)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## What to tune next", ""] + [f"- {t}" for t in report["tune_next"]]
    if track.footnote:
        lines += ["", track.footnote]
    return "\n".join(lines + [""])


def judge_lines(report: dict[str, Any]) -> list[str]:
    """A judged task's section: the judge's agreement before training, and the pairwise before/after."""
    from rl_agent.kit.pipeline.judged_winrate import win_rate_lines

    agreement = report.get("judge_agreement")
    win = (report.get("task_check") or {}).get("win_rate")
    if not agreement and not win:
        return []
    lines = ["## The judge", ""]
    if agreement:
        rho = "n/a" if agreement["spearman"] is None else f"{agreement['spearman']:.2f}"
        lines += [
            f"**Before training:** the training rubric and a second reading ranked {agreement['n']} of the base "
            f"model's held-out answers with Spearman {rho} (minimum {agreement['minimum']}): "
            f"{agreement['why']}; cost ${agreement['cost_usd']:.4f}.",
            "",
        ]
    return lines + win_rate_lines(win)


def training_time_lines(report: dict[str, Any]) -> list[str]:
    """The train stage's measured time next to the estimate made before it (none when there was none)."""
    est, actual = report.get("estimate"), report.get("train_seconds")
    if not est or actual is None:
        return []
    if est.get("seconds") is None:
        return [f"**Training time:** {actual:.0f} s; no estimate before training ({est.get('method')})  "]
    ratio = f", estimate/actual {est['seconds'] / actual:.2f}" if actual > 0 else ""
    return [
        f"**Training time:** {actual:.0f} s measured; estimated before training {est['seconds']:.0f} s "
        f"({est['step_seconds']:.2g} s/step x {est['steps']} steps + {est['startup_seconds']:.0f} s to start, "
        f"peak memory ~{est['peak_memory_gb'] or 0:.1f} GB){ratio}  "
    ]


def _mark(sample: dict) -> str:
    """A visible right/wrong mark next to an answer when its correctness was checked."""
    return {True: " ✓", False: " ✗"}.get(sample.get("correct"), "")


def _md_cell(text: str) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return (text[:140] + "...") if len(text) > 143 else (text or "*(empty)*")


def write_report(folder_root: Path, report: dict[str, Any], plot_name: str | None) -> None:
    (folder_root / "report.md").write_text(render_markdown(report, plot_name), encoding="utf-8")
    write_json_atomic(folder_root / "report.json", report)  # last: its presence means the run completed


def print_report(console: Console, report: dict[str, Any]) -> None:
    track = get_track(report["algorithm"])
    b, a = report["before"], report["after"]
    table = Table(title="Held-out prompts: base model vs tuned model", show_lines=True, expand=True)
    table.add_column("prompt", ratio=2)
    table.add_column("before", ratio=3)
    table.add_column("after", ratio=3)
    for sb, sa in zip(b["samples"], a["samples"]):
        table.add_row(sb["prompt"], (sb["output"] or "(empty)") + _mark(sb), (sa["output"] or "(empty)") + _mark(sa))
    console.print(table)
    figs = Table(title="Held-out figures")
    figs.add_column("figure")
    figs.add_column("meaning")
    figs.add_column("before", justify="right")
    figs.add_column("after", justify="right")
    for fig in figures(track, report):
        figs.add_row(fig.key, fig.meaning, _fmt(b.get(fig.key)), _fmt(a.get(fig.key)))
    console.print(figs)
    corr = report.get("correctness")
    if corr:
        console.print(f"[bold]Correctness:[/bold] {corr['message']}", highlight=False)
    track.console_lines(console, report)
    if report.get("selection"):
        sel = report["selection"]
        console.print(
            f"[bold]Checkpoint kept:[/bold] {sel['kept_step']} ({sel['reason']}); the figures above are "
            "its held-out test figures, which the verdict reads",
            highlight=False,
        )
    ok = report["verdict"]["succeeded"]
    console.print(f"[bold]{'Succeeded' if ok else 'Did not succeed'}[/bold]: {track.summary_line(report)}")
    failed = [k for k, v in report["verdict"]["checks"].items() if not v]
    if failed:
        console.print("Failed checks: " + "; ".join(failed), highlight=False)
    console.print("[bold]What to tune next[/bold]")
    for tip in report["tune_next"]:
        console.print(f"  - {tip}")
