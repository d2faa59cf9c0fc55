"""Patches a repair makes, and the one function that applies them: every change confined to the run folder.

A patch is data (a list of actions plus the stage to re-run from), so it can be logged, shown to a person
and tested without running anything. `apply_patch` resolves every path (symlinks included) and refuses
anything outside the run folder before it writes a byte; spec changes are validated by RunSpec first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from pydantic import ValidationError

from rl_agent.errors import RlAgentError
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunState
from rl_agent.kit.pipeline.selection import SELECTION_FILE
from rl_agent.kit.spec import RunSpec

ASIDE_DIR = ".aside"  # where repairs move files they take out of the way (never deleted)
MODEL_COPY = "model"  # the run's own copy of the model, so model files can be patched inside the run
BIG_FILE_BYTES = 64 * 1024 * 1024  # weights above this are linked, not copied (and can never be patched)


class PatchRefused(RlAgentError, RuntimeError):
    """A patch asked for something outside the run folder or invalid; nothing was changed."""


def confine(root: Path, path: str | os.PathLike[str]) -> Path:
    """`path` (relative to `root`, or absolute) resolved, symlinks included; refused unless inside `root`."""
    root = Path(root).resolve()
    p = Path(path).expanduser()
    resolved = (p if p.is_absolute() else root / p).resolve()
    if resolved == root or root not in resolved.parents:
        raise PatchRefused(f"refused: {path} is not inside the run folder {root}")
    return resolved


# ---- actions ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetSpec:
    """Set one spec field by dotted name, e.g. `dpo.max_length`."""

    field: str
    value: Any


@dataclass(frozen=True)
class EditFile:
    """Regex substitution in a text file of the run folder; refused if the pattern does not match."""

    path: str
    pattern: str
    replacement: str


@dataclass(frozen=True)
class WriteFile:
    path: str
    text: str


@dataclass(frozen=True)
class EditJson:
    """Set keys of a JSON object file (e.g. the model copy's tokenizer_config.json)."""

    path: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class MoveAside:
    """Move files matching a glob (relative to the run folder) into .aside/<time>/, keeping them for later."""

    glob: str


@dataclass(frozen=True)
class CopyModelIn:
    """Give the run its own copy of the model (so tokenizer files can be fixed) and point the run at it."""


Action = Union[SetSpec, EditFile, WriteFile, EditJson, MoveAside, CopyModelIn]


@dataclass(frozen=True)
class Patch:
    summary: str
    actions: tuple[Action, ...]
    rerun_from: str  # a pipeline stage: it and every later stage run again

    def __post_init__(self) -> None:
        if self.rerun_from not in STAGES:
            raise ValueError(f"rerun_from must be one of {STAGES}, not {self.rerun_from!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "rerun_from": self.rerun_from,
            "actions": [{"action": type(a).__name__, **a.__dict__} for a in self.actions],
        }


# ---- applying -----------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """What a patch will do, computed before anything is written."""

    spec: RunSpec
    writes: list[tuple[Path, str]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)


def apply_patch(folder: RunFolder, patch: Patch) -> list[str]:
    """Apply `patch` to the run in `folder`; return one readable line per change. Raises PatchRefused (and
    changes nothing) if any action reaches outside the run folder or makes the spec invalid."""
    root = folder.root
    state = folder.load()
    pending = _Pending(spec=state.spec)
    # 1. Check everything: paths, spec validity. Model copies and moves are checked here too.
    for action in patch.actions:
        if isinstance(action, SetSpec):
            pending.spec = _set_spec(pending.spec, action, pending.changes)
        elif isinstance(action, (EditFile, WriteFile, EditJson)):
            confine(root, action.path)
        elif isinstance(action, MoveAside):
            _aside_targets(root, action.glob)
    # 2. Do it, in order (a model copy must exist before its files are edited).
    for action in patch.actions:
        if isinstance(action, CopyModelIn):
            _copy_model_in(folder, state, pending.changes)
        elif isinstance(action, EditFile):
            _edit_file(root, action, pending.changes)
        elif isinstance(action, WriteFile):
            target = confine(root, action.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, action.text)
            pending.changes.append(f"wrote {target.relative_to(root)} ({len(action.text)} characters)")
        elif isinstance(action, EditJson):
            _edit_json(root, action, pending.changes)
        elif isinstance(action, MoveAside):
            _move_aside(root, action.glob, pending.changes)
    state.spec = pending.spec
    invalidate(folder, state, patch.rerun_from)
    folder.save(state)
    pending.changes.append(f"stages from {patch.rerun_from} on will run again")
    return pending.changes


def invalidate(folder: RunFolder, state: RunState, stage: str) -> None:
    """Forget `stage` and every later one; a stale report.json would claim the run completed. Answers are made
    again from the evaluate stage on, so the checkpoint choice made on validation answers goes too (the pipeline
    scores the checkpoints again before its test: a fixed eos or generation setting changes those answers)."""
    idx = STAGES.index(stage)
    state.stages_done = [s for s in state.stages_done if STAGES.index(s) < idx]
    state.status = "running"
    state.error = None
    folder.path("report.json").unlink(missing_ok=True)
    if idx <= STAGES.index("evaluate"):
        folder.path(SELECTION_FILE).unlink(missing_ok=True)


def _set_spec(spec: RunSpec, action: SetSpec, changes: list[str]) -> RunSpec:
    data = spec.model_dump(mode="json")
    node, parts = data, action.field.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            raise PatchRefused(f"{action.field}: no such spec field")
        node = node[part]
    if parts[-1] not in node:
        raise PatchRefused(f"{action.field}: no such spec field")
    old = node[parts[-1]]
    node[parts[-1]] = action.value
    try:
        new = RunSpec.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        raise PatchRefused(f"{action.field} = {action.value!r} is not valid: {first['msg']}") from None
    changes.append(f"spec {action.field}: {json.dumps(old)} -> {json.dumps(action.value)}")
    return new


def _edit_file(root: Path, action: EditFile, changes: list[str]) -> None:
    target = confine(root, action.path)
    text = target.read_text(encoding="utf-8")
    new, n = re.subn(action.pattern, action.replacement, text)
    if n == 0:
        raise PatchRefused(f"{action.path}: nothing matches {action.pattern!r}; file left unchanged")
    if target.suffix == ".py":
        try:
            compile(new, str(target), "exec")
        except SyntaxError as e:
            raise PatchRefused(f"{action.path}: the edit would not compile ({e.msg}); file left unchanged") from None
    _write_atomic(target, new)
    changes.append(f"edited {target.relative_to(root)}: {n} x {action.pattern!r} -> {action.replacement!r}")


def _edit_json(root: Path, action: EditJson, changes: list[str]) -> None:
    target = confine(root, action.path)
    data = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    if not isinstance(data, dict):
        raise PatchRefused(f"{action.path}: not a JSON object")
    for key, value in action.changes.items():
        changes.append(f"{target.relative_to(root)}: {key}: {json.dumps(data.get(key))} -> {json.dumps(value)}")
        data[key] = value
    _write_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _aside_targets(root: Path, pattern: str) -> list[Path]:
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise PatchRefused(f"refused: {pattern} is not a pattern inside the run folder")
    # confine() resolves links, so a link pointing outside is refused rather than followed.
    return [confine(root, p.relative_to(root)) for p in sorted(root.glob(pattern))]


def _move_aside(root: Path, pattern: str, changes: list[str]) -> None:
    targets = _aside_targets(root, pattern)
    if not targets:
        changes.append(f"nothing matched {pattern} (already out of the way)")
        return
    dest_root = root / ASIDE_DIR / time.strftime("%Y%m%d-%H%M%S")
    for src in targets:
        dest = dest_root / src.relative_to(root)
        n = 1
        while dest.exists():
            dest = dest.with_name(f"{src.name}.{n}")
            n += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), str(dest))
        changes.append(f"moved {src.relative_to(root)} -> {dest.relative_to(root)}")


def _copy_model_in(folder: RunFolder, state: RunState, changes: list[str]) -> None:
    root = folder.root
    dest = root / MODEL_COPY
    src = Path(state.model_path or state.spec.model)
    if src.is_dir() and (src.resolve() == dest.resolve() or root in src.resolve().parents):
        return  # already the run's own copy
    if not src.is_dir():
        raise PatchRefused(f"the model {src} is not a local folder, so the run cannot take its own copy")
    if dest.exists():
        raise PatchRefused(f"{dest} exists but the run does not use it; move it away first")
    tmp = root / (MODEL_COPY + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for item in src.iterdir():
        if item.is_dir():
            shutil.copytree(item, tmp / item.name)
        elif item.stat().st_size > BIG_FILE_BYTES:
            (tmp / item.name).symlink_to(item.resolve())
        else:
            shutil.copy2(item, tmp / item.name)
    tmp.rename(dest)
    state.model_path = str(dest)
    changes.append(f"copied the model {src} -> {MODEL_COPY}/ (the run now uses its own copy)")


def _write_atomic(target: Path, text: str) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
