"""Claude as repair agent (and, through author.py, task-folder author), on the Claude Agent SDK (which drives the Claude Code CLI).

Why the SDK: Claude Code's agent loop (tool calls, turn and budget limits, permission checks) drives our
own in-process run-folder tools (sdk_tools), so rl-agent does not reimplement an agent loop for Claude.

Confinement, from the outside in: no built-in tool exists in the session (tools=[], and the risky ones are
disallowed by name as well); only our tools are pre-approved and the permission mode denies anything else
without asking; a PreToolUse hook refuses any call naming a path outside the run folder; no user or
project settings are loaded (they could add hooks or allow rules); and the tools check every path again.
The API key stays in the environment of the CLI process: nothing here writes it anywhere.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rl_agent.agent.claude.sdk_tools import (
    REPAIRS_FILE,
    SERVER_NAME,
    RunTools,
    ToolRefused,
    build_server,
    inside,
    redact,
    tool_names,
)
from rl_agent.agent.repair.log import REPAIRS_MD, RepairLog, render_repairs_md
from rl_agent.errors import RlAgentError
from rl_agent.kit.pipeline.run_folder import RunFolder

if TYPE_CHECKING:
    from claude_agent_sdk import ClaudeAgentOptions

# Built-in Claude Code tools, disallowed by name in case a CLI version ignores tools=[].
BUILTIN_TOOLS = (
    "Bash",
    "BashOutput",
    "KillShell",
    "Read",
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "Glob",
    "Grep",
    "LS",
    "WebFetch",
    "WebSearch",
    "Task",
    "Agent",
    "TodoWrite",
    "Skill",
    "SlashCommand",
)
# Argument names that carry a file system path, in our tools and in any tool Claude might name.
PATH_KEYS = {"path", "file", "file_path", "filename", "notebook_path", "dir", "directory", "cwd", "target"}
DEFAULT_BUDGET_USD = 2.0
CLI_ENV = {
    # A training step can take many minutes: never let the CLI time out a tool call of ours.
    "MCP_TOOL_TIMEOUT": str(6 * 3600 * 1000),
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
}


class AgentError(RlAgentError, RuntimeError):
    """Claude could not be run or returned nothing usable; the message says why."""


@dataclass
class AgentOutcome:
    """What a repair session achieved. `ok`: the run completed and its verdict (with the plan's checks)
    succeeded."""

    ok: bool
    status: str
    attempts: int
    turns: int = 0
    cost_usd: float | None = None
    stop: str = ""  # the SDK result subtype: success, error_max_turns, error_max_budget_usd, ...; or "error"
    summary: str = ""
    error: str | None = None
    repairs: list[dict[str, Any]] = field(default_factory=list)


def brief() -> str:
    """The starter brief: the one text a person pastes into Claude Code (the repository's BRIEF.md is a link
    to this file) and the SDK agent follows, so the two cannot drift."""
    return (resources.files("rl_agent") / "prompts" / "BRIEF.md").read_text(encoding="utf-8")


def instructions(own: str = "agent_instructions.md") -> str:
    """A session's system prompt: its own instructions (a file in rl_agent/prompts) followed by BRIEF.md."""
    text = (resources.files("rl_agent") / "prompts" / own).read_text(encoding="utf-8")
    return text + "\n\n# The starter brief this project follows (BRIEF.md)\n\n" + brief()


def refusal(run_dir: Path, tool_name: str, tool_input: dict[str, Any], allowed: set[str]) -> str | None:
    """Why a tool call must not run (None: it may). Pure, so the policy is testable without Claude."""
    if tool_name not in allowed:
        return f"refused: only the rl-agent run-folder tools may be used here ({tool_name} is not one of them)"
    for key, value in _walk(tool_input):
        if key.lower() in PATH_KEYS and isinstance(value, str):
            try:
                inside(run_dir, value)
            except ToolRefused as e:
                return str(e)
    return None


def _walk(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def path_guard(
    run_dir: Path, allowed: set[str], on_refuse: Callable[[str, dict[str, Any], str], None] | None = None
) -> Callable[..., Any]:
    """A PreToolUse hook: hooks see every tool call, including pre-approved ones, so this is the gate.
    `on_refuse(tool, input, reason)` records a refused call (it never reaches our tools to be logged there)."""

    async def guard(hook_input: dict[str, Any], tool_use_id: str | None, context: Any) -> dict[str, Any]:
        name, args = hook_input.get("tool_name", ""), hook_input.get("tool_input") or {}
        reason = refusal(run_dir, name, args, allowed)
        if reason is None:
            return {}
        if on_refuse is not None:
            on_refuse(name, args, reason)
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": reason,
            }
        }

    return guard


