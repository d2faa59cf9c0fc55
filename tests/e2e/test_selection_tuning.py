"""Three splits, checkpoint selection on validation, and the bounded settings search, on real runs of the
embedded model (TRL training of a few steps; the prefix recipe's check is the success measure).

What is shown: no prompt is on two of training, validation and test; every checkpoint is scored on the
validation prompts and the test prompts are read only by the before/after; selection's rules say no to wrong
answers; a run whose checkpoints all fail on validation is repaired by a trial with other settings; a task no
setting satisfies ends with the trials table and the rule; `--tune-budget` bounds the search."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from rich.console import Console

from rl_agent.agent.repair.log import REPAIRS_MD
from rl_agent.agent.repair.loop import run_with_repairs
from rl_agent.agent.repair.tuning import TRIAL_LOG, propose
from rl_agent.kit.dataio.pairs import load_pairs, load_unpaired
from rl_agent.kit.dataio.split import norm_prompt
from rl_agent.kit.dataio.validation import MAX_VALIDATION_ROWS, MIN_VALIDATION_ROWS, carve_validation, overlap
from rl_agent.kit.pipeline.driver import Pipeline
from rl_agent.kit.pipeline.run_folder import RunFolder
from rl_agent.kit.pipeline.selection import SELECTION_FILE, VALIDATION_OUTPUT, select
from rl_agent.kit.planning.recipe_spec import recipe_task_spec
from rl_agent.kit.planning.recipes.library import plan_recipes
from rl_agent.kit.planning.task_spec import SPEC_FILE, ModelPlan
from rl_agent.kit.tracks.registry import get_track

DATA = Path(__file__).resolve().parents[2] / "rl_agent" / "data"


def prompts(path: Path) -> set[str]:
    return {norm_prompt(json.loads(ln)["prompt"]) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()}


def recipe_run(root: Path, tiny_model: Path, recipe: str, sets: list[str], **settings) -> RunFolder:
    """A recipe's run folder as `rl-agent new --plan-only` leaves it, with the model stage done and `settings`."""
    plan = plan_recipes([(recipe, sets)])
    root.mkdir(parents=True)
    plan.write(root)
    spec = recipe_task_spec(plan, model=ModelPlan(name="embedded:tiny-qwen3", source="embedded"))
    for k, v in settings.items():
        setattr(spec.dpo, k, v)
    spec.write(root / SPEC_FILE)
    folder = RunFolder(root)
    state = folder.create(spec.to_run_spec(root))
    state.python, state.model_path, state.stages_done = sys.executable, str(tiny_model), ["model"]
    folder.save(state)
    return folder


# ---- the splits ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["terse", "terse_unpaired", "prefix"])
def test_validation_is_carved_from_training_with_no_prompt_on_two_sides(source):
    if source == "terse_unpaired":
        train = load_unpaired(DATA / source / "train.jsonl")
        heldout = load_pairs(DATA / "terse" / "heldout.jsonl")
    elif source == "prefix":
        plan = plan_recipes([("prefix", ["prefix=Answer:"])])
        train, heldout = plan.train, plan.heldout
    else:
        train, heldout = load_pairs(DATA / source / "train.jsonl"), load_pairs(DATA / source / "heldout.jsonl")
    split = carve_validation(train, seed=0)
    assert MIN_VALIDATION_ROWS <= len(split.validation) <= MAX_VALIDATION_ROWS
    assert overlap(split.train, split.validation) == [] and overlap(heldout, split.validation) == []
    assert len(split.train) < len(train)  # taken from the training side, not added
    # every validation row can be judged for correctness, and (pairs, KTO's labelled answers) for preference
    assert all(r.get("reference") for r in split.validation)
    assert all(r.get("chosen") and r.get("rejected") for r in split.validation)
    again, other = carve_validation(train, seed=0), carve_validation(train, seed=1)
    assert again.validation == split.validation and other.validation != split.validation  # seeded


def test_too_little_data_leaves_no_validation_rather_than_starving_training():
    train = load_pairs(DATA / "terse" / "train.jsonl")[:12]
    split = carve_validation(train)
    assert split.validation == [] and len(split.train) == 12


# ---- selection on validation, verdict on test ----------------------------------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, tiny_model):
    """The prefix task trained 6 steps (a checkpoint every 2) through the pipeline, no repairs."""
    folder = recipe_run(
        tmp_path_factory.mktemp("select") / "run",
        tiny_model,
        "prefix",
        ["prefix=Answer:"],
        max_steps=6,
        save_steps=2,
        learning_rate=3e-3,
        logging_steps=1,
    )
    report = Pipeline(folder, Console(file=io.StringIO())).run(folder.load())
    return folder, report


