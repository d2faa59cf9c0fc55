"""Fixtures and helpers for tests that talk to the local Anthropic test server.

Import what you need into a test module (`from anthropic_fixtures import anthropic_server, fake_key`);
importing a fixture registers it for that module, so nothing is added to a shared conftest.py.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
import typer

from tests.support.anthropic_server import AnthropicTestServer

REPO = Path(__file__).resolve().parents[2]

# A fake key with a distinctive marker, so a scan for it in written files is meaningful.
FAKE_KEY_PREFIX = "sk-ant-test-SECRET-"

# The grading commands as a CLI, without depending on the other command modules being present.
CLI_SNIPPET = (
    "import typer; from rl_agent.commands import grading; "
    "app = typer.Typer(pretty_exceptions_enable=False); grading.register(app); app()"
)


@pytest.fixture
def fake_key() -> str:
    return FAKE_KEY_PREFIX + secrets.token_hex(12)


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicTestServer]:
    with AnthropicTestServer() as srv:
        yield srv


@pytest.fixture
def anthropic_env(
    monkeypatch: pytest.MonkeyPatch, anthropic_server: AnthropicTestServer, fake_key: str
) -> dict[str, str]:
    """ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL pointing at the test server (for code that reads the env)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.base_url)
    return {"ANTHROPIC_API_KEY": fake_key, "ANTHROPIC_BASE_URL": anthropic_server.base_url}


def grading_app() -> typer.Typer:
    from rl_agent.commands import grading

    app = typer.Typer(pretty_exceptions_enable=False)
    grading.register(app)
    return app


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def cli_subprocess(args: list[str], *, cwd: Path, env: dict[str, str], **kw: Any) -> subprocess.Popen[str]:
    """Start the grading CLI in a fresh Python process (a second process for cross-process tests)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    full_env.update(env)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-c", CLI_SNIPPET, *args],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )
