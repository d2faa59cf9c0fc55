"""The agent's run-folder tools and permission policy, without Claude: confinement, bounded and logged
repairs, no secrets, and the SDK options that lock the session to those tools."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from rl_agent.agent.claude import agent as claude_agent
from rl_agent.agent.claude import sdk_tools
from rl_agent.agent.claude.agent import agent_options, refusal
from rl_agent.agent.claude.sdk_tools import RunTools, ToolRefused, inside, tool_names
from rl_agent.kit.dataio.pairs import bundled_pairs_path
from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.spec import RunSpec
from tests.support.run_marks import complete

KEY = "sk-ant-test-secret-0123456789abcdef"


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A run folder whose scripts are rendered (model and data stages marked done; nothing trained)."""
    root = tmp_path / "run"
    folder = RunFolder(root)
    spec = RunSpec(
        model="tiny",
        model_source="embedded",
        train_file=str(bundled_pairs_path("train")),
        heldout_file=str(bundled_pairs_path("heldout")),
    )
    state = folder.create(spec)
    state.python, state.model_path, state.stages_done = sys.executable, str(tmp_path / "model"), ["model", "data"]
    folder.save(state)
    assert RunTools(root).run_step("render").ok
    return root


def repairs(run_dir: Path) -> list[dict]:
    p = run_dir / "repairs.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []


def test_inside_refuses_escapes(tmp_path):
    root = tmp_path / "run"
    (root / "sub").mkdir(parents=True)
    assert inside(root, "sub/x.py") == (root / "sub/x.py").resolve()
    assert inside(root, str(root / "a.py")) == (root / "a.py").resolve()
    (root / "link").symlink_to(tmp_path)
    for bad in ("../x.py", "/etc/passwd", str(tmp_path / "other.py"), "sub/../../x", "link/escape.py", "~/x"):
        with pytest.raises(ToolRefused, match="outside the run folder"):
            inside(root, bad)


def test_policy_allows_only_our_tools_inside_the_run_folder(tmp_path):
    allowed = set(tool_names())
    read = "mcp__rl_agent__read_file"
    assert refusal(tmp_path, read, {"path": "train_dpo.py"}, allowed) is None
    assert "outside the run folder" in refusal(tmp_path, read, {"path": "/etc/passwd"}, allowed)
    assert "outside the run folder" in refusal(
        tmp_path, "mcp__rl_agent__patch_file", {"path": "../x.py", "old": "a", "new": "b", "reason": ""}, allowed
    )
    assert "outside" in refusal(tmp_path, read, {"nested": [{"file_path": "/tmp/x"}]}, allowed)
    for other in ("Bash", "Write", "Edit", "Read", "mcp__other__tool"):
        assert "only the rl-agent run-folder tools" in refusal(tmp_path, other, {}, allowed)


def test_session_options_lock_claude_to_the_run_folder_tools(run_dir):
    opts = agent_options(run_dir, RunTools(run_dir), model="claude-test", max_turns=7, budget_usd=0.25)
    assert opts.tools == [] and set(opts.allowed_tools) == set(tool_names())
    assert {"Bash", "Write", "Edit", "Read", "WebFetch"} <= set(opts.disallowed_tools)
    assert opts.permission_mode == "dontAsk" and opts.setting_sources == [] and opts.strict_mcp_config
    assert opts.cwd == str(run_dir) and opts.max_turns == 7 and opts.max_budget_usd == 0.25
    assert list(opts.mcp_servers) == [sdk_tools.SERVER_NAME] and "PreToolUse" in opts.hooks
    assert "repair agent" in opts.system_prompt and "Never write, print or repeat an API key" in opts.system_prompt
    assert all(n.startswith("mcp__rl_agent__") for n in tool_names())


def test_read_tools_stay_inside_and_show_status(run_dir):
    tools = RunTools(run_dir)
    assert "CONFIG = {" in tools.read_file("train_dpo.py").text
    with pytest.raises(ToolRefused):
        tools.read_file("/etc/hostname")
    log = tools.read_log(10).text
    assert '"next_stage": "train"' in log and '"repair_attempts_left": 3' in log
    assert not tools.compare().ok  # nothing evaluated yet
    side = {"pref_accuracy": 0.5, "mean_words": 9.0, "hedge_count": 3, "judge_score": 0.4}
    (run_dir / "eval.json").write_text(json.dumps({"before": side, "after": side}))
    assert not tools.compare().ok  # an eval.json the evaluate stage has not (re)made is stale
    state = RunFolder(run_dir).load()
    state.stages_done += ["train", "evaluate"]
    RunFolder(run_dir).save(state)
    shown = json.loads(tools.compare().text)
    assert shown["source"] == "eval.json" and shown["after"]["mean_words"] == 9.0