def test_every_checkpoint_is_scored_on_validation_and_the_test_is_read_only_by_the_verdict(short_run):
    folder, report = short_run
    root = folder.root
    train, val, test = (
        prompts(root / "train.jsonl"),
        prompts(root / "validation.jsonl"),
        prompts(root / "heldout.jsonl"),
    )
    assert not (train & val) and not (train & test) and not (val & test)
    scored = json.loads((root / VALIDATION_OUTPUT).read_text())
    assert [c["step"] for c in scored["checkpoints"]] == [2, 4, 6]
    for side in [scored["base"]] + [c["figures"] for c in scored["checkpoints"]]:
        assert {norm_prompt(s["prompt"]) for s in side["samples"]} == val  # selection read validation only
    ev = json.loads((root / "eval.json").read_text())
    assert {norm_prompt(s["prompt"]) for s in ev["after"]["samples"]} == test  # the before/after read test only
    sel = report["selection"]
    kept = sel["kept_step"]
    assert kept in (2, 4, 6) and sel["reason"]
    # the adapter the before/after judged is the kept checkpoint's, not simply the last
    assert (root / "adapter" / "adapter_model.safetensors").read_bytes() == (
        root / "out" / f"checkpoint-{kept}" / "adapter_model.safetensors"
    ).read_bytes()
    # the verdict is the test figures', and the report shows both
    assert report["after"]["task_check"] == report["task_check"]["after"]["pass_rate"]
    md = (root / "report.md").read_text()
    assert "## Checkpoint selection (validation split)" in md and f"checkpoint {kept}**" in md
    assert "on held-out test (the verdict's)" in md


def test_selection_says_no_to_wrong_answers(short_run, tmp_path):
    """The same scored checkpoints with one checkpoint's answers made wrong, then all of them: the wrong one
    fails correctness and is not kept; with every one wrong none passes, and the reason says so."""
    folder, _ = short_run
    root = tmp_path / "copy"
    shutil.copytree(folder.root, root, ignore=shutil.ignore_patterns("out", ".tune-trials"))
    spec = folder.load().spec.model_copy(update={"check_file": str(root / "check.py")})
    track = get_track(spec.algorithm)
    scored = json.loads((folder.root / VALIDATION_OUTPUT).read_text())
    for c in scored["checkpoints"]:  # every checkpoint answers right, in the form: all pass
        for s, row in zip(
            c["figures"]["samples"], map(json.loads, (root / "validation.jsonl").read_text().splitlines())
        ):
            s["output"], s["correct"] = f"Answer: {row['reference']}", True
        c["figures"]["correct"] = 1.0
    (root / "out" / "checkpoint-4").mkdir(parents=True)
    for c in scored["checkpoints"]:
        c["path"] = "out/checkpoint-4"
    shutil.copyfile(
        folder.root / "out/checkpoint-4/adapter_model.safetensors", root / "out/checkpoint-4/adapter_model.safetensors"
    )
    shutil.copyfile(folder.root / "out/checkpoint-4/adapter_config.json", root / "out/checkpoint-4/adapter_config.json")
    good = select(root, spec, track, scored)
    assert good.passed and good.kept_step == 2  # the earliest of equals
    wrong = scored["checkpoints"][0]["figures"]
    for s in wrong["samples"]:
        s["output"], s["correct"] = "Answer: Zanzibar.", False
    wrong["correct"] = 0.0
    sel = select(root, spec, track, scored)
    first = sel.candidates[0]
    assert not first.passed and any(r.startswith("correct did not fall") for r in first.failed)
    assert sel.passed and sel.kept_step == 4
    for c in scored["checkpoints"]:  # no checkpoint writes the prefix: none passes
        for s in c["figures"]["samples"]:
            s["output"] = s["output"].removeprefix("Answer: ")
    sel = select(root, spec, track, scored)
    assert not sel.passed and sel.reason.startswith("no checkpoint passes")
    assert json.loads((root / SELECTION_FILE).read_text())["passed"] is False


def test_the_search_moves_the_setting_the_failed_rule_points_to():
    current = {"learning_rate": 3e-3, "max_steps": 200, "beta": 0.1, "loss_type": ["sigmoid"], "loss_weights": None}
    fell = propose(["correct did not fall (after >= before - 0.0)"], current)
    assert fell[0].changes == {"learning_rate": pytest.approx(1e-3), "max_steps": 100}
    assert any("beta" in m.changes for m in fell) and any(
        m.changes.get("loss_type") == ["sigmoid", "sft"] for m in fell
    )
    low = propose(["task check pass rate >= 0.8"], current)
    assert low[0].changes == {"max_steps": 400} and low[1].changes == {"learning_rate": pytest.approx(9e-3)}
    assert propose(["hedge_count improved"], current)[0].changes == {"max_steps": 400}
    assert propose([], current) == []


# ---- the search, through the repair loop -----------------------------------------------------------------------


