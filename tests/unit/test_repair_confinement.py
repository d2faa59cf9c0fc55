"""Patches act only inside the run folder, validate spec changes, and change nothing when refused; the loop
stops honestly (unrecognised, unfixable, exhausted) and logs every event. No training here: the failing
script exits at once, so these tests take seconds."""

from __future__ import annotations

import json
import re
import shlex
import sys

import pytest

from rl_agent.agent.repair.catalogue import CATALOGUE, KnownFailure, describe_catalogue
from rl_agent.agent.repair.log import REPAIRS_JSONL, REPAIRS_MD
from rl_agent.agent.repair.loop import run_with_repairs
from rl_agent.agent.repair.repairer import (
    EditFile,
    EditJson,
    MoveAside,
    Patch,
    PatchRefused,
    SetSpec,
    WriteFile,
    apply_patch,
    confine,
)
from tests.support.faults import FAULTS, prepare_run


@pytest.fixture
def run(tmp_path, tiny_model):
    return prepare_run(tmp_path / "run", model_path=tiny_model, python=sys.executable)


def test_confine_refuses_paths_outside_and_links_out(tmp_path):
    root = tmp_path / "run"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("x")
    (root / "link").symlink_to(tmp_path / "outside.txt")
    assert confine(root, "a/b.txt") == (root / "a/b.txt").resolve()
    for bad in ("../outside.txt", str(tmp_path / "outside.txt"), "link", "a/../../outside.txt", ".", "/etc/passwd"):
        with pytest.raises(PatchRefused):
            confine(root, bad)


@pytest.mark.parametrize(
    "action",
    [
        WriteFile("../escaped.txt", "x"),
        EditFile("../outside.txt", "x", "y"),
        EditJson("/tmp/rl-agent-escape.json", {"a": 1}),
        MoveAside("../*"),
    ],
)
def test_a_patch_reaching_outside_changes_nothing(run, action, tmp_path):
    (tmp_path / "outside.txt").write_text("x")
    before = run.state_path.read_text()
    good_first = WriteFile("ok.txt", "fine")  # every action is checked before anything is written
    with pytest.raises(PatchRefused):
        apply_patch(run, Patch("escape", (SetSpec("dpo.max_steps", 5), good_first, action), "render"))
    assert run.state_path.read_text() == before
    assert not run.path("ok.txt").exists()
    assert (tmp_path / "outside.txt").read_text() == "x" and not (tmp_path / "escaped.txt").exists()


def test_invalid_spec_values_are_refused_and_valid_ones_invalidate_stages(run):
    with pytest.raises(PatchRefused, match="dpo.max_steps"):
        apply_patch(run, Patch("bad", (SetSpec("dpo.max_steps", 0),), "render"))
    with pytest.raises(PatchRefused, match="no such spec field"):
        apply_patch(run, Patch("bad", (SetSpec("dpo.nope", 1),), "render"))
    assert run.load().stages_done == ["model", "data", "render"]
    changes = apply_patch(run, Patch("ok", (SetSpec("dpo.max_steps", 12),), "render"))
    state = run.load()
    assert state.spec.dpo.max_steps == 12 and state.stages_done == ["model", "data"]
    assert any("dpo.max_steps: 30 -> 12" in c for c in changes)


def test_a_script_edit_that_would_not_compile_is_refused(run):
    before = run.path("train_dpo.py").read_text()
    with pytest.raises(PatchRefused, match="compile"):
        apply_patch(run, Patch("bad", (EditFile("train_dpo.py", r"def main\(\):", "def main(:"),), "train"))
    assert run.path("train_dpo.py").read_text() == before


def test_every_catalogue_entry_has_a_fault_injection_test():
    assert len(CATALOGUE) >= 15
    assert {f.id for f in FAULTS} == {e.id for e in CATALOGUE}
    assert len({e.id for e in CATALOGUE}) == len(CATALOGUE)


