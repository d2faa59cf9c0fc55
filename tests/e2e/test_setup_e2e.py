"""The main job end to end: `rl-agent setup --offline` really trains the embedded model with TRL and the
before/after on held-out prompts improves in style while the answers stay right; every run uses the
model that ships in the package."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from rl_agent.kit.models.tiny import embedded_model_dir
from tests.support.cli import assert_exit_follows_verdict, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setup_run(tmp_path_factory, tiny_model):
    run_dir = tmp_path_factory.mktemp("setup") / "run"
    started = time.time()
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir), "--steps", "60")
    assert_exit_follows_verdict(proc, run_dir)
    return run_dir, proc, time.time() - started


def test_report_shows_the_before_after_improving(setup_run):
    run_dir, _, _ = setup_run
    report = json.loads((run_dir / "report.json").read_text())
    for key in ("model", "device", "algorithm", "steps", "final_loss", "wall_seconds", "before", "after"):
        assert key in report
    assert report["algorithm"] == "dpo" and report["device"] == "cpu" and report["steps"] == 60
    before, after = report["before"], report["after"]
    for side in (before, after):
        assert {"pref_accuracy", "mean_words", "hedge_count", "judge_score", "samples"} <= set(side)
        assert len(side["samples"]) >= 10 and all({"prompt", "output"} <= set(s) for s in side["samples"])
    assert before["pref_accuracy"] == pytest.approx(0.5)  # the base model ties with itself: chance
    assert after["pref_accuracy"] >= 0.9
    assert after["judge_score"] > before["judge_score"]
    assert after["hedge_count"] < before["hedge_count"] and after["hedge_count"] == 0
    # right before (the model knows its facts), and still right after: the verdict requires it
    assert before["correct"] >= 0.9 and after["correct"] >= max(0.8, before["correct"] - 0.05)
    assert all(s["correct"] in (True, False) for s in after["samples"])
    assert report["correctness"]["floor"] == 0.8
    assert report["verdict"]["succeeded"] is True
    assert 0 <= report["final_loss"] < 1.0


def test_run_folder_has_report_plot_and_state(setup_run):
    run_dir, proc, _ = setup_run
    assert (run_dir / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (run_dir / "report.md").read_text()
    assert "| pref_accuracy |" in md and "![training loss](loss.png)" in md and "What to tune next" in md
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "complete"
    assert state["stages_done"] == ["model", "data", "render", "train", "evaluate", "report"]
    assert (run_dir / "train.log").stat().st_size > 0
    assert "Held-out prompts: base model vs tuned model" in proc.stdout
    assert "What to tune next" in proc.stdout


def test_every_run_uses_the_shipped_model(setup_run, tmp_path):
    run_dir, _, _ = setup_run
    heldout = tmp_path / "heldout.jsonl"  # three held-out pairs: this test is about the model cache
    heldout.write_text("".join((run_dir / "heldout.jsonl").read_text().splitlines(keepends=True)[:3]))
    proc = run_cli(
        "setup", "--offline", "--yes", "--run-dir", str(tmp_path / "again"), "--steps", "2", "--heldout", str(heldout)
    )
    assert_exit_follows_verdict(proc, tmp_path / "again")
    assert "embedded model (shipped with rl-agent" in proc.stdout
    first = json.loads((run_dir / "run.json").read_text())["model_path"]
    second = json.loads((tmp_path / "again" / "run.json").read_text())["model_path"]
    assert first == second == str(embedded_model_dir())


def test_rendered_scripts_run_standalone_without_rl_agent(setup_run, tmp_path):
    """Copy the rendered scripts, the runtime beside them and the data elsewhere, make `import rl_agent`
    impossible, and run them."""
    run_dir, _, _ = setup_run
    work = tmp_path / "standalone"
    work.mkdir()
    for name in ("train_dpo.py", "evaluate.py", "train.jsonl", "heldout.jsonl"):
        shutil.copy(run_dir / name, work / name)
    shutil.copytree(run_dir / "rl_agent_runtime", work / "rl_agent_runtime")
    for name in ("train_dpo.py", "evaluate.py"):
        text = (work / name).read_text()
        assert not re.search(r"^\s*(from|import)\s+rl_agent[.\s]", text, re.M)
        assert re.search(r"^from rl_agent_runtime\.chat_format import", text, re.M)
    script = (work / "train_dpo.py").read_text()
    (work / "train_dpo.py").write_text(script.replace('"max_steps": 60,', '"max_steps": 3,'))
    poison = tmp_path / "poison" / "rl_agent"
    poison.mkdir(parents=True)
    (poison / "__init__.py").write_text("raise ImportError('a rendered script imported rl_agent')\n")
    env = dict(os.environ, PYTHONPATH=str(poison.parent), HF_HUB_OFFLINE="1")
    for cmd in (["train_dpo.py", "--fresh"], ["evaluate.py"]):
        proc = subprocess.run([sys.executable, *cmd], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    metrics = json.loads((work / "out" / "train_metrics.json").read_text())
    assert metrics["steps"] == 3
    assert json.loads((work / "eval.json").read_text())["after"]["samples"]


def test_report_command_shows_the_finished_run(setup_run):
    run_dir, _, _ = setup_run
    proc = run_cli("report", str(run_dir))
    assert proc.returncode == 0, proc.stderr
    assert "Held-out prompts: base model vs tuned model" in proc.stdout and "pref_accuracy" in proc.stdout
    as_json = run_cli("report", str(run_dir), "--json")
    assert json.loads(as_json.stdout) == json.loads((run_dir / "report.json").read_text())
