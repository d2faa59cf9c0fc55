"""Shared test setup: a session cache folder, the embedded tiny model, and a CLI runner.

Every test that trains uses the real tiny model that ships with rl-agent (no hub); pointing RL_AGENT_CACHE
at a session folder keeps tests off the user's real cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import REPO, assert_exit_follows_verdict, run_cli  # noqa: F401  (re-exported)


@pytest.fixture(scope="session", autouse=True)
def rl_agent_cache(tmp_path_factory) -> Path:
    """RL_AGENT_CACHE for the whole session (inherited by every subprocess the tests start)."""
    preset = os.environ.get("RL_AGENT_TEST_CACHE")  # reuse a warm cache across local runs if asked
    cache = Path(preset) if preset else tmp_path_factory.mktemp("rl-agent-cache")
    old = os.environ.get("RL_AGENT_CACHE")
    os.environ["RL_AGENT_CACHE"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("RL_AGENT_CACHE", None)
    else:
        os.environ["RL_AGENT_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """The embedded tiny Qwen3 that ships in the package, copied once per session so that no test can
    damage the package's own copy."""
    import shutil

    from rl_agent.kit.models.tiny import embedded_model_dir

    dest = tmp_path_factory.mktemp("embedded") / "tiny-qwen3"
    shutil.copytree(embedded_model_dir(), dest)
    return dest


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory) -> Path:
    """The wheel built from this checkout (`python -m build --wheel`), once per session."""
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("rl_agent-*.whl")
    return whl


@pytest.fixture
def cli():
    return run_cli
