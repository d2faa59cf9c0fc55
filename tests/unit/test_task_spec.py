"""spec.json (TaskSpec): it round-trips, an edit is validated by field name, bundled data references cannot
escape the package, settings reach the run spec for every algorithm, and a spec without a task check (one
written before the recipes) is still judged by its own plan checks."""

from __future__ import annotations

import json

import pytest

from rl_agent.kit.dataio.pairs import load_pairs
from rl_agent.kit.planning.task_spec import ModelPlan, TaskSpec, TaskSpecError, assess_outcome, resolve_data_path
from tests.support.faults import terse_spec


def test_spec_file_round_trips_and_edits_are_validated_by_field(tmp_path):
    spec = terse_spec("be terse", {})
    path = spec.write(tmp_path / "spec.json")
    assert TaskSpec.read(path) == spec
    data = json.loads(path.read_text())
    data["dpo"]["max_steps"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(TaskSpecError, match=r"dpo\.max_steps"):
        TaskSpec.read(path)
    path.write_text("{not json")
    with pytest.raises(TaskSpecError, match="not valid JSON"):
        TaskSpec.read(path)


@pytest.mark.parametrize("ref", ["bundled:../../etc/train", "bundled:terse/../../x", "bundled:nope/train"])
def test_bundled_references_cannot_escape_the_package_data(ref, tmp_path):
    with pytest.raises(TaskSpecError):
        resolve_data_path(ref, tmp_path)


@pytest.mark.parametrize("algorithm", ["dpo", "sft", "kto"])
def test_a_task_folder_plan_reaches_the_run_spec_with_its_track_settings(algorithm, tmp_path):
    """task.json's algorithm picks the track; --steps and the model choice reach the run spec."""
    from rl_agent.kit.planning.authored import plan_task_spec
    from rl_agent.kit.planning.recipes.library import plan_recipes

    plan = plan_recipes([("prefix", ["prefix=Answer:"])])
    plan.algorithm = algorithm
    spec = plan_task_spec(
        plan,
        model=ModelPlan(name="Qwen/Qwen3-0.6B", source="hub", reason="fits"),
        device="cuda",
        precision="bf16",
        steps=7,
    )
    assert spec.algorithm == algorithm and getattr(spec, algorithm).max_steps == 7
    run_spec = spec.to_run_spec(tmp_path)
    assert (run_spec.algorithm, run_spec.model, run_spec.model_source, run_spec.device, run_spec.precision) == (
        algorithm,
        "Qwen/Qwen3-0.6B",
        "hub",
        "cuda",
        "bf16",
    )
    assert run_spec.settings.max_steps == 7 and run_spec.settings.save_steps <= 7
    assert run_spec.check_file.endswith("check.py")
    assert TaskSpec.model_validate(spec.model_dump(mode="json")) == spec


def test_a_spec_without_a_task_check_keeps_its_plan_checks():
    """spec.json files written by the rule planner (format tasks with a regex) still get their own checks."""
    spec = terse_spec("Always answer in JSON", {}).model_copy(update={"family": "format", "planned_by": "rules"})
    spec.success.format_regex = r'\{"answer": ".+"\}'
    report = {
        "verdict": {"checks": {"pref_accuracy >= 0.9": True, "judge_score improved": False}},
        "after": {
            "samples": [{"output": '{"answer": "Paris."}'}, {"output": '{"answer": "Rome."}'}, {"output": "Rome."}]
        },
    }
    out = assess_outcome(spec, report)  # the terse judge's check is not a format task's goal: dropped
    assert out["succeeded"] is False and list(out["checks"].values()) == [True, False, True]
    assert "judge_score improved" not in out["checks"]
    assert assess_outcome(terse_spec("be terse", {}), report)["checks"]["judge_score improved"] is False
    report["after"]["samples"][2]["output"] = '{"answer": "Oslo."}\nuser\nWhat'
    out = assess_outcome(spec, report)
    assert out["checks"]["format rate >= 0.8"] is False  # 2 of 3 match
    assert out["checks"]["answers end on their own (run-on <= 0.2)"] is False
    held = load_pairs(resolve_data_path("bundled:terse/heldout", "."))
    assert len(held) == terse_spec("be terse", {}).heldout.size
