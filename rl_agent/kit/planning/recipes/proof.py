"""Proof before training: a check must accept every good example and reject every bad one, or nothing runs.

Why: a check that calls wrong answers right would make a run "succeed" at the opposite of the task (the
inverted-opener bug). Scoring the check on answers written from the task, good and bad, catches an
inverted, dropped or permissive requirement before a single training step. `score_outputs` scores the
base model's held-out answers with the same check, so a task the model already does is caught too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

from rl_agent.runtime.check_runner import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    CheckItem,
    run_check,
)

GOOD_MIN = 0.9
BAD_MAX = 0.1
MIN_EXAMPLES = 5
ALREADY_PASSES_RATE = 0.8


@dataclass(frozen=True)
class ProofFailure:
    kind: Literal["good", "bad"]
    index: int
    item: CheckItem
    score: float | None
    where: str | None = None  # "file:line" of the example, when it came from a file

    def describe(self) -> str:
        need = f">= {GOOD_MIN}" if self.kind == "good" else f"<= {BAD_MAX}"
        got = "None (cannot grade)" if self.score is None else f"{self.score:.2f}"
        at = f" ({self.where})" if self.where else ""
        return (
            f"{self.kind} example {self.index} scored {got}, needs {need}{at}: prompt {self.item.prompt[:80]!r}, "
            f"output {self.item.output[:120]!r}"
        )


@dataclass
class ProofResult:
    """Whether the check passed its own examples; `failures` lists each example it got wrong."""

    good_scores: list[float | None]
    bad_scores: list[float | None]
    failures: list[ProofFailure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # not enough examples, etc.

    @property
    def passed(self) -> bool:
        return not self.failures and not self.problems

    def message(self) -> str:
        if self.passed:
            return (
                f"check proven: {len(self.good_scores)} good examples all >= {GOOD_MIN}, "
                f"{len(self.bad_scores)} bad examples all <= {BAD_MAX}"
            )
        lines = ["check NOT proven, nothing will train:"] + self.problems + [f.describe() for f in self.failures]
        return "\n  ".join(lines)


def prove_check(
    run_dir: str | Path,
    check_path: str | Path,
    good: Sequence[CheckItem],
    bad: Sequence[CheckItem],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> ProofResult:
    """Score the examples with the check (one subprocess); every good >= 0.9, every bad <= 0.1.
    A None on an example is a failure: a check must be able to grade its own examples."""
    good, bad = list(good), list(bad)
    scores = run_check(run_dir, check_path, good + bad, timeout_s=timeout_s, memory_mb=memory_mb)
    return proof_from_scores(good, bad, scores)


def proof_from_scores(
    good: Sequence[CheckItem],
    bad: Sequence[CheckItem],
    scores: Sequence[float | None],
    where: Sequence[str] | None = None,
) -> ProofResult:
    """The proof's rules on given scores (good first, then bad), whatever scored them: a check program or a judge.
    `where` (good first, then bad) names each example's file and line in the failures."""
    good, bad, scores = list(good), list(bad), list(scores)
    at = list(where) if where is not None else [None] * (len(good) + len(bad))
    result = ProofResult(scores[: len(good)], scores[len(good) :])
    for kind, n in (("good", len(good)), ("bad", len(bad))):
        if n < MIN_EXAMPLES:
            result.problems.append(f"only {n} {kind} examples; at least {MIN_EXAMPLES} are needed")
    for i, (item, s) in enumerate(zip(good, result.good_scores)):
        if s is None or s < GOOD_MIN:
            result.failures.append(ProofFailure("good", i, item, s, at[i]))
    for i, (item, s) in enumerate(zip(bad, result.bad_scores)):
        if s is None or s > BAD_MAX:
            result.failures.append(ProofFailure("bad", i, item, s, at[len(good) + i]))
    return result


@dataclass(frozen=True)
class OutputScores:
    """The check's scores on a set of answers (e.g. the base model's held-out answers)."""

    scores: list[float | None]

    @property
    def graded(self) -> int:
        return sum(s is not None for s in self.scores)

    @property
    def pass_rate(self) -> float:
        """Share of graded answers scoring >= 0.9 (the same bar as the good examples)."""
        graded = [s for s in self.scores if s is not None]
        return sum(s >= GOOD_MIN for s in graded) / len(graded) if graded else 0.0

    @property
    def mean(self) -> float | None:
        graded = [s for s in self.scores if s is not None]
        return sum(graded) / len(graded) if graded else None

    def already_passes(self, rate: float = ALREADY_PASSES_RATE) -> bool:
        """True when the base model already meets the task: there is nothing to learn."""
        return self.graded > 0 and self.pass_rate >= rate


def score_outputs(
    run_dir: str | Path,
    check_path: str | Path,
    items: Sequence[CheckItem],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> OutputScores:
    """The check's scores on `items`, with pass rate and mean (for before/after and 'nothing to learn')."""
    return OutputScores(run_check(run_dir, check_path, items, timeout_s=timeout_s, memory_mb=memory_mb))
