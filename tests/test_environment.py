"""The training environment step: detect the stack, and really build a venv when something is missing."""

from __future__ import annotations

import sys

import pytest

from rl_agent.kit.models.environment import TRAINING_MODULES, ensure_training_env, missing_modules, train_requirements


def test_this_interpreter_has_the_training_stack():
    assert missing_modules(sys.executable) == []
    env = ensure_training_env(__import__("pathlib").Path("/nonexistent-never-created"))
    assert env.python == sys.executable and not env.created


def test_missing_modules_are_named():
    assert missing_modules(sys.executable, ("json", "surely_not_a_module_xyz")) == ["surely_not_a_module_xyz"]
    assert missing_modules("/no/such/python", ("json",)) == ["json"]


def test_train_requirements_come_from_the_train_extra():
    reqs = train_requirements()
    names = {r.split(">")[0].split("=")[0].split("<")[0].strip() for r in reqs}
    assert set(TRAINING_MODULES) <= names


@pytest.mark.slow
def test_creates_a_venv_and_installs_what_is_missing(tmp_path):
    """A module this interpreter lacks is installed into a new venv from the package index."""
    env = ensure_training_env(
        tmp_path / "env", modules=("tomli_w",), requirements=["tomli-w"], log=lambda *_: None
    )
    assert env.created and env.python.startswith(str(tmp_path))
    assert missing_modules(env.python, ("tomli_w",)) == []
    again = ensure_training_env(tmp_path / "env", modules=("tomli_w",), requirements=["tomli-w"], log=lambda *_: None)
    assert not again.created and again.python == env.python
