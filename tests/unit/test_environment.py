"""The training environment step: detect the stack (building a venv: tests/e2e/test_environment_venv.py)."""

from __future__ import annotations

import sys

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
