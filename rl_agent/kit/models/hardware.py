"""Probe the machine (RAM, GPU, hub reachability) and choose a model that fits.

Why a probe and not a config: a newcomer on a laptop, a CPU box or a GPU server should all get a run that
fits without reading a sizing table first. Every decision carries a plain-English reason for the report.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rl_agent.errors import RlAgentError

DEFAULT_HUB_MODEL = "Qwen/Qwen3-0.6B"
SMALL_HUB_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMALL_HUB_PARAMS = 134_515_008  # its parameter count: scales a time estimate to it (pipeline/estimate.py)
EMBEDDED_MODEL = "embedded:tiny-qwen3"
# Under this many parameters a model trains with the small-model defaults the embedded model uses (a test
# stand-in, a toy of your own); the gentler hub defaults are for real 0.1-1B models.
TINY_MODEL_PARAMS = 50_000_000
_HUB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


class ModelError(RlAgentError, ValueError):
    """A model request that cannot be honoured; the message says why and what to do."""


@dataclass(frozen=True)
class Hardware:
    ram_gb: float
    cpu_count: int
    cuda: bool
    gpu_name: str | None = None
    vram_gb: float | None = None
    bf16: bool = False

    def describe(self) -> str:
        if self.cuda:
            return f"CUDA GPU {self.gpu_name} ({self.vram_gb:.0f} GB), {self.ram_gb:.0f} GB RAM"
        return f"CPU only ({self.cpu_count} cores, {self.ram_gb:.0f} GB RAM)"


@dataclass(frozen=True)
class ModelChoice:
    name: str  # hub id, local folder, or EMBEDDED_MODEL
    source: str  # "embedded" | "hub" | "local"
    reason: str
    params: int | None = None  # counted from a local folder's weights; None when not at hand

    @property
    def settings_source(self) -> str:
        """Whose default settings fit: "embedded" for any model under TINY_MODEL_PARAMS, else its source."""
        tiny = self.params is not None and self.params < TINY_MODEL_PARAMS
        return "embedded" if tiny else self.source


def local_parameter_count(folder: Path) -> int | None:
    """Parameters of a local safetensors model, from the headers alone (no torch, nothing loaded)."""
    index = folder / "model.safetensors.index.json"
    try:
        files = (
            sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
            if index.is_file()
            else ["model.safetensors"]
        )
        total = 0
        for name in files:
            with open(folder / name, "rb") as f:
                (size,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(size))
            for key, info in header.items():
                if key != "__metadata__":
                    n = 1
                    for dim in info["shape"]:
                        n *= dim
                    total += n
        return total
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None


def total_ram_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 8.0


_GPU_PROBE = (
    "import json\n"
    "try:\n"
    "    import torch\n"
    "    ok = torch.cuda.is_available()\n"
    "    p = torch.cuda.get_device_properties(0) if ok else None\n"
    "    print(json.dumps({'cuda': ok, 'name': p.name if p else None,\n"
    "        'vram': p.total_memory / 2**30 if p else None,\n"
    "        'bf16': bool(ok and torch.cuda.is_bf16_supported())}))\n"
    "except Exception:\n"
    "    print(json.dumps({'cuda': False, 'name': None, 'vram': None, 'bf16': False}))\n"
)


def probe_hardware(python: str) -> Hardware:
    """Ask the training interpreter (which has torch) what accelerator it sees."""
    info = {"cuda": False, "name": None, "vram": None, "bf16": False}
    try:
        out = subprocess.run([python, "-c", _GPU_PROBE], capture_output=True, text=True, timeout=120)
        info = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        pass
    return Hardware(
        ram_gb=total_ram_gb(),
        cpu_count=os.cpu_count() or 1,
        cuda=bool(info["cuda"]),
        gpu_name=info["name"],
        vram_gb=info["vram"],
        bf16=bool(info["bf16"]),
    )


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_offline_forced() -> bool:
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_model_status(name: str, timeout: float = 3.0) -> str:
    """'ok', 'missing' (hub answered: no such public model) or 'unreachable'."""
    url = f"{hub_endpoint()}/api/models/{name}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=timeout) as r:
            return "ok" if r.status == 200 else "missing"
    except urllib.error.HTTPError as e:
        return "missing" if e.code in (401, 404) else "unreachable"
    except (urllib.error.URLError, OSError, ValueError):
        return "unreachable"


def hub_reachable(timeout: float = 3.0) -> bool:
    if hub_offline_forced():
        return False
    return hub_model_status(DEFAULT_HUB_MODEL, timeout) == "ok"


def choose_model(hw: Hardware, *, requested: str | None, hub: bool) -> ModelChoice:
    """Pick the model for this machine, or raise ModelError with a one-line explanation."""
    if requested:
        local = Path(requested).expanduser()
        if local.is_dir():
            if not (local / "config.json").is_file():
                raise ModelError(f"--model {requested}: folder has no config.json, so it is not a model folder")
            params = local_parameter_count(local)
            size = f", {params / 1e6:.1f}M parameters" if params is not None else ""
            return ModelChoice(str(local.resolve()), "local", f"local model folder {local}{size}", params)
        if not _HUB_NAME.match(requested):
            raise ModelError(
                f"--model {requested!r}: not a Hugging Face model id (expected 'owner/name') or a local model folder"
            )
        if not hub:
            raise ModelError(
                f"--model {requested}: the Hugging Face hub is not reachable (or --offline was given); "
                "pass a local model folder, or drop --model to use the embedded default"
            )
        status = hub_model_status(requested)
        if status == "missing":
            raise ModelError(f"--model {requested}: no such model on the Hugging Face hub")
        if status == "unreachable":
            raise ModelError(f"--model {requested}: the Hugging Face hub stopped answering; try again or use --offline")
        return ModelChoice(requested, "hub", "requested with --model")
    if not hub:
        return ModelChoice(EMBEDDED_MODEL, "embedded", "no Hugging Face hub (offline): using the embedded tiny Qwen3")
    roomy = (hw.cuda and (hw.vram_gb or 0) >= 4) or hw.ram_gb >= 8
    if roomy:
        return ModelChoice(DEFAULT_HUB_MODEL, "hub", f"fits this machine ({hw.describe()})")
    return ModelChoice(SMALL_HUB_MODEL, "hub", f"memory is tight ({hw.describe()}): a 135M model instead of 0.6B")