def test_patch_spec_validates_logs_and_invalidates_render(run_dir):
    tools = RunTools(run_dir)
    bad = tools.patch_spec({"dpo.learning_rate": 5.0}, "too high on purpose")
    assert not bad.ok and "learning_rate" in bad.text
    assert RunFolder(run_dir).load().spec.dpo.learning_rate == 5e-4  # unchanged
    ok = tools.patch_spec({"dpo.learning_rate": 1e-4, "precision": "fp32"}, "lower lr")
    assert ok.ok
    state = RunFolder(run_dir).load()
    assert state.spec.dpo.learning_rate == 1e-4 and "render" not in state.stages_done
    log = repairs(run_dir)
    assert [r["ok"] for r in log] == [False, True] and [r["attempt"] for r in log] == [1, 2]
    assert log[1]["change"] == {"dpo.learning_rate": 1e-4, "precision": "fp32"} and log[1]["reason"] == "lower lr"
    assert "spec dpo.learning_rate: 0.0005 -> 0.0001" in log[1]["changes"]
    assert "5.0" in log[0]["error"] and log[0]["changes"] == []
    for protected in ({"model": "gpt2"}, {"train_file": "/etc/passwd"}, {"algorithm": "grpo"}):
        with pytest.raises(ToolRefused, match="inputs"):
            tools.patch_spec(protected, "no")
    unknown = tools.patch_spec({"dpo.nonsense": 1}, "no")
    assert not unknown.ok and "no such spec field" in unknown.text and tools.attempts == 3


def test_patch_file_only_touches_rendered_scripts_once_and_compiling(run_dir, tmp_path):
    tools = RunTools(run_dir, max_attempts=3)
    for path in ("run.json", "eval.json", "train.jsonl", "../outside.py", str(tmp_path / "x.py")):
        with pytest.raises(ToolRefused):
            tools.patch_file(path, "a", "b", "no")
    with pytest.raises(ToolRefused, match="exactly once"):
        tools.patch_file("train_dpo.py", '"', "'", "ambiguous")
    before = (run_dir / "train_dpo.py").read_text()
    broken = tools.patch_file("train_dpo.py", "CONFIG = {", "CONFIG = {{", "breaks syntax")
    assert not broken.ok and (run_dir / "train_dpo.py").read_text() == before
    assert tools.patch_file("train_dpo.py", '"bf16": False,', '"bf16": True,', "try bf16").ok
    assert '"bf16": True,' in (run_dir / "train_dpo.py").read_text()
    assert tools.attempts == 2 and [r["action"] for r in repairs(run_dir)] == ["patch_file", "patch_file"]


def test_repair_attempts_are_bounded(run_dir):
    tools = RunTools(run_dir, max_attempts=2)
    assert tools.patch_spec({"dpo.beta": 0.2}, "1").ok
    assert tools.patch_spec({"dpo.beta": 0.3}, "2").ok
    with pytest.raises(ToolRefused, match="all 2 repair attempts"):
        tools.patch_spec({"dpo.beta": 0.4}, "3")
    assert len(repairs(run_dir)) == 2


def test_api_key_never_written_or_shown(run_dir, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    tools = RunTools(run_dir)
    with pytest.raises(ToolRefused, match="API key"):
        tools.patch_file("train_dpo.py", '"bf16": False', f'"bf16": False, "k": "{KEY}"', "leak")
    with pytest.raises(ToolRefused, match="API key"):
        tools.patch_spec({"dpo.lora_target_modules": KEY}, "leak")
    with open(run_dir / "train.log", "a") as f:
        f.write(f"something printed {KEY}\n")
    assert KEY not in tools.read_log().text and "[redacted]" in tools.read_log().text
    tools.patch_spec({"dpo.beta": 0.2}, f"reason quoting {KEY}")
    assert KEY not in (run_dir / "repairs.jsonl").read_text()
    assert os.environ["ANTHROPIC_API_KEY"] == KEY  # the key stays in the environment only


def test_steps_refuse_to_skip_ahead(run_dir):
    tools = RunTools(run_dir)
    with pytest.raises(ToolRefused, match="run train before evaluate"):
        tools.run_step("evaluate")
    with pytest.raises(ToolRefused, match="step must be"):
        tools.run_step("rm -rf")


def test_a_run_that_succeeded_needs_no_agent(run_dir):
    complete(run_dir, succeeded=True)
    out = claude_agent.run_claude_agent(run_dir)
    assert out.ok and out.attempts == 0 and out.turns == 0 and out.stop == "nothing to repair"


def test_a_complete_run_that_failed_its_checks_still_needs_repair(run_dir):
    complete(run_dir, succeeded=False)
    status = RunTools(run_dir).status()
    assert status["status"] == "complete" and status["succeeded"] is False
    assert status["failed_checks"] == ["pref_accuracy >= 0.9"]
    prompt = claude_agent.repair_prompt(RunTools(run_dir))
    assert "did not succeed; failed checks: pref_accuracy >= 0.9" in prompt
