"""A task check of either kind, scored one way: a check program (check.py, in its sandbox) or the Claude
grader with a rubric written from the task (judged tasks: tone, empathy, kindness).

Why one place: the proof before training, the base model's held-out answers and the before/after scores
all go through `check_scores`, so a judged check is held to exactly the proof a program is (every good
example >= 0.9, every bad <= 0.1). The judge runs in this process: the API key stays in its environment
and is never written anywhere; the rubric file must lie inside the run folder like a check program.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from rl_agent.kit.dataio.pairs import iter_jsonl_objects
from rl_agent.kit.planning.recipes.proof import OutputScores, ProofResult, proof_from_scores
from rl_agent.runtime.check_runner import CheckItem, CheckRunError, resolve_check_path, run_check

CheckKind = Literal["program", "claude_judge"]
PROGRAM: CheckKind = "program"
JUDGE: CheckKind = "claude_judge"


def check_scores(
    run_dir: str | Path, check_path: str | Path, items: Sequence[CheckItem], kind: CheckKind = PROGRAM
) -> list[float | None]:
    """Scores in [0, 1] (None: cannot grade) for `items`; CheckRunError naming the item on any failure."""
    if kind == JUDGE:
        return judge_scores(run_dir, check_path, items)
    return run_check(run_dir, check_path, items)


def judge_scores(run_dir: str | Path, rubric_path: str | Path, items: Sequence[CheckItem]) -> list[float | None]:
    """The Claude grader's scores with the run's rubric (no calibration examples: the bundled ones grade
    terseness, not this task). A grade that failed (API error, unparsable reply) is an error naming the item,
    never a silent 'not graded' that would leave the pass rate to the items that happened to succeed."""
    from rl_agent.kit.judges.base import GradeItem
    from rl_agent.kit.judges.claude import ClaudeJudge

    _, rubric = resolve_check_path(run_dir, rubric_path)
    judge = ClaudeJudge(rubric=rubric, calibration=False, concurrency=4)
    try:
        grades = judge.grade_many([GradeItem(i.prompt, i.output, i.reference) for i in items])
    finally:
        judge.close()
    for i, (item, grade) in enumerate(zip(items, grades)):
        if not grade.ok:
            raise CheckRunError(
                f"the Claude judge could not grade item {i} (output {item.output[:60]!r}): "
                f"{grade.error}: {grade.reason[:200]}"
            )
    return [g.score for g in grades]


def prove(
    run_dir: str | Path,
    check_path: str | Path,
    good: Sequence[CheckItem],
    bad: Sequence[CheckItem],
    kind: CheckKind = PROGRAM,
) -> ProofResult:
    """The proof before training (proof.py's rules) for a check of either kind."""
    good, bad = list(good), list(bad)
    return proof_from_scores(good, bad, check_scores(run_dir, check_path, good + bad, kind))


def score(
    run_dir: str | Path, check_path: str | Path, items: Sequence[CheckItem], kind: CheckKind = PROGRAM
) -> OutputScores:
    """Pass rate and mean of a check of either kind on answers (the base or tuned model's held-out answers)."""
    return OutputScores(check_scores(run_dir, check_path, items, kind))


@dataclass(frozen=True)
class Example:
    """One line of an examples file: good or bad, the item, and where it is ("file:line")."""

    kind: Literal["good", "bad"]
    item: CheckItem
    where: str


def read_example_rows(path: str | Path) -> list[Example]:
    """The examples file, one {"kind": "good"|"bad", prompt, output, reference?} per line; ValueError naming the
    file and line of a malformed one."""
    rows: list[Example] = []
    for _, where, row in iter_jsonl_objects(path, error=ValueError, missing="no such examples file"):
        kind = row.get("kind")
        if (
            kind not in ("good", "bad")
            or not isinstance(row.get("prompt"), str)
            or not isinstance(row.get("output"), str)
        ):
            raise ValueError(
                f"{where}: an example needs kind good|bad and string prompt and output, got {json.dumps(row)[:120]}"
            )
        ref = row.get("reference")
        rows.append(
            Example(kind, CheckItem(row["prompt"], row["output"], ref if isinstance(ref, str) else None), where)
        )
    return rows


def read_examples(path: str | Path) -> tuple[list[CheckItem], list[CheckItem]]:
    """(good, bad) from an examples file (see read_example_rows)."""
    rows = read_example_rows(path)
    return [r.item for r in rows if r.kind == "good"], [r.item for r in rows if r.kind == "bad"]


def prove_examples(
    run_dir: str | Path, check_path: str | Path, examples_path: str | Path, kind: CheckKind = PROGRAM
) -> ProofResult:
    """The proof on an examples file, each failure naming its file and line."""
    rows = read_example_rows(examples_path)
    good = [r for r in rows if r.kind == "good"]
    bad = [r for r in rows if r.kind == "bad"]
    items = [r.item for r in good + bad]
    return proof_from_scores(
        [r.item for r in good],
        [r.item for r in bad],
        check_scores(run_dir, check_path, items, kind),
        where=[r.where for r in good + bad],
    )
