"""Hostile task text (quotes, Jinja delimiters, Python, shell metacharacters, control characters, very long
or non-English text) is data only: it reaches the spec exactly, changes nothing in the rendered scripts but
their docstring, and running the scripts' top level or the CLI executes none of it. The Claude authoring path (the real Claude Code
CLI against the scripted server): tests/e2e/test_injection_claude_author.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import install_runtime, render_template
from rl_agent.kit.planning.task_spec import TaskSpec
from tests.support.faults import terse_spec
from tests.support.hostile import SCRIPTS, module_shape, payloads, script_config

PREFIX = "Be terse and direct. "


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    base = tmp_path_factory.mktemp("base")
    spec = terse_spec(PREFIX + "plain text", {}).to_run_spec(base)
    ctx = render_context(spec, "/models/tiny")
    return {name: render_template(name, ctx) for name in SCRIPTS}


@pytest.mark.parametrize("kind", list(payloads(Path("/x"))))
def test_hostile_task_text_is_data_only(kind, tmp_path, baseline):
    marker = tmp_path / "PWNED"
    text = PREFIX + payloads(marker)[kind]
    spec = terse_spec(text, {})  # the task text as a spec holds it (a Claude-authored plan keeps the user's words)
    # Exactly preserved in the editable spec and in the compiled run spec.
    path = spec.write(tmp_path / "spec.json")
    assert TaskSpec.read(path).task == text
    assert json.loads(path.read_text(encoding="utf-8"))["task"] == text
    run_spec = spec.to_run_spec(tmp_path)
    assert run_spec.task == text
    ctx = render_context(run_spec, "/models/tiny")
    for name in SCRIPTS:
        source = render_template(name, ctx)
        compile(source, name, "exec")
        # Same program as with harmless text: only the docstring differs, and the CONFIG is plain data.
        assert module_shape(source) == module_shape(baseline[name])
        assert script_config(source) == script_config(baseline[name])
        docstring = ast.get_docstring(ast.parse(source))
        assert len(docstring.splitlines()[0]) < 300  # the text is flattened and cut to one short line
        script = tmp_path / name.removesuffix(".j2")
        script.write_text(source, encoding="utf-8")
    # Running every script's top level (CONFIG, the runtime imports, definitions) runs none of the text.
    install_runtime(tmp_path)
    for name in SCRIPTS:
        code = f"import runpy; runpy.run_path({str(tmp_path / name.removesuffix('.j2'))!r}, run_name='rl_agent_probe')"
        proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(
        [sys.executable, "train_dpo.py", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()


def test_a_hostile_format_prefix_lands_only_in_data_files(tmp_path):
    marker = tmp_path / "PWNED"
    plan, spec = _recipe_spec(
        [("prefix", [f"prefix={{{{ lipsum.__globals__.os.popen('touch {marker}') }}}}"])], tmp_path
    )
    assert spec.family == "format"
    rows = [json.loads(x) for x in (tmp_path / "data/train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(r["chosen"].startswith("{{ lipsum") for r in rows)
    ctx = render_context(spec.to_run_spec(tmp_path), "/models/tiny")
    _, harmless_spec = _recipe_spec([("prefix", ["prefix=Answer:"])], tmp_path / "harmless")
    harmless = render_context(harmless_spec.to_run_spec(tmp_path), "/models/tiny")
    for name in SCRIPTS:
        source = render_template(name, ctx)
        assert "lipsum" not in source.split('"""', 2)[2]  # beyond the docstring, no trace of the text
        assert module_shape(source) == module_shape(render_template(name, harmless))
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["triple_quotes", "jinja_expr", "shell", "non_english"])
def test_cli_new_keeps_hostile_text_as_data(kind, tmp_path, cli):
    """Words without Claude are only compared with the recipes' words for suggestions: nothing is written, and
    the text runs nowhere."""
    marker = tmp_path / "PWNED"
    text = PREFIX + payloads(marker)[kind]
    run_dir = tmp_path / "run"
    proc = cli("new", text, "--offline", "--yes", "--plan-only", "--run-dir", str(run_dir), cwd=tmp_path)
    assert proc.returncode == 2 and "does not guess" in proc.stderr, proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr and not run_dir.exists()
    assert not marker.exists()


# ---- the recipe path: a parameter reaching task.json, spec.json, check.py and the rendered scripts ------------
RECIPE_KINDS = ["triple_quotes", "single_triple", "jinja_expr", "shell", "braces_quotes", "non_english"]


def _recipe_payload(marker: Path, kind: str) -> str:
    """A payload as a prefix parameter (one line: a prefix holds no line break)."""
    text = f"$(touch {marker}); `touch {marker}`" if kind == "shell" else payloads(marker)[kind]
    return text.replace("\n", " ")


