"""What the repair loop tells a person about a failure it does not recognise: a test verdict that validation
could not see is named as such (no settings search ran, and why), anything else as not a known failure."""

from __future__ import annotations

from rl_agent.agent.repair.catalogue import Symptoms
from rl_agent.agent.repair.loop import _unrecognised
from rl_agent.kit.pipeline.run_folder import RunFolder, write_json_atomic
from rl_agent.kit.pipeline.selection import SELECTION_FILE, Candidate, Selection

VERDICT = "verdict: the before/after did not succeed (correct did not fall (after >= before - 0.05): no)"


def _selection(root, passed: bool) -> None:
    kept = Candidate(30, "out/checkpoint-30", {"correct": 1.0}, {"correct did not fall": passed})
    sel = Selection(30, passed, "why", {}, [kept], validation_rows=24)
    write_json_atomic(root / SELECTION_FILE, sel.to_dict())


def test_a_test_failure_after_validation_passed_says_validation_could_not_see_it(tmp_path):
    _selection(tmp_path, passed=True)
    msg = _unrecognised(RunFolder(tmp_path), Symptoms(VERDICT))
    assert msg.startswith("the run completed and checkpoint 30 passed every rule on validation (24 prompts)")
    assert "correct did not fall" in msg and "no settings search ran" in msg and "not a known failure" not in msg


def test_other_unrecognised_failures_say_so(tmp_path):
    folder = RunFolder(tmp_path)
    assert _unrecognised(folder, Symptoms(VERDICT)) == f"not a known failure: {VERDICT}"  # no selection on file
    _selection(tmp_path, passed=False)
    assert _unrecognised(folder, Symptoms(VERDICT)).startswith("not a known failure")  # validation said no too
    crash = Symptoms("training failed (exit 1): RuntimeError: boom", stage="train")
    _selection(tmp_path, passed=True)
    assert _unrecognised(folder, crash) == f"not a known failure: {crash.error}"  # a crash is not a verdict