def test_the_catalogue_prompt_for_claude_is_up_to_date():
    """rl_agent/prompts/agent_repair_catalogue.md is generated: regenerate with describe_catalogue()."""
    from importlib import resources

    shipped = (resources.files("rl_agent") / "prompts" / "agent_repair_catalogue.md").read_text(encoding="utf-8")
    assert shipped == describe_catalogue() + "\n"


def _boom(run, message="rl-agent-test: an unknown failure"):
    """A failure from outside the script and the settings (an interpreter that exits at once): re-rendering
    and reverting settings cannot help, so the loop must stop and say so."""
    wrapper = run.path("boom-python")
    wrapper.write_text(f"#!/bin/sh\necho {shlex.quote(message)} >&2\nexit 1\n")
    wrapper.chmod(0o755)
    state = run.load()
    state.python = str(wrapper)
    run.save(state)


def test_an_unknown_failure_is_reported_not_patched(run):
    _boom(run)
    result = run_with_repairs(run)
    assert (result.ok, result.status, result.attempts) == (False, "unrecognised", 0)
    assert "an unknown failure" in result.message
    events = [json.loads(x) for x in run.path(REPAIRS_JSONL).read_text().splitlines()]
    assert events[-1]["outcome"].startswith("not recognised") and "an unknown failure" in events[-1]["error"]
    assert not run.path("report.json").exists() and run.load().status == "failed"


def test_a_recognised_failure_without_a_fix_stops_at_once(run):
    _boom(run)
    entry = KnownFailure(
        "no_fix", "No fix", re.compile("an unknown failure"), "test cause", "none", lambda ctx: None, lambda s, m: True
    )
    result = run_with_repairs(run, catalogue=(entry,))
    assert (result.status, result.attempts) == ("unfixable", 0)
    assert "needs a person" in result.message


def test_the_loop_is_bounded_and_logs_error_diagnosis_patch_outcome(run):
    """A fix that does not address the cause: three patches, four runs, then a clear stop."""
    _boom(run)
    useless = KnownFailure(
        "useless",
        "Useless fix",
        re.compile(r"an unknown (?P<what>failure)"),
        "test cause",
        "touch a file",
        lambda ctx: Patch("touch a file", (WriteFile("touched.txt", "x"),), "train"),
        lambda s, m: True,
    )
    result = run_with_repairs(run, catalogue=(useless,), max_attempts=3)
    assert (result.ok, result.status, result.attempts) == (False, "exhausted", 3)
    assert all(r.outcome.startswith("failed again") for r in result.repairs)
    events = [json.loads(x) for x in run.path(REPAIRS_JSONL).read_text().splitlines()]
    patches = [e for e in events if "patch" in e]
    assert [e["attempt"] for e in patches] == [1, 2, 3]
    assert all(e["error"] and e["diagnosis"] == "test cause" and e["evidence"] == "an unknown failure" for e in patches)
    md = run.path(REPAIRS_MD).read_text()
    assert md.count("## Repair") == 3 and "failed again" in md and "gave up" in md
    assert run.path("train.log").read_text().count("an unknown failure") == 4  # four real runs of the script


def test_an_unknown_failure_tries_the_fallbacks_inside_the_run_folder_then_stops(run, tmp_path):
    """Re-render (nothing drifted) and revert trials (the failure stays with the recipe's defaults) both run
    and both write only inside the run folder; the loop then stops as unrecognised."""
    _boom(run)
    before = {str(p): p.stat().st_mtime for p in tmp_path.rglob("*") if p.is_file() and run.root not in p.parents}
    result = run_with_repairs(run)
    assert result.status == "unrecognised" and result.attempts == 0
    trials = [json.loads(x) for x in run.path("revert-trials.jsonl").read_text().splitlines()]
    assert trials and not any(t["ok"] for t in trials)
    assert "not caused by the settings" in run.path(REPAIRS_MD).read_text()
    after = {str(p): p.stat().st_mtime for p in tmp_path.rglob("*") if p.is_file() and run.root not in p.parents}
    assert after == before
