"""The run-folder tools Claude repairs a run with, served in-process through the Agent SDK.

Why these tools and nothing else: the agent may look at a run (status, log, files, before/after), change
its settings (the spec in run.json, or a rendered script), and re-run its stages; it may not run a shell,
touch anything outside the run folder, or edit results (eval.json, report.json, the pair files). Every
path is resolved and checked here, so the confinement holds even if a permission layer above is bypassed.
Each change is a counted repair attempt, logged to repairs.jsonl in the run folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from rl_agent.agent.repair.loop import load_task
from rl_agent.agent.repair.repairer import EditFile, Patch, PatchRefused, SetSpec, apply_patch, invalidate
from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import PairFileError
from rl_agent.kit.pipeline.driver import LOG_FILE, Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import STAGES, RunFolder, RunFolderError, RunState
from rl_agent.kit.planning.task_spec import assess_outcome

SERVER_NAME = "rl_agent"
REPAIRS_FILE = "repairs.jsonl"
SECRET_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_API_KEY")
# Spec fields that name the run's inputs: a repair changes how the run trains, never what it trains on.
PROTECTED_SPEC_KEYS = {"model", "model_source", "model_reason", "train_file", "heldout_file", "task", "algorithm"}


def script_stage(name: str) -> str:
    """The stage that runs a rendered script (evaluate*.py: evaluate; train*.py and the rest: train);
    patching the script invalidates that stage and every later one."""
    return "evaluate" if name.startswith("evaluate") else "train"


MAX_READ_CHARS = 20_000


class ToolRefused(RlAgentError, ValueError):
    """A tool call asked for something outside its remit; the message tells Claude why."""


@dataclass(frozen=True)
class ToolResult:
    text: str
    ok: bool = True


def secrets_in_env() -> list[str]:
    return [v for k in SECRET_ENV if len(v := os.environ.get(k, "")) >= 8]


def redact(text: str) -> str:
    """Remove any API key value from text before it is written or shown."""
    for value in secrets_in_env():
        text = text.replace(value, "[redacted]")
    return text


def inside(root: Path, path: str | os.PathLike[str]) -> Path:
    """`path` (relative to `root`, or absolute) resolved, symlinks included; refused unless inside `root`."""
    root = Path(root).resolve()
    p = Path(path).expanduser()
    resolved = (p if p.is_absolute() else root / p).resolve()
    if resolved != root and root not in resolved.parents:
        raise ToolRefused(f"refused: {path} is outside the run folder {root}")
    return resolved


@dataclass
class RunTools:
    """Plain (synchronous) tool functions on one run folder; the SDK wrappers below only adapt them."""

    run_dir: Path
    max_attempts: int = 3
    python: str | None = None  # training interpreter if run.json has none
    attempts: int = 0
    on_repair: Callable[[dict[str, Any]], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        self.folder = RunFolder(self.run_dir)

    # ---- looking ------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        state = self.folder.load()
        verdict = self.verdict() if state.status == "complete" else None
        return {
            "status": state.status,
            "stages_done": state.stages_done,
            "error": state.error,
            "next_stage": next((s for s in STAGES if s not in state.stages_done), None),
            "succeeded": verdict["succeeded"] if verdict else None,
            "failed_checks": [k for k, v in verdict["checks"].items() if not v] if verdict else [],
            "repair_attempts_left": self.max_attempts - self.attempts,
        }

    def verdict(self) -> dict[str, Any] | None:
        """The completed run's verdict plus the plan's own checks (spec.json), or None before report.json:
        a run that completes but fails its checks is not repaired yet."""
        path = self.folder.path("report.json")
        if not path.is_file():
            return None
        return assess_outcome(load_task(self.folder), json.loads(path.read_text(encoding="utf-8")))

    def read_log(self, lines: int = 60) -> ToolResult:
        lines = max(1, min(int(lines), 400))
        log = self.folder.path(LOG_FILE)
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:] if log.is_file() else []
        body = "\n".join(tail) or "(train.log is empty: no step has run yet)"
        return ToolResult(
            redact(f"run status: {json.dumps(self.status())}\n--- last {len(tail)} lines of {LOG_FILE} ---\n{body}")
        )

    def read_file(self, path: str, max_chars: int = MAX_READ_CHARS) -> ToolResult:
        target = inside(self.run_dir, path)
        if not target.is_file():
            raise ToolRefused(f"{path}: no such file in the run folder")
        data = target.read_bytes()
        if b"\x00" in data[:4096]:
            raise ToolRefused(f"{path}: binary file, not shown")
        text = data.decode("utf-8", errors="replace")
        cut = max(1000, min(int(max_chars), MAX_READ_CHARS))
        more = f"\n... ({len(text) - cut} more characters)" if len(text) > cut else ""
        return ToolResult(redact(text[:cut] + more))

    def compare(self) -> ToolResult:
        """Before/after figures (DPO: pref_accuracy, mean_words, ...; GRPO: reward, check, ...) from report.json
        (complete run) or eval.json (evaluated, not reported yet); a stale eval.json (from before a patch) is not
        shown."""
        done = self.folder.load().stages_done
        for name, stage in (("report.json", "report"), ("eval.json", "evaluate")):
            p = self.folder.path(name)
            if p.is_file() and stage in done:
                data = json.loads(p.read_text(encoding="utf-8"))
                out: dict[str, Any] = {
                    side: {
                        k: v
                        for k, v in data[side].items()  # the figures, not samples
                        if isinstance(v, (int, float)) and not isinstance(v, bool)
                    }
                    for side in ("before", "after")
                }
                out["source"] = name
                if name == "report.json":
                    out["verdict"] = self.verdict()
                out["run"] = self.status()
                return ToolResult(json.dumps(out, indent=1))
        return ToolResult(json.dumps({"source": None, "note": "no evaluation yet", "run": self.status()}), ok=False)

    # ---- changing -----------------------------------------------------------------------------------
    def patch_spec(self, changes: dict[str, Any], reason: str) -> ToolResult:
        """Set spec fields by dotted name (e.g. {"dpo.learning_rate": 1e-4}); re-render needed afterwards."""
        if not isinstance(changes, dict) or not changes:
            raise ToolRefused("changes must be a non-empty object of dotted spec field -> new value")
        for key in changes:
            if key.split(".")[0] in PROTECTED_SPEC_KEYS:
                raise ToolRefused(f"refused: {key} names the run's inputs; repairs may change settings only")
        self._check_no_secret(json.dumps(changes))
        patch = Patch(reason or "spec change", tuple(SetSpec(k, v) for k, v in changes.items()), "render")
        return self._apply(
            "patch_spec", "run.json:spec", reason, changes, patch, "Call render, then run_step, to apply it."
        )

    def patch_file(self, path: str, old: str, new: str, reason: str) -> ToolResult:
        """Replace one exact occurrence of `old` with `new` in a rendered script of the run folder."""
        target = inside(self.run_dir, path)
        if target.parent != self.run_dir or target.suffix != ".py" or not target.is_file():
            raise ToolRefused(
                f"refused: {path} is not a rendered script of this run (patchable: "
                f"{', '.join(sorted(p.name for p in self.run_dir.glob('*.py')))}); "
                "results, data and run.json cannot be patched (use patch_spec for settings)"
            )
        if not old:
            raise ToolRefused("old must be a non-empty exact excerpt of the file")
        self._check_no_secret(new)
        count = target.read_text(encoding="utf-8").count(old)
        if count != 1:
            raise ToolRefused(
                f"old occurs {count} times in {target.name}; it must occur exactly once (include more surrounding text)"
            )
        edit = EditFile(target.name, re.escape(old), new.replace("\\", "\\\\"))
        patch = Patch(reason or f"edit {target.name}", (edit,), script_stage(target.name))
        return self._apply(
            "patch_file",
            target.name,
            reason,
            {"old": old, "new": new},
            patch,
            "Re-run it with run_step (render would overwrite this patch).",
        )

    def _apply(
        self, action: str, target: str, reason: str, change: dict[str, Any], patch: Patch, next_step: str
    ) -> ToolResult:
        """One repair attempt: apply `patch` with the repairer (all or nothing), log it either way."""
        with self._lock:
            self._take_attempt()
            try:
                lines = apply_patch(self.folder, patch)
            except PatchRefused as e:
                self._log_repair(action, target, reason, change, ok=False, error=str(e))
                return ToolResult(f"not changed: {e}", ok=False)
            self._log_repair(action, target, reason, change, ok=True, applied=lines)
        return ToolResult("; ".join(lines) + ". " + next_step)

    # ---- running ------------------------------------------------------------------------------------
    def render(self) -> ToolResult:
        """Re-render the pipeline scripts from the spec (discarding manual patches to them)."""
        return self.run_step("render")

    def run_step(self, step: str, fresh: bool = False) -> ToolResult:
        """Run one stage (model, data, render, train, evaluate, report) or "all" remaining stages."""
        if step not in (*STAGES, "all"):
            raise ToolRefused(f"step must be one of {', '.join(STAGES)} or all")
        with self._lock:
            state = self._load()
            if not state.python:
                state.python = self.python
            if not state.python:
                raise ToolRefused("run.json names no training interpreter; run `rl-agent resume` once first")
            if fresh:
                for ckpt in self.folder.path("out").glob("checkpoint-*"):
                    shutil.rmtree(ckpt, ignore_errors=True)
            missing = [s for s in STAGES[: STAGES.index(step)] if s not in state.stages_done] if step != "all" else []
            if missing:
                raise ToolRefused(f"run {', '.join(missing)} before {step}")
            pipeline = Pipeline(self.folder, Console(file=io.StringIO(), width=100))
            started = time.time()
            try:
                if step == "all":
                    pipeline.run(state)
                else:
                    self._run_one(pipeline, state, step)
            except (StageError, PairFileError, RunFolderError, OSError, ValueError, KeyError) as e:
                state.status, state.error = "failed", str(e) or type(e).__name__
                self.folder.save(state)
                tail = self.read_log(40).text
                return ToolResult(
                    redact(f"{step} FAILED after {time.time() - started:.0f}s: {state.error}\n{tail}"), ok=False
                )
        done = f"{step} finished in {time.time() - started:.0f}s; run status: {json.dumps(self.status())}"
        if state.status == "complete":
            done += "\n" + self.compare().text
        return ToolResult(done)

    def _run_one(self, pipeline: Pipeline, state: RunState, step: str) -> None:
        invalidate(self.folder, state, step)
        t0 = time.time()
        getattr(pipeline, f"stage_{step}")(state)
        state.timings[step] = state.timings.get(step, 0.0) + time.time() - t0
        state.stages_done.append(step)
        state.status = "complete" if step == "report" else "running"
        state.error = None
        self.folder.save(state)

    # ---- bookkeeping --------------------------------------------------------------------------------
    def _load(self) -> RunState:
        return self.folder.load()

    def _take_attempt(self) -> None:
        if self.attempts >= self.max_attempts:
            raise ToolRefused(f"refused: all {self.max_attempts} repair attempts are used; stop and report")
        self.attempts += 1

    def _check_no_secret(self, text: str) -> None:
        if any(v in text for v in secrets_in_env()):
            raise ToolRefused("refused: the change contains an API key")

    def _log_repair(
        self,
        action: str,
        target: str,
        reason: str,
        change: dict[str, Any],
        *,
        ok: bool,
        error: str | None = None,
        applied: list[str] | None = None,
    ) -> None:
        """One line of repairs.jsonl, in the record shape the repair loop's RepairLog reads and renders."""
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "by": "claude-agent",
            "attempt": self.attempts,
            "action": action,
            "target": target,
            "reason": reason,
            "change": change,
            "changes": applied or [],
            "ok": ok,
            "error": error,
        }
        line = redact(json.dumps(record, ensure_ascii=False))
        with open(self.folder.path(REPAIRS_FILE), "a", encoding="utf-8") as f:
            f.write(line + "\n")
        if self.on_repair:
            self.on_repair(json.loads(line))


