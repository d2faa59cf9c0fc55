"""Everything under tests/e2e/ is slow: it trains models, runs the CLI as a user does, builds venvs or wheels, or
drives the real Claude Code CLI. The quick loop, `python -m pytest -m "not slow"`, leaves it out; CI runs it all."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.slow)
