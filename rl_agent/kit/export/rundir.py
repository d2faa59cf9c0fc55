"""A finished run folder, read from its on-disk layout (not from pipeline internals).

Layout relied on: run.json (the run state: `spec` with `model`, `algorithm`, settings; `model_path`, the
base model actually trained), adapter/ (the LoRA adapter and tokenizer), report.json (written last, only
for a completed run), heldout.jsonl, and data/data.json when the run came from `--data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rl_agent.errors import RlAgentError
from rl_agent.kit.tracks.registry import DEFAULT_TRACK


class RunDirError(RlAgentError, ValueError):
    """Not a usable run folder; the message names the folder and what is missing."""


@dataclass
class RunDir:
    root: Path
    state: dict
    report: dict | None

    @property
    def spec(self) -> dict:
        return self.state.get("spec", {})

    @property
    def algorithm(self) -> str:
        return self.spec.get("algorithm", DEFAULT_TRACK)

    @property
    def base_model(self) -> str:
        """The base model as trained: a local folder (embedded or local model) or a hub id."""
        return self.state.get("model_path") or self.spec["model"]

    @property
    def adapter_dir(self) -> Path:
        return self.root / "adapter"

    @property
    def settings(self) -> dict:
        return self.spec.get(self.algorithm, {})

    def heldout_prompts(self) -> list[str]:
        path = self.root / "heldout.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def data_info(self) -> dict | None:
        path = self.root / "data" / "data.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read_run(run_dir: str | Path, *, need_report: bool = False) -> RunDir:
    root = Path(run_dir).resolve()
    state_path = root / "run.json"
    if not state_path.is_file():
        raise RunDirError(f"{root}: no run.json here, so it is not an rl-agent run folder")
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise RunDirError(f"{state_path}: unreadable ({e})") from None
    if not (root / "adapter" / "adapter_config.json").is_file():
        raise RunDirError(
            f"{root}: no trained adapter (adapter/adapter_config.json); finish the run first (rl-agent resume {root})"
        )
    report_path = root / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.is_file() else None
    if need_report and report is None:
        raise RunDirError(f"{root}: no report.json, so the run has not completed (rl-agent resume {root})")
    return RunDir(root, state, report)
