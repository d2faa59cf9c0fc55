"""The online-RL track end to end: `rl-agent setup --offline --track grpo` trains the embedded model with
GRPO + LoRA on the bundled arithmetic task against a verifier of the final answer (real RLVR), and the report
shows the reward climbing, held-out exact accuracy rising by at least 0.10 on at least 50 unseen problems,
and the checks training never optimised improving too. And the guard says no: a deliberately format-only
reward climbs just as well, and that run is flagged as reward hacking with a failed verdict."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.cli import assert_exit_follows_verdict, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory, tiny_model):
    run_dir = tmp_path_factory.mktemp("grpo") / "run"
    started = time.time()
    proc = run_cli("setup", "--offline", "--yes", "--track", "grpo", "--run-dir", str(run_dir))
    assert_exit_follows_verdict(proc, run_dir)
    return run_dir, proc, time.time() - started


def test_reward_climbs_and_held_out_figures_improve(grpo_run):
    run_dir, _, seconds = grpo_run
    report = json.loads((run_dir / "report.json").read_text())
    assert report["algorithm"] == "grpo" and report["reward_spec"].endswith("final_number:final_number")
    assert report["heldout_judge"].endswith("correctness:correctness_score")
    trend = report["reward_trend"]
    assert trend["last_fifth"] > trend["first_fifth"] and trend["climbed"] is True
    before, after = report["before"], report["after"]
    assert after["reward"] > before["reward"]  # the verifier's score on unseen problems
    assert len(after["samples"]) >= 50 and after["correct"] - before["correct"] >= 0.10  # exact accuracy
    assert after["check"] > before["check"]  # a judge training never saw
    assert after["lc_margin"] > before["lc_margin"]  # length-controlled, on fixed held-out answers
    assert before["lc_shift"] == pytest.approx(0.5)  # the base model measured against itself
    assert report["hacking"]["flagged"] is False and report["verdict"]["succeeded"] is True
    assert report["grading"]["failed"] == 0 and report["grading"]["cost_usd"] == 0.0
    assert len(before["samples"]) == len(after["samples"])
    # The held-out prompts carry references, so correctness is measured and the guard checks it.
    assert before["correct"] is not None and after["correct"] is not None
    assert all(s["correct"] in (True, False) for s in after["samples"])
    assert report["hacking"]["truth_ok"] is not None and "correct did not fall" in " ".join(report["verdict"]["checks"])
    assert seconds < 300, f"setup --track grpo took {seconds:.0f} s"


def test_run_folder_holds_scripts_config_plot_and_report(grpo_run):
    run_dir, proc, _ = grpo_run
    for name in (
        "train_grpo.py",
        "evaluate_grpo.py",
        "accelerate_config.yaml",
        "train.jsonl",
        "heldout.jsonl",
        "eval.json",
        "adapter/adapter_config.json",
    ):
        assert (run_dir / name).is_file(), name
    assert (run_dir / "reward.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (run_dir / "report.md").read_text()
    assert "## Reward hacking check" in md and "![training reward](reward.png)" in md and "| lc_margin |" in md
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete" and state["spec"]["algorithm"] == "grpo"
    assert "Reward hacking check" in proc.stdout and "Train (GRPO + LoRA, online RL)" in proc.stdout
    metrics = json.loads((run_dir / "out" / "train_metrics.json").read_text())
    assert len(metrics["reward_curve"]) == metrics["steps"] == report_steps(run_dir)


@pytest.fixture(scope="module")
def format_only_run(tmp_path_factory, tiny_model):
    run_dir = tmp_path_factory.mktemp("grpo-hack") / "run"
    proc = run_cli(
        "setup",
        "--offline",
        "--yes",
        "--track",
        "grpo",
        "--steps",
        "16",
        "--run-dir",
        str(run_dir),
        "--reward",
        "python:rl_agent.runtime.final_number:final_number_format_only",
    )
    return run_dir, proc


def test_a_format_only_reward_climbs_but_is_flagged_and_fails(format_only_run):
    """The reward pays for "#### N" whether N is right or not: it climbs, correctness does not, and the
    run must say so in plain words and not call itself a success."""
    run_dir, proc = format_only_run
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # the run completed; it did not succeed
    report = json.loads((run_dir / "report.json").read_text())
    assert report["reward_trend"]["climbed"] is True
    assert report["after"]["correct"] <= report["before"]["correct"] + 0.05
    assert report["hacking"]["flagged"] is True and report["verdict"]["succeeded"] is False
    assert "Possible reward hacking" in proc.stdout and "Did not succeed" in proc.stdout
    assert "**WARNING:** Possible reward hacking" in (run_dir / "report.md").read_text()


def report_steps(run_dir):
    return json.loads((run_dir / "report.json").read_text())["steps"]


def test_dpo_only_flags_are_refused_without_the_grpo_track(tmp_path):
    proc = run_cli("setup", "--offline", "--yes", "--reward", "terse", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 2 and "add --track grpo" in proc.stderr
    proc = run_cli("setup", "--offline", "--yes", "--track", "ppo", "--run-dir", str(tmp_path / "r"))
    assert proc.returncode == 2 and "one of dpo, grpo, sft, kto" in proc.stderr
    assert not (tmp_path / "r").exists()
