"""The wheel ships templates/, prompts/ and the bundled data inside the package and nothing at the top level
but rl_agent. That it installs (not editable) into a fresh venv, with only namespaced import names, is
tests/e2e/test_install_brief.py, which installs it as the BRIEF says."""

from __future__ import annotations

import zipfile

import pytest

pytestmark = pytest.mark.slow


def test_wheel_contents(built_wheel):
    names = zipfile.ZipFile(built_wheel).namelist()
    assert "rl_agent/templates/train_dpo.py.j2" in names
    assert "rl_agent/templates/evaluate.py.j2" in names
    assert any(n.startswith("rl_agent/prompts/") for n in names)
    assert "rl_agent/prompts/BRIEF.md" in names  # the starter brief ships: the SDK agent follows it
    assert "rl_agent/data/terse/train.jsonl" in names and "rl_agent/data/terse/heldout.jsonl" in names
    top = {n.split("/")[0] for n in names}
    assert top <= {"rl_agent"} | {n for n in top if n.endswith(".dist-info")}, top
    assert not {"kit", "agent", "templates", "prompts"} & top
