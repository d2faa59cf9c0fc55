"""Bad input gets one clear error line, a non-zero exit, and nothing half-written that looks complete."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.support.cli import run_cli


def _assert_clean_failure(proc, run_dir, *needles):
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert err.startswith("error:"), err
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in err, err
    assert not (run_dir / "report.json").exists()
    assert not (run_dir / "run.json").exists()


def test_unknown_model_name(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli("setup", "--yes", "--run-dir", str(run_dir), "--model", "not a model!!")
    _assert_clean_failure(proc, run_dir, "not a model!!", "not a Hugging Face model id")


def test_model_without_hub(tmp_path):
    run_dir = tmp_path / "run"
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir), "--model", "Qwen/Qwen3-0.6B")
    _assert_clean_failure(proc, run_dir, "Qwen/Qwen3-0.6B", "hub is not reachable")


def test_model_folder_without_config(tmp_path):
    run_dir, bogus = tmp_path / "run", tmp_path / "not-a-model"
    bogus.mkdir()
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir), "--model", str(bogus))
    _assert_clean_failure(proc, run_dir, "no config.json")


@pytest.mark.parametrize(
    "content, needle",
    [
        ("", "0 pairs"),
        ('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "x", "chosen": \n', ":2: not valid JSON"),
        ('{"prompt": "a", "chosen": "", "rejected": "c"}\n', ":1: field 'chosen' is empty"),
        ('{"prompt": "a", "chosen": "b"}\n', ":1: missing field 'rejected'"),
        ('["a", "b", "c"]\n', ":1: expected a JSON object"),
    ],
    ids=["empty", "corrupt-json", "empty-field", "missing-field", "not-an-object"],
)
def test_bad_pairs_file(tmp_path, content, needle):
    run_dir, pairs = tmp_path / "run", tmp_path / "pairs.jsonl"
    pairs.write_text(content)
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir), "--pairs", str(pairs))
    _assert_clean_failure(proc, run_dir, "pairs.jsonl", needle)


def test_heldout_overlapping_training(tmp_path):
    from rl_agent.kit.dataio.pairs import bundled_pairs_path

    run_dir, held = tmp_path / "run", tmp_path / "held.jsonl"
    lines = bundled_pairs_path("train").read_text().splitlines()[:5]
    held.write_text("\n".join(lines) + "\n")
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir), "--heldout", str(held))
    _assert_clean_failure(proc, run_dir, "held-out prompt also in training data")


def test_read_only_run_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root ignores mode bits; the immutable attribute stops even root
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(ro)]).returncode != 0:
            pytest.fail("cannot make a read-only folder as root (chattr +i failed)")
    else:
        ro.chmod(0o555)
    try:
        proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(ro / "run"))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(ro)])
        else:
            ro.chmod(0o755)
    _assert_clean_failure(proc, ro / "run", "not writable")


def test_existing_run_folder_is_not_overwritten(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").write_text(json.dumps({"keep": "me"}))
    proc = run_cli("setup", "--offline", "--yes", "--run-dir", str(run_dir))
    assert proc.returncode != 0 and "rl-agent resume" in proc.stderr
    assert json.loads((run_dir / "run.json").read_text()) == {"keep": "me"}


def test_resume_of_a_folder_that_is_not_a_run(tmp_path):
    proc = run_cli("resume", str(tmp_path))
    assert proc.returncode != 0 and proc.stderr.startswith("error:") and "not an rl-agent run folder" in proc.stderr


def test_report_of_an_unfinished_run_says_so(tmp_path):
    proc = run_cli("report", str(tmp_path))
    assert proc.returncode != 0 and proc.stderr.startswith("error:") and "no report.json" in proc.stderr


def test_help_lists_every_command():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("setup", "resume", "grade", "pairs", "new", "run", "report"):
        assert command in proc.stdout
