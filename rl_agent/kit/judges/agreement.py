"""Is the judge's reading of the rubric stable on the model's real answers? Checked before training.

Why: the proof shows the judge separates the task's hand-picked good and bad examples, but the reward will
grade the model's own answers, which look nothing like them. So a sample of the base model's held-out
answers, already graded with the training rubric, is graded again by a second reading (the same rubric under
differently worded instructions, grader_second_reading.md.j2), and the two rankings are compared (Spearman).
A judge that ranks the same answers two ways, or gives them all one score while the second reading does not
(a lenient judge), would reward noise: below AGREEMENT_MIN the run stops before training and shows the
answers the two readings disagree on most.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from rl_agent.kit.judges.base import GradeItem

AGREEMENT_MIN = 0.6
AGREEMENT_FILE = "judge_agreement.json"  # in the run folder, for the report
SAMPLE_SIZE = 12  # answers graded a second time (one request each): enough to rank, cheap
SECOND_READING = "grader_second_reading.md.j2"
FLAT_TOLERANCE = 0.2  # both readings flat: they agree if their scores are this close


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson on tie-averaged ranks); None when either side is constant."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} scores against {len(b)}")
    ra, rb = ranks(a), ranks(b)
    n = len(ra)
    if n < 2:
        return None
    ma, mb = sum(ra) / n, sum(rb) / n
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    if va == 0 or vb == 0:
        return None
    return sum((x - ma) * (y - mb) for x, y in zip(ra, rb)) / (va * vb) ** 0.5


@dataclass(frozen=True)
class Disagreement:
    prompt: str
    output: str
    training_rubric: float
    second_reading: float


@dataclass
class AgreementResult:
    n: int
    spearman: float | None
    passed: bool
    why: str
    disagreements: list[Disagreement] = field(default_factory=list)
    failed: int = 0  # answers the second reading could not grade (left out)
    cost_usd: float = 0.0
    minimum: float = AGREEMENT_MIN

    def to_dict(self) -> dict:
        return asdict(self)

    def message(self) -> str:
        rho = "n/a" if self.spearman is None else f"{self.spearman:.2f}"
        head = (
            f"judge agreement on {self.n} of the base model's held-out answers (training rubric vs a second "
            f"reading): Spearman {rho} (minimum {self.minimum}); {self.why}"
        )
        if self.passed:
            return head
        lines = [
            head,
            "nothing was trained: a reward this judge gives would not rank the model's answers the way "
            "its own rubric does. The answers the two readings disagree on most:",
        ]
        for d in self.disagreements:
            lines.append(
                f"  - prompt {d.prompt[:80]!r}, answer {d.output[:100]!r}: training rubric "
                f"{d.training_rubric:.2f}, second reading {d.second_reading:.2f}"
            )
        lines.append(
            "  Make rubric.md say plainly what scores 1 and what scores 0 for answers like these (and add "
            "such answers to examples.jsonl), then `rl-agent run` the run folder again."
        )
        return "\n".join(lines)


def judge_agreement(
    items: Sequence[GradeItem],
    first: Sequence[float | None],
    rubric: str | Path,
    *,
    sample: int = SAMPLE_SIZE,
    seed: int = 0,
    minimum: float = AGREEMENT_MIN,
    **claude_options,
) -> AgreementResult:
    """Grade a seeded sample of `items` (already scored `first` with the training rubric) by the second reading
    and compare the rankings. Items the first reading could not grade are left out, as are the second's failures."""
    from rl_agent.kit.judges.claude import ClaudeJudge

    graded = [i for i, s in enumerate(first) if s is not None]
    picked = sorted(random.Random(seed).sample(graded, min(sample, len(graded))))
    judge = ClaudeJudge(
        rubric=rubric, calibration=False, instructions=SECOND_READING, **{"concurrency": 4, **claude_options}
    )
    try:
        second = judge.grade_many([items[i] for i in picked])
    finally:
        judge.close()
    cost = round(sum(g.cost_usd for g in second), 6)
    pairs = [(i, float(first[i]), g.score) for i, g in zip(picked, second) if g.ok]  # type: ignore[arg-type]
    failed = len(picked) - len(pairs)
    if len(pairs) < 3:
        return AgreementResult(
            len(pairs),
            None,
            False,
            f"only {len(pairs)} answers were graded both ways ({failed} failed): too few to compare",
            failed=failed,
            cost_usd=cost,
            minimum=minimum,
        )
    a, b = [p[1] for p in pairs], [p[2] for p in pairs]
    rho = spearman(a, b)
    ra, rb = ranks(a), ranks(b)
    worst = sorted(range(len(pairs)), key=lambda k: (-abs(a[k] - b[k]), -abs(ra[k] - rb[k])))[:3]
    shown = [Disagreement(items[pairs[k][0]].prompt, items[pairs[k][0]].output, a[k], b[k]) for k in worst]
    if rho is None:
        flat_a, flat_b = len(set(a)) == 1, len(set(b)) == 1
        if flat_a and flat_b and abs(a[0] - b[0]) <= FLAT_TOLERANCE:
            return AgreementResult(
                len(pairs),
                None,
                True,
                f"both readings give every answer {a[0]:.2f} / {b[0]:.2f}: nothing to rank, and they agree",
                failed=failed,
                cost_usd=cost,
                minimum=minimum,
            )
        which = "the training rubric" if flat_a else "the second reading"
        why = (
            f"{which} gives every answer the same score ({(a if flat_a else b)[0]:.2f}) while the other does "
            "not: it cannot rank them (a lenient or blind judge)"
        )
        return AgreementResult(len(pairs), 0.0, False, why, shown, failed, cost, minimum)
    passed = rho >= minimum
    why = "the readings rank the answers alike" if passed else "the readings rank the answers differently"
    return AgreementResult(len(pairs), round(rho, 4), passed, why, [] if passed else shown, failed, cost, minimum)
