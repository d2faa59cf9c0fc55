"""The Claude agent end to end through the Agent SDK: the real bundled Claude Code CLI talks to the scripted
Anthropic server (tests/support/claude_code_server.py), receives scripted tool calls naming our mcp tools, and the
SDK runs those tools in this process on a real run folder.

No model decides anything here: the server plays Claude's part from a script, so what is tested is the
wiring (CLI <-> SDK <-> our tools), the permission lock, the limits and the logging, and that the scripted
repair really repairs a really broken run.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import pytest

from rl_agent.agent.claude.agent import run_claude_agent
from rl_agent.agent.claude.sdk_tools import RunTools
from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.dpo import DPOSettings
from tests.support.claude_code_server import TEST_API_KEY, ClaudeCodeTestServer, Reply, bundled_cli, isolate

pytestmark = pytest.mark.skipif(bundled_cli() is None, reason="this platform's claude-agent-sdk has no bundled CLI")

TOOL = "mcp__rl_agent__"


@pytest.fixture
def server():
    with ClaudeCodeTestServer() as srv:
        yield srv


@pytest.fixture
def claude(monkeypatch, tmp_path, server) -> ClaudeCodeTestServer:
    """The scripted server, with this process (and so the CLI the SDK starts) pointed at it in isolation."""
    isolate(monkeypatch, server, tmp_path / "home")
    return server


def make_run(root: Path, model_path: str | None = None, heldout_pairs: int = 6) -> RunTools:
    """A short DPO run on the embedded model: 10 steps, 6 held-out prompts (about a minute on 2 CPU cores)."""
    heldout = root.parent / "heldout6.jsonl"
    with open(bundled_pairs_path("heldout"), encoding="utf-8") as f:
        heldout.write_text("".join(itertools.islice(f, heldout_pairs)), encoding="utf-8")
    spec = RunSpec(
        model="embedded tiny Qwen3",
        model_source="embedded",
        train_file=str(bundled_pairs_path("train")),
        heldout_file=str(heldout),
        min_pref_accuracy=0.75,  # the bar for a 10-step run on 6 held-out pairs
        dpo=DPOSettings(
            steps=10, learning_rate=2e-3, batch_size=4, max_length=96, save_steps=10, logging_steps=2, max_new_tokens=16
        ),
    )
    folder = RunFolder(root)
    state = folder.create(spec)
    state.python = sys.executable
    if model_path:  # skip building the model: the scripts only need to be rendered
        state.model_path, state.stages_done = model_path, ["model", "data"]
    folder.save(state)
    return RunTools(root)


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


@pytest.mark.slow
def test_claude_repairs_a_broken_config_key_and_the_run_completes(claude, tiny_model, tmp_path):
    run_dir = tmp_path / "run"
    tools = make_run(run_dir)
    for step in ("model", "data", "render"):
        assert tools.run_step(step).ok
    # The injected fault: a misspelt CONFIG["trl"] key in the rendered script. It really fails (DPOConfig refuses it) ...
    script = run_dir / "train_dpo.py"
    script.write_text(script.read_text().replace('"learning_rate":', '"learning_rat":', 1))
    failed = tools.run_step("train")
    assert not failed.ok and "unexpected keyword argument 'learning_rat'" in failed.text  # CONFIG["trl"] as is
    assert RunFolder(run_dir).load().status == "failed"

    # ... and the scripted Claude diagnoses it from the log, patches it, re-runs, compares.
    claude.script(
        Reply.tool_use(TOOL + "read_log", {"lines": 30}, text="Let me look at the log."),
        Reply.tool_use(
            TOOL + "patch_file",
            {
                "path": "train_dpo.py",
                "old": '"learning_rat":',
                "new": '"learning_rate":',
                "reason": "CONFIG key misspelt",
            },
        ),
        Reply.tool_use(TOOL + "run_step", {"step": "all"}),
        Reply.tool_use(TOOL + "compare", {}),
        Reply.text_reply("Cause: CONFIG['learning_rate'] was misspelt. Fixed the key; the run completed."),
    )
    events: list[str] = []
    outcome = run_claude_agent(run_dir, max_attempts=2, on_event=events.append)

    assert outcome.ok and outcome.status == "complete" and outcome.error is None, outcome
    assert outcome.stop == "success" and outcome.attempts == 1 and outcome.turns == 5
    assert outcome.summary.startswith("Cause: CONFIG['learning_rate'] was misspelt")
    assert any("calls patch_file" in e for e in events)

    # What the CLI sent back to "Claude" is what our tools really returned, in order.
    results = claude.tool_results()
    assert [r["name"] for r in results] == [TOOL + n for n in ("read_log", "patch_file", "run_step", "compare")]
    assert not any(r["is_error"] for r in results)
    assert "unexpected keyword argument 'learning_rat'" in results[0]["text"]
    assert '"status": "complete"' in results[2]["text"]
    assert json.loads(results[3]["text"])["verdict"]["succeeded"] is True

    # The before/after: the repaired run really trained and the tuned model is terser.
    report = json.loads((run_dir / "report.json").read_text())
    before, after = report["before"], report["after"]
    assert before["pref_accuracy"] == pytest.approx(0.5) and after["pref_accuracy"] >= 0.75
    assert after["judge_score"] > before["judge_score"] and after["hedge_count"] < before["hedge_count"]
    assert after["mean_words"] < before["mean_words"] and report["verdict"]["succeeded"] is True
    assert '"learning_rate": 0.002' in script.read_text()

    # Every repair is logged in the run folder, and the session's outcome after it.
    log = [json.loads(line) for line in (run_dir / "repairs.jsonl").read_text().splitlines()]
    assert [r["by"] for r in log] == ["claude-agent", "claude-agent"]
    assert log[0]["action"] == "patch_file" and log[0]["target"] == "train_dpo.py" and log[0]["ok"]
    assert log[0]["reason"] == "CONFIG key misspelt" and log[0]["change"]["new"] == '"learning_rate":'
    assert log[1]["ok"] and log[1]["attempt"] == 1 and log[1]["outcome"].startswith("fixed")
    md = (run_dir / "repairs.md").read_text()  # the same history for people (helper-3's renderer)
    assert "claude-agent attempt 1: patch_file train_dpo.py" in md and "CONFIG key misspelt" in md

    # The session was locked to our tools, and the key never left the environment.
    offered = claude.tools_offered()
    assert {TOOL + n for n in ("read_log", "patch_file", "run_step", "compare")} <= offered
    assert not offered & {"Bash", "Write", "Edit", "Read", "WebFetch", "Glob", "Grep"}
    assert "repair agent of rl-agent" in claude.system_text()
    assert {r.headers.get("x-api-key") for r in claude.message_requests} == {TEST_API_KEY}
    assert files_containing(run_dir, TEST_API_KEY) == []
    assert TEST_API_KEY not in claude.raw_traffic()  # not in any prompt or tool result either


def test_tool_calls_outside_the_run_folder_are_refused(claude, tmp_path):
    run_dir = tmp_path / "run"
    tools = make_run(run_dir, model_path=str(tmp_path / "model"))
    assert tools.run_step("render").ok
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    escape = {"old": "x = 1", "new": "x = 2", "reason": "escape"}
    claude.script(
        Reply.tool_use(TOOL + "read_file", {"path": "/etc/hostname"}),
        Reply.tool_use(TOOL + "patch_file", {"path": str(outside), **escape}),
        Reply.tool_use(TOOL + "patch_file", {"path": "../outside.py", **escape}),
        Reply.tool_use("Bash", {"command": f"echo pwned > {outside}"}),
        Reply.tool_use("Write", {"file_path": str(outside), "content": "pwned"}),
        Reply.text_reply("Those are outside my remit."),
    )
    outcome = run_claude_agent(run_dir, max_attempts=2)

    results = claude.tool_results()
    assert len(results) == 5 and all(r["is_error"] for r in results), results
    for r in results[:3]:  # refused by the PreToolUse hook, before our tool ever ran
        assert "PreToolUse" in r["text"] and "outside the run folder" in r["text"], r
    for r in results[3:]:  # built-in tools do not exist in this session
        assert "No such tool available" in r["text"], r
    assert outside.read_text() == "x = 1\n"
    assert not outcome.ok and outcome.attempts == 0 and outcome.stop == "success"
    log = [json.loads(line) for line in (run_dir / "repairs.jsonl").read_text().splitlines()]
    assert len(log) == 1 and log[0]["outcome"].startswith("not fixed")  # nothing was patched


def test_the_turn_limit_stops_a_session_that_never_ends(claude, tmp_path):
    run_dir = tmp_path / "run"
    make_run(run_dir, model_path=str(tmp_path / "model"))
    claude.script(*[Reply.tool_use(TOOL + "read_log", {"lines": 5}) for _ in range(20)])
    outcome = run_claude_agent(run_dir, max_attempts=1)  # 3 + 5 * 1 = 8 turns
    assert outcome.stop == "error_max_turns" and "turn limit" in outcome.error
    assert not outcome.ok and 8 <= len(claude.message_requests) < 20


def test_a_rejected_api_key_is_reported_without_the_key(claude, tmp_path, monkeypatch):
    claude.api_key = "sk-ant-test-the-right-key-0000000000"  # the server now refuses TEST_API_KEY with 401
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "0")  # the CLI retries even a 401 for minutes otherwise
    run_dir = tmp_path / "run"
    make_run(run_dir, model_path=str(tmp_path / "model"))
    outcome = run_claude_agent(run_dir)
    assert not outcome.ok and "HTTP 401" in outcome.error and "Invalid API key" in outcome.error
    assert TEST_API_KEY not in outcome.error
    assert files_containing(run_dir, TEST_API_KEY) == []


def test_a_complete_run_that_failed_its_checks_goes_to_claude(claude, tmp_path):
    from tests.support.run_marks import complete

    run_dir = tmp_path / "run"
    make_run(run_dir, model_path=str(tmp_path / "model"))
    complete(run_dir, succeeded=False)
    claude.script(Reply.tool_use(TOOL + "compare", {}), Reply.text_reply("Train longer: raise dpo.max_steps."))
    outcome = run_claude_agent(run_dir)
    prompt = json.dumps(claude.message_requests[0].body["messages"][0])
    assert "did not succeed; failed checks: pref_accuracy >= 0.9" in prompt
    shown = json.loads(claude.tool_results()[0]["text"])
    assert shown["verdict"]["succeeded"] is False and shown["run"]["failed_checks"] == ["pref_accuracy >= 0.9"]
    assert not outcome.ok and outcome.status == "complete" and outcome.summary.startswith("Train longer")
    last = json.loads((run_dir / "repairs.jsonl").read_text().splitlines()[-1])
    assert last["outcome"] == "not fixed: run complete, failed checks: pref_accuracy >= 0.9"
