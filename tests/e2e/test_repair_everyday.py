"""The strategies for failures nothing recognises, on real rendered runs and real TRL training (2-step runs
of the embedded model): the early stop on a diverging loss, re-rendering from the spec (the edit kept as a
patch), and reverting the changed setting found by short trial runs. None writes outside the run folder."""

from __future__ import annotations

import io
import json
import sys

import pytest
from rich.console import Console

from rl_agent.agent.repair.catalogue import CATALOGUE, Symptoms, diagnose
from rl_agent.agent.repair.fallbacks import unrecognised_repair
from rl_agent.agent.repair.log import REPAIRS_MD
from rl_agent.agent.repair.repairer import apply_patch
from rl_agent.agent.repair.rerender import find_drift
from rl_agent.agent.repair.revert import TRIAL_LOG, find_culprit, revert_patch
from rl_agent.kit.pipeline.driver import Pipeline, StageError
from rl_agent.kit.pipeline.run_folder import RunFolder
from tests.support.everyday_faults import EVERYDAY_FAULTS, set_config
from tests.support.faults import FAST_DPO, prepare_run, set_spec
from tests.support.run_copies import copy_run, outside_snapshot

FAULTS = {f.id: f for f in EVERYDAY_FAULTS}
SHORT = {**FAST_DPO, "max_steps": 2, "save_steps": 2, "logging_steps": 1}


@pytest.fixture(scope="module")
def donor(tmp_path_factory, tiny_model):
    return prepare_run(
        tmp_path_factory.mktemp("everyday-donor") / "run", model_path=tiny_model, python=sys.executable, dpo=SHORT
    ).root


def train(run: RunFolder) -> None:
    state = run.load()
    pipe = Pipeline(run, Console(file=io.StringIO()))
    if "render" not in state.stages_done:
        pipe.stage_render(state)
        state.stages_done.append("render")
        run.save(state)
    pipe.stage_train(state)


def failure(run: RunFolder) -> Symptoms:
    with pytest.raises(StageError) as e:
        train(run)
    return Symptoms(str(e.value), run.path("train.log").read_text(encoding="utf-8", errors="replace"), "train")


def test_a_diverging_loss_stops_training_at_once(donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    set_config(run, "max_steps", "40")
    set_config(run, "learning_rate", "1e3")  # past preflight: the script is run directly
    symptoms = failure(run)
    assert "training stopped early:" in symptoms.error
    assert "rl-agent: stopped early: " in symptoms.log
    steps = [int(x) for x in __import__("re").findall(r"at step (\d+)|by step (\d+)", symptoms.log)[0] if x]
    assert steps and steps[0] <= 5, "the guard must stop within the first steps, not after the run"
    assert diagnose(symptoms, CATALOGUE)[0].id == "loss_diverged"


def test_a_healthy_run_is_not_stopped(donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    train(run)
    assert "stopped early" not in run.path("train.log").read_text()
    assert json.loads(run.path("out/train_metrics.json").read_text())["steps"] == 2


def test_an_unrecognised_failure_after_a_hand_edit_is_re_rendered_from_the_spec(donor, tmp_path):
    run = copy_run(donor, tmp_path / "run")
    FAULTS["script_misspelt_call"].inject(run)
    before = outside_snapshot(tmp_path, run.root)
    symptoms = failure(run)
    assert diagnose(symptoms, CATALOGUE) is None  # nothing in the catalogue knows this one
    record = unrecognised_repair(run, symptoms, 1, set())
    assert record is not None and record.failure == "rerender_from_spec"
    patch = run.path("user-edit-train_dpo.py.patch").read_text()
    assert "+    result = trainer.trian(" in patch and "-    result = trainer.train(" in patch
    assert find_drift(run, run.load()) == []
    md = run.path(REPAIRS_MD).read_text()
    assert "user-edit-train_dpo.py.patch" in md and "trainer.trian" in md  # the diff is shown
    train(run)  # and the re-rendered script trains
    assert outside_snapshot(tmp_path, run.root) == before


def test_an_unrecognised_failure_from_a_changed_setting_is_reverted_by_trials(donor, tmp_path):
    """LoRA on a norm layer (present in the model, so preflight lets it by; PEFT refuses it at load)."""
    run = copy_run(donor, tmp_path / "run")
    set_spec(run, dpo__lora_target_modules=["q_proj", "norm"])
    before = outside_snapshot(tmp_path, run.root)
    symptoms = failure(run)
    assert diagnose(symptoms, CATALOGUE) is None
    culprit, trials, why = find_culprit(run, steps=1)
    assert culprit is not None and culprit.fields == ["lora_target_modules"], why
    assert not trials[0].ok and trials[-1].ok and trials[-1].reverted == ["lora_target_modules"]
    log = [json.loads(x) for x in run.path(TRIAL_LOG).read_text().splitlines()]
    assert len(log) == len(trials) >= 2 and log[-1]["ok"] is True
    apply_patch(run, revert_patch(culprit, run.load().spec))
    assert run.load().spec.dpo.lora_target_modules != ["q_proj", "norm"]
    train(run)
    assert outside_snapshot(tmp_path, run.root) == before
