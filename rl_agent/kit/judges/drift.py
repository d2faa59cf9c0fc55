"""Judge drift: a fixed anchor set graded again during training, uncached, to see whether the judge moves.

Why: a judged reward is only a reward if the judge means the same thing at step 30 as at step 0. The API
model behind an alias can change, a loaded service can answer differently, a long run can outlive a prompt
cache; none of that shows in the reward curve, which would mix two scales. The anchors are the task's proven
good and bad examples (examples.jsonl): every `every` steps the training rubric grades them again, bypassing
the grade cache (a cached grade cannot drift), and the run reports how their scores moved. A mean move above
DRIFT_MAX on the anchors is flagged next to the reward-hacking guard. Failed grades are left out, not zeroed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from rl_agent.kit.judges.base import Grade, GradeItem

DRIFT_MAX = 0.1


@dataclass(frozen=True)
class Anchor:
    kind: str  # "good" | "bad"
    item: GradeItem


@dataclass
class AnchorReading:
    step: int
    scores: list[float | None]
    failed: int
    cost_usd: float


@dataclass
class AnchorWatch:
    """Grades `anchors` with `judge` (a ClaudeJudge without a grade cache) on demand and summarises the drift."""

    anchors: list[Anchor]
    judge: Any
    every: int = 10
    readings: list[AnchorReading] = field(default_factory=list)

    def __post_init__(self) -> None:
        engine = getattr(self.judge, "engine", None)
        if engine is not None and engine.cache is not None:  # a cached grade cannot drift: the watch grades afresh
            engine.close()
            engine.cache = None

    def measure(self, step: int) -> AnchorReading:
        grades: list[Grade] = self.judge.grade_many([a.item for a in self.anchors])
        reading = AnchorReading(
            step,
            [g.score if g.ok else None for g in grades],
            sum(not g.ok for g in grades),
            round(sum(g.cost_usd for g in grades), 6),
        )
        self.readings.append(reading)
        return reading

    def summary(self) -> dict[str, Any]:
        return drift_summary(self.anchors, self.readings, self.every)


def _mean(xs: Sequence[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def drift_summary(anchors: Sequence[Anchor], readings: Sequence[AnchorReading], every: int) -> dict[str, Any]:
    """How the anchors' scores moved from the first reading: the mean absolute move per reading, its largest
    value, the good and bad means at each reading, and whether it passed DRIFT_MAX."""
    if not readings:
        return {
            "anchors": len(anchors),
            "every": every,
            "readings": [],
            "max_drift": None,
            "flagged": False,
            "message": "The anchors were not graded (no reading was taken).",
            "cost_usd": 0.0,
            "failures": {},
        }
    base = readings[0]
    rows, drifts = [], []
    for r in readings:
        moves = [abs(s - b) for s, b in zip(r.scores, base.scores) if s is not None and b is not None]
        drift = _mean(moves) if r is not base else 0.0
        if r is not base and drift is not None:
            drifts.append((drift, r.step))
        rows.append(
            {
                "step": r.step,
                "drift": drift,
                "failed": r.failed,
                "good": _mean([s for a, s in zip(anchors, r.scores) if a.kind == "good" and s is not None]),
                "bad": _mean([s for a, s in zip(anchors, r.scores) if a.kind == "bad" and s is not None]),
            }
        )
    worst, at = max(drifts) if drifts else (0.0, base.step)
    flagged = worst > DRIFT_MAX
    first, last = rows[0], rows[-1]
    moved = (
        f"good anchors {first['good']} -> {last['good']}, bad anchors {first['bad']} -> {last['bad']} "
        f"(steps {first['step']} -> {last['step']})"
    )
    n = len(anchors)
    if len(readings) < 2:
        message = f"The judge's {n} anchors were graded once (step {base.step}); no drift could be measured."
    elif flagged:
        message = (
            f"Judge drift: the {n} anchors (the task's proven good and bad examples, graded again every "
            f"{every} steps without the grade cache) moved {worst:.2f} on average by step {at}, more than "
            f"{DRIFT_MAX} ({moved}). The judge's scores late in training do not mean what they meant early, so "
            "the reward curve mixes two scales: pin the judge model, re-run, and compare."
        )
    else:
        message = (
            f"The judge held steady on its {n} anchors (graded again every {every} steps without the grade "
            f"cache): the largest mean move was {worst:.2f} (at most {DRIFT_MAX}); {moved}."
        )
    failures = sum(r.failed for r in readings)
    return {
        "anchors": n,
        "every": every,
        "readings": rows,
        "max_drift": round(worst, 4),
        "flagged": flagged,
        "message": message,
        "cost_usd": round(sum(r.cost_usd for r in readings), 6),
        "failures": {"anchor_grade": failures} if failures else {},
        "graded": sum(sum(s is not None for s in r.scores) for r in readings),
        "failed": failures,
    }


def drift_checks(anchors: dict | None) -> dict[str, bool]:
    """A verdict check, when the anchors were graded at least twice: the judge did not drift."""
    if not anchors or anchors.get("max_drift") is None or len(anchors.get("readings", [])) < 2:
        return {}
    return {f"judge steady on its anchors (drift <= {DRIFT_MAX})": not anchors["flagged"]}


def read_anchors(path: str | Path) -> list[Anchor]:
    """The examples file's rows ({"kind": "good"|"bad", "prompt", "output", "reference"?}) as anchors."""
    out = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.strip():
            row = json.loads(raw)
            ref = row.get("reference")
            out.append(
                Anchor(row["kind"], GradeItem(row["prompt"], row["output"], ref if isinstance(ref, str) else None))
            )
    if not out:
        raise ValueError(f"{path}: no anchors")
    return out


