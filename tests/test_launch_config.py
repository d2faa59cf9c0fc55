"""The accelerate config and launch command: accelerate itself must read back what we write, for every
strategy, and impossible plans are refused with a reason."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from rl_agent.kit.pipeline.launch import LaunchPlan, launch_command, launch_env, to_yaml, write_accelerate_config

load_config_from_file = pytest.importorskip("accelerate.commands.config.config_args").load_config_from_file


@pytest.mark.parametrize(
    "plan, distributed, extra",
    [(LaunchPlan(), "NO", None),
     (LaunchPlan(num_processes=2), "MULTI_GPU", None),
     (LaunchPlan(num_processes=8, device="cuda", mixed_precision="bf16"), "MULTI_GPU", None),
     (LaunchPlan(num_processes=8, device="cuda", strategy="fsdp"), "FSDP", "fsdp_config"),
     (LaunchPlan(num_processes=16, num_machines=2, machine_rank=1, main_process_ip="10.0.0.1", device="cuda",
                 strategy="deepspeed"), "DEEPSPEED", "deepspeed_config")],
)
def test_accelerate_reads_back_the_config(tmp_path, plan, distributed, extra):
    path = write_accelerate_config(tmp_path, plan)
    cfg = load_config_from_file(str(path))
    assert str(cfg.distributed_type).endswith(distributed)
    assert cfg.num_processes == plan.num_processes and cfg.num_machines == plan.num_machines
    assert cfg.machine_rank == plan.machine_rank and cfg.mixed_precision == plan.mixed_precision
    assert cfg.use_cpu is (plan.device == "cpu" and plan.num_processes == 1)
    if extra:
        assert getattr(cfg, extra)
    if plan.main_process_ip:
        assert cfg.main_process_ip == plan.main_process_ip


@pytest.mark.parametrize(
    "kwargs, message",
    [({"strategy": "fsdp"}, "on the CPU use strategy 'ddp'"),
     ({"num_processes": 3, "num_machines": 2, "main_process_ip": "h"}, "multiple of num_machines"),
     ({"num_processes": 2, "num_machines": 2}, "main_process_ip"),
     ({"machine_rank": 1}, "machine_rank 1 but only 1")],
)
def test_impossible_plans_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        LaunchPlan(**kwargs)


def test_yaml_quotes_strings_safely():
    assert to_yaml({"a": "it's: x", "b": True, "c": {"d": 2}}) == "a: 'it''s: x'\nb: true\nc:\n  d: 2\n"


def test_launch_command_and_cpu_threads(tmp_path):
    cmd = launch_command("train_grpo.py", tmp_path / "accelerate_config.yaml", script_args=["--fresh"])
    assert cmd == [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                   str(tmp_path / "accelerate_config.yaml"), "train_grpo.py", "--fresh"]
    assert launch_env(LaunchPlan(num_processes=2), cpu_count=8) == {"OMP_NUM_THREADS": "4"}
    assert launch_env(LaunchPlan(num_processes=2), cpu_count=1) == {"OMP_NUM_THREADS": "1"}
    assert launch_env(LaunchPlan(num_processes=2, device="cuda")) == {}
