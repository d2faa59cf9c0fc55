"""The accelerate config and launch command: accelerate itself must read back what we write, for every
strategy, and impossible plans are refused with a reason."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

from rl_agent.kit.launch.accelerate import (
    LaunchPlan,
    launch_command,
    launch_env,
    split_batch,
    to_yaml,
    write_accelerate_config,
)

load_config_from_file = pytest.importorskip("accelerate.commands.config.config_args").load_config_from_file


@pytest.mark.parametrize(
    "plan, distributed, extra",
    [
        (LaunchPlan(), "NO", None),
        (LaunchPlan(num_processes=2), "MULTI_GPU", None),
        (LaunchPlan(num_processes=8, device="cuda", mixed_precision="bf16"), "MULTI_GPU", None),
        (LaunchPlan(num_processes=8, device="cuda", strategy="fsdp"), "FSDP", "fsdp_config"),
        (
            LaunchPlan(
                num_processes=16,
                num_machines=2,
                machine_rank=1,
                main_process_ip="10.0.0.1",
                device="cuda",
                strategy="deepspeed",
            ),
            "DEEPSPEED",
            "deepspeed_config",
        ),
    ],
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
    [
        ({"strategy": "fsdp"}, "on the CPU use strategy 'ddp'"),
        ({"num_processes": 3, "num_machines": 2, "main_process_ip": "h"}, "multiple of num_machines"),
        ({"num_processes": 2, "num_machines": 2}, "main_process_ip"),
        ({"machine_rank": 1}, "machine_rank 1 but only 1"),
    ],
)
def test_impossible_plans_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        LaunchPlan(**kwargs)


def test_yaml_quotes_strings_safely():
    assert to_yaml({"a": "it's: x", "b": True, "c": {"d": 2}}) == "a: 'it''s: x'\nb: true\nc:\n  d: 2\n"


def test_launch_command_and_cpu_threads(tmp_path):
    cmd = launch_command("train_grpo.py", tmp_path / "accelerate_config.yaml", script_args=["--fresh"])
    assert cmd == [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(tmp_path / "accelerate_config.yaml"),
        "train_grpo.py",
        "--fresh",
    ]
    assert launch_env(LaunchPlan(num_processes=2), cpu_count=8) == {"OMP_NUM_THREADS": "4"}
    assert launch_env(LaunchPlan(num_processes=2), cpu_count=1) == {"OMP_NUM_THREADS": "1"}
    assert launch_env(LaunchPlan(num_processes=2, device="cuda")) == {}


@pytest.mark.parametrize(
    "batch, accum, processes, split",
    [(8, 1, 2, (4, 1)), (4, 2, 2, (4, 1)), (4, 2, 4, (2, 1)), (2, 8, 2, (2, 4)), (6, 4, 8, (3, 1)), (2, 3, 6, (1, 1))],
)
def test_the_global_batch_is_split_between_processes_not_multiplied(batch, accum, processes, split):
    assert split_batch(batch, accum, processes) == split
    assert split[0] * split[1] * processes == batch * accum


def test_every_track_has_scale_out_settings_and_refuses_a_batch_that_does_not_split():
    from rl_agent.kit.tracks.registry import TRACKS

    for name, track in TRACKS.items():
        s = track.settings_cls(num_processes=2, strategy="fsdp")
        assert s.num_processes == 2 and s.strategy == "fsdp", name
        with pytest.raises(ValidationError, match="does not split evenly between 3 processes"):
            track.settings_cls(batch_size=8, grad_accum=1, num_processes=3)
    with pytest.raises(ValidationError, match="needs at least 2"):  # KTO's KL estimate needs 2 per device
        TRACKS["kto"].settings_cls(batch_size=4, num_processes=4)
    with pytest.raises(ValueError, match="does not split evenly"):
        split_batch(3, 1, 2)


@pytest.mark.parametrize("track_name", ["dpo", "sft", "kto", "grpo"])
def test_every_track_launches_through_accelerate_with_several_processes(tmp_path, track_name):
    from rl_agent.kit.spec import RunSpec
    from rl_agent.kit.tracks.registry import get_track

    track = get_track(track_name)
    one = RunSpec(model="m", model_source="local", algorithm=track_name)
    assert track.train_command(one, "py", tmp_path)[0] == ["py", track.train_script]  # one process: as ever
    spec = RunSpec(
        model="m", model_source="local", algorithm=track_name, **{track_name: track.settings_cls(num_processes=2)}
    )
    track.after_render(tmp_path, spec)
    cfg = load_config_from_file(str(tmp_path / "accelerate_config.yaml"))
    assert cfg.num_processes == 2 and track.train_script in (tmp_path / "accelerate_config.yaml").read_text()
    cmd, env = track.train_command(spec, "py", tmp_path)
    assert (
        cmd
        == [
            "py",
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(tmp_path / "accelerate_config.yaml"),
            track.train_script,
        ]
        and "OMP_NUM_THREADS" in env
    )
    fsdp = RunSpec(
        model="m",
        model_source="local",
        algorithm=track_name,
        **{track_name: track.settings_cls(num_processes=2, strategy="fsdp")},
    )
    with pytest.raises(ValueError, match="on the CPU use strategy 'ddp'"):
        track.render_context(fsdp, "m")
