"""House rules that hold for the whole package: one base error class, a version, no pasted source, and no
algorithm named outside the tracks."""

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import rl_agent
from rl_agent.errors import RlAgentError

ROOT = Path(rl_agent.__file__).resolve().parent


def _package_modules():
    for info in pkgutil.walk_packages(rl_agent.__path__, "rl_agent."):
        if not info.name.endswith("__main__"):
            yield importlib.import_module(info.name)


def test_every_error_the_kit_raises_derives_from_one_base():
    """The runtime is exempt: it is copied into run folders and must import nothing from rl_agent."""
    errors = [
        (m.__name__, obj)
        for m in _package_modules()
        for obj in vars(m).values()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == m.__name__
        and not m.__name__.startswith("rl_agent.runtime")
    ]
    assert len(errors) >= 25, "the walk found too few error classes"
    assert not [f"{mod}.{cls.__name__}" for mod, cls in errors if not issubclass(cls, RlAgentError)]


def test_the_base_error_check_says_no_to_a_stray_error():
    class Stray(ValueError):
        pass

    assert not issubclass(Stray, RlAgentError)


def test_version_prints_the_installed_version():
    proc = subprocess.run([sys.executable, "-m", "rl_agent", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"rl-agent {version('rl-agent')}" == f"rl-agent {rl_agent.__version__}"


def test_the_runtime_is_standard_library_only_with_relative_imports():
    """Copied beside the scripts as rl_agent_runtime/, it must run where rl-agent is not installed."""
    stdlib = set(sys.stdlib_module_names)
    for path in (ROOT / "runtime").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"\s*(?:from|import)\s+([\w.]+)", line)
            if m and not line.lstrip().startswith("from ."):
                assert m.group(1).split(".")[0] in stdlib | {"__future__"}, f"{path.name}: {line.strip()}"


def _code_lines(path: Path) -> list[str]:
    """Source lines outside docstrings and comments (where an algorithm may be mentioned in prose)."""
    import ast
    import io
    import tokenize

    source = path.read_text(encoding="utf-8")
    docstrings = {
        node.body[0].value.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and tok.start[0] not in docstrings:
            strings.append(tok.string)
    return strings


ALGORITHMS = ("dpo", "grpo", "sft", "kto")


def algorithm_literals(root: Path = ROOT) -> list[str]:
    """String literals that are exactly an algorithm's name, in modules outside tracks/."""
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[:2] == ("kit", "tracks"):
            continue
        for s in _code_lines(path):
            if s.strip("rbuRBU\"'").lower() in ALGORITHMS:
                found.append(f"{rel}: {s}")
    return found


def test_no_module_outside_the_tracks_names_an_algorithm(tmp_path):
    found = algorithm_literals()
    print(f"algorithm literals outside tracks/: {len(found)}")
    assert not found, "\n".join(found)
    (tmp_path / "x.py").write_text('"""Docstrings may say dpo."""\nALG = "grpo"\n')
    assert algorithm_literals(tmp_path) == ['x.py: "grpo"']


def test_no_source_is_pasted_into_scripts():
    hits = [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if "inspect.getsource" in p.read_text(encoding="utf-8")
    ]
    print(f"inspect.getsource in the package: {len(hits)}")
    assert not hits
