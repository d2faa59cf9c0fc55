"""The training environment step really builds a venv when something is missing (it installs from the index)."""

from __future__ import annotations

import pytest

from rl_agent.kit.models.environment import ensure_training_env, missing_modules


@pytest.mark.slow
def test_creates_a_venv_and_installs_what_is_missing(tmp_path):
    """A module this interpreter lacks is installed into a new venv from the package index."""
    env = ensure_training_env(tmp_path / "env", modules=("tomli_w",), requirements=["tomli-w"], log=lambda *_: None)
    assert env.created and env.python.startswith(str(tmp_path))
    assert missing_modules(env.python, ("tomli_w",)) == []
    again = ensure_training_env(tmp_path / "env", modules=("tomli_w",), requirements=["tomli-w"], log=lambda *_: None)
    assert not again.created and again.python == env.python
