"""The Claude Code plugin in this repository: the bundled Claude Code CLI's own validator accepts it (and
rejects broken copies), and a real session expands its slash commands into prompts that drive rl-agent."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.claude_code_server import ClaudeCodeTestServer, Reply, bundled_cli, cli_env
from tests.support.cli import REPO

pytestmark = pytest.mark.skipif(bundled_cli() is None, reason="this platform's claude-agent-sdk has no bundled CLI")

COMMANDS = ("grade", "new", "report", "setup")


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


def claude(
    *args: str, home: Path, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """The bundled CLI with a throwaway HOME and config dir (never the user's), offline."""
    full = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    full.update(env or {})
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(bundled_cli()), *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=timeout
    )


def plugin_copy(tmp_path: Path, name: str = "plugin") -> Path:
    dest = tmp_path / name
    dest.mkdir()
    for name in (".claude-plugin", "commands", "skills"):
        shutil.copytree(REPO / name, dest / name)
    shutil.copy(REPO / "README.md", dest / "README.md")
    return dest


def test_repository_plugin_and_marketplace_validate(home):
    proc = claude("plugin", "validate", ".", home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation passed" in proc.stdout
    strict = claude("plugin", "validate", "--strict", ".claude-plugin/plugin.json", home=home)
    assert strict.returncode == 0, strict.stdout + strict.stderr
    report = json.loads(claude("plugin", "validate", "--json", ".", home=home).stdout)
    assert report["success"] is True and report["manifest"]["errors"] == []
    assert sorted(report["provides"]["commands"]) == [f"rl-agent:{c}" for c in COMMANDS]
    assert report["provides"]["skills"] == ["rl-agent:rl-agent"]


def test_manifest_commands_and_skill_are_complete():
    manifest = json.loads((REPO / ".claude-plugin/plugin.json").read_text())
    assert manifest["name"] == "rl-agent" and manifest["description"] and manifest["version"]
    market = json.loads((REPO / ".claude-plugin/marketplace.json").read_text())
    assert [p["name"] for p in market["plugins"]] == ["rl-agent"] and market["plugins"][0]["source"] == "./"
    for name in COMMANDS:
        text = (REPO / "commands" / f"{name}.md").read_text()
        front = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
        assert front and "description:" in front.group(1) and "allowed-tools:" in front.group(1), name
        assert "Bash(rl-agent:*)" in front.group(1), name  # every command drives the same CLI
        assert "rl-agent " in text[front.end() :], name
    skill = (REPO / "skills/rl-agent/SKILL.md").read_text()
    front = re.match(r"---\n(.*?)\n---\n", skill, re.DOTALL).group(1)
    assert re.search(r"^name: rl-agent$", front, re.M) and re.search(r"^description: .{80,}$", front, re.M)


@pytest.mark.parametrize(
    "breakage",
    ["invalid json", "name not a string", "no name", "bad marketplace source", "skill without frontmatter (strict)"],
)
def test_a_broken_plugin_fails_validation(tmp_path, home, breakage):
    plugin = plugin_copy(tmp_path)
    manifest, market = plugin / ".claude-plugin/plugin.json", plugin / ".claude-plugin/marketplace.json"
    args = ["plugin", "validate"]
    if breakage == "invalid json":
        manifest.write_text('{"name": "rl-agent",')
        market.unlink()
    elif breakage == "name not a string":
        manifest.write_text('{"name": 5}')
        market.unlink()
    elif breakage == "no name":
        manifest.write_text('{"version": "0.1.0"}')
        market.unlink()
    elif breakage == "bad marketplace source":
        data = json.loads(market.read_text())
        data["plugins"][0]["source"] = "../elsewhere"
        market.write_text(json.dumps(data))
    else:
        (plugin / "skills/rl-agent/SKILL.md").write_text("no frontmatter at all\n")
        args.append("--strict")
    control = plugin_copy(tmp_path, "control")  # the same check on an unbroken copy passes: the breakage fails it
    if not market.exists():
        (control / ".claude-plugin/marketplace.json").unlink()
    assert claude(*args, str(control), home=home).returncode == 0
    proc = claude(*args, str(plugin), home=home)
    assert proc.returncode != 0, proc.stdout
    assert "✘" in proc.stdout or "rror" in proc.stdout + proc.stderr


def test_a_session_with_the_plugin_expands_its_commands(tmp_path, home):
    """Loaded with --plugin-dir, /rl-agent:report becomes a prompt carrying the command body and the arguments."""
    with ClaudeCodeTestServer() as srv:
        env, _ = cli_env(srv, home)
        srv.script(Reply.text_reply("ok"))
        proc = claude(
            "-p",
            "/rl-agent:report runs/demo",
            "--plugin-dir",
            str(REPO),
            "--tools",
            "",
            "--output-format",
            "json",
            home=home,
            cwd=tmp_path,
            env=env,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        (first, *_) = srv.message_requests
        sent = json.dumps(first.body["messages"][0])
    assert "/rl-agent:report" in sent and "runs/demo" in sent
    assert "rl-agent resume RUN_DIR" in sent and "report.json" in sent


def test_the_plugin_installs_from_the_local_marketplace(home):
    """The install steps in docs/plugin.md, offline, into a throwaway config."""
    added = claude("plugin", "marketplace", "add", str(REPO), home=home)
    assert added.returncode == 0, added.stdout + added.stderr
    installed = claude("plugin", "install", "rl-agent@rl-agent", home=home)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listed = claude("plugin", "list", home=home).stdout
    assert "rl-agent@rl-agent" in listed and "enabled" in listed
    docs = (REPO / "docs/plugin.md").read_text()
    assert "claude plugin marketplace add /path/to/rl-agent" in docs and "plugin install rl-agent@rl-agent" in docs
