"""Claude reads a task given in words and writes its task folder (planning/contract.py: task.json, check.py or
rubric.md, examples.jsonl, data/), proving the check, with the Agent SDK.

Why a session rather than one structured answer: a first check is often wrong; the session runs the proof,
reads which examples it got wrong and rewrites, within a turn and budget limit. It is locked down like the
repair session (agent.session_options: only our tools, a path guard, no settings, cwd = the run
folder) and its system prompt carries BRIEF.md. If the check is never proven, AuthorError names the last
failing examples; what Claude wrote stays in the run folder, and nothing trains.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from rl_agent.agent.claude.agent import AgentOutcome, instructions, run_session, session_options
from rl_agent.agent.claude.author_tools import AUTHOR_LOG, AuthorTools, author_server, author_tool_names
from rl_agent.agent.claude.sdk_tools import redact
from rl_agent.errors import RlAgentError
from rl_agent.kit.planning.authored import AUTHOR, AuthoredPlan, read_task_folder
from rl_agent.kit.planning.contract import TaskFolderError

AUTHOR_MAX_TURNS = 30
AUTHOR_BUDGET_USD = 3.0


class AuthorError(RlAgentError, RuntimeError):
    """The session ended without a proven check; the message says why and names the last failing examples."""


def author_prompt(task: str) -> str:
    """The task goes in as quoted data (a JSON string) after the fixed instructions, never spliced into them."""
    return redact(
        "Write and prove the task folder for this task (the user's words, as a JSON string):\n"
        f"{json.dumps(task, ensure_ascii=False)}"
    )


def author_with_claude(
    task: str,
    run_dir: Path,
    *,
    model: str | None = None,
    max_turns: int = AUTHOR_MAX_TURNS,
    budget_usd: float | None = AUTHOR_BUDGET_USD,
    on_event: Callable[[str], None] | None = None,
) -> AuthoredPlan:
    """Run the authoring session in `run_dir`; the proven plan it finished, or AuthorError."""
    import anyio

    tools = AuthorTools(Path(run_dir), task)
    stderr: list[str] = []
    options = session_options(
        tools.run_dir,
        author_server(tools),
        author_tool_names(),
        instructions("author_instructions.md"),
        model=model,
        max_turns=max_turns,
        budget_usd=budget_usd,
        stderr=stderr.append,
        on_refuse=tools.log_refusal,
    )
    outcome: AgentOutcome = anyio.run(run_session, options, author_prompt(task), on_event or (lambda s: None), stderr)
    if not tools.finished:
        why = outcome.error or f"the session ended ({outcome.stop or 'no result'}) without calling finish"
        proof = tools.last_proof or "prove_check was never called"
        raise AuthorError(
            redact(
                f"Claude did not produce a proven check: {why}. Last proof: {proof}. "
                f"What it wrote is in {tools.run_dir} (log: {AUTHOR_LOG}); nothing was trained."
            )
        )
    try:
        return read_task_folder(tools.run_dir, task, planned_by=AUTHOR)
    except (OSError, TaskFolderError) as e:
        raise AuthorError(f"Claude's plan in {tools.run_dir} cannot be read back: {e}") from None
