"""The plain tool functions agents wrap: look at a failed run, get the catalogue's diagnosis, patch inside
the run folder only. No training: the failure here is in the data stage."""

from __future__ import annotations

import json
import sys

import pytest

from rl_agent.agent.repair import tools_core
from rl_agent.agent.repair.repairer import PatchRefused
from tests.support.faults import Donor, heldout_overlap, prepare_run


@pytest.fixture
def failed_run(tmp_path, tiny_model):
    folder = prepare_run(tmp_path / "run", model_path=tiny_model, python=sys.executable)
    heldout_overlap(folder, Donor())
    return folder


def test_a_failed_stage_is_explained_with_the_patch_the_catalogue_would_apply(failed_run):
    st = tools_core.run_step(failed_run.root, "all")
    assert st["status"] == "failed" and st["next_stage"] == "data" and "held-out prompt" in st["error"]
    why = tools_core.explain_failure(failed_run.root)
    assert why["failure"] == "heldout_overlap" and why["patch"]["rerun_from"] == "data"
    assert not failed_run.path("heldout.clean.jsonl").exists()  # explained, not applied
    assert tools_core.compare(failed_run.root) is None


def test_patches_are_validated_confined_and_keep_spec_json_in_step(failed_run):
    with pytest.raises(PatchRefused):
        tools_core.patch_spec(failed_run.root, {"dpo.per_device_train_batch_size": 0}, "invalid")
    tools_core.patch_spec(
        failed_run.root, {"dpo.per_device_train_batch_size": 4, "dpo.gradient_accumulation_steps": 2}, "smaller batches"
    )
    spec = json.loads(failed_run.path("spec.json").read_text())
    assert (spec["dpo"]["per_device_train_batch_size"], spec["dpo"]["gradient_accumulation_steps"]) == (4, 2)
    changes = tools_core.patch_file(
        failed_run.root,
        "train_dpo.py",
        '"dataloader_num_workers": 0',
        '"dataloader_num_workers": 1',
        "one loader worker",
    )
    assert '"dataloader_num_workers": 1' in failed_run.path("train_dpo.py").read_text() and changes
    with pytest.raises(PatchRefused):
        tools_core.patch_file(failed_run.root, "../outside.py", "a", "b", "escape")