def _recipe_spec(groups, run_dir: Path):
    from rl_agent.kit.planning.recipe_spec import recipe_task_spec
    from rl_agent.kit.planning.recipes.library import plan_recipes
    from rl_agent.kit.planning.task_spec import ModelPlan

    plan = plan_recipes(groups)
    plan.write(run_dir)
    return plan, recipe_task_spec(plan, model=ModelPlan())


def _check_shape(source: str) -> str:
    """check.py's AST with PARAMS' literal blanked: what the check does, not which words it checks for."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "PARAMS":
            node.value.args[0].value = ""
    return ast.dump(tree)


@pytest.mark.parametrize("kind", RECIPE_KINDS)
def test_hostile_recipe_parameter_is_data_in_check_spec_and_scripts(kind, tmp_path):
    """A hostile required prefix: the check.py, spec.json and every rendered script do what the harmless
    plan's do; the text is only ever a string value (PARAMS, the data files, the docstring)."""
    marker = tmp_path / "PWNED"
    payload = _recipe_payload(marker, kind)
    hostile_dir, harmless_dir = tmp_path / "hostile", tmp_path / "harmless"
    plan, spec = _recipe_spec([("prefix", [f"prefix={payload}"])], hostile_dir)
    _, harmless = _recipe_spec([("prefix", ["prefix=Answer:"])], harmless_dir)
    assert plan.params["prefix"] == payload  # verbatim: a parameter is never folded or read
    spec.write(hostile_dir / "spec.json")
    assert TaskSpec.read(hostile_dir / "spec.json").check.params["prefix"] == payload
    assert json.loads((hostile_dir / "task.json").read_text(encoding="utf-8"))["params"]["prefix"] == payload
    check = (hostile_dir / "check.py").read_text(encoding="utf-8")
    assert _check_shape(check) == _check_shape((harmless_dir / "check.py").read_text(encoding="utf-8"))
    ctx = render_context(spec.to_run_spec(hostile_dir), "/models/tiny")
    ctx0 = render_context(harmless.to_run_spec(harmless_dir), "/models/tiny")
    for name in SCRIPTS:
        assert module_shape(render_template(name, ctx)) == module_shape(render_template(name, ctx0))
    from rl_agent.kit.planning.recipes import prove_check

    assert prove_check(hostile_dir, "check.py", plan.good, plan.bad).passed  # runs the check on the payload
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["triple_quotes", "jinja_expr", "shell"])
def test_hostile_task_text_in_a_grpo_check_run_renders_as_data(kind, tmp_path):
    """GRPO with the task check as its reward: the scripts use the runtime's check runner; the task text stays in
    the docstring and changes nothing the scripts do."""
    marker = tmp_path / "PWNED"
    _, spec = _recipe_spec([("list_transform", ["op=sort"])], tmp_path)
    hostile = spec.model_copy(update={"task": payloads(marker)[kind]})
    ctx = render_context(hostile.to_run_spec(tmp_path), "/models/tiny")
    ctx0 = render_context(spec.to_run_spec(tmp_path), "/models/tiny")
    for name in ("train_grpo.py.j2", "evaluate_grpo.py.j2"):
        source = render_template(name, ctx)
        assert module_shape(source) == module_shape(render_template(name, ctx0))
        assert script_config(source)["reward"]["check_file"] == "check.py"
        imports = [ln.split()[1] for ln in source.splitlines() if ln.startswith(("import ", "from "))]
        assert not [m for m in imports if m.split(".")[0] == "rl_agent"]  # only the runtime copy, never rl_agent
        script = tmp_path / ("top_" + name.removesuffix(".j2"))
        script.write_text(source.replace('if __name__ == "__main__":', "if False:"), encoding="utf-8")
        install_runtime(tmp_path)
        subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True, capture_output=True)  # top level runs
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["triple_quotes", "jinja_expr", "shell"])
def test_cli_new_recipe_plan_keeps_hostile_text_as_data(kind, tmp_path, cli):
    marker = tmp_path / "PWNED"
    payload = _recipe_payload(marker, kind)
    run_dir = tmp_path / "run"
    proc = cli(
        "new",
        "--recipe",
        "prefix",
        "--set",
        f"prefix={payload}",
        "--offline",
        "--yes",
        "--plan-only",
        "--run-dir",
        str(run_dir),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    spec = json.loads((run_dir / "spec.json").read_text(encoding="utf-8"))
    assert payload in spec["task"] and spec["check"]["params"]["prefix"] == payload
    assert "check proven" in proc.stdout
    assert not marker.exists() and not (run_dir / "run.json").exists()
