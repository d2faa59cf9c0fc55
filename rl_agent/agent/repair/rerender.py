"""The spec is the source of truth: put a rendered script back to what its spec renders, keeping the edit.

Why: a hand edit that leaves a script broken (it no longer compiles, or it fails in a way nothing
recognises) is best undone by rendering again from the spec, which is known to work. The person's edit is
not thrown away: it is saved as a unified diff (`user-edit-<script>.patch`, apply with `patch -p0`) in the
run folder, shown in repairs.md, and the re-render goes through repairer.apply_patch like any repair.
"""

from __future__ import annotations

import ast
import difflib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from rl_agent.agent.repair.repairer import Patch, WriteFile
from rl_agent.kit.pipeline.driver import Pipeline
from rl_agent.kit.pipeline.run_folder import RunFolder, RunState
from rl_agent.kit.tracks.registry import get_track

SCRATCH = ".rerender"  # a scratch folder inside the run folder (renders never write outside it)


@dataclass(frozen=True)
class Drift:
    """A rendered script that differs from what its spec renders now."""

    script: str
    expected: str
    actual: str
    compiles: bool

    @property
    def diff(self) -> str:
        """From the spec's render to the person's version (so `patch -p0 < file` re-applies the edit)."""
        return "".join(
            difflib.unified_diff(
                self.expected.splitlines(True), self.actual.splitlines(True), f"{self.script}", f"{self.script}"
            )
        )

    @property
    def patch_file(self) -> str:
        return f"user-edit-{self.script}.patch"


def script_names(state: RunState) -> tuple[str, str]:
    """(train script, evaluate script) for the run's track."""
    track = get_track(state.spec.algorithm)
    return track.train_script, track.eval_script


def render_expected(folder: RunFolder, state: RunState) -> dict[str, str]:
    """What the spec renders now, per script name (rendered in a scratch folder inside the run folder)."""
    scratch = folder.path(SCRATCH)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        pipe = Pipeline(RunFolder(scratch), Console(file=io.StringIO()))
        pipe.stage_render(state.model_copy(deep=True))
        return {
            name: (scratch / name).read_text(encoding="utf-8")
            for name in script_names(state)
            if (scratch / name).is_file()
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def compiles(text: str, name: str) -> bool:
    try:
        compile(text, name, "exec")
        return True
    except SyntaxError:
        return False


def find_drift(folder: RunFolder, state: RunState) -> list[Drift]:
    """Scripts of a rendered run that no longer match their spec's render (none before the render stage)."""
    if "render" not in state.stages_done:
        return []
    expected = render_expected(folder, state)
    out = []
    for name, text in expected.items():
        path = folder.path(name)
        actual = path.read_text(encoding="utf-8") if path.is_file() else ""
        if actual != text:
            out.append(Drift(name, text, actual, compiles(actual, name)))
    return out


def syntax_error_line(text: str, name: str) -> str:
    """`name:line: message` for a script that does not compile."""
    try:
        ast.parse(text, name)
    except SyntaxError as e:
        return f"{name}:{e.lineno}: {e.msg}"
    return f"{name}: compiles"


def rerender_patch(drifts: list[Drift], state: RunState) -> Patch:
    """Write each drifted script's edit to its patch file, then the spec's render over the script."""
    train, _ = script_names(state)
    actions: list = []
    for d in drifts:
        actions.append(WriteFile(d.patch_file, d.diff))
        actions.append(WriteFile(d.script, d.expected))
    names = ", ".join(d.script for d in drifts)
    kept = ", ".join(d.patch_file for d in drifts)
    rerun = "train" if any(d.script == train for d in drifts) else "evaluate"
    return Patch(
        f"re-render {names} from the spec (the source of truth); your edit is kept in {kept}", tuple(actions), rerun
    )


def diff_summary(drifts: list[Drift], limit: int = 40) -> list[str]:
    """The first lines of each diff, for repairs.md and the console."""
    lines: list[str] = []
    for d in drifts:
        body = d.diff.splitlines()
        lines.append(f"{d.script} differs from its spec's render ({'compiles' if d.compiles else 'does not compile'}):")
        lines += body[:limit] + (
            [f"... ({len(body) - limit} more diff lines in {d.patch_file})"] if len(body) > limit else []
        )
    return lines


def user_edits(root: Path) -> list[Path]:
    return sorted(Path(root).glob("user-edit-*.patch"))
