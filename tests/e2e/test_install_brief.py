"""BRIEF.md's install and demo commands work as written: they are taken from the BRIEF itself and run
literally in a fresh venv, with the wheel built from this checkout.

To keep it fast and offline-friendly, the fresh venv sees this interpreter's packages (torch, trl, ...)
through a .pth file, so pip finds the training stack already installed and downloads nothing; rl-agent
itself is hidden from that view, so the BRIEF's wheel line really installs it. The one change to the
BRIEF's text: the demo gets `--steps 10` (the full-length demo is tests/e2e/test_setup_e2e.py's job).
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import REPO, assert_exit_follows_verdict

LOCAL_INDEX = "file:///opt/pypi/simple"  # this workplace's package index on local disk

pytestmark = pytest.mark.slow

BRIEF = REPO / "BRIEF.md"


def bash_blocks() -> list[str]:
    """The ```bash blocks of BRIEF.md, in order, with their indentation removed."""
    blocks = re.findall(r"^([ \t]*)```bash\n(.*?)^\1```", BRIEF.read_text(), flags=re.S | re.M)
    return ["\n".join(line[len(indent) :] for line in body.splitlines()) for indent, body in blocks]


def find_block(needle: str) -> str:
    (block,) = [b for b in bash_blocks() if needle in b]
    return block


def test_brief_names_no_package_the_index_lacks():
    text = BRIEF.read_text()
    assert 'pip install "rl-agent[train]"\n' not in text and "pip install rl-agent\n" not in text
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), flags=re.M).group(1)
    assert f"rl_agent-{version}-py3-none-any.whl[train]" in find_block(".whl[train]")
    assert find_block('-e ".[train]"').strip() == 'pip install -e ".[train]"'
    assert "git+REPO_URL" in find_block("git+")  # no made-up public URL


def _overlay_without_rl_agent(dest: Path) -> Path:
    """A folder of links to this interpreter's site-packages entries, minus rl-agent itself. Named
    site-packages: dill (inside datasets) pickles modules by reference only from a folder so named."""
    dest.mkdir(parents=True)
    for sp in site.getsitepackages():
        for entry in Path(sp).iterdir():
            name = entry.name.lower()
            if name.startswith(("rl_agent", "__editable__", "_rl_agent")) or name.endswith(".pth"):
                continue
            if not (dest / entry.name).exists():
                (dest / entry.name).symlink_to(entry)
    return dest


@pytest.mark.slow
@pytest.mark.skipif(
    not Path(LOCAL_INDEX.removeprefix("file://")).is_dir(),
    reason="no local package index: a fresh venv needs setuptools>=77 for torch, and a test may not download it",
)
def test_brief_install_and_demo_run_literally(tmp_path, tiny_model, built_wheel):
    work = tmp_path / "user"
    work.mkdir()
    shutil.copy(built_wheel, work)
    # `python3` is this interpreter's base Python, so the .pth below fits its version.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(Path(sys._base_executable).resolve())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    env["PATH"] = f"{bindir}:{env['PATH']}"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Only this machine's local package index may be used (a new user's pip reaches PyPI; a test may not):
    env["PIP_INDEX_URL"] = LOCAL_INDEX
    env["PIP_EXTRA_INDEX_URL"] = LOCAL_INDEX
    env["PIP_RETRIES"], env["PIP_TIMEOUT"] = "0", "5"
    subprocess.run(["python3", "-m", "venv", ".venv"], cwd=work, env=env, check=True, timeout=300)
    (sp,) = (work / ".venv" / "lib").glob("python3*/site-packages")
    (sp / "zz_training_stack.pth").write_text(
        str(_overlay_without_rl_agent(tmp_path / "stack" / "site-packages")) + "\n"
    )

    # venv, then the CPU torch line: torch is in the linked stack; the setuptools>=77 it needs (newer than the
    # venv seed) comes from the local index, as it would from PyPI for a user
    venv_block = find_block("python3 -m venv .venv")
    install = find_block(".whl[train]")
    demo = find_block("rl-agent setup --offline").strip() + " --steps 10"
    script = "set -e\n" + venv_block + "\n" + install + "\nrl-agent --help\n" + demo + "\n"
    proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert_exit_follows_verdict(proc, work / "runs" / "demo")  # 10 steps may fall short of the verdict: exit 1 then
    for command in ("setup", "resume", "new", "run", "grade", "pairs", "report"):
        assert command in proc.stdout
    # Installed (not editable) into the new venv, under namespaced import names only, with its data.
    probe = (
        "import importlib.util, rl_agent, rl_agent.kit, rl_agent.agent\n"
        "from rl_agent.kit.pipeline.render import render_template\n"
        "assert importlib.util.find_spec('kit') is None and importlib.util.find_spec('agent') is None\n"
        "from rl_agent.kit.dataio.pairs import load_pairs, bundled_pairs_path\n"
        "assert len(load_pairs(bundled_pairs_path('train'))) >= 60\n"
        "print(rl_agent.__file__)\n"
    )
    installed = subprocess.run(
        [str(work / ".venv/bin/python"), "-c", probe], env=env, capture_output=True, text=True, cwd=work
    )
    assert installed.returncode == 0 and str(sp) in installed.stdout, installed.stdout + installed.stderr
