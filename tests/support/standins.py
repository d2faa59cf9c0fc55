"""Stand-ins for the model families users bring (Qwen3, Qwen2.5, SmolLM2, Llama 3.2, Gemma 2/3, Phi-3,
Phi-4-mini, GPT-2), for tests that must see a family's architecture, special tokens and chat template
without the hub. See tools/build_standins.py and docs/standins.md.

    from tests.support.standins import standin_dir  # noqa: F401  (pytest fixture)

    def test_something(standin_dir):
        path = standin_dir("llama3.2")          # tiny, random weights, built once per session
        path = standin_dir("qwen3-thinking")    # the trained one, a session copy of tests/data/standins/

The tiny random-weight stand-ins are not committed: each is built into a session temp folder the first time
a test asks for it (well under a second each).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.tools import tool

REPO = Path(__file__).resolve().parents[2]
build_standins = tool("build_standins")

FAMILIES = tuple(build_standins.FAMILIES)
THINKING = build_standins.THINKING
THINKING_DIR = build_standins.THINKING_OUT


@pytest.fixture(scope="session")
def standin_dir(tmp_path_factory):
    """A function family -> Path of that stand-in's folder (size "tiny" unless asked), built once per session.
    `qwen3-thinking` is copied from tests/data/standins/ so that no test can touch the committed files."""
    root = tmp_path_factory.mktemp("standins")
    built: dict[tuple[str, str], Path] = {}

    def get(family: str, size: str = "tiny") -> Path:
        key = (family, size)
        if key not in built:
            dest = root / f"{family}-{size}"
            if family == THINKING:
                shutil.copytree(THINKING_DIR, dest)
            else:
                build_standins.build_standin(family, dest, size=size)
            built[key] = dest
        return built[key]

    return get
