"""The embedded default model: a tiny Qwen3-architecture causal LM that ships inside the package.

Why shipped: with no network and no hub, `rl-agent setup` must still train something real, and the
before/after must show a model that stays right while its style changes. A model that knows facts has to
see them many times, which takes minutes on a CPU, so it is built once by
`python tools/build_embedded_model.py` (deterministic: fixed seeds, fixed thread count) and its weights
(about 8 MB) ship as package data in rl_agent/data/embedded_model/. What it knows: the 407 facts of
rl_agent/data/knowledge/facts.tsv (each as a statement and as a question answered tersely and hedgily)
and three-number sums (tools/make_arithmetic.py). recipe.json in that folder records how it was built
and a fingerprint of the data it saw.

Needs only the standard library: run folders point their scripts at this folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.runtime.chat_format import CHATML_TEMPLATE

EMBEDDED_NAME = "embedded:tiny-qwen3"
# The ChatML template the embedded tokenizer carries (also what the repairer gives a tokenizer that has
# ChatML tokens but lost its template).
CHAT_TEMPLATE = CHATML_TEMPLATE
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "recipe.json")


class EmbeddedModelError(RlAgentError, RuntimeError):
    """The shipped model folder is missing or damaged; the message says what and how to rebuild it."""


def default_cache_dir() -> Path:
    """Where rl-agent keeps reusable files (grade cache, training venv): $RL_AGENT_CACHE, else the
    platform's user cache dir."""
    env = os.environ.get("RL_AGENT_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("rl-agent"))


def embedded_model_dir() -> Path:
    """The shipped model folder, checked: every file present and the weights match recipe.json."""
    path = Path(str(resources.files("rl_agent") / "data" / "embedded_model"))
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise EmbeddedModelError(
            f"{path}: the embedded model is incomplete (missing {', '.join(missing)}); "
            "reinstall rl-agent or rebuild it with `python tools/build_embedded_model.py`"
        )
    recipe = json.loads((path / "recipe.json").read_text(encoding="utf-8"))
    expected = recipe.get("weights_sha256")
    if expected and _sha256(path / "model.safetensors") != expected:
        raise EmbeddedModelError(
            f"{path / 'model.safetensors'}: weights do not match recipe.json (damaged file); "
            "reinstall rl-agent or rebuild it with `python tools/build_embedded_model.py`"
        )
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
