"""Offline judges: verifiers, the terse-style wrapper, make_judge specs, and the GRPO reward wrapper."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from rl_agent.kit.judges.base import Grade, GradeItem, Judge
from rl_agent.kit.judges.factory import make_judge
from rl_agent.kit.judges.offline import TerseStyleJudge
from rl_agent.kit.judges.reward import JudgeReward
from rl_agent.kit.judges.verifiers import (
    ExactMatchJudge,
    JsonSchemaJudge,
    PythonFunctionJudge,
    RegexJudge,
    _mini_validate,
    load_function,
)
from rl_agent.runtime.terse_style import terse_style_score


def test_grade_rejects_out_of_range_and_unexplained_failure():
    with pytest.raises(ValueError):
        Grade(1.5, "too high")
    with pytest.raises(ValueError):
        Grade(None, "no kind")
    g = Grade.failed("timeout", "slow")
    assert not g.ok and g.score is None and g.to_dict()["ok"] is False


def test_exact_match_normalises_case_space_and_final_punctuation():
    j = ExactMatchJudge()
    assert j.grade("q", "  Paris. ", "paris").score == 1.0
    assert j.grade("q", "Lyon", "Paris").score == 0.0
    assert ExactMatchJudge(case_sensitive=True).grade("q", "paris", "Paris").score == 0.0
    missing = j.grade("q", "Paris")
    assert missing.error == "missing_reference" and missing.score is None


def test_regex_search_and_fullmatch():
    assert RegexJudge(r"\b391\b").grade("q", "It is 391.").score == 1.0
    assert RegexJudge(r"\d+", fullmatch=True).grade("q", "391 apples").score == 0.0
    assert RegexJudge(r"paris", ignore_case=True).grade("q", "PARIS").score == 1.0
    with pytest.raises(ValueError, match="invalid regex"):
        RegexJudge("[")


SCHEMA = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0}},
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    "output, ok",
    [
        ('{"name": "Ada", "age": 36}', True),
        ('```json\n{"name": "Ada", "age": 36}\n```', True),
        ('{"name": "Ada"}', False),
        ('{"name": "Ada", "age": -1}', False),
        ('{"name": "Ada", "age": 36, "x": 1}', False),
        ('{"name": "Ada", "age": "36"}', False),
        ("Ada is 36", False),
    ],
)
def test_json_schema_judge(output, ok):
    g = JsonSchemaJudge(SCHEMA).grade("q", output)
    assert g.ok and g.score == (1.0 if ok else 0.0), g.reason


@pytest.mark.parametrize(
    "value, bad",
    [
        ({"name": "A", "age": 1}, False),
        ({"age": 1}, True),
        ({"name": "", "age": 1}, True),
        ({"name": "A", "age": True}, True),
        ({"name": "A", "age": 1, "z": 0}, True),
        ([1], True),
    ],
)
def test_minimal_validator_subset_agrees(value, bad):
    """The no-dependency fallback must catch the same violations for the subset it supports."""
    assert (_mini_validate(value, SCHEMA, "$") is not None) == bad


def test_json_schema_from_file_errors(tmp_path):
    bad = tmp_path / "s.json"
    bad.write_text("{nope")
    with pytest.raises(ValueError, match="not valid JSON"):
        JsonSchemaJudge.from_file(bad)
    with pytest.raises(ValueError, match="no such schema file"):
        JsonSchemaJudge.from_file(tmp_path / "missing.json")


def test_python_function_from_file_all_arities_and_return_shapes(tmp_path):
    src = tmp_path / "my_verifier.py"
    src.write_text(
        textwrap.dedent("""
        def one(output):
            return len(output) < 10
        def two(prompt, output):
            return (0.5, "half") if prompt == "q" else 0.0
        def three(prompt, output, reference):
            return {"score": float(reference in output), "reason": "contains ref"}
        def broken(output):
            raise RuntimeError("boom")
        def too_big(output):
            return 3
        def not_a_number(output):
            return "yes"
    """)
    )
    spec = f"{src}:"
    assert PythonFunctionJudge.from_spec(spec + "one").grade("q", "short").score == 1.0
    g = PythonFunctionJudge.from_spec(spec + "two").grade("q", "x")
    assert (g.score, g.reason) == (0.5, "half")
    assert PythonFunctionJudge.from_spec(spec + "three").grade("q", "Paris!", "Paris").score == 1.0
    assert PythonFunctionJudge.from_spec(spec + "broken").grade("q", "x").error == "user_function"
    assert PythonFunctionJudge.from_spec(spec + "too_big").grade("q", "x").error == "out_of_range"
    assert PythonFunctionJudge.from_spec(spec + "not_a_number").grade("q", "x").error == "user_function"
    with pytest.raises(ValueError, match="no callable"):
        load_function(spec + "missing")
    with pytest.raises(ValueError, match="no such file"):
        load_function(str(tmp_path / "nope.py") + ":f")


def test_python_function_from_module(tmp_path, monkeypatch):
    (tmp_path / "rl_agent_test_verifier_mod.py").write_text("def check(output):\n    return output == 'ok'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    judge = make_judge("python:rl_agent_test_verifier_mod:check")
    assert judge.grade("q", "ok").score == 1.0 and judge.grade("q", "no").score == 0.0
    sys.modules.pop("rl_agent_test_verifier_mod", None)


def test_terse_wrapper_matches_the_foundation_function():
    j = TerseStyleJudge()
    for text in ["Paris.", "Great question! I think it is probably Paris. Hope this helps!", "", "a " * 40]:
        score, reason = terse_style_score(text)
        g = j.grade("q", text)
        assert (g.score, g.reason) == (score, reason)


def test_make_judge_specs_and_protocol(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    for spec, cls in [
        ("terse", TerseStyleJudge),
        ("exact", ExactMatchJudge),
        ("regex:^a", RegexJudge),
        (f"json-schema:{schema}", JsonSchemaJudge),
    ]:
        judge = make_judge(spec)
        assert isinstance(judge, cls) and isinstance(judge, Judge)
    assert make_judge("exact:case").case_sensitive
    with pytest.raises(ValueError, match="unknown judge"):
        make_judge("bogus")


def test_reward_wrapper_returns_none_for_failures_and_counts_them():
    reward = JudgeReward(make_judge("exact"))
    completions = ["Paris", [{"role": "assistant", "content": "Lyon"}], "Rome"]
    prompts = ["Capital of France?", [{"role": "user", "content": "Capital of France?"}], "Capital of Italy?"]
    scores = reward(prompts=prompts, completions=completions, reference=["paris", "Paris", None])
    assert scores == [1.0, 0.0, None]
    assert reward.stats.as_dict()["failures"] == {"missing_reference": 1}
    assert reward.stats.graded == 2 and reward.__name__ == "exact_reward"
    with pytest.raises(ValueError):
        reward(prompts=["a"], completions=["b", "c"])


def test_grade_many_default_loop():
    grades = RegexJudge("x").grade_many([GradeItem("q", "x"), GradeItem("q", "y")])
    assert [g.score for g in grades] == [1.0, 0.0]
