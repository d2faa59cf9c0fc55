"""The task-folder contract: one shape for every task, whoever wrote it (a recipe, Claude, a person).

    task.json            {"statement": "one line", "algorithm": a track name (rl-agent setup --help lists them),
                          "check_kind": "program"|"claude_judge"}   (+ "recipe", "params" when a recipe wrote it)
    check.py             def check(prompt, output, reference=None) -> float in [0, 1] | None; standard library only
    rubric.md            instead of check.py when check_kind is claude_judge (the Claude grader scores with it)
    examples.jsonl       {"kind": "good"|"bad", "prompt", "output", "reference"?} per line; >= 5 of each
    data/train.jsonl     the track's training rows (DPO pairs, GRPO prompts with references, SFT/KTO rows)
    data/heldout.jsonl   held-out rows (prompt, reference?); no prompt shared with training

The proof (every good example >= 0.9, every bad <= 0.1, in the sandboxed runner) decides whether it trains.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rl_agent.errors import RlAgentError
from rl_agent.kit.tracks.registry import TRACKS, TrackName

TASK_FILE = "task.json"
CHECK_FILE = "check.py"
RUBRIC_FILE = "rubric.md"
EXAMPLES_FILE = "examples.jsonl"
TRAIN_FILE = "data/train.jsonl"
HELDOUT_FILE = "data/heldout.jsonl"
ALGORITHMS = tuple(TRACKS)
CHECK_ARGS = ["prompt", "output", "reference"]


class TaskFolderError(RlAgentError, ValueError):
    """A task folder that does not follow the contract; the message names the file (and field or line)."""


class TaskMeta(BaseModel):
    """task.json: the check in plain words, the training algorithm and the kind of check."""

    model_config = ConfigDict(extra="forbid")

    statement: str = Field(min_length=1, max_length=4000, description="what the check accepts, in plain words")
    algorithm: TrackName
    check_kind: Literal["program", "claude_judge"] = "program"
    recipe: Optional[str] = Field(None, description="the recipe(s) that wrote the folder, if any")
    params: dict = Field(default_factory=dict, description="the recipe's parameters, if any")


def meta_text(meta: TaskMeta) -> str:
    """task.json's text: statement, algorithm and check_kind always; recipe and params when a recipe wrote it."""
    data = meta.model_dump(mode="json")
    data = {k: v for k, v in data.items() if k not in ("recipe", "params") or v}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def write_meta(root: str | Path, meta: TaskMeta) -> Path:
    path = Path(root) / TASK_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(meta_text(meta), encoding="utf-8")
    tmp.replace(path)
    return path


def read_meta(root: str | Path) -> TaskMeta:
    """task.json of a task folder, validated; TaskFolderError naming the file and the field."""
    path = Path(root) / TASK_FILE
    if not path.is_file():
        raise TaskFolderError(
            f"{path}: missing (a task folder holds {TASK_FILE}, {CHECK_FILE} or {RUBRIC_FILE}, "
            f"{EXAMPLES_FILE}, {TRAIN_FILE} and {HELDOUT_FILE})"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise TaskFolderError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise TaskFolderError(f"{path}: must be a JSON object with statement, algorithm and check_kind")
    try:
        return TaskMeta.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(map(str, first["loc"])) or "task.json"
        got = f" (got {json.dumps(first['input'])[:80]})" if first["type"] != "missing" else ""
        raise TaskFolderError(f"{path}: field '{field}': {first['msg']}{got}") from None


def check_source_problem(code: str, name: str = CHECK_FILE) -> str | None:
    """Why `code` is not a usable check.py (it does not compile, or has no top-level
    `def check(prompt, output, reference=None)`), or None."""
    try:
        tree = ast.parse(code, name)
        compile(tree, name, "exec")
    except SyntaxError as e:
        return f"does not compile (line {e.lineno}: {e.msg})"
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    names = [a.arg for a in fn.args.args] if fn else []
    if fn is None or names[:3] != CHECK_ARGS or len(names) - len(fn.args.defaults) > 2:
        return (
            "must define, at its top level, def check(prompt, output, reference=None) returning a score in "
            "[0, 1] or None"
        )
    return None