def _engine_of(reward: Any) -> Any:
    """The ClaudeEngine behind a training reward (GuardedReward -> JudgeReward -> judge), if there is one."""
    judge = getattr(getattr(reward, "inner", reward), "judge", None)
    return getattr(judge, "engine", None)


def anchor_callback(anchors_cfg: dict, reward_cfg: dict, reward: Any, root: Path):
    """A TrainerCallback grading the anchors at the start, every `every` steps and at the end, on the main
    process, writing the summary to anchors_cfg["out"] after each reading. Its spending counts against the
    reward's --max-cost budget (the same Budget object)."""
    from transformers import TrainerCallback

    from rl_agent.kit.judges.claude import ClaudeJudge

    c = reward_cfg["claude"]
    model = reward_cfg["spec"].partition(":")[2]
    judge = ClaudeJudge(
        rubric=c["rubric"],
        calibration=c.get("calibration", True),
        cache=None,
        timeout=c["timeout"],
        concurrency=c["concurrency"],
        **({"model": model} if model else {}),
    )
    engine = _engine_of(reward)
    if engine is not None:
        judge.engine.budget = engine.budget
    path = root / anchors_cfg["out"] if not Path(anchors_cfg["out"]).is_absolute() else Path(anchors_cfg["out"])
    anchors_file = Path(anchors_cfg["file"])
    watch = AnchorWatch(
        read_anchors(anchors_file if anchors_file.is_absolute() else root / anchors_file), judge, anchors_cfg["every"]
    )
    if path.is_file():  # a resumed run keeps its baseline
        saved = json.loads(path.read_text(encoding="utf-8")).get("raw", [])
        watch.readings = [AnchorReading(**r) for r in saved]

    def take(step: int) -> None:
        if watch.readings and watch.readings[-1].step >= step:
            return
        watch.measure(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        out = {**watch.summary(), "raw": [asdict(r) for r in watch.readings]}
        path.write_text(json.dumps(out, indent=1), encoding="utf-8")
        print(f"judge anchors at step {step}: {out['message']}", flush=True)

    class AnchorDrift(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                take(state.global_step)

        def on_step_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero and state.global_step % watch.every == 0:
                take(state.global_step)

        def on_train_end(self, args, state, control, **kwargs):
            if state.is_world_process_zero:
                take(state.global_step)

    return AnchorDrift()
