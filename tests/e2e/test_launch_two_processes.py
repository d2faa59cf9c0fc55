"""Scale-out for real: a rendered GRPO run launched by `accelerate launch` from the generated config, as
two processes on the CPU (gloo DDP). Both processes generate and grade their share of every step, and
together they train on the global batch of a one-process run (DPO, SFT, KTO: test_launch_every_track.py)."""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest

from rl_agent.kit.launch.accelerate import LaunchPlan, launch_command, launch_env, write_accelerate_config
from tests.e2e.test_grpo_train import make_run, run_script

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_cpu_processes_train_grpo_through_accelerate_launch(tmp_path, tiny_model):
    run = tmp_path / "run"
    make_run(run, tiny_model, max_steps=2, per_device_train_batch_size=8, num_generations=4)
    plan = LaunchPlan(num_processes=2, main_process_port=free_port())
    config = write_accelerate_config(run, plan)
    started = time.time()
    proc = run_script(run, *launch_command("train_grpo.py", config, python=sys.executable), env=launch_env(plan))
    seconds = time.time() - started

    tm = json.loads((run / "out" / "train_metrics.json").read_text())
    assert tm["processes"] == 2 and tm["grading"]["processes"] == 2
    # The global batch of 8 completions a step (a one-process run's, test_grpo_train.py) is split: 4 per process.
    assert tm["global_batch"] == 8 and (tm["per_device_train_batch_size"], tm["gradient_accumulation_steps"]) == (4, 1)
    # Each process grades its own 4 completions a step: 2 processes x 4 x 2 steps, as one process grades 8 x 2.
    assert tm["grading"]["graded"] + tm["grading"]["failed"] == 2 * 4 * 2
    assert [step for step, _ in tm["reward_curve"]] == [1, 2]
    assert (run / "adapter" / "adapter_config.json").is_file()
    assert proc.stdout.count("done: 2 steps") == 1  # only the main process reports and writes files
    print(f"two-process GRPO run: {seconds:.1f} s")