def agent_options(
    run_dir: Path,
    tools: RunTools,
    *,
    model: str | None,
    max_turns: int,
    budget_usd: float | None,
    stderr: Callable[[str], None] | None = None,
) -> "ClaudeAgentOptions":
    """The repair session: the run-folder repair tools, the repair instructions (with BRIEF.md)."""
    return session_options(
        run_dir,
        build_server(tools),
        tool_names(),
        instructions(),
        model=model,
        max_turns=max_turns,
        budget_usd=budget_usd,
        stderr=stderr,
    )


def session_options(
    run_dir: Path,
    server: Any,
    names: list[str],
    system_prompt: str,
    *,
    model: str | None,
    max_turns: int,
    budget_usd: float | None,
    stderr: Callable[[str], None] | None = None,
    on_refuse: Callable[[str, dict[str, Any], str], None] | None = None,
) -> "ClaudeAgentOptions":
    """A session locked to one in-process MCP server's tools (`names`) and the run folder (see the module doc)."""
    from claude_agent_sdk import ClaudeAgentOptions, HookMatcher

    return ClaudeAgentOptions(
        system_prompt=system_prompt,
        mcp_servers={SERVER_NAME: server},
        strict_mcp_config=True,
        tools=[],
        allowed_tools=names,
        disallowed_tools=list(BUILTIN_TOOLS),
        permission_mode="dontAsk",
        hooks={"PreToolUse": [HookMatcher(matcher=None, hooks=[path_guard(run_dir, set(names), on_refuse)])]},
        setting_sources=[],
        cwd=str(run_dir),
        max_turns=max_turns,
        max_budget_usd=budget_usd,
        model=model,
        env=dict(CLI_ENV),
        stderr=stderr,
    )


def repair_prompt(tools: RunTools) -> str:
    s = tools.status()
    problem = (
        f"It completed but did not succeed; failed checks: {', '.join(s['failed_checks'])}."
        if s["status"] == "complete"
        else f"Error: {s['error'] or 'none recorded'}"
    )
    return redact(
        f"Run folder: {tools.run_dir}\n"
        f"Status: {s['status']}; stages done: {', '.join(s['stages_done']) or 'none'}; next stage: {s['next_stage']}\n"
        f"{problem}\n\n"
        f"Repair this run until it completes and succeeds. You have {tools.max_attempts} repair attempts."
    )


def run_claude_agent(
    run_dir: Path,
    *,
    max_attempts: int = 3,
    model: str | None = None,
    budget_usd: float | None = DEFAULT_BUDGET_USD,
    python: str | None = None,
    on_event: Callable[[str], None] | None = None,
) -> AgentOutcome:
    """Let Claude repair the run in `run_dir` with the run-folder tools, within `max_attempts` patches,
    a turn limit derived from it, and `budget_usd`. Returns what happened; never raises for Claude's
    own failures (auth, limits, a missing CLI): those come back as `error`."""
    import anyio

    run_dir = Path(run_dir).resolve()
    folder = RunFolder(run_dir)
    state = folder.load()
    repairs: list[dict[str, Any]] = []
    tools = RunTools(
        run_dir, max_attempts=max_attempts, python=python or state.python or sys.executable, on_repair=repairs.append
    )
    if tools.status()["succeeded"]:
        return AgentOutcome(ok=True, status="complete", attempts=0, stop="nothing to repair")
    outcome = anyio.run(_session, tools, model, 3 + 5 * max_attempts, budget_usd, on_event or (lambda s: None))
    final = tools.status()
    outcome.repairs, outcome.attempts = repairs, tools.attempts
    outcome.status, outcome.ok = final["status"], bool(final["succeeded"])
    result = (
        "fixed: the run completed and succeeded"
        if outcome.ok
        else (
            f"not fixed: run {final['status']}"
            + (f", failed checks: {', '.join(final['failed_checks'])}" if final["failed_checks"] else "")
            + (f" ({outcome.error})" if outcome.error else "")
        )
    )
    _append(
        run_dir / REPAIRS_FILE,
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "by": "claude-agent",
            "attempt": tools.attempts,
            "outcome": result,
            "ok": outcome.ok,
            "turns": outcome.turns,
            "cost_usd": outcome.cost_usd,
            "stop": outcome.stop,
        },
    )
    folder.path(REPAIRS_MD).write_text(render_repairs_md(RepairLog(folder).read()), encoding="utf-8")
    return outcome