# ---- the SDK face -----------------------------------------------------------------------------------------


def tool_names(specs: dict[str, Any] | None = None) -> list[str]:
    """The fully qualified names Claude Code gives our tools (mcp__<server>__<tool>); default: the repair tools."""
    return [f"mcp__{SERVER_NAME}__{name}" for name in (_SPECS if specs is None else specs)]


_SPECS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (description, JSON schema, read-only)
    "read_log": (
        "Run status (stages done, error, repair attempts left) and the last lines of train.log.",
        {"type": "object", "properties": {"lines": {"type": "integer", "minimum": 1, "maximum": 400}}},
        True,
    ),
    "read_file": (
        "Read a text file inside the run folder (e.g. train_dpo.py, evaluate.py, run.json).",
        {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        True,
    ),
    "compare": (
        "Before/after figures on held-out prompts (pref_accuracy, mean_words, hedge_count, judge_score) "
        "and the verdict, once the run has been evaluated.",
        {"type": "object", "properties": {}},
        True,
    ),
    "patch_spec": (
        'Change run settings in the spec by dotted field name, e.g. {"dpo.learning_rate": 0.0001} or '
        '{"precision": "fp32"}. Counts as a repair attempt. Call render afterwards.',
        {
            "type": "object",
            "properties": {"changes": {"type": "object"}, "reason": {"type": "string"}},
            "required": ["changes", "reason"],
        },
        False,
    ),
    "patch_file": (
        "Replace one exact excerpt `old` with `new` in a rendered script of the run folder "
        "(train_dpo.py, evaluate.py, or the GRPO ones). Counts as a repair attempt. render would undo it.",
        {
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "old": {"type": "string"},
                "new": {"type": "string"},
                "reason": {"type": "string"},
            },
            "required": ["path", "old", "new", "reason"],
        },
        False,
    ),
    "render": (
        "Re-render the pipeline scripts (train and evaluate) from the spec.",
        {"type": "object", "properties": {}},
        False,
    ),
    "run_step": (
        "Run a pipeline stage: model, data, render, train, evaluate, report, or all (the remaining stages "
        "in order). fresh=true drops training checkpoints first (after a learning-rate change).",
        {
            "type": "object",
            "properties": {"step": {"type": "string", "enum": [*STAGES, "all"]}, "fresh": {"type": "boolean"}},
            "required": ["step"],
        },
        False,
    ),
}


