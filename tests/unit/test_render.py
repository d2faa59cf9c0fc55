"""Rendering: user text enters scripts only as inert data, and a broken render never lands on disk."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from rl_agent.kit.pipeline.driver import render_context
from rl_agent.kit.pipeline.render import py_comment, py_literal, write_rendered
from rl_agent.kit.spec import RunSpec

HOSTILE = [
    "a \"quoted\" 'string'",
    '"""; import os; os.system("touch /tmp/pwned") #',
    "{{ 7 * 7 }} {% raw %} {# c #}",
    "\\x00\n\r\t back\\slash",
    "$(rm -rf /) `id` ; | &&",
    "Réponds en français, 日本語で答えて, ответь по-русски 🙂",
    "x" * 20000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_py_literal_round_trips_hostile_text(text):
    assert ast.literal_eval(py_literal(text)) == text
    assert ast.literal_eval(py_literal({"k": [text, 1, 2.5, None, True]})) == {"k": [text, 1, 2.5, None, True]}


def test_py_literal_refuses_anything_but_plain_data():
    for bad in (object(), float("nan"), math.inf, {1: "non-string key"}, b"bytes"):
        with pytest.raises(TypeError):
            py_literal(bad)


@pytest.mark.parametrize("text", HOSTILE)
def test_py_comment_is_one_printable_line(text):
    out = py_comment(text)
    assert "\n" not in out and '"""' not in out and len(out) <= 200 and out.isprintable()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_task_renders_as_data_only(tmp_path: Path, text):
    spec = RunSpec(model="m", model_source="local", task=text)
    ctx = render_context(spec, "/models/m")
    dest = write_rendered("train_dpo.py.j2", ctx, tmp_path / "train_dpo.py")
    tree = ast.parse(dest.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system"]
    assert not calls
    assert "7 * 7" not in dest.read_text() or "{{ 7 * 7 }}" in dest.read_text()  # never evaluated to 49
    assert "49" not in ast.get_docstring(tree)


def test_a_render_that_does_not_compile_is_not_written(tmp_path, monkeypatch):
    import rl_agent.kit.pipeline.render as render

    monkeypatch.setattr(render, "render_template", lambda name, ctx: "def broken(:\n")
    with pytest.raises(SyntaxError):
        render.write_rendered("train_dpo.py.j2", {}, tmp_path / "x.py")
    assert not (tmp_path / "x.py").exists()


def test_missing_template_variable_is_an_error(tmp_path):
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        write_rendered("train_dpo.py.j2", {"model": "m"}, tmp_path / "x.py")


@pytest.mark.parametrize("track", ["dpo", "grpo", "sft", "kto"])
@pytest.mark.parametrize("text", HOSTILE[:3])
def test_every_track_renders_standalone_scripts_with_config_first_and_task_text_as_data(tmp_path, track, text):
    from rl_agent.kit.tracks.registry import get_track

    t = get_track(track)
    spec = RunSpec(model="m", model_source="local", task=text, algorithm=track)
    ctx = render_context(spec, "/models/m")
    for template, script in ((t.train_template, t.train_script), (t.eval_template, t.eval_script)):
        source = write_rendered(template, ctx, tmp_path / script).read_text()
        tree = ast.parse(source)
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "system"]
        config = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "CONFIG")
        config = ast.literal_eval(config.value)
        assert config["max_new_tokens"] if script == t.eval_script else config["trl"]["max_steps"]
        if script == t.eval_script:
            # correctness comes from the runtime copied beside the script, not from pasted source
            assert "from rl_agent_runtime.correctness import contains_reference" in source and '"correct"' in source
            assert "def contains_reference(" not in source
            assert (tmp_path / "rl_agent_runtime" / "correctness.py").is_file()
    if track in ("sft", "kto"):
        train = (tmp_path / t.train_script).read_text()
        assert {"sft": "SFTTrainer(", "kto": "KTOTrainer("}[track] in train and "DPOTrainer" not in train


def test_every_track_puts_report_to_in_config_and_the_repair_undoes_a_missing_tracker():
    """--report-to reaches every train script's CONFIG; the tracker fault's edit and the catalogue's fix
    (report to no tracker) both act on that CONFIG line, and the fix leaves the TrainingArguments alone."""
    import re
    from types import SimpleNamespace

    from rl_agent.agent.repair.catalogue import Context, fix_report_to
    from rl_agent.kit.pipeline.render import render_template
    from rl_agent.kit.spec import RunSpec
    from rl_agent.kit.tracks.registry import TRACKS

    for name, track in TRACKS.items():
        spec = RunSpec(model="m", model_source="embedded", algorithm=name)
        getattr(spec, name).report_to = "tensorboard"
        src = render_template(track.train_template, track.render_context(spec, "/x/model"))
        assert "\"report_to\": 'tensorboard'" in src and "\"logging_dir\": 'tb'" in src, name
        assert "(output_dir=str(output_dir), **trl" in src and 'report_to="none"' not in src, (
            name
        )  # CONFIG["trl"] as is
        ctx = Context(None, SimpleNamespace(spec=spec), SimpleNamespace(stage="train"), None)
        (edit,) = fix_report_to(ctx).actions
        assert edit.path == track.train_script
        fixed = re.sub(
            edit.pattern, edit.replacement, src.replace("\"report_to\": 'tensorboard'", "\"report_to\": 'wandb'")
        )
        assert '"report_to": "none"' in fixed and "'wandb'" not in fixed, name
