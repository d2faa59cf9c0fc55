"""A run folder marked as finished, with a report whose verdict passed or failed: for the tests of what the
agent does with a run that needs no training to see."""

from __future__ import annotations

import json
from pathlib import Path

from rl_agent.kit.pipeline.run_folder import RunFolder


def complete(run_dir: Path, succeeded: bool) -> None:
    """Mark the run complete with a report.json whose verdict passed or failed."""
    side = {"pref_accuracy": 0.5, "mean_words": 9.0, "hedge_count": 3, "judge_score": 0.4, "samples": []}
    checks = {"pref_accuracy >= 0.9": succeeded, "judge_score improved": True}
    (run_dir / "report.json").write_text(
        json.dumps({"before": side, "after": side, "verdict": {"succeeded": succeeded, "checks": checks}})
    )
    state = RunFolder(run_dir).load()
    state.status, state.stages_done = "complete", ["model", "data", "render", "train", "evaluate", "report"]
    RunFolder(run_dir).save(state)
