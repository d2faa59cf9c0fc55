"""The SFT and KTO tracks end to end: `rl-agent setup --track sft|kto --offline` really trains the embedded
model with TRL (a few steps) and gets the same before/after, report, correctness figure and resume as DPO.
One short run per track, shared by the tests of this module."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.cli import assert_exit_follows_verdict, run_cli

pytestmark = pytest.mark.slow
STEPS = 8


TRACKS = ("sft", "kto")


@pytest.fixture(scope="module")
def track_runs(tmp_path_factory, tiny_model):
    """Both tracks' runs side by side, each on one thread (two cores; the embedded model's step is mostly Python
    overhead, so two at once take little longer than one)."""

    def run(track: str):
        run_dir = tmp_path_factory.mktemp(track) / "run"
        proc = run_cli(
            "setup",
            "--offline",
            "--yes",
            "--track",
            track,
            "--run-dir",
            str(run_dir),
            "--steps",
            str(STEPS),
            env={"OMP_NUM_THREADS": "1"},
        )
        return track, run_dir, proc

    with ThreadPoolExecutor(max_workers=len(TRACKS)) as pool:
        return {r[0]: r for r in pool.map(run, TRACKS)}


@pytest.fixture(params=TRACKS)
def track_run(request, track_runs):
    track, run_dir, proc = track_runs[request.param]
    assert_exit_follows_verdict(proc, run_dir)
    return track, run_dir, proc


def test_the_track_trains_and_reports_its_before_after(track_run):
    track, run_dir, proc = track_run
    report = json.loads((run_dir / "report.json").read_text())
    assert report["algorithm"] == track and report["steps"] == STEPS
    assert report["final_loss"] is not None and report["loss_curve"]
    for side in (report["before"], report["after"]):
        assert {"pref_accuracy", "mean_words", "hedge_count", "judge_score", "correct", "samples"} <= set(side)
        assert len(side["samples"]) >= 10 and all("correct" in s for s in side["samples"])
    assert report["before"]["pref_accuracy"] == pytest.approx(0.5)  # the base model ties with itself
    checks = report["verdict"]["checks"]
    assert "judge_score improved" in checks and report["verdict"]["succeeded"] == all(checks.values())
    assert report["settings"]["max_length"] == 128
    # One process (the plain script), on the global batch a two-process launch keeps (test_launch_every_track.py).
    assert report["processes"] == 1 and report["global_batch"] == 8 and (run_dir / "accelerate_config.yaml").is_file()
    script = {"sft": "train_sft.py", "kto": "train_kto.py"}[track]
    text = (run_dir / script).read_text()
    assert ("SFTTrainer" if track == "sft" else "KTOTrainer") in text and "CONFIG = {" in text
    assert (run_dir / "loss.png").read_bytes()[:4] == b"\x89PNG"
    md = (run_dir / "report.md").read_text()
    assert f"{track.upper()} + LoRA" in md and "| correct |" in md and "## Correctness" in md
    assert "Held-out figures" in proc.stdout and "Correctness:" in proc.stdout


def test_the_track_resumes_at_the_first_unfinished_stage(track_run):
    """Drop the finished evaluation and report: resume re-runs only those (training is not repeated)."""
    track, run_dir, _ = track_run
    state_path = run_dir / "run.json"
    state = json.loads(state_path.read_text())
    state["stages_done"] = ["model", "data", "render", "train"]
    state["status"] = "failed"
    state_path.write_text(json.dumps(state))
    (run_dir / "report.json").unlink()
    trained = (run_dir / "out" / "train_metrics.json").stat().st_mtime_ns
    proc = run_cli("resume", str(run_dir))
    assert_exit_follows_verdict(proc, run_dir)
    assert "finished so far: model, data, render, train" in proc.stdout
    assert json.loads(state_path.read_text())["status"] == "complete"
    assert (run_dir / "report.json").is_file()
    assert (run_dir / "out" / "train_metrics.json").stat().st_mtime_ns == trained  # no second training
