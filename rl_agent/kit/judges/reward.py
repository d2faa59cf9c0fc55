"""A GRPO reward function built on any Judge: lists in, list[float | None] out, failures counted.

TRL calls reward functions as `f(prompts=..., completions=..., **dataset_columns)` and accepts None
for "no reward for this sample" (it is skipped, not averaged as 0). We return None for a failed grade
rather than inventing a number, and count why in `failures`.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from rl_agent.kit.judges.base import Grade, GradeItem, Judge


def _text(x: Any) -> str:
    """A completion/prompt as text: plain string, or TRL conversational form (list of messages)."""
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        content = x.get("content", "")
        if isinstance(content, list):  # content blocks
            return "".join(b.get("text", "") for b in content if isinstance(b, dict))
        return str(content)
    if isinstance(x, (list, tuple)) and x:
        return _text(x[-1])  # the last message: the completion, or the user turn of a prompt
    return "" if x is None else str(x)


@dataclass
class RewardStats:
    """Running counters (thread-safe) so a training loop can log how often grading failed and why."""

    calls: int = 0
    graded: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    cost_usd: float = 0.0
    cached: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, grades: Sequence[Grade]) -> None:
        with self._lock:
            self.calls += 1
            for g in grades:
                self.cost_usd += g.cost_usd
                self.cached += g.cached
                if g.ok:
                    self.graded += 1
                else:
                    self.failures[g.error or "unknown"] += 1

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "graded": self.graded,
                "failed": sum(self.failures.values()),
                "failures": dict(self.failures),
                "cached": self.cached,
                "cost_usd": round(self.cost_usd, 6),
            }


class JudgeReward:
    """Callable reward for GRPO. `reward = JudgeReward(make_judge("claude"))`; pass `reward` to TRL.

    `reference_key` names the dataset column holding reference answers (for verifiers that need one).
    """

    def __init__(self, judge: Judge, *, name: str | None = None, reference_key: str = "reference") -> None:
        self.judge = judge
        self.reference_key = reference_key
        self.stats = RewardStats()
        self.__name__ = name or f"{getattr(judge, 'name', 'judge')}_reward".replace(":", "_")

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        refs = kwargs.get(self.reference_key)
        return self.score(prompts, completions, refs)

    def score(
        self, prompts: Sequence[Any], completions: Sequence[Any], references: Sequence[Any] | None = None
    ) -> list[float | None]:
        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts but {len(completions)} completions")
        if references is not None and len(references) != len(completions):
            raise ValueError(f"{len(references)} references but {len(completions)} completions")
        items = [
            GradeItem(_text(p), _text(c), None if references is None or references[i] is None else str(references[i]))
            for i, (p, c) in enumerate(zip(prompts, completions))
        ]
        grades = self.judge.grade_many(items)
        self.stats.record(grades)
        return [g.score if g.ok else None for g in grades]
