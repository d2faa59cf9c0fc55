"""Rendering the GRPO scripts: standalone when the reward is a verifier or the offline judge, importing
rl-agent only for Claude (and saying so), user text only as data; plus spec and prompt-file validation."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.dataio.prompts import check_no_overlap, load_prompts
from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.grpo import GRPOSettings
from rl_agent.kit.tracks.grpo.scorers import plan_scorer
from rl_agent.runtime.final_number import FORMAT_CREDIT, final_number
from rl_agent.runtime.reward import LocalReward
from rl_agent.runtime.terse_style import terse_style_score


def grpo_spec(**grpo) -> RunSpec:
    return RunSpec(model="m", model_source="local", algorithm="grpo", grpo=GRPOSettings(**grpo))


def render(tmp_path: Path, spec: RunSpec) -> tuple[Path, Path]:
    ctx = render_context(spec, "/models/m")
    return (
        write_rendered("train_grpo.py.j2", ctx, tmp_path / "train_grpo.py"),
        write_rendered("evaluate_grpo.py.j2", ctx, tmp_path / "evaluate_grpo.py"),
    )


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def load_script(path: Path):
    """Import a rendered script as a module (its main() is not run; torch is imported only inside it)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verifier_run_renders_standalone_scripts_whose_scorers_match_the_kit(tmp_path):
    train, evaluate = render(tmp_path, grpo_spec())  # the default: RLVR on the final answer
    for script in (train, evaluate):
        assert "rl_agent" not in imported_modules(script)
    mod = load_script(train)
    assert mod.CONFIG["reward"]["function"] == "final_number" and mod.CONFIG["reward"]["claude"] is None
    outputs = ["3 + 4 = 7. 7 + 2 = 9. #### 9", "#### 10", "The answer is 9.", ""]
    refs = ["9"] * 4
    rendered = mod.build_scorer(mod.CONFIG["reward"])(prompts=["q"] * 4, completions=outputs, reference=refs)
    kit = LocalReward(final_number, "k")(prompts=["q"] * 4, completions=outputs, reference=refs)
    assert rendered == kit == [1.0, FORMAT_CREDIT, 0.0, 0.0]  # a well-formed wrong answer earns next to nothing

    ev = load_script(evaluate)
    check = ev.build_scorer(ev.CONFIG["check"])  # the held-out judge: correctness, inlined
    assert ev.CONFIG["check"]["function"] == "correctness_score"
    assert check(prompts=["q"] * 4, completions=outputs, reference=refs) == [1.0, 0.0, 1.0, 0.0]

    terse = load_script(
        render(
            tmp_path,
            grpo_spec(
                reward="terse",
                heldout_judge="python:rl_agent.kit.tracks.grpo_verifiers:short_answer",
                reward_checks_correctness=False,
            ),
        )[0]
    )
    words = ["Paris.", "I think it is Paris.", "paris", ""]
    assert terse.build_scorer(terse.CONFIG["reward"])(prompts=["q"] * 4, completions=words) == [
        terse_style_score(o)[0] for o in words
    ]


def test_claude_reward_imports_rl_agent_and_says_so(tmp_path):
    train, evaluate = render(tmp_path, grpo_spec(reward="claude", heldout_judge="terse", judge_max_cost=0.25))
    text = train.read_text()
    doc = ast.get_docstring(ast.parse(text))
    assert "imports rl_agent.kit.judges" in doc and "ANTHROPIC_API_KEY" in doc and "max_cost" in doc
    mod = load_script(train)
    assert mod.CONFIG["reward"]["claude"]["max_cost"] == 0.25 and mod.CONFIG["reward"]["function"] is None
    assert "make_judge" in text and "JudgeReward" in text
    ev = load_script(evaluate)
    assert ev.CONFIG["max_cost"] == 0.25 and ev.CONFIG["check"]["function"] == "terse_style_score"
    assert "imports rl_agent.kit.judges" in ast.get_docstring(ast.parse(evaluate.read_text()))


def test_evaluation_spends_only_what_training_left(tmp_path):
    _, evaluate = render(tmp_path, grpo_spec(reward="claude", heldout_judge="terse", judge_max_cost=0.25))
    ev = load_script(evaluate)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train_metrics.json").write_text(json.dumps({"grading": {"cost_usd": 0.2}}))
    assert ev.remaining_budget(ev.CONFIG) == pytest.approx(0.05)
    (tmp_path / "out" / "train_metrics.json").write_text(json.dumps({"grading": {"cost_usd": 0.3}}))
    assert ev.remaining_budget(ev.CONFIG) == 0.0


HOSTILE = ['"""; import os; os.system("touch /tmp/pwned") #', "{{ 7 * 7 }} {% raw %}", "\\x00\n back\\slash"]


@pytest.mark.parametrize("text", HOSTILE)
def test_user_text_renders_as_data_only(tmp_path, text):
    spec = RunSpec(
        model="m",
        model_source="local",
        algorithm="grpo",
        task=text,
        grpo=GRPOSettings(reward="regex:" + text, heldout_judge="terse"),
    )
    for script in render(tmp_path, spec):
        tree = ast.parse(script.read_text())
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system"]
        assert "49" not in ast.get_docstring(tree)
    assert load_script(tmp_path / "train_grpo.py").CONFIG["reward"]["spec"] == "regex:" + text


def test_bad_judge_specs_fail_before_anything_runs():
    with pytest.raises(ValueError, match="unknown judge"):
        plan_scorer("nonsense")
    with pytest.raises(ValueError, match="no function"):
        plan_scorer("python:rl_agent.runtime.verifiers:missing")


def test_settings_refuse_partial_groups_and_a_held_out_judge_equal_to_the_reward():
    with pytest.raises(ValidationError, match="multiple of num_generations"):
        GRPOSettings(batch_size=10, num_generations=4)
    with pytest.raises(ValidationError, match="must differ"):
        GRPOSettings(reward="terse", heldout_judge="terse")
    assert RunSpec(model="m", model_source="local").grpo.reward.endswith("final_number:final_number")


def write(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "rows, message",
    [
        (["{not json"], ":1: not valid JSON"),
        ([{"prompt": "a"}, {"reference": "x"}], ":2: missing field 'prompt'"),
        ([{"prompt": "a", "chosen": "x"}], "come together"),
        ([{"prompt": "a", "reference": 3}], "'reference' must be a non-empty string"),
        ([{"prompt": "a"}, {"prompt": "a"}], ":2: duplicate prompt (first on line 1)"),
        ([], "0 prompts, need at least 1"),
    ],
)
def test_prompt_files_are_validated_with_file_and_line(tmp_path, rows, message):
    with pytest.raises(PairFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_prompts(write(tmp_path / "p.jsonl", rows))


def test_pair_files_load_as_prompts_with_chosen_as_reference(tmp_path):
    rows = load_prompts(write(tmp_path / "p.jsonl", [{"prompt": "q", "chosen": "A.", "rejected": "Maybe A."}]))
    assert rows[0].reference == "A." and rows[0].rejected == "Maybe A."
    with pytest.raises(PairFileError, match="held-out prompt also in training"):
        check_no_overlap(rows, load_prompts(write(tmp_path / "h.jsonl", [{"prompt": " Q "}])), "h.jsonl")
