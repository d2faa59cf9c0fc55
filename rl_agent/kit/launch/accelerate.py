"""Scale-out: the accelerate config written into a run folder, and the command that launches a script with it.

One rendered script serves every scale, on every track. `python train_dpo.py` is one process; `accelerate launch
--config_file accelerate_config.yaml train_dpo.py` is one process per GPU (DDP), a sharded model (FSDP),
DeepSpeed ZeRO, or several CPU processes talking over gloo (tests, laptops); on several machines the same
file, with this node's machine_rank, launches each node. See docs/scaling.md.

Why the CPU case names MULTI_GPU: accelerate starts several local processes (through torchrun) only for
the multi-device launchers; its MULTI_CPU type expects mpirun. The rendered scripts pass use_cpu=True to
the trainer, which then joins the process group over gloo on the CPU.

The global batch does not depend on the scale: a track's batch_size x grad_accum is the batch of one optimizer
step in all processes together (what one process trains on). Launched as N processes, the script splits it
(split_batch, copied into the scripts' _scale.py.j2): gradient accumulation first, so each process keeps the
memory of a one-process run, then the per-device batch.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONFIG_FILE = "accelerate_config.yaml"
Strategy = Literal["ddp", "fsdp", "deepspeed"]


class LaunchPlan(BaseModel):
    """How many processes on how many machines, and how they share the model."""

    model_config = ConfigDict(extra="forbid")

    num_processes: int = Field(1, ge=1, description="processes in all machines together (one per GPU)")
    num_machines: int = Field(1, ge=1)
    machine_rank: int = Field(0, ge=0, description="this machine's index; 0 is the main node")
    main_process_ip: str | None = None
    main_process_port: int = Field(29500, ge=1, le=65535)
    strategy: Strategy = "ddp"
    device: Literal["cpu", "cuda"] = "cpu"
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"

    @model_validator(mode="after")
    def _check(self) -> "LaunchPlan":
        if self.strategy != "ddp" and self.device != "cuda":
            raise ValueError(f"{self.strategy} shards the model across GPUs; on the CPU use strategy 'ddp'")
        if self.num_processes % self.num_machines:
            raise ValueError(
                f"num_processes ({self.num_processes}) must be a multiple of num_machines "
                f"({self.num_machines}): each machine runs the same number"
            )
        if self.machine_rank >= self.num_machines:
            raise ValueError(f"machine_rank {self.machine_rank} but only {self.num_machines} machine(s)")
        if self.num_machines > 1 and not self.main_process_ip:
            raise ValueError("a multi-node launch needs main_process_ip (the address of machine 0)")
        return self

    @property
    def processes_per_machine(self) -> int:
        return self.num_processes // self.num_machines


def _distributed_type(plan: LaunchPlan) -> str:
    if plan.strategy == "fsdp":
        return "FSDP"
    if plan.strategy == "deepspeed":
        return "DEEPSPEED"
    return "MULTI_GPU" if plan.num_processes > 1 else "NO"


def accelerate_config(plan: LaunchPlan) -> dict[str, Any]:
    """The accelerate config (what `accelerate config` would write) for `plan`."""
    cfg: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE",
        "distributed_type": _distributed_type(plan),
        "num_processes": plan.num_processes,
        "num_machines": plan.num_machines,
        "machine_rank": plan.machine_rank,
        "main_process_port": plan.main_process_port,
        "mixed_precision": plan.mixed_precision,
        "use_cpu": plan.device == "cpu" and plan.num_processes == 1,
        "gpu_ids": "all",
        "rdzv_backend": "static",
        "same_network": True,
        "main_training_function": "main",
        "debug": False,
    }
    if plan.main_process_ip:
        cfg["main_process_ip"] = plan.main_process_ip
    if plan.strategy == "fsdp":
        cfg["fsdp_config"] = {
            "fsdp_version": 2,
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP",
            "fsdp_cpu_ram_efficient_loading": True,
            "fsdp_offload_params": False,
            "fsdp_reshard_after_forward": True,
            "fsdp_state_dict_type": "FULL_STATE_DICT",
        }
    elif plan.strategy == "deepspeed":
        # gradient accumulation and clipping stay "auto": the trainer fills them from the script's CONFIG.
        cfg["deepspeed_config"] = {
            "zero_stage": 2,
            "offload_optimizer_device": "none",
            "offload_param_device": "none",
            "zero3_init_flag": False,
            "deepspeed_multinode_launcher": "standard",
        }
    return cfg


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    return "'" + text.replace("'", "''") + "'"  # single-quoted YAML: only ' needs escaping


def to_yaml(data: dict[str, Any], indent: int = 0) -> str:
    """YAML for flat or nested dicts of scalars (all an accelerate config holds), without needing PyYAML."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(" " * indent + f"{key}:")
            lines.append(to_yaml(value, indent + 2).rstrip("\n"))
        else:
            lines.append(" " * indent + f"{key}: {_yaml_scalar(value)}")
    return "\n".join(lines) + "\n"


def split_batch(batch_size: int, grad_accum: int, processes: int, min_per_device: int = 1) -> tuple[int, int]:
    """(per-device batch, accumulation steps) that give `processes` processes together the global batch
    batch_size x grad_accum. Accumulation is divided first (each process keeps a one-process run's memory
    per step), then the batch; ValueError when the global batch does not split into whole equal shares."""
    total = batch_size * grad_accum
    if total % processes:
        raise ValueError(
            f"the global batch (batch_size {batch_size} x grad_accum {grad_accum} = {total}) does not "
            f"split evenly between {processes} processes: make it a multiple of {processes}"
        )
    shared = math.gcd(grad_accum, processes)
    batch, accum = batch_size // (processes // shared), grad_accum // shared
    if batch < min_per_device:
        raise ValueError(
            f"split between {processes} processes the per-device batch would be {batch}; this track "
            f"needs at least {min_per_device}: raise batch_size to {min_per_device * processes}"
        )
    return batch, accum


def write_accelerate_config(folder: Path, plan: LaunchPlan, script: str = "train_<track>.py") -> Path:
    """Write accelerate_config.yaml into `folder` (atomically) and return its path."""
    path = Path(folder) / CONFIG_FILE
    header = (
        "# Written by rl-agent. Launch with:\n"
        f"#   accelerate launch --config_file {CONFIG_FILE} {script}\n"
        "# On each node of a multi-node run, set machine_rank to that node's index (0 = main node).\n"
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(header + to_yaml(accelerate_config(plan)), encoding="utf-8")
    os.replace(tmp, path)
    return path


def launch_command(
    script: str, config_path: Path, *, python: str | None = None, script_args: Sequence[str] = ()
) -> list[str]:
    """argv that runs `script` under accelerate with `config_path` (`python -m` so no PATH lookup)."""
    return [
        python or sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(config_path),
        script,
        *script_args,
    ]


def launch_env(plan: LaunchPlan, cpu_count: int | None = None) -> dict[str, str]:
    """Environment for the launched processes: on the CPU, share the cores instead of oversubscribing them."""
    if plan.device != "cpu" or plan.processes_per_machine == 1:
        return {}
    cores = cpu_count or os.cpu_count() or 1
    return {"OMP_NUM_THREADS": str(max(1, cores // plan.processes_per_machine))}
