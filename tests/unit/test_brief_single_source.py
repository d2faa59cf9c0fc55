"""BRIEF.md is one text: the file a person pastes into Claude Code is the package's, and the SDK agent's
system prompts (repair and task-folder authoring) carry it."""

from __future__ import annotations

from pathlib import Path

from rl_agent.agent.claude import agent as claude_agent

ROOT = Path(__file__).resolve().parents[2]


def test_the_root_brief_is_the_package_brief():
    packaged = ROOT / "rl_agent" / "prompts" / "BRIEF.md"
    root = ROOT / "BRIEF.md"
    assert packaged.is_file() and not packaged.is_symlink()
    assert root.resolve() == packaged.resolve()  # a link, not a copy: no second text to drift
    assert claude_agent.brief() == packaged.read_text(encoding="utf-8")


def test_the_agent_instructions_carry_the_brief():
    text = claude_agent.brief()
    assert len(text) > 1000
    assert text in claude_agent.instructions()
    assert text in claude_agent.instructions("author_instructions.md")
