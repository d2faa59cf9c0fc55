"""Hostile task text on the Claude authoring path is data only: the real Claude Code CLI, against the scripted
Anthropic server, authors a task folder from it (the other paths: tests/unit/test_injection_hostile.py)."""

from __future__ import annotations

import json

import pytest

from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import render_template
from rl_agent.kit.planning.task_spec import TaskSpec
from tests.support.hostile import SCRIPTS, module_shape, payloads, script_config


@pytest.mark.parametrize("kind", ["triple_quotes", "jinja_expr", "shell"])
def test_hostile_task_text_in_the_claude_authoring_path_is_data(kind, tmp_path, monkeypatch):
    """A task in words goes to Claude's authoring session: the task reaches Claude as a JSON string
    after fixed instructions, the authored spec.json holds it (and a hostile statement) exactly, and the
    rendered scripts do what a harmless task's do."""
    from tests.support.claude_code_server import ClaudeCodeTestServer, Reply, bundled_cli, isolate

    if bundled_cli() is None:
        pytest.skip("this platform's claude-agent-sdk has no bundled CLI")
    from rl_agent.agent.claude.author import author_with_claude
    from rl_agent.kit.planning.authored import plan_task_spec
    from rl_agent.kit.planning.task_spec import ModelPlan
    from tests.e2e import test_claude_author as T

    marker = tmp_path / "PWNED"
    text = "Answer as a numbered list of exactly three steps. " + payloads(marker)[kind]
    run_dir = tmp_path / "run"
    with ClaudeCodeTestServer() as srv:
        isolate(monkeypatch, srv, tmp_path / "home")
        srv.script(
            Reply.tool_use(T.TOOL + "write_check", {"code": T.EXACT_CHECK}),
            Reply.tool_use(T.TOOL + "write_examples", T.examples()),
            Reply.tool_use(T.TOOL + "prove_check", {}),
            Reply.tool_use(
                T.TOOL + "write_data",
                {"algorithm": "dpo", "train": T.rows("train")[:10], "heldout": T.rows("heldout")[:3]},
            ),
            Reply.tool_use(T.TOOL + "write_statement", {"statement": text}),
            Reply.tool_use(T.TOOL + "finish", {}),
            Reply.text_reply("Done."),
        )
        plan = author_with_claude(text, run_dir)
        first = srv.message_requests[0].body
    sent = json.dumps(first["messages"][0], ensure_ascii=False)  # the task, as a JSON string inside the message
    assert json.dumps(json.dumps(text, ensure_ascii=False), ensure_ascii=False)[1:-1] in sent
    assert text not in json.dumps(first["system"])  # never part of the instructions
    spec = plan_task_spec(plan, model=ModelPlan(name="embedded tiny Qwen3", source="embedded", reason="test"))
    spec.write(run_dir / "spec.json")
    back = TaskSpec.read(run_dir / "spec.json")
    assert back.task == text and back.check.statement == " ".join(text.split()) and back.planned_by == "claude"
    assert (run_dir / "check.py").read_text() == T.EXACT_CHECK  # the task text never enters the check program
    harmless = spec.model_copy(update={"task": "Answer as a numbered list of exactly three steps."})
    ctx = render_context(spec.to_run_spec(run_dir), "/models/tiny")
    ctx0 = render_context(harmless.to_run_spec(run_dir), "/models/tiny")
    for name in SCRIPTS:
        source = render_template(name, ctx)
        assert module_shape(source) == module_shape(render_template(name, ctx0))
        assert script_config(source) == script_config(render_template(name, ctx0))
    assert not marker.exists()
