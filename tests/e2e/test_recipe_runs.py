"""`rl-agent new --recipe NAME --set KEY=VALUE` as a user runs it: the plan carries its check, the check is proven
before anything trains, the base model's answers are scored by it, and the verdict is the task's own check.

The full runs (marked slow) train the embedded model on a few representative recipes; every recipe is run
by `python bench/tasks.py --run`, which prints the before -> after table."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.recipe_suite import FULL_RUN

# Full runs on the embedded model, opt-in for the suite's 15-minute budget (its default full `new` run to a
# succeeding verdict is the Claude-authored task in tests/e2e/test_claude_author.py, which goes through the same
# recipe-run path); with RL_AGENT_FULL_RECIPE_RUNS=1 every recipe measured to succeed there runs (bench/tasks.py
# --run prints the table for all of them). Measured on 2 CPU cores, task check and correctness before -> after:
# banned 0.71 -> 1.00 (1.00 -> 1.00), prefix 0.00 -> 1.00 (1.00 -> 0.97), closing 0.00 -> 1.00 (1.00 -> 1.00),
# JSON 0.00 -> 1.00 (1.00 -> 0.97), at most five words 0.52 -> 1.00 (1.00 -> 1.00), terse 0.52 -> 1.00
# (1.00 -> 0.97), three-number sums (GRPO) 0.45 -> 0.88. Not listed, because the verdict (rightly) fails on this
# 2M-parameter model: lowercase (0.00 -> 0.96 on the check, correctness 1.00 -> 0.32: it cannot spell in lower
# case the proper nouns it saw capitalised), list sorting (base answers score 0: no GRPO signal), no Markdown
# (the base model already passes: nothing to learn).
FULL_RUNS = os.environ.get("RL_AGENT_FULL_RECIPE_RUNS") == "1"


def recipe_args(recipe: str, sets: list[str]) -> list[str]:
    return ["--recipe", recipe] + [a for s in sets for a in ("--set", s)]


def test_a_check_that_fails_its_own_examples_is_not_run(tmp_path, cli):
    """An edited check that accepts what the task forbids: `rl-agent run` names the example and trains nothing."""
    run_dir = tmp_path / "run"
    proc = cli(
        "new",
        "--recipe",
        "banned",
        "--set",
        "openers=Sure",
        "--offline",
        "--yes",
        "--plan-only",
        "--run-dir",
        str(run_dir),
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["check"]["recipe"] == "banned" and "Sure" in spec["check"]["statement"]
    assert spec["data"]["train_file"] == "data/train.jsonl" and spec["check"]["path"] == "check.py"
    assert "check proven" in proc.stdout and spec["planned_by"] == "recipe"
    (run_dir / "check.py").write_text("def check(prompt, output, reference=None):\n    return 1.0\n")
    proc = cli("run", str(run_dir / "spec.json"), "--yes")
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and "check NOT proven" in err and "bad example 0 scored 1.00" in err
    assert f"{run_dir / 'examples.jsonl'}:6" in err  # the example's file and line
    assert not (run_dir / "run.json").exists() and not (run_dir / "out").exists()


def test_a_task_the_base_model_already_does_has_nothing_to_learn(tmp_path, cli):
    """The embedded model answers in at most about twenty words, hedged or not: "at most forty words" is
    already met, so nothing trains."""
    run_dir = tmp_path / "run"
    proc = cli("new", "--recipe", "length", "--set", "max=40", "--offline", "--yes", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = " ".join(proc.stdout.split())
    assert "check proven" in out and "nothing to learn" in out and "base model on the held-out prompts" in out
    assert not (run_dir / "run.json").exists() and not (run_dir / "out").exists()


SUCCEEDS_ON_EMBEDDED = ["closing", "banned", "length", "arithmetic", "prefix", "json_keys", "terse"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "recipe",
    [
        r if FULL_RUNS else pytest.param(r, marks=pytest.mark.skip(reason="set RL_AGENT_FULL_RECIPE_RUNS=1"))
        for r in SUCCEEDS_ON_EMBEDDED
    ],
)
def test_recipe_task_runs_to_a_verdict_measured_by_its_own_check(recipe, tmp_path, cli):
    run_dir = tmp_path / "run"
    proc = cli("new", *recipe_args(recipe, FULL_RUN[recipe]), "--offline", "--yes", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert "check proven" in proc.stdout and "base model on the held-out prompts" in proc.stdout
    report = json.loads((run_dir / "report.json").read_text())
    tc = report["task_check"]
    assert report["verdict"]["succeeded"] is True
    assert tc["after"]["pass_rate"] >= 0.8 and tc["after"]["pass_rate"] > tc["before"]["pass_rate"]
    assert any(k.startswith("task check pass rate >=") for k in report["verdict"]["checks"])
    # the figures are the check's own scores of the answers in the report, recomputed here
    from rl_agent.kit.planning.recipes import CheckItem, score_outputs

    rows = [json.loads(x) for x in (run_dir / "heldout.jsonl").read_text().splitlines() if x.strip()]
    items = [CheckItem(r["prompt"], s["output"], r.get("reference")) for r, s in zip(rows, report["after"]["samples"])]
    assert score_outputs(run_dir, "check.py", items).pass_rate == tc["after"]["pass_rate"]
