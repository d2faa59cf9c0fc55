"""Words go to Claude or nowhere: with a key (and without --offline) `rl-agent new "..."` hands the words to the
Agent SDK authoring session, whose task folder then runs like any other; if that session fails, it says so and
nothing is planned from the words by anything else. Claude itself is replaced here: the session has its own
tests (test_claude_author.py)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from rl_agent.agent import orchestrate
from rl_agent.agent.start import UserError


@pytest.fixture
def console():
    return Console(file=io.StringIO(), width=200)


@pytest.fixture
def planned(monkeypatch):
    """What reached the run step: the plan, instead of running it."""
    seen = []
    monkeypatch.setattr(orchestrate, "_new_plan_run", lambda console, plan, folder, **kw: seen.append((plan, folder)))
    return seen


def test_words_with_a_key_go_to_claudes_authoring_session(monkeypatch, tmp_path, console, planned):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    sent = []
    monkeypatch.setattr(orchestrate, "_author_with_claude", lambda task, folder, console: sent.append(task) or "PLAN")
    orchestrate.new_run(
        console, "be kind", run_dir=tmp_path / "run", offline=False, yes=True, steps=None, plan_only=True
    )
    assert sent == ["be kind"] and [p for p, _ in planned] == ["PLAN"]


def test_claudes_task_folder_is_read_back_and_marked_as_claudes(monkeypatch, tmp_path, console):
    """The session's folder is read back from disk (the contract), planned by Claude, the user's words as the task."""
    import rl_agent.agent.claude.author as claude_author
    from rl_agent.kit.planning.authored import AUTHOR, plan_task_spec, read_task_folder
    from rl_agent.kit.planning.recipes.library import plan_recipes
    from rl_agent.kit.planning.task_spec import ModelPlan

    def session(task, run_dir, on_event=None):
        plan_recipes([("prefix", ["prefix=Note: "])]).write(run_dir)
        return read_task_folder(run_dir, task, planned_by=AUTHOR)

    monkeypatch.setattr(claude_author, "author_with_claude", session)
    plan = orchestrate._author_with_claude(
        "Start every answer with 'Note: '", orchestrate.RunFolder(tmp_path / "r"), console
    )
    spec = plan_task_spec(plan, model=ModelPlan())
    assert (spec.planned_by, spec.check.recipe, spec.task) == ("claude", "claude", "Start every answer with 'Note: '")
    assert spec.data.origin == "claude-generated" and "Claude reads the task" in console.file.getvalue()


def test_a_failed_authoring_session_trains_nothing_and_guesses_nothing(monkeypatch, tmp_path, console, planned):
    import rl_agent.agent.claude.author as claude_author

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")

    def broken(task, run_dir, on_event=None):
        raise claude_author.AuthorError(
            "Claude did not produce a proven check: Claude Code reported an error (HTTP 401): invalid x-api-key"
        )

    monkeypatch.setattr(claude_author, "author_with_claude", broken)
    with pytest.raises(UserError) as e:
        orchestrate.new_run(
            console, "Be terse.", run_dir=tmp_path / "run", offline=False, yes=True, steps=None, plan_only=True
        )
    assert "did not produce a proven check" in str(e.value) and "401" in str(e.value)
    assert planned == [] and not (tmp_path / "run" / "spec.json").exists()


def test_offline_words_are_never_sent_to_claude_nor_guessed(monkeypatch, tmp_path, console, planned):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setattr(orchestrate, "_author_with_claude", lambda *a: pytest.fail("sent to Claude with --offline"))
    with pytest.raises(UserError) as e:
        orchestrate.new_run(
            console,
            "Start every answer with 'Answer:'",
            run_dir=tmp_path / "run",
            offline=True,
            yes=True,
            steps=None,
            plan_only=True,
        )
    assert e.value.code == orchestrate.NO_GUESS_EXIT == 2 and planned == []
    out = console.file.getvalue()
    assert "Suggestions only" in out and out.index("  prefix:") < out.index("  closing:")  # closest first
    assert not (tmp_path / "run").exists()


def test_claude_is_used_only_with_a_key_and_without_offline(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    assert orchestrate.claude_available(offline=False) is True
    assert orchestrate.claude_available(offline=True) is False
    monkeypatch.setenv("ANTHROPIC_API_KEY", " ")
    assert orchestrate.claude_available(offline=False) is False