async def _session(
    tools: RunTools, model: str | None, max_turns: int, budget_usd: float | None, on_event: Callable[[str], None]
) -> AgentOutcome:
    stderr: list[str] = []
    options = agent_options(
        tools.run_dir, tools, model=model, max_turns=max_turns, budget_usd=budget_usd, stderr=stderr.append
    )
    return await run_session(options, repair_prompt(tools), on_event, stderr)


async def run_session(
    options: "ClaudeAgentOptions", prompt: str, on_event: Callable[[str], None], stderr: list[str]
) -> AgentOutcome:
    """One Agent SDK session to its end: Claude's texts and tool calls go to `on_event`; the turns, cost, stop
    reason and any error (key redacted, with the CLI's last stderr lines) come back in the outcome."""
    from claude_agent_sdk import AssistantMessage, ClaudeSDKError, ResultMessage, TextBlock, ToolUseBlock, query

    out = AgentOutcome(ok=False, status="failed", attempts=0)
    texts: list[str] = []
    try:
        async for msg in query(prompt=_once(prompt), options=options):
            if isinstance(msg, AssistantMessage):
                for block in msg.content:
                    if isinstance(block, TextBlock) and block.text.strip():
                        texts.append(block.text.strip())
                        on_event(f"Claude: {block.text.strip()}")
                    elif isinstance(block, ToolUseBlock):
                        on_event(
                            f"Claude calls {block.name.removeprefix(f'mcp__{SERVER_NAME}__')}"
                            f"({json.dumps(block.input)[:160]})"
                        )
            elif isinstance(msg, ResultMessage):
                out.turns, out.cost_usd, out.stop = msg.num_turns, msg.total_cost_usd, msg.subtype
                if msg.is_error:
                    out.error = _result_error(msg)
    except ClaudeSDKError as e:
        out.error = out.error or f"{type(e).__name__}: {e}"
        out.stop = out.stop or "error"
    except OSError as e:  # the CLI could not be started at all
        out.error, out.stop = f"could not start Claude Code: {e}", "error"
    if out.error and stderr:
        out.error += " | " + " ".join(stderr[-3:])[-500:]
    out.summary = texts[-1] if texts else ""
    out.error = redact(out.error) if out.error else None
    return out


async def _once(prompt: str) -> Any:
    """The prompt as a one-message stream: hooks and in-process tools need the streaming input mode."""
    yield {"type": "user", "message": {"role": "user", "content": prompt}, "parent_tool_use_id": None}


def _result_error(msg: Any) -> str:
    if msg.subtype == "error_max_turns":
        return f"stopped at the turn limit ({msg.num_turns} turns)"
    if msg.subtype == "error_max_budget_usd":
        return f"stopped at the budget limit (spent ${msg.total_cost_usd or 0:.2f})"
    status = f" (HTTP {msg.api_error_status})" if getattr(msg, "api_error_status", None) else ""
    detail = "; ".join(msg.errors or []) or (msg.result or msg.subtype)
    return f"Claude Code reported an error{status}: {detail}"


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(redact(json.dumps(record, ensure_ascii=False)) + "\n")
