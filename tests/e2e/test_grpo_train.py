"""Real GRPO steps on the embedded tiny model: a reward that fails on some samples leaves them out (never a
made-up score) and the run counts them; the Claude judge path (through the scripted local API server)
survives malformed replies and a spent budget, and stays under its cost cap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rl_agent.kit.dataio.prompts import bundled_prompts_path, load_prompts, write_prompts
from rl_agent.kit.launch.process import child_env
from rl_agent.kit.pipeline import report as reporting
from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import write_rendered
from rl_agent.kit.pipeline.run_folder import RunState
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.grpo import GRPOSettings
from rl_agent.kit.tracks.registry import get_track
from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (pytest fixtures)
from tests.support.anthropic_server import Reply

pytestmark = pytest.mark.slow

SMALL = {
    "max_steps": 2,
    "per_device_train_batch_size": 8,
    "num_generations": 4,
    "max_completion_length": 8,
    "max_new_tokens": 8,
    "save_steps": 2,
    # the short-answer data's references are words, so its format verifier (not the final-number default)
    "reward": "python:rl_agent.runtime.verifiers:short_answer",
    "heldout_judge": "terse",
    "reward_checks_correctness": False,
}


def make_run(folder: Path, model: Path, heldout_rows: int = 6, **grpo) -> RunSpec:
    """A rendered GRPO run folder on the bundled short-answer data, with tiny settings for tests."""
    folder.mkdir(parents=True, exist_ok=True)
    write_prompts(folder / "train.jsonl", load_prompts(bundled_prompts_path("short_answer", "train")))
    write_prompts(
        folder / "heldout.jsonl", load_prompts(bundled_prompts_path("short_answer", "heldout"))[:heldout_rows]
    )
    spec = RunSpec(model=str(model), model_source="local", algorithm="grpo", grpo=GRPOSettings(**{**SMALL, **grpo}))
    ctx = render_context(spec, str(model))
    write_rendered("train_grpo.py.j2", ctx, folder / "train_grpo.py")
    write_rendered("evaluate_grpo.py.j2", ctx, folder / "evaluate_grpo.py")
    return spec


def run_script(folder: Path, *cmd: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    full = child_env(offline=True, keep_secrets=True, extra=env)
    proc = subprocess.run(list(cmd), cwd=folder, env=full, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


FLAKY_VERIFIER = '''
calls = {"n": 0}


def score(prompt, output, reference):
    """1.0 for every answer it grades, but it crashes on every other call (a broken verifier)."""
    calls["n"] += 1
    if calls["n"] % 2 == 0:
        raise RuntimeError("verifier crashed")
    return 1.0
'''


def test_failed_grades_are_left_out_not_scored_and_are_counted(tmp_path, tiny_model):
    (tmp_path / "flaky.py").write_text(FLAKY_VERIFIER)
    spec = make_run(tmp_path / "run", tiny_model, reward=f"python:{tmp_path / 'flaky.py'}:score")
    run = tmp_path / "run"
    run_script(run, sys.executable, "train_grpo.py")
    tm = json.loads((run / "out" / "train_metrics.json").read_text())
    grading = tm["grading"]
    assert tm["steps"] == 2 and tm["processes"] == 1 and tm["global_batch"] == 8  # (2 processes: test_launch_*)
    assert grading["failures"] == {"user_function": 8} and grading["graded"] == 8  # every other one of 2 x 8
    # A None counted as 0 would pull the mean to 0.5; left out, every logged mean is the graded 1.0.
    assert [r for _, r in tm["reward_curve"]] == [1.0, 1.0]
    assert [h["score/failed"] for h in tm["log_history"] if "reward" in h] == [4.0, 4.0]  # per-step counts

    # Resume for one more step: the counts saved with the checkpoint carry over into the run's totals.
    assert json.loads((run / "out" / "checkpoint-2" / "grading.json").read_text())["failures"] == {"user_function": 8}
    script = run / "train_grpo.py"
    script.write_text(script.read_text().replace('"max_steps": 2,', '"max_steps": 3,'))
    proc = run_script(run, sys.executable, "train_grpo.py")
    assert "resuming from" in proc.stdout
    tm = json.loads((run / "out" / "train_metrics.json").read_text())
    assert tm["steps"] == 3 and [r for _, r in tm["reward_curve"]] == [1.0, 1.0, 1.0]
    assert tm["grading"]["failures"] == {"user_function": 12} and tm["grading"]["graded"] == 12

    run_script(run, sys.executable, "evaluate_grpo.py")
    ev = json.loads((run / "eval.json").read_text())
    for side in ("before", "after"):
        graded = [s["reward"] for s in ev[side]["samples"] if s["reward"] is not None]
        assert ev[side]["ungraded"] == 3 and graded == [1.0, 1.0, 1.0] and ev[side]["reward"] == 1.0
    state = RunState(spec=spec, model_path=str(tiny_model), timings={"train": 1.0})
    report = reporting.build_report(state, get_track("grpo"), ev, tm, 1.0)
    assert report["grading"]["failed"] == 12 + 6 and report["grading"]["failures"] == {"user_function": 18}
    assert "18 answers could not be graded (user_function: 18)" in reporting.render_markdown(report, None)


def claude_env(server, key: str) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": key, "ANTHROPIC_BASE_URL": server.base_url}


def test_claude_reward_survives_malformed_replies(tmp_path, tiny_model, anthropic_server, fake_key):
    # Step 1: every reply is prose, so each answer is tried twice and then fails as malformed; after that
    # the scripted server grades normally. Training must go on and leave step 1 out of the reward curve.
    anthropic_server.script(*[Reply.text_reply("Looks fine to me.") for _ in range(16)])
    make_run(tmp_path / "run", tiny_model, max_steps=3, reward="claude", heldout_judge="terse", judge_max_cost=5.0)
    run = tmp_path / "run"
    run_script(run, sys.executable, "train_grpo.py", env=claude_env(anthropic_server, fake_key))
    tm = json.loads((run / "out" / "train_metrics.json").read_text())
    grading = tm["grading"]
    assert tm["steps"] == 3
    # Identical answers share one request, so a few scripted prose replies may spill into step 2.
    assert list(grading["failures"]) == ["malformed"] and 8 <= grading["failures"]["malformed"] < 24
    assert grading["graded"] + grading["failed"] == 3 * 8
    assert [step for step, _ in tm["reward_curve"]] == [2, 3]  # nothing graded in step 1: no made-up reward
    assert 0 < grading["cost_usd"] <= 5.0
    assert fake_key not in (run / "out" / "train_metrics.json").read_text()
    assert (run / "grades.sqlite3").is_file()  # the grade cache lives in the run folder


def test_a_spent_budget_grades_nothing_and_the_run_says_so(tmp_path, tiny_model, anthropic_server, fake_key):
    make_run(tmp_path / "run", tiny_model, max_steps=1, reward="claude", heldout_judge="terse", judge_max_cost=0.0)
    run = tmp_path / "run"
    env = child_env(offline=True, keep_secrets=True, extra=claude_env(anthropic_server, fake_key))
    proc = subprocess.run(
        [sys.executable, "train_grpo.py"], cwd=run, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode != 0
    assert "every sample failed to grade (8 failures: {'budget': 8})" in proc.stderr
    assert anthropic_server.message_requests == []  # over budget: nothing is sent, nothing is spent
