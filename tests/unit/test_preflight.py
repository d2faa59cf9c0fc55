"""Preflight on real rendered runs with everyday faults planted: each finding is one line naming the setting
or file:line and what to change, safe fixes are applied inside the run folder and logged like every repair,
and a clean run is left alone. No training here (a checked run needs no process): seconds per test."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from rl_agent.agent.repair.log import REPAIRS_JSONL, REPAIRS_MD
from rl_agent.agent.repair.preflight import check_run, parse_config, preflight
from rl_agent.agent.repair.rerender import find_drift
from rl_agent.kit.dataio.pairs import load_pairs
from rl_agent.kit.pipeline.run_folder import RunFolder
from tests.support.everyday_faults import EVERYDAY_FAULTS
from tests.support.faults import prepare_run
from tests.support.run_copies import copy_run, outside_snapshot

FAULTS = {f.id: f for f in EVERYDAY_FAULTS}
# Faults preflight must catch before any process starts (the rest fail later, or not at all, by design:
# a misspelt call compiles and reads like any script; a tracker that is not installed is recognised from the
# log by the catalogue when the run starts).
CAUGHT = {
    "config_max_steps_zero": "train_dpo.py:",
    "config_learning_rate_1e3": "train_dpo.py:",
    "config_grad_accum_zero": "train_dpo.py:",
    "config_max_length_8": "train_dpo.py:",
    "config_lora_targets_bert": "train_dpo.py:",
    "config_lora_r_zero": "train_dpo.py:",
    "script_syntax_error": "train_dpo.py:41",
    "train_question_good_bad": "my-train.jsonl",
    "heldout_instruction_positive_negative": "my-heldout.jsonl",
    "train_conversational_lists": "train-conversational.jsonl",
    "train_capitalised_keys": "Train.jsonl",
    "train_bom_crlf": "train-windows.jsonl",
    "model_config_deleted": "model",
    "env_python_gone": "run.json python",
    "env_shadowing_module": "datasets.py",
    "spec_learning_rate_half": "run.json dpo.learning_rate",
    "spec_max_length_short": "run.json dpo.max_length",
}


@pytest.fixture(scope="module")
def donor(tmp_path_factory, tiny_model):
    """One rendered run (model, data and render stages done), copied by each test."""
    return prepare_run(
        tmp_path_factory.mktemp("preflight-donor") / "run", model_path=tiny_model, python=sys.executable
    ).root


def test_a_clean_run_has_no_findings(donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    assert check_run(run) == []
    records, left = preflight(run)
    assert records == [] and left == [] and not run.path(REPAIRS_JSONL).exists()


@pytest.mark.parametrize("fault_id", sorted(CAUGHT))
def test_preflight_names_the_problem_and_fixes_it_inside_the_run(fault_id, donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    FAULTS[fault_id].inject(run)
    before_outside = outside_snapshot(tmp_path, run.root)
    findings = check_run(run)
    assert findings, f"preflight missed {fault_id}"
    first = findings[0]
    # One line that says where and what to change.
    assert "\n" not in first.line and CAUGHT[fault_id] in first.line and first.change
    records, left = preflight(run)
    assert records and not left, [f.line for f in left]
    assert check_run(run) == [], "a fix left something preflight still finds"
    # Logged like every repair, and the user sees the line in the run's log.
    events = [json.loads(x) for x in run.path(REPAIRS_JSONL).read_text().splitlines()]
    assert any(e.get("error") == first.line for e in events)
    assert "Preflight:" in run.path(REPAIRS_MD).read_text() and first.line in run.path("train.log").read_text()
    # Nothing outside the run folder was written (the original data files included).
    assert outside_snapshot(tmp_path, run.root) == before_outside
    state = run.load()
    script = run.path("train_dpo.py")
    if "render" in state.stages_done:
        cfg = parse_config(script.read_text(), "train_dpo.py")
        assert cfg is not None and cfg.values["max_steps"] >= 1 and 0 < cfg.values["learning_rate"] <= 0.05
        assert cfg.values["lora"]["r"] >= 1 and cfg.values["max_length"] >= 64
    if fault_id.startswith(("train_", "heldout_")):  # the mapped copy is a valid pair file with every row
        which = "heldout_file" if fault_id.startswith("heldout") else "train_file"
        mapped = Path(getattr(state.spec, which))
        source = getattr(RunFolder(donor).load().spec, which)  # the file the fault rewrote in another shape
        assert run.root in mapped.parents and len(load_pairs(mapped)) == len(load_pairs(source))


def test_a_syntax_error_is_re_rendered_and_the_edit_kept_as_a_patch(donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    FAULTS["script_syntax_error"].inject(run)
    edited = run.path("train_dpo.py").read_text()
    preflight(run)
    patch = run.path("user-edit-train_dpo.py.patch").read_text()
    assert (
        patch.startswith("--- train_dpo.py") and '-        "beta": 0.1,' in patch and '+        "beta": 0.1\n' in patch
    )
    assert run.path("train_dpo.py").read_text() != edited and find_drift(run, run.load()) == []
    assert "user-edit-train_dpo.py.patch" in run.path(REPAIRS_MD).read_text()


def test_columns_that_cannot_be_mapped_are_left_to_the_data_stage(donor, tmp_path):
    """No guessing: unknown column names get no mapping; the data stage names the file and line."""
    run = copy_run(donor, tmp_path / "run")
    odd = run.path("odd.jsonl")
    odd.write_text("".join(json.dumps({"foo": "a", "bar": "b", "baz": "c"}) + "\n" for _ in range(10)))
    from tests.support.faults import set_spec

    set_spec(run, "data", train_file=str(odd))
    assert [f for f in check_run(run) if f.id == "data_columns"] == []


def test_a_sane_but_changed_config_is_not_flagged(donor, tmp_path):
    """Preflight says no only to values the trainer cannot use: a hand edit within range is the user's."""
    run = copy_run(donor, tmp_path / "run")
    from tests.support.everyday_faults import set_config

    set_config(run, "learning_rate", "1e-4")
    set_config(run, "max_steps", "12")
    assert check_run(run) == []


