"""Pairwise judge: which of two answers is better, asked in both orders to cancel position bias.

`compare(prompt, a, b).score` is the probability-like preference for `a` in [0, 1]: 1.0 when `a` wins in
both orders, 0.5 for a tie or a split verdict (the judge only preferred a position), 0.0 when `b` wins.
`win_rate(prompts, before, after)` gives the before/after win rate of a training run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rl_agent.kit.judges.base import Grade
from rl_agent.kit.judges.cache import grade_key
from rl_agent.kit.judges.cost import RunStats
from rl_agent.kit.judges.engine import Call, ClaudeEngine, ClaudeSettings
from rl_agent.kit.judges.prompts import load_rubric, neutralize, render
from rl_agent.kit.judges.wire import PAIRWISE_FORMAT


@dataclass(frozen=True)
class WinRate:
    wins: int
    losses: int
    ties: int
    failed: int

    @property
    def judged(self) -> int:
        return self.wins + self.losses + self.ties

    @property
    def rate(self) -> float | None:
        """(wins + ties/2) / judged; None when nothing could be judged."""
        return (self.wins + 0.5 * self.ties) / self.judged if self.judged else None


class PairwiseJudge:
    """Options as for ClaudeJudge (model, cache, max_cost, concurrency, ...); rubric as for ClaudeJudge."""

    def __init__(self, *, rubric: str | Path | None = None, **options: Any) -> None:
        _, rubric_text = load_rubric(rubric)
        self.settings = ClaudeSettings(**options)
        system = render("pairwise_system.md.j2", rubric=neutralize(rubric_text))
        self.engine = ClaudeEngine(self.settings, system, PAIRWISE_FORMAT)
        self.name = f"pairwise:{self.settings.model}"

    @property
    def stats(self) -> RunStats:
        return self.engine.stats

    def _call(self, prompt: str, a: str, b: str) -> Call:
        key = grade_key(self.settings.model, self.engine.rubric_hash, prompt, a, b)
        text = render("pairwise_item.md.j2", prompt=neutralize(prompt), a=neutralize(a), b=neutralize(b))
        return Call(key, text)

    def compare(self, prompt: str, a: str, b: str) -> Grade:
        return self.compare_many([(prompt, a, b)])[0]

    def compare_many(self, triples: Sequence[tuple[str, str, str]]) -> list[Grade]:
        pairs = [(self._call(p, a, b), self._call(p, b, a)) for p, a, b in triples]
        results = self.engine.run([c for pair in pairs for c in pair])
        return [_combine(results[ab.key], results[ba.key]) for ab, ba in pairs]

    def win_rate(self, prompts: Sequence[str], before: Sequence[str], after: Sequence[str]) -> WinRate:
        """How often `after` beats `before` on the same prompts."""
        if not len(prompts) == len(before) == len(after):
            raise ValueError("prompts, before and after must have the same length")
        grades = self.compare_many(list(zip(prompts, after, before)))
        wins = sum(g.ok and g.score > 0.5 for g in grades)  # type: ignore[operator]
        losses = sum(g.ok and g.score < 0.5 for g in grades)  # type: ignore[operator]
        failed = sum(not g.ok for g in grades)
        return WinRate(wins, losses, len(grades) - wins - losses - failed, failed)


def _combine(ab: Grade, ba: Grade) -> Grade:
    """`ab.score` is A's verdict with `a` shown first; `ba.score` is the verdict for `b` shown first."""
    usage, cost = ab.usage + ba.usage, ab.cost_usd + ba.cost_usd
    for g in (ab, ba):
        if not g.ok:
            return Grade.failed(g.error or "api_error", g.reason, usage=usage, cost_usd=cost)
    score = (ab.score + (1.0 - ba.score)) / 2  # type: ignore[operator]
    if ab.score == ba.score and ab.score != 0.5:
        reason = f"position bias: the judge preferred the {'first' if ab.score == 1.0 else 'second'} answer both times"
    else:
        reason = f"a first: {ab.reason} | b first: {ba.reason}"
    return Grade(score, reason, cached=ab.cached and ba.cached, usage=usage, cost_usd=cost)