def test_a_run_whose_check_does_not_rise_is_repaired_by_a_trial_with_more_steps(tmp_path, tiny_model):
    """A third of 1e-3 for 20 steps: the check does not rise far enough on validation (0.25), the run halts before
    its test, the trial with twice the steps passes every rule there, its settings go into run.json and
    spec.json, and the test verdict succeeds."""
    folder = recipe_run(
        tmp_path / "run", tiny_model, "prefix", ["prefix=Answer:"], max_steps=20, save_steps=10, learning_rate=1e-3 / 3
    )
    result = run_with_repairs(folder, tune_budget=10, on_event=lambda s: None)
    assert result.ok, result.message
    rec = result.repairs[-1]
    assert rec.failure == "no_checkpoint_passes" and rec.outcome == "fixed"
    trials = [json.loads(ln) for ln in folder.path(TRIAL_LOG).read_text().splitlines()]
    assert trials[-1]["passed"] and "more steps" in trials[-1]["why"]
    assert folder.load().spec.dpo.max_steps == trials[-1]["settings"]["max_steps"] == 40
    assert json.loads(folder.path(SPEC_FILE).read_text())["dpo"]["max_steps"] == 40  # written back into the spec
    assert "| trial | why | settings |" in folder.path(REPAIRS_MD).read_text()
    report = result.report
    assert report["verdict"]["succeeded"] and report["selection"]["passed_on_validation"]
    assert report["selection"]["kept_step"] <= 40 and report["after"]["task_check"] >= 0.8


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("RL_AGENT_FULL_TUNING_RUN") != "1",
    reason="~300 training steps: set RL_AGENT_FULL_TUNING_RUN=1 (the suite's time budget)",
)
def test_a_run_no_checkpoint_of_which_passes_is_repaired_by_a_trial(tmp_path, tiny_model):
    """The over-training schedule of the issue (prefix, learning rate 3e-3, 200 steps): correctness falls on
    validation at every checkpoint while the check rises, the run halts before its test, the first trial
    (a third of the learning rate, half the steps) passes every rule on validation, its settings go into run.json
    and spec.json, and the test verdict then succeeds. Slow (two real trainings, ~300 steps): measured through
    `rl-agent run` on 2 CPU cores, trial 1 kept checkpoint 40, test check 0.00 -> 1.00, correct 1.00 -> 0.97.
    The short schedules tried for a fast version (3e-3/6 steps, 1e-3/10 steps) end without a passing trial: a
    20-step trial at 1e-3 keeps one validation answer wrong (0.96), which selection rightly refuses."""
    folder = recipe_run(
        tmp_path / "run", tiny_model, "prefix", ["prefix=Answer:"], max_steps=200, save_steps=50, learning_rate=3e-3
    )
    result = run_with_repairs(folder, tune_budget=60, on_event=lambda s: None)
    assert result.ok, result.message
    rec = result.repairs[-1]
    assert rec.failure == "no_checkpoint_passes" and rec.outcome == "fixed"
    trials = [json.loads(ln) for ln in folder.path(TRIAL_LOG).read_text().splitlines()]
    assert trials[-1]["passed"] and not any(t["passed"] for t in trials[:-1])
    dpo = folder.load().spec.dpo
    assert dpo.learning_rate < 3e-3 and dpo.max_steps == trials[-1]["settings"]["max_steps"]
    assert json.loads(folder.path(SPEC_FILE).read_text())["dpo"]["learning_rate"] == dpo.learning_rate  # written back
    md = folder.path(REPAIRS_MD).read_text()
    assert "| trial | why | settings |" in md and "| passes |" in md
    report = result.report
    assert report["verdict"]["succeeded"] and report["selection"]["passed_on_validation"]
    assert report["after"]["correct"] >= 0.9


def test_a_task_no_setting_satisfies_ends_with_the_trials_and_the_rule(tmp_path, tiny_model):
    """Lowercase answers: the embedded model cannot write the proper nouns it learnt capitalised in lower case.
    The trials that fit a 1-minute budget run; the run ends with the table and the rule nothing satisfied, and the
    before/after on test is still reported."""
    folder = recipe_run(
        tmp_path / "run",
        tiny_model,
        "letter_case",
        ["case=lower"],
        max_steps=4,
        save_steps=2,
        learning_rate=2e-3,
        logging_steps=1,
    )
    result = run_with_repairs(folder, tune_budget=1, on_event=lambda s: None)
    assert not result.ok and result.status == "unfixable"
    assert result.message.startswith("no setting satisfied") and "on validation" in result.message
    assert folder.path(TRIAL_LOG).read_text().strip(), "no trial ran within the budget"
    md = folder.path(REPAIRS_MD).read_text()
    assert "| trial | why | settings |" in md and "no setting satisfied" in md
    assert folder.path("report.json").is_file()  # the test verdict, once, at the end


def test_the_tune_budget_bounds_the_search(tmp_path, tiny_model):
    folder = recipe_run(
        tmp_path / "run",
        tiny_model,
        "prefix",
        ["prefix=Answer:"],
        max_steps=2,
        save_steps=1,
        learning_rate=5e-4,
        logging_steps=1,
    )
    result = run_with_repairs(folder, tune_budget=0.001, on_event=lambda s: None)
    assert not result.ok and "tuning budget (0.001 min)" in result.message
    assert not folder.path(".tune-trials").exists() or not any(folder.path(".tune-trials").iterdir())
    assert "| trial | why | settings |" in folder.path(REPAIRS_MD).read_text()  # the (empty) table, still shown
