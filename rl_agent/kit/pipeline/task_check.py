"""The task's own check on the held-out answers: base and tuned, scored by check.py in its sandbox.

Why after the evaluation script rather than inside it: the evaluation script already records every
held-out answer of both models (eval.json samples); scoring them here runs the check through the one
sandboxed runner (own process, limits, no secrets, only from inside the run folder), and the figures go
to check_eval.json, which the report reads. A check that fails on an answer names that answer.
"""

from __future__ import annotations

import json
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.kit.planning.check_kinds import JUDGE, PROGRAM, CheckKind, score
from rl_agent.runtime.check_runner import CheckItem, CheckPathError, CheckRunError, resolve_check_path

CHECK_EVAL_FILE = "check_eval.json"


class TaskCheckError(RlAgentError, RuntimeError):
    """The task check could not score the held-out answers; the message names the answer or the file."""


def _references(root: Path) -> list[str | None]:
    rows = []
    path = root / "heldout.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            ref = json.loads(line).get("reference")
            rows.append(ref if isinstance(ref, str) else None)
    return rows


def side_figures(
    root: Path, check_file: str, samples: list[dict], refs: list[str | None], kind: CheckKind = PROGRAM
) -> dict:
    """Pass rate (score >= 0.9) and mean score of one model's held-out answers, with each score (a judged check:
    the Claude grader with the run's rubric)."""
    items = [CheckItem(s["prompt"], s["output"], refs[i] if i < len(refs) else None) for i, s in enumerate(samples)]
    try:
        scores = score(root, check_file, items, kind)
    except (CheckRunError, CheckPathError) as e:
        raise TaskCheckError(f"the task check could not score the held-out answers: {e}") from None
    return {
        "pass_rate": scores.pass_rate,
        "mean": scores.mean,
        "graded": scores.graded,
        "already_passes": scores.already_passes(),
        "scores": scores.scores,
    }


def score_heldout(root: Path, check_file: str, kind: CheckKind = PROGRAM) -> dict:
    """check_eval.json: the task check's figures for the base ("before") and tuned ("after") answers."""
    ev = json.loads((root / "eval.json").read_text(encoding="utf-8"))
    refs = _references(root)
    result = {side: side_figures(root, check_file, ev[side]["samples"], refs, kind) for side in ("before", "after")}
    result["check_file"], result["check_kind"] = str(check_file), kind
    if kind == JUDGE:  # a judged task also gets the pairwise win rate of after over before
        from rl_agent.kit.pipeline.judged_winrate import judged_win_rate

        _, rubric = resolve_check_path(root, check_file)
        sides = [ev[s]["samples"] for s in ("before", "after")]
        result["win_rate"] = judged_win_rate(
            rubric, [x["prompt"] for x in sides[0]], [x["output"] for x in sides[0]], [x["output"] for x in sides[1]]
        )
    tmp = root / (CHECK_EVAL_FILE + ".tmp")
    tmp.write_text(json.dumps(result, indent=2), encoding="utf-8")
    tmp.replace(root / CHECK_EVAL_FILE)
    return result
