"""The real Claude Code CLI (the one bundled with claude-agent-sdk) pointed at the scripted Anthropic server.

Built on tests/support/anthropic_server.py without changing it: this adds what a test of an agent session needs,
namely an isolated environment for the CLI (temp HOME and config dir, no telemetry, a throwaway key, the
server as ANTHROPIC_BASE_URL) and readers for what the CLI sent back (the tool results of our tools).

The CLI talks to the server like to the real API: streaming POST /v1/messages?beta=true with our mcp tools
in `tools`; each scripted Reply.tool_use makes it call one of our in-process tools and send the result back
in the next request. Anything unscripted gets the server's default responder (a short text, ending a turn).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.support.anthropic_server import AnthropicTestServer, Reply  # noqa: F401  (Reply re-exported for tests)

TEST_API_KEY = "sk-ant-test-claude-code-0123456789abcdef"
# Variables that would send the CLI elsewhere than the test server, or reuse a real login.
_FOREIGN_ENV = (
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CODE_USE_FOUNDRY",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "CLAUDECODE",
)


def bundled_cli() -> Path | None:
    """The Claude Code executable shipped inside the claude-agent-sdk wheel, if this platform's wheel has one."""
    try:
        import claude_agent_sdk
    except ImportError:
        return None
    exe = Path(claude_agent_sdk.__file__).parent / "_bundled" / ("claude.exe" if os.name == "nt" else "claude")
    return exe if exe.is_file() else None


def cli_env(
    server: AnthropicTestServer, home: Path, api_key: str = TEST_API_KEY
) -> tuple[dict[str, str], tuple[str, ...]]:
    """(variables to set, variables to unset) so the CLI talks only to `server` and never reads or writes
    the real user's config, telemetry or update channels."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": api_key,
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return env, _FOREIGN_ENV


def isolate(monkeypatch: Any, server: AnthropicTestServer, home: Path, api_key: str = TEST_API_KEY) -> None:
    """Apply cli_env to this process (the SDK passes its environment on to the CLI)."""
    env, unset = cli_env(server, home, api_key)
    for k in unset:
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)


class ClaudeCodeTestServer(AnthropicTestServer):
    """The scripted server plus readers for an agent session's traffic."""

    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool_result block the CLI sent back, in order, once each: {"tool_use_id", "name", "input",
        "text", "is_error"} (name and input from the tool_use it answers)."""
        uses: dict[str, dict[str, Any]] = {}
        out: dict[str, dict[str, Any]] = {}
        for req in self.message_requests:
            for msg in (req.body or {}).get("messages", []):
                if not isinstance(msg.get("content"), list):
                    continue
                for block in msg["content"]:
                    if block.get("type") == "tool_use":
                        uses[block["id"]] = block
                    elif block.get("type") == "tool_result" and block["tool_use_id"] not in out:
                        use = uses.get(block["tool_use_id"], {})
                        out[block["tool_use_id"]] = {
                            "tool_use_id": block["tool_use_id"],
                            "name": use.get("name"),
                            "input": use.get("input"),
                            "text": _text(block.get("content")),
                            "is_error": bool(block.get("is_error")),
                        }
        return list(out.values())

    def tools_offered(self) -> set[str]:
        """Tool names in the last /v1/messages request (what Claude could call)."""
        reqs = self.message_requests
        return {t.get("name") for t in (reqs[-1].body or {}).get("tools", [])} if reqs else set()

    def system_text(self) -> str:
        reqs = self.message_requests
        system = (reqs[0].body or {}).get("system", "") if reqs else ""
        return system if isinstance(system, str) else "\n".join(b.get("text", "") for b in system)

    def raw_traffic(self) -> str:
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.requests)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") if isinstance(b, dict) else json.dumps(b) for b in content or [])