def build_server(tools: RunTools) -> Any:
    """An in-process MCP server (create_sdk_mcp_server) whose tools call `tools` off the event loop."""
    calls: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
        "read_log": lambda a: tools.read_log(a.get("lines", 60)),
        "read_file": lambda a: tools.read_file(a["path"]),
        "compare": lambda a: tools.compare(),
        "patch_spec": lambda a: tools.patch_spec(a["changes"], a["reason"]),
        "patch_file": lambda a: tools.patch_file(a["path"], a["old"], a["new"], a["reason"]),
        "render": lambda a: tools.render(),
        "run_step": lambda a: tools.run_step(a["step"], bool(a.get("fresh", False))),
    }
    return mcp_server(_SPECS, calls)


def mcp_server(
    specs: dict[str, tuple[str, dict[str, Any], bool]],
    calls: dict[str, Callable[[dict[str, Any]], ToolResult]],
    refused: tuple[type[Exception], ...] = (ToolRefused, RunFolderError),
) -> Any:
    """An in-process MCP server serving `calls` (name -> sync function of the arguments) with `specs`
    (name -> description, JSON schema, read-only); each call runs off the event loop, and a refusal comes
    back to Claude as an error result carrying its message."""
    import anyio
    from claude_agent_sdk import ToolAnnotations, create_sdk_mcp_server, tool

    def make(name: str) -> Any:
        description, schema, read_only = specs[name]

        async def handler(args: dict[str, Any]) -> dict[str, Any]:
            try:
                result = await anyio.to_thread.run_sync(calls[name], args)
            except refused as e:
                result = ToolResult(str(e), ok=False)
            return {"content": [{"type": "text", "text": result.text}], "is_error": not result.ok}

        return tool(name, description, schema, annotations=ToolAnnotations(readOnlyHint=read_only))(handler)

    return create_sdk_mcp_server(SERVER_NAME, tools=[make(n) for n in specs])
