"""A judged task's before/after read as a person would: which answer is better, after or before?

Why: for a judged task the held-out pass rate is the same judge's score that training optimised, so it can
rise for reasons a reader would not share. A pairwise comparison asks a different question of the same rubric
(judges/pairwise.py: which of two answers to one prompt is better, asked in both orders so a position
preference cancels out): the win rate of the tuned model's answers over the base model's on the held-out
prompts, with ties and failed comparisons counted (a failure is not a loss), its cost, and three pairs where the
judge preferred "after", so the reader can see what the judge rewarded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

SHOWN_PAIRS = 3


def judged_win_rate(
    rubric: str | Path, prompts: Sequence[str], before: Sequence[str], after: Sequence[str], **claude_options: Any
) -> dict[str, Any]:
    """{"wins", "losses", "ties", "failed", "rate", "cost_usd", "requests", "examples": [...]} of after over before."""
    from rl_agent.kit.judges.pairwise import PairwiseJudge

    if not len(prompts) == len(before) == len(after):
        raise ValueError("prompts, before and after must have the same length")
    judge = PairwiseJudge(rubric=rubric, **{"concurrency": 4, **claude_options})
    try:
        grades = judge.compare_many(list(zip(prompts, after, before)))  # a = after: score is after's preference
        stats = judge.stats.as_dict()
    finally:
        judge.engine.close()
    wins = [i for i, g in enumerate(grades) if g.ok and g.score > 0.5]  # type: ignore[operator]
    losses = sum(g.ok and g.score < 0.5 for g in grades)  # type: ignore[operator]
    failed = [g for g in grades if not g.ok]
    ties = len(grades) - len(wins) - losses - len(failed)
    judged = len(wins) + losses + ties
    best = sorted(wins, key=lambda i: -grades[i].score)[:SHOWN_PAIRS]  # type: ignore[operator]
    return {
        "pairs": len(grades),
        "wins": len(wins),
        "losses": losses,
        "ties": ties,
        "failed": len(failed),
        "failures": {k: sum(g.error == k for g in failed) for k in {g.error for g in failed}},
        "rate": round((len(wins) + 0.5 * ties) / judged, 4) if judged else None,
        "cost_usd": round(sum(g.cost_usd for g in grades), 6),
        "requests": stats["requests"],
        "examples": [
            {
                "prompt": prompts[i],
                "before": before[i],
                "after": after[i],
                "preference": grades[i].score,
                "reason": grades[i].reason[:300],
            }
            for i in best
        ],
    }


def win_rate_lines(win: dict[str, Any] | None) -> list[str]:
    """The report's lines for a win rate (nothing when there is none)."""
    if not win:
        return []
    rate = "n/a" if win["rate"] is None else f"{win['rate']:.2f}"
    lines = [
        f"**Pairwise win rate of after over before:** {rate} on {win['pairs']} held-out prompts (the task's "
        f"rubric, each pair judged in both orders): {win['wins']} wins, {win['losses']} losses, {win['ties']} "
        f"ties, {win['failed']} failed (left out); cost ${win['cost_usd']:.4f} in {win['requests']} requests.",
        "",
    ]
    if win["examples"]:
        lines += ["Pairs where the judge preferred after:", "", "| prompt | before | after |", "|---|---|---|"]
        for ex in win["examples"]:
            cells = [" ".join(str(ex[k]).split()).replace("|", "\\|")[:200] for k in ("prompt", "before", "after")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines
