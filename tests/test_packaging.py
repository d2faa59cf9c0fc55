"""The wheel ships templates/, prompts/ and the bundled data inside the package, installs (not editable)
into a fresh venv, and exposes only namespaced import names."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (whl,) = out.glob("rl_agent-*.whl")
    return whl


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "rl_agent/templates/train_dpo.py.j2" in names
    assert "rl_agent/templates/evaluate.py.j2" in names
    assert any(n.startswith("rl_agent/prompts/") for n in names)
    assert "rl_agent/prompts/BRIEF.md" in names  # the starter brief ships: the SDK agent follows it
    assert "rl_agent/data/terse/train.jsonl" in names and "rl_agent/data/terse/heldout.jsonl" in names
    top = {n.split("/")[0] for n in names}
    assert top <= {"rl_agent"} | {n for n in top if n.endswith(".dist-info")}, top
    assert not {"kit", "agent", "templates", "prompts"} & top


def test_wheel_installs_into_a_fresh_venv(wheel, tmp_path):
    venv_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True, timeout=300)
    py = venv_dir / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    help_ = subprocess.run([str(venv_dir / "bin" / "rl-agent"), "--help"], capture_output=True, text=True,
                           cwd=tmp_path, env=env, timeout=120)
    assert help_.returncode == 0, help_.stderr
    for command in ("setup", "resume", "grade", "pairs", "new", "run"):
        assert command in help_.stdout
    probe = (
        "import importlib.util, rl_agent, rl_agent.kit, rl_agent.agent\n"
        "from rl_agent.kit.pipeline.render import render_template\n"
        "assert 'site-packages' in rl_agent.__file__, rl_agent.__file__\n"
        "assert importlib.util.find_spec('kit') is None and importlib.util.find_spec('agent') is None\n"
        "from rl_agent.kit.dataio.pairs import load_pairs, bundled_pairs_path\n"
        "assert len(load_pairs(bundled_pairs_path('train'))) >= 60\n"
        "print('ok')\n"
    )
    run = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
