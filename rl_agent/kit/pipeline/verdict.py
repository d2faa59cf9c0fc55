"""The verdict's rules, shared by the report (on the test split) and checkpoint selection (on validation):
correctness must not fall, the task check's bar (or the track's own checks), and answers that stop at their
turn. Apart from the report so that selection can apply the same rules without importing the report."""

from __future__ import annotations

import re
from typing import Any

from rl_agent.kit.tracks.base import Figure, Track

# Held-out correctness may move by this much between before and after without counting as a fall: a
# single answer out of 20 flipping is within the noise of greedy decoding on a retrained adapter.
CORRECT_TOLERANCE = 0.05


def correctness(before: dict, after: dict, floor: float | None, tolerance: float = CORRECT_TOLERANCE) -> dict[str, Any]:
    """The checks every track's verdict shares, and a plain-words account of them. `tolerance`: how far
    correctness may move without counting as a fall (checkpoint selection asks for none: see selection.py)."""
    b, a = before.get("correct"), after.get("correct")
    checks: dict[str, bool] = {}
    if b is not None and a is not None:
        checks[f"correct did not fall (after >= before - {tolerance})"] = a >= b - tolerance
    if floor is not None:
        checks[f"correct >= {floor}"] = a is not None and a >= floor
    if a is None or b is None:
        message = (
            "Correctness was not measured: no held-out row carries a `reference` answer, so this report "
            "cannot say whether the answers are right, only how they are written."
        )
        if floor is not None:
            message += f" The spec asks for correct >= {floor}, so the run cannot pass until they do."
    elif a < b - CORRECT_TOLERANCE:
        message = (
            f"FAILED on correctness: the share of held-out answers that state the reference answer fell "
            f"from {b:.2f} to {a:.2f}. Whatever improved in style, the tuned model is more often wrong."
        )
    elif floor is not None and a < floor:
        message = (
            f"Correctness is below the bar: {a:.2f} of held-out answers state the reference answer "
            f"(before {b:.2f}), and the spec asks for at least {floor}."
        )
    else:
        moved = "rose" if a > b + CORRECT_TOLERANCE else "held"
        message = f"Correctness {moved}: {b:.2f} -> {a:.2f} of held-out answers are right (state the reference answer)."
    return {"before": b, "after": a, "floor": floor, "checks": checks, "message": message}


def correctness_tips(corr: dict[str, Any]) -> list[str]:
    b, a, floor = corr["before"], corr["after"], corr["floor"]
    if a is None or b is None:
        return (
            ["Add a `reference` answer to held-out rows so the report can check that answers are right."]
            if floor is not None
            else []
        )
    tips = []
    if a < b - CORRECT_TOLERANCE:
        tips.append(
            "The model got less often right while its style changed: lower the learning rate or the steps, "
            "keep an SFT term on correct answers (DPO's loss_type sft), and make sure the training "
            "answers themselves are right."
        )
    if floor is not None and a < floor:
        tips.append(
            f"Only {a:.2f} of held-out answers are right (floor {floor}): a base model that does not know "
            "the answers cannot be tuned into knowing them; pick a larger model or teach the facts first "
            "(SFT on correct answers)."
        )
    return tips


# An answer that runs on into a conversation turn it invented ("Paris.\nuser\nWhat is ...") did not stop where
# its turn ends: whatever it said first, a person would not call that output good.
INVENTED_TURN = re.compile(r"\n\s*(?:user|assistant|system)\s*\n")
INVENTED_TURN_MAX_SHARE = 0.1


def turn_checks(after: dict) -> dict[str, bool]:
    """The tuned answers end at the end of their own turn (at most a tenth invent a next turn), and none
    carries template debris (a think block, a turn marker): a sign the model is asked unlike it was trained."""
    samples = after.get("samples") or []
    if not samples:
        return {}
    share = sum(bool(INVENTED_TURN.search(s["output"])) for s in samples) / len(samples)
    checks = {
        f"answers stop at their turn (invented turns <= {INVENTED_TURN_MAX_SHARE})": share <= INVENTED_TURN_MAX_SHARE
    }
    if any("debris" in s for s in samples):  # evaluations rendered before the debris count have none
        checks["no template debris in answers"] = not any(s.get("debris") for s in samples)
    return checks


TASK_CHECK = Figure("task_check", "share of held-out answers the task's own check passes (score >= 0.9)")


def task_check_checks(before: float, after: float, bar: float) -> dict[str, bool]:
    """With a task check: the tuned answers pass it often enough, and more often than the base model's."""
    return {f"task check pass rate >= {bar}": after >= bar, "task check pass rate rose": after > before}


def verdict_checks(
    track: Track, spec, report: dict, after_raw: dict, *, has_check: bool, tolerance: float = CORRECT_TOLERANCE
) -> dict[str, bool]:
    """The verdict's rules on one before/after (`report` holds "before" and "after": the test split's, or a
    checkpoint's on validation): the task check's bar when the task has one (figures under TASK_CHECK.key),
    else the track's own; correctness; answers that stop at their turn."""
    before, after = report["before"], report["after"]
    corr = correctness(before, after, spec.min_correct, tolerance)
    if has_check:
        checks = {
            **task_check_checks(before[TASK_CHECK.key], after[TASK_CHECK.key], spec.min_check_rate),
            **corr["checks"],
        }
    else:
        checks = {**track.checks(report, spec), **corr["checks"]}
    checks.update(turn_checks(after_raw))
    return checks