def rendered_track_run(root: Path, track_name: str, model: Path) -> RunFolder:
    """A run of `track_name` on its bundled data, model/data/render stages done (as `rl-agent setup` leaves it)."""
    from rl_agent.kit.spec import RunSpec
    from rl_agent.kit.tracks.registry import get_track
    from tests.support.faults import render_stages

    plan = get_track(track_name).setup(
        "embedded", "cpu", reward=None, max_cost=None, steps=None, train=None, heldout=None
    )
    spec = RunSpec(
        task=plan.task,
        algorithm=track_name,
        model="embedded",
        model_source="embedded",
        train_file=str(Path(plan.train_file).resolve()),
        heldout_file=str(Path(plan.heldout_file).resolve()),
        min_correct=plan.min_correct,
        **{track_name: plan.settings},
    )
    folder = RunFolder(root)
    return render_stages(folder, folder.create(spec), python=sys.executable, model_path=model)


@pytest.mark.parametrize("track_name", ["dpo", "grpo", "sft", "kto"])
def test_preflight_reads_each_tracks_own_script_and_recipe(track_name, tiny_model, tmp_path):
    """Every track: a clean render passes; max_steps 0 in its own train script is named there and put back."""
    from rl_agent.kit.tracks.registry import get_track
    from tests.support.everyday_faults import set_config

    run = rendered_track_run(tmp_path / "run", track_name, tiny_model)
    script = get_track(track_name).train_script
    assert check_run(run) == []
    set_config(run, "max_steps", "0", script=script)
    findings = check_run(run)
    assert findings and findings[0].line.startswith(f"preflight: {script}:") and "max_steps" in findings[0].line, [
        f.line for f in findings
    ]
    records, left = preflight(run)
    assert records and not left and check_run(run) == []
    assert parse_config(run.path(script).read_text(), script).values["max_steps"] >= 1
