"""Shared test setup: a session cache folder, the embedded tiny model, and a CLI runner.

Every test that trains uses the real tiny model that ships with rl-agent (no hub); pointing RL_AGENT_CACHE
at a session folder keeps tests off the user's real cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("rl_agent-*.whl")
    return whl


def assert_exit_follows_verdict(proc, run_dir: Path) -> dict:
    """A finished setup/resume exits 0 only when its report's verdict succeeded, and 1 when it did not."""
    tail = proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (run_dir / "report.json").is_file(), tail
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert proc.returncode == (0 if report["verdict"]["succeeded"] else 1), tail
    return report


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 600, env: dict | None = None):
    """Run the real `rl-agent` CLI in a subprocess (python -m rl_agent), as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "120")
    return subprocess.run(
        [sys.executable, "-m", "rl_agent", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    return run_cli
