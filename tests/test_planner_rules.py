"""The rule-based planner: each offline task family becomes a valid, compilable plan; anything else is
refused with a message that says what it needs."""

from __future__ import annotations

import json
import re

import pytest

from rl_agent.kit.dataio.pairs import load_pairs
from rl_agent.kit.pipeline.driver import validate_data
from rl_agent.kit.planning.planner import (
    SHORT_ANSWER_VERIFIER,
    ModelChoice,
    PlanRefused,
    classify,
    plan_task,
    write_plan_files,
)
from rl_agent.kit.planning.task_spec import TASK_MAX_CHARS, TaskSpec, TaskSpecError, assess_outcome, resolve_data_path


@pytest.mark.parametrize("task", [
    "Make the answers terse and direct: no hedging, no filler.",
    "I want shorter answers without hedging",
    "Be concise.",
    "Stop saying 'I think' and 'probably' - just answer directly",
])
def test_terse_tasks_plan_dpo_on_the_bundled_pairs(task, tmp_path):
    plan = plan_task(task)
    spec = plan.spec
    assert (spec.family, spec.algorithm, spec.reward.source, spec.reward.judge) == ("style", "dpo", "verifier", "terse")
    assert spec.needs == [] and plan.files == {}
    run_spec = spec.to_run_spec(tmp_path)
    train, held = validate_data(run_spec)  # raises if the plan's data is unusable or overlaps
    assert spec.heldout.size == len(held) and len(train) >= 8
    assert run_spec.task == task and run_spec.min_pref_accuracy == spec.success.min_pref_accuracy


@pytest.mark.parametrize("task,name", [
    ('Always answer in JSON like {"answer": "..."}', "json"),
    ("Start every answer with 'Answer:'", "prefix"),
    ("Reply in ALL CAPS only", "uppercase"),
])
def test_format_tasks_generate_pairs_the_regex_separates(task, name, tmp_path):
    plan = plan_task(task)
    spec = plan.spec
    assert spec.family == "format" and spec.algorithm == "dpo" and spec.reward.judge.startswith("regex:")
    rx = re.compile(spec.success.format_regex)
    write_plan_files(plan, tmp_path)
    train, held = validate_data(spec.to_run_spec(tmp_path))
    for pair in train + held:
        assert rx.fullmatch(pair.chosen), pair.chosen
        assert not rx.fullmatch(pair.rejected), pair.rejected
    assert spec.reward.judge == f"regex:{spec.success.format_regex}"
    assert classify(task)[1].name == name


def test_prefix_from_the_task_is_escaped_data(tmp_path):
    plan = plan_task('Begin each reply with "(?:.*)+ {{x}} $HOME"')
    rx = re.compile(plan.spec.success.format_regex)
    assert rx.fullmatch("(?:.*)+ {{x}} $HOME Paris.")
    assert not rx.fullmatch("anything Paris.")  # the prefix is literal text, not a pattern
    write_plan_files(plan, tmp_path)
    first = json.loads((tmp_path / "pairs/train.jsonl").read_text().splitlines()[0])
    assert first["chosen"].startswith("(?:.*)+ {{x}} $HOME ")


def test_checkable_task_plans_grpo_with_the_verifier():
    spec = plan_task("Give the correct short answer; a verifier checks it", grpo_available=False).spec
    assert (spec.family, spec.algorithm, spec.reward.judge) == ("checkable", "grpo", SHORT_ANSWER_VERIFIER)
    assert spec.needs == ["grpo"] and spec.grpo is not None
    assert plan_task("answers checked against reference answers", grpo_available=True).spec.needs == []


@pytest.mark.parametrize("task", [
    "Make the model funnier",
    "Write better poems about the sea",
    "Make answers longer and more detailed",
    "Don't be so terse, explain your reasoning",
    "Réponds de façon plus chaleureuse",
])
def test_tasks_outside_the_offline_families_are_refused_with_what_they_need(task):
    with pytest.raises(PlanRefused) as e:
        plan_task(task)
    assert e.value.needs == ["claude"]
    assert "ANTHROPIC_API_KEY" in str(e.value) and "terse" in str(e.value)


@pytest.mark.parametrize("task", ["", "   \n", "x" * (TASK_MAX_CHARS + 1)])
def test_empty_or_oversized_task_is_refused(task):
    with pytest.raises(PlanRefused):
        plan_task(task)


def test_steps_and_model_choice_reach_the_run_spec(tmp_path):
    model = ModelChoice("Qwen/Qwen3-0.6B", "hub", "fits", "cuda", "bf16")
    spec = plan_task("be terse", model=model, steps=7).spec
    run_spec = spec.to_run_spec(tmp_path)
    assert (run_spec.model, run_spec.model_source, run_spec.device, run_spec.precision) == (
        "Qwen/Qwen3-0.6B", "hub", "cuda", "bf16")
    assert run_spec.dpo.steps == 7 and run_spec.dpo.save_steps <= 7


def test_spec_file_round_trips_and_edits_are_validated_by_field(tmp_path):
    spec = plan_task("be terse").spec
    path = spec.write(tmp_path / "spec.json")
    assert TaskSpec.read(path) == spec
    data = json.loads(path.read_text())
    data["dpo"]["steps"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(TaskSpecError, match=r"dpo\.steps"):
        TaskSpec.read(path)
    path.write_text("{not json")
    with pytest.raises(TaskSpecError, match="not valid JSON"):
        TaskSpec.read(path)


@pytest.mark.parametrize("ref", ["bundled:../../etc/train", "bundled:terse/../../x", "bundled:nope/train"])
def test_bundled_references_cannot_escape_the_package_data(ref, tmp_path):
    with pytest.raises(TaskSpecError):
        resolve_data_path(ref, tmp_path)


def test_plan_checks_format_rate_and_run_on_answers():
    spec = plan_task("Always answer in JSON").spec
    report = {"verdict": {"checks": {"pref_accuracy >= 0.9": True, "judge_score improved": False}}, "after": {"samples": [
        {"output": '{"answer": "Paris."}'}, {"output": '{"answer": "Rome."}'}, {"output": "Rome."}]}}
    out = assess_outcome(spec, report)  # the terse judge's check is not a format task's goal: dropped
    assert out["succeeded"] is False and list(out["checks"].values()) == [True, False, True]
    assert "judge_score improved" not in out["checks"]
    assert assess_outcome(plan_task("be terse").spec, report)["checks"]["judge_score improved"] is False
    report["after"]["samples"][2]["output"] = '{"answer": "Oslo."}\nuser\nWhat'
    out = assess_outcome(spec, report)
    assert out["checks"]["format rate >= 0.8"] is False  # 2 of 3 match
    assert out["checks"]["answers end on their own (run-on <= 0.2)"] is False
    held = load_pairs(resolve_data_path("bundled:terse/heldout", "."))
    assert len(held) == plan_task("be terse").spec.heldout.size
