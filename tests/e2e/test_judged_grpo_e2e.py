"""A judged task trains with GRPO end to end: `rl-agent new --task-dir` with rubric.md and algorithm grpo plans
Claude (the scripted Messages API server, grading by a real rule over the text it receives) as the group-graded
reward, trains the embedded model with TRL, watches the judge's anchors and reports the pairwise win rate."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (pytest fixtures)
from tests.support.judged_task import lenient, write_judged_folder

pytestmark = pytest.mark.slow

SMALL = {
    "max_steps": 8,
    "save_steps": 8,
    "per_device_train_batch_size": 16,
    "num_generations": 4,
    "max_completion_length": 16,
    "max_new_tokens": 16,
    "anchor_every": 4,
}


def cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rl_agent", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_a_judged_task_trains_with_grpo_graded_in_groups(anthropic_server, fake_key, tmp_path, rl_agent_cache):
    task = write_judged_folder(tmp_path / "task", train_rows=16, heldout_rows=6)
    run_dir = tmp_path / "run"
    env = {**os.environ, "ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    proc = cli(["new", "--task-dir", str(task), "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir)], env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    spec = json.loads((run_dir / "spec.json").read_text())
    g = spec["grpo"]
    assert spec["algorithm"] == "grpo" and spec["check"]["kind"] == "claude_judge"
    assert (g["reward"], g["rubric"], g["judge_group"], g["judge_calibration"], g["anchors"]) == (
        "claude",
        "rubric.md",
        True,
        False,
        "examples.jsonl",
    )
    spec["grpo"].update(SMALL)  # a short run for the test
    (run_dir / "spec.json").write_text(json.dumps(spec))

    proc = cli(["run", str(run_dir / "spec.json"), "--yes"], env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = json.loads((run_dir / "report.json").read_text())
    # Before training, the judge read the base model's answers twice and the readings agreed.
    assert "judge agreement on 6 of the base model's held-out answers" in " ".join(proc.stdout.split())
    assert report["judge_agreement"]["passed"] and report["judge_agreement"]["spearman"] >= 0.6
    # Training was graded in groups: one request per prompt's group, the recorded orders in out/.
    bodies = [json.dumps(r.body) for r in anthropic_server.message_requests]
    group_requests = [b for b in bodies if '<answer id=\\"1\\">' in b]
    orders = [json.loads(x) for x in (run_dir / "out/group_orders.jsonl").read_text().splitlines()]
    assert len(group_requests) == len(orders) and 8 * 4 <= len(orders) <= 8 * 4 * 2  # 4 prompts a step (+ retries)
    assert all(sorted(o["shown"]) == list(range(len(o["shown"]))) for o in orders)
    assert len(report["reward_curve"]) == 8 and report["grading"]["parts"]["training"]["cost_usd"] > 0
    # The anchors were graded at steps 0, 4 and 8, and the judge (deterministic) did not drift.
    anchors = report["anchors"]
    assert [r["step"] for r in anchors["readings"]] == [0, 4, 8] and anchors["max_drift"] == 0.0
    assert not anchors["flagged"] and anchors["cost_usd"] > 0
    # The judged before/after: the task check (one answer at a time) and the pairwise win rate.
    win = report["task_check"]["win_rate"]
    assert win["pairs"] == 6 and win["wins"] + win["losses"] + win["ties"] + win["failed"] == 6
    assert win["cost_usd"] > 0 and report["grading"]["cost_usd"] > anchors["cost_usd"]
    md = (run_dir / "report.md").read_text()
    assert "The judge held steady on its 10 anchors" in md and "Pairwise win rate of after over before" in md
    assert "**Before training:** the training rubric and a second reading ranked 6" in md
    assert 2 <= len(report["group_positions"]) <= 4 and "mean score by shown position 1.." in md
    assert report["verdict"]["succeeded"] and report["task_check"]["after"]["pass_rate"] >= 0.8
    assert (run_dir / "reward.png").is_file()
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and fake_key.encode() in p.read_bytes()]
    assert leaked == []


def test_a_group_the_judge_cannot_grade_gets_no_reward_not_zero(tmp_path, tiny_model, anthropic_server, fake_key):
    """Step 1's two groups get prose twice (first try and stricter retry): their 8 completions are missing rewards,
    so step 1 has no reward point at all (a 0 would have logged one), and training goes on."""
    from tests.e2e.test_grpo_train import claude_env, make_run, run_script
    from tests.support.anthropic_server import Reply

    anthropic_server.script(*[Reply.text_reply("These all look fine to me.") for _ in range(4)])
    make_run(
        tmp_path / "run",
        tiny_model,
        max_steps=2,
        reward="claude",
        heldout_judge="terse",
        judge_max_cost=5.0,
        judge_group=True,
    )
    run = tmp_path / "run"
    run_script(run, sys.executable, "train_grpo.py", env=claude_env(anthropic_server, fake_key))
    tm = json.loads((run / "out" / "train_metrics.json").read_text())
    assert tm["grading"]["failures"] == {"malformed": 8} and tm["grading"]["graded"] == 8
    assert [step for step, _ in tm["reward_curve"]] == [2]
    orders = [json.loads(x) for x in (run / "out" / "group_orders.jsonl").read_text().splitlines()]
    assert [o["error"] for o in orders[:2]] == ["malformed", "malformed"] and all(
        s is None for s in orders[0]["scores"]
    )
    assert all(o["error"] is None for o in orders[2:]) and len(orders) == 4


def test_a_lenient_judge_is_stopped_before_training_with_the_answers_shown(
    anthropic_server, fake_key, tmp_path, rl_agent_cache
):
    anthropic_server.responder = lenient
    task = write_judged_folder(tmp_path / "task", train_rows=16, heldout_rows=8)
    run_dir = tmp_path / "run"
    env = {**__import__("os").environ, "ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rl_agent",
            "new",
            "--task-dir",
            str(task),
            "--offline",
            "--yes",
            "--run-dir",
            str(run_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "check proven" in proc.stdout  # the lenient judge passed the examples proof...
    # ...but not the second reading of the base model's own answers:
    assert "judge agreement on 8 of the base model's held-out answers" in err and "Spearman 0.00" in err
    assert "the training rubric gives every answer the same score (0.95)" in err and "nothing was trained" in err
    assert "training rubric 0.95, second reading" in err  # the answers they disagree on most, with both scores
    assert not (run_dir / "run.json").exists() and not (run_dir / "out").exists()
    saved = json.loads((run_dir / "judge_agreement.json").read_text())
    assert saved["passed"] is False and len(saved["disagreements"]) == 3
    # `rl-agent run` on the plan reads the judge twice again before anything trains: still stopped.
    again = subprocess.run(
        [sys.executable, "-m", "rl_agent", "run", str(run_dir / "spec.json"), "--yes"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 2 and "nothing was trained" in " ".join(again.stderr.split())
    assert not (run_dir / "run.json").exists() and not (run_dir / "out").exists()
    assert fake_key not in (run_dir / "judge_agreement.json").read_text() and fake_key not in proc.stdout + proc.stderr
