"""Copies of a prepared run folder for fault tests, and a snapshot of everything outside one (to show that a
repair wrote nothing outside the run folder). Shared by the preflight and everyday-repair tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from rl_agent.kit.pipeline.run_folder import RunFolder


def copy_run(donor: Path, dest: Path) -> RunFolder:
    shutil.copytree(donor, dest)
    state_file = dest / "run.json"
    state_file.write_text(state_file.read_text().replace(str(donor), str(dest)))
    return RunFolder(dest)


def outside_snapshot(root: Path, run: Path) -> dict[str, float]:
    """Modification times of every file under `root` that is not inside `run`."""
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if p.is_file() and run not in p.parents}
