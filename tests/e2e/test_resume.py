"""A run killed mid-training is not mistaken for complete, and `rl-agent resume` finishes it from the
last checkpoint, after its preflight repaired a hand edit made while the run was down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.pipeline.run_folder import RunFolder
from tests.support.cli import REPO, assert_exit_follows_verdict, run_cli
from tests.support.everyday_faults import config_max_steps_zero

pytestmark = pytest.mark.slow


def _wait_for_checkpoint(run_dir: Path, proc: subprocess.Popen, timeout: float = 300) -> Path:
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [p for p in (run_dir / "out").glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
        if done:
            return done[0]
        if proc.poll() is not None:
            pytest.fail(f"setup exited ({proc.returncode}) before writing a checkpoint")
        time.sleep(0.25)
    pytest.fail("no checkpoint within the timeout")


STEPS = 40  # checkpoints every 20 steps: killed after the first, resumed to the end


def test_kill_mid_training_then_resume(tmp_path, tiny_model):
    run_dir = tmp_path / "run"
    heldout = tmp_path / "heldout.jsonl"  # a few held-out pairs: this test is about resuming, not the figures
    heldout.write_text("".join(bundled_pairs_path("heldout").read_text().splitlines(keepends=True)[:4]))
    log = open(tmp_path / "setup.out", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rl_agent",
            "setup",
            "--offline",
            "--yes",
            "--run-dir",
            str(run_dir),
            "--steps",
            str(STEPS),
            "--heldout",
            str(heldout),
        ],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        first = _wait_for_checkpoint(run_dir, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its training process, like a closed laptop
        proc.wait()
        log.close()

    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "running" and "train" not in state["stages_done"]
    assert not (run_dir / "report.json").exists()

    # While the run was down, a hand edit set max_steps to 0 in the rendered script: resume's preflight names
    # it and restores the spec's value before any process starts, logged as a repair.
    config_max_steps_zero(RunFolder(run_dir))
    proc2 = run_cli("resume", str(run_dir))
    assert_exit_follows_verdict(proc2, run_dir)
    out = " ".join(proc2.stdout.split())
    assert "resuming" in out
    assert "preflight: train_dpo.py:" in out and "CONFIG['max_steps']: max_steps is 0" in out
    assert f"set it to {STEPS} (the spec's value); fixed: CONFIG['max_steps'] 0 -> {STEPS}" in out
    assert "max_steps" in (run_dir / "repairs.md").read_text()
    metrics = json.loads((run_dir / "out" / "train_metrics.json").read_text())
    assert metrics["resumed_from"] is not None
    assert int(metrics["resumed_from"].rsplit("-", 1)[1]) >= int(first.name.rsplit("-", 1)[1])
    assert metrics["steps"] == STEPS
    report = json.loads((run_dir / "report.json").read_text())
    assert report["resumed_from"] == metrics["resumed_from"]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"

    again = run_cli("resume", str(run_dir))
    assert again.returncode == 0 and "already complete" in again.stdout
