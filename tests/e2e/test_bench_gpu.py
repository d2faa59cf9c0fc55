"""bench/gpu.py, the GPU check: without a GPU it says so and exits 0; its harness (render, build the stand-in,
run the kit's DPO and GRPO scripts and the plain TRL script, read tokens and peak memory) is run for real on
the CPU with the tiny stand-in (--smoke), so the path a GPU machine takes is not an untried one."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.cli import REPO


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu.py"), *args], cwd=REPO, capture_output=True, text=True, timeout=900
    )


def test_without_a_gpu_it_says_so_and_exits_0():
    proc = _bench()
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no CUDA GPU here" in proc.stdout


@pytest.mark.slow
def test_the_harness_runs_every_script_and_reports_tokens_and_memory():
    proc = _bench("--smoke")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    rows = json.loads(proc.stdout.strip().splitlines()[-1])["rows"]
    assert [r["run"] for r in rows] == ["rl-agent DPO", "plain TRL DPO", "rl-agent GRPO"]
    for r in rows:
        assert r["tokens_per_s"] > 0 and r["train_s"] > 0 and r["peak_gb"] > 0, r
    assert "rl-agent / plain TRL DPO: tokens/s ratio" in proc.stdout
