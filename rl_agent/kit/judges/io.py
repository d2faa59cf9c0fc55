"""Reading grade inputs and writing graded outputs (JSON Lines), with file:line errors for bad input."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import iter_jsonl_objects
from rl_agent.kit.judges.base import Grade, GradeItem


class GradeInputError(RlAgentError, ValueError):
    """A grade input file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class InputRow:
    item: GradeItem
    raw: dict[str, Any]  # the original object, written back with the grade


def read_grade_inputs(path: str | Path) -> list[InputRow]:
    path = Path(path)
    rows = []
    for _, where, obj in iter_jsonl_objects(
        path, error=GradeInputError, expected='a JSON object {"prompt", "output"[, "reference"]}'
    ):
        for key in ("prompt", "output"):
            if key not in obj:
                raise GradeInputError(f"{where}: missing field {key!r}")
            if not isinstance(obj[key], str):
                raise GradeInputError(f"{where}: field {key!r} must be a string, got {type(obj[key]).__name__}")
        ref = obj.get("reference")
        if ref is not None and not isinstance(ref, str):
            raise GradeInputError(f"{where}: field 'reference' must be a string, got {type(ref).__name__}")
        rows.append(InputRow(GradeItem(obj["prompt"], obj["output"], ref), obj))
    if not rows:
        raise GradeInputError(f"{path}: no items to grade")
    return rows


def graded_path(path: str | Path) -> Path:
    """FILE.jsonl -> FILE.graded.jsonl (next to the input)."""
    path = Path(path)
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return path.with_name(f"{stem}.graded.jsonl")


def write_graded(path: Path, rows: Sequence[InputRow], grades: Sequence[Grade], judge: str) -> None:
    """Atomic write: the input fields plus score, reason, ok, error, cached, judge, cost_usd."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row, g in zip(rows, grades):
            out = {
                **row.raw,
                "score": g.score,
                "reason": g.reason,
                "ok": g.ok,
                "error": g.error,
                "cached": g.cached,
                "judge": judge,
                "cost_usd": round(g.cost_usd, 8),
            }
            f.write(json.dumps(out, ensure_ascii=False) + "\n")
    tmp.replace(path)


@dataclass(frozen=True)
class ScoreSummary:
    n: int
    graded: int
    failed: int
    mean: float | None
    stdev: float | None
    min: float | None
    max: float | None
    failures: dict[str, int]

    @classmethod
    def of(cls, grades: Sequence[Grade]) -> ScoreSummary:
        scores = [g.score for g in grades if g.ok and g.score is not None]
        failures: dict[str, int] = {}
        for g in grades:
            if not g.ok:
                failures[g.error or "unknown"] = failures.get(g.error or "unknown", 0) + 1
        return cls(
            n=len(grades),
            graded=len(scores),
            failed=len(grades) - len(scores),
            mean=statistics.fmean(scores) if scores else None,
            stdev=statistics.pstdev(scores) if len(scores) > 1 else (0.0 if scores else None),
            min=min(scores) if scores else None,
            max=max(scores) if scores else None,
            failures=failures,
        )

    def as_dict(self) -> dict[str, Any]:
        r = lambda x: None if x is None or math.isnan(x) else round(x, 4)  # noqa: E731
        return {
            "n": self.n,
            "graded": self.graded,
            "failed": self.failed,
            "mean": r(self.mean),
            "stdev": r(self.stdev),
            "min": r(self.min),
            "max": r(self.max),
            "failures": self.failures,
        }
