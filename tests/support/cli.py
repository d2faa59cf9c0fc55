"""Running the real CLI as a user would, and reading what a finished run says: shared by conftest.py and the
tests that call these helpers directly (import them from here, not from conftest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


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
