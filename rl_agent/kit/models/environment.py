"""The training environment: use this interpreter if it has the training stack, else make a venv for it.

Why a separate interpreter is allowed: the rl-agent CLI itself is light (no torch), so a user can install
it anywhere; training runs then execute as their own processes in whichever Python has the stack.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from rl_agent.errors import RlAgentError

TRAINING_MODULES = ("torch", "transformers", "trl", "peft", "datasets", "accelerate")


class EnvironmentError_(RlAgentError, RuntimeError):
    """The training environment could not be made; the message says which step failed."""


@dataclass(frozen=True)
class TrainingEnv:
    python: str
    created: bool
    note: str


def missing_modules(python: str, modules: tuple[str, ...] = TRAINING_MODULES) -> list[str]:
    """Modules of the training stack that `python` cannot import (all of them if it cannot run)."""
    code = (
        "import importlib.util, json, sys\n"
        f"print(json.dumps([m for m in {list(modules)!r} if importlib.util.find_spec(m) is None]))"
    )
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
        return list(json.loads(out.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return list(modules)


def train_requirements() -> list[str]:
    """The `train` extra of this distribution, so the venv gets exactly what pyproject.toml declares."""
    try:
        reqs = metadata.requires("rl-agent") or []
    except metadata.PackageNotFoundError:
        reqs = []
    out = []
    for r in reqs:
        if "extra ==" in r and ("'train'" in r or '"train"' in r):
            out.append(r.split(";")[0].strip())
    return out or ["torch", "transformers", "trl", "peft", "datasets", "accelerate", "tokenizers", "matplotlib"]


def nvidia_gpu_present() -> bool:
    return shutil.which("nvidia-smi") is not None or Path("/proc/driver/nvidia/version").exists()


def venv_python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_training_env(
    env_dir: Path,
    *,
    modules: tuple[str, ...] = TRAINING_MODULES,
    requirements: list[str] | None = None,
    log=print,
) -> TrainingEnv:
    """Return an interpreter that can import `modules`, creating `env_dir` as a venv and installing
    `requirements` (default: the `train` extra) there if this interpreter cannot."""
    here = missing_modules(sys.executable, modules)
    if not here:
        return TrainingEnv(sys.executable, False, f"using this interpreter ({sys.executable}): training stack present")
    py = venv_python(env_dir)
    if py.exists() and not missing_modules(str(py), modules):
        return TrainingEnv(str(py), False, f"using the training venv at {env_dir}")
    requirements = requirements if requirements is not None else train_requirements()
    log(f"this interpreter lacks {', '.join(here)}: creating a training venv at {env_dir}")
    try:
        venv.EnvBuilder(with_pip=True, clear=py.exists()).create(env_dir)
    except OSError as e:
        raise EnvironmentError_(f"could not create a venv at {env_dir}: {e}") from None
    # torch first and alone: pip then resolves the rest against it instead of pulling another build.
    # RL_AGENT_TORCH pins the build (e.g. "torch==2.13.0" for a CPU wheel) where a bare torch would pull CUDA.
    torch_req = [os.environ.get("RL_AGENT_TORCH") or r for r in requirements if r.startswith("torch")]
    steps = [torch_req, [r for r in requirements if not r.startswith("torch")]]
    steps = [s for s in steps if s]
    if nvidia_gpu_present() and "torch" in modules:
        steps.append(["bitsandbytes"])
    elif "torch" in modules:
        log("no NVIDIA GPU found: training will run on the CPU (bitsandbytes skipped)")
    for reqs in steps:
        cmd = [str(py), "-m", "pip", "install", "--disable-pip-version-check", *reqs]
        log("$ " + " ".join(cmd))
        if subprocess.run(cmd).returncode != 0:
            raise EnvironmentError_(f"pip install {' '.join(reqs)} failed in {env_dir}; see the output above")
    still = missing_modules(str(py), modules)
    if still:
        raise EnvironmentError_(f"the training venv at {env_dir} still lacks {', '.join(still)}")
    return TrainingEnv(str(py), True, f"created the training venv at {env_dir}")
