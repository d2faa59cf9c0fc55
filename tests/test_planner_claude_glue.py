"""With Claude available, `rl-agent new` takes Claude's plan; if Claude cannot plan, it says so and the
rule-based planner takes over. Claude itself is replaced here: its planner has its own tests."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rl_agent.agent import orchestrate as agent_cmd
from rl_agent.kit.planning.planner import plan_task
from rl_agent.kit.pipeline.run_folder import RunFolder


@pytest.fixture
def console():
    return Console(file=io.StringIO(), width=200)


def test_claudes_plan_is_used_and_marked(monkeypatch, tmp_path, console):
    import rl_agent.agent.claude_agent as claude_agent

    planned = plan_task("be terse").spec.model_copy(update={"summary": "Claude's summary"})
    monkeypatch.setattr(claude_agent, "plan_with_claude", lambda task, run_dir: planned)
    plan = agent_cmd._plan_with_claude("be terse", RunFolder(tmp_path / "run"), console)
    assert plan.spec.summary == "Claude's summary" and plan.spec.planned_by == "claude"


def test_a_failed_claude_plan_falls_back_to_the_rules_and_says_so(monkeypatch, tmp_path, console):
    import rl_agent.agent.claude_agent as claude_agent

    def broken(task, run_dir):
        run_dir.mkdir(parents=True, exist_ok=True)
        raise claude_agent.AgentError("Claude Code reported an error (HTTP 401): invalid x-api-key")

    monkeypatch.setattr(claude_agent, "plan_with_claude", broken)
    run_dir = tmp_path / "run"
    assert agent_cmd._plan_with_claude("be terse", RunFolder(run_dir), console) is None
    out = console.file.getvalue()
    assert "Claude could not plan the task" in out and "rule-based planner" in out and "401" in out
    assert not run_dir.exists()  # the empty folder Claude's planner made is removed again


def test_claude_is_used_only_with_a_key_and_without_offline(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert agent_cmd.claude_available(offline=False) is True
    assert agent_cmd.claude_available(offline=True) is False
    monkeypatch.setenv("ANTHROPIC_API_KEY", " ")
    assert agent_cmd.claude_available(offline=False) is False
