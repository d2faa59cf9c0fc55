"""The run folder: the one place a run writes to, and its state file (run.json) that makes it resumable.

Why a state file: a killed run must be resumable and must never look complete. run.json records the spec,
which stages finished, and the status; report.json is written only when the whole run succeeded.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from rl_agent.errors import RlAgentError
from rl_agent.kit.spec import RunSpec

STATE_FILE = "run.json"
STAGES = ("model", "data", "render", "train", "evaluate", "report")


class RunFolderError(RlAgentError, RuntimeError):
    """The run folder cannot be used; the message says why."""


class RunState(BaseModel):
    spec: RunSpec
    status: Literal["running", "failed", "complete"] = "running"
    stages_done: list[str] = Field(default_factory=list)
    model_path: str | None = None
    python: str | None = None
    error: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    created_at: float = Field(default_factory=time.time)


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON via a temp file and rename, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


class RunFolder:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    @property
    def state_path(self) -> Path:
        return self.root / STATE_FILE

    def path(self, name: str) -> Path:
        return self.root / name

    def create(self, spec: RunSpec) -> RunState:
        """Make a fresh run folder; refuse a folder that already holds a run or cannot be written."""
        if self.state_path.exists():
            raise RunFolderError(
                f"{self.root} already holds a run; use `rl-agent resume {self.root}` or choose another --run-dir"
            )
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as e:
            raise RunFolderError(f"run folder {self.root} is not writable ({e.strerror or e})") from None
        state = RunState(spec=spec)
        self.save(state)
        return state

    def load(self) -> RunState:
        if not self.state_path.is_file():
            raise RunFolderError(f"{self.root}: no {STATE_FILE} here, so it is not an rl-agent run folder")
        try:
            return RunState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
        except (ValidationError, ValueError) as e:
            first = str(e).splitlines()[0]
            raise RunFolderError(f"{self.state_path}: unreadable run state ({first})") from None

    def save(self, state: RunState) -> None:
        try:
            write_json_atomic(self.state_path, state.model_dump(mode="json"))
        except OSError as e:
            raise RunFolderError(f"cannot write {self.state_path} ({e.strerror or e})") from None
