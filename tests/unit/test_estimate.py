"""The time and memory estimate before training goes on (rl_agent/kit/pipeline/estimate.py): the extrapolation,
the budget proposal and what --yes picks, and what happens at the pause (synthetic timings, nothing trains).
The real runs on the embedded model are tests/e2e/test_estimate_runs.py."""

from __future__ import annotations

import functools
import io
import json
import sys

import pytest
from rich.console import Console

from rl_agent.agent.start import setup_run
from rl_agent.kit.models.hardware import SMALL_HUB_MODEL, SMALL_HUB_PARAMS, ModelChoice, probe_hardware
from rl_agent.kit.pipeline.driver import Pipeline, StageError
from rl_agent.kit.pipeline.estimate import (
    FINISH_SECONDS,
    Estimate,
    EstimateOptions,
    TimeEstimator,
    advise,
    duration,
    save_steps_for,
)
from rl_agent.kit.pipeline.run_folder import RunFolder
from tests.support.stopped import Stop, stopped_setup

# Qwen3-0.6B on this 2-core CPU (plain TRL DPO, batch 8, length 128, LoRA r16): 12.5 s a step.
QWEN = Estimate(
    model="Qwen/Qwen3-0.6B",
    device="cpu",
    steps=100,
    save_steps=50,
    startup_seconds=20.0,
    warmup_step_seconds=15.0,
    step_seconds=12.5,
    save_seconds=1.0,
    measured_steps=3,
    peak_memory_gb=4.2,
    memory="RAM",
    params=596_049_920,
)


def test_the_extrapolation_adds_steps_saves_and_the_end():
    assert QWEN.seconds == pytest.approx(20 + 15 + 99 * 12.5 + (2 + 1) * 1.0 + FINISH_SECONDS)
    assert QWEN.seconds_for(101) - QWEN.seconds == pytest.approx(12.5 + 1.0)  # one more step, one more save
    line = QWEN.summary_line()
    assert line.startswith("Estimated training time: about 21 min on this CPU (12.5 s/step x 100 steps")
    assert "peak memory ~4.2 GB" in line
    assert duration(25) == "25 s" and duration(21 * 60) == "21 min"


def test_over_budget_names_the_smaller_model_and_fewer_steps():
    advice = advise(QWEN, 15, smaller=SMALL_HUB_MODEL, smaller_params=SMALL_HUB_PARAMS)
    assert advice.over
    assert advice.message.startswith("about 21 min for Qwen/Qwen3-0.6B at 100 steps exceeds the 15 min budget: ")
    n = advice.fewer_steps
    assert f"use {SMALL_HUB_MODEL} (about {duration(advice.smaller_seconds)})" in advice.message
    assert f"--steps {n} (about " in advice.message
    # the most steps that fit: one more would not
    assert QWEN.seconds_for(n, save_steps_for(n, 50)) <= 900 < QWEN.seconds_for(n + 1, save_steps_for(n + 1, 50))
    assert 5 * 60 < advice.smaller_seconds < 8 * 60  # scaled by size; SmolLM2-135M measured 3.8 s a step
    assert advice.pick == "steps"  # 69 of 100 steps still fit: fewer steps on the same model


def test_what_yes_picks():
    long = Estimate(**{**QWEN.__dict__, "steps": 200, "save_steps": 50})
    small = dict(smaller=SMALL_HUB_MODEL, smaller_params=SMALL_HUB_PARAMS)
    assert advise(long, 15, **small).pick == "model"  # under half the planned steps fit: the smaller model
    assert advise(QWEN, 15, **small, steps_fixed=True).pick == "model"  # --steps given: kept
    assert advise(QWEN, 15, **small, steps_fixed=True, model_fixed=True).pick == "keep"
    assert advise(QWEN, 15).pick == "steps"
    assert advise(long, 15).pick == "keep"  # nothing close enough to the plan, no smaller model
    assert not advise(QWEN, 30, **small).over
    tiny = advise(QWEN, 0.1)
    assert tiny.fewer_steps is None and "not even 1 step fits" in tiny.message


# ---- at the pause: deciding and re-planning (synthetic timings, no training) ----------------------------------


def paused(folder: RunFolder, step_seconds: float, launched: float = 1000.0) -> float:
    """out/pause.json as the script writes it: 5 s to start, then three steps of `step_seconds`."""
    begin = launched + 5
    folder.path("out").mkdir(exist_ok=True)
    folder.path("out/pause.json").write_text(
        json.dumps(
            {
                "train_begin": begin,
                "step_ends": [begin + step_seconds * i for i in (1, 2, 3)],
                "params": 1000,
                "trainable_params": 100,
                "peak_rss_gb": 0.5,
                "peak_gpu_gb": None,
                "processes": 1,
            }
        )
    )
    return launched


def at_pause(folder, estimator):
    state = folder.load()
    out = io.StringIO()
    pipeline = Pipeline(folder, Console(file=out, width=200))
    estimator.at_pause(pipeline, state, paused(folder, 10.0))
    return pipeline, state, out


_probe_once = functools.cache(probe_hardware)


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    # the hardware probe starts a Python that imports torch (seconds on a busy machine): asked once, not per test
    monkeypatch.setattr(sys.modules[setup_run.__module__], "probe_hardware", _probe_once)
    folder, text, raised = stopped_setup(tmp_path, monkeypatch)  # 100 steps of the embedded model, rendered
    assert isinstance(raised, Stop), text
    return folder


def test_within_budget_the_run_goes_on(rendered):
    _, state, out = at_pause(rendered, TimeEstimator(EstimateOptions(budget_minutes=30, yes=True)))
    assert rendered.path("out/pause.go").is_file() and not rendered.path("out/pause.stop").exists()
    assert (
        "Estimated training time: about 17 min on this CPU (10.0 s/step x 100 steps, plus 5 s to start), "
        "peak memory ~0.5 GB" in out.getvalue()
    )
    record = json.loads(rendered.path("estimate.json").read_text())
    assert record["steps"] == 100 and record["step_seconds"] == 10.0 and "decision" not in record
    assert state.timings["estimate"] < 5  # the pause is booked as estimate time, not training time


def test_yes_stops_the_run_and_renders_fewer_steps_that_fit(rendered):
    estimator = TimeEstimator(EstimateOptions(budget_minutes=15, yes=True))
    pipeline, state, out = at_pause(rendered, estimator)
    text = out.getvalue()
    assert rendered.path("out/pause.stop").is_file() and not rendered.path("out/pause.go").exists()
    assert "about 17 min for embedded:tiny-qwen3 at 100 steps exceeds the 15 min budget: --steps " in text
    estimator.apply(pipeline, state)
    n = state.spec.dpo.max_steps
    assert 50 <= n < 100 and state.spec.dpo.save_steps == save_steps_for(n, 20)
    assert f"--yes: training {n} steps instead of 100" in out.getvalue()
    assert rendered.load().spec.dpo.max_steps == n
    assert f'"max_steps": {n},' in rendered.path("train_dpo.py").read_text()  # rendered again
    record = json.loads(rendered.path("estimate.json").read_text())
    assert record["decision"]["action"] == "steps" and record["decision"]["steps"] == f"100 -> {n}"


def test_yes_keeps_the_steps_given_with_steps(rendered):
    _, state, out = at_pause(rendered, TimeEstimator(EstimateOptions(budget_minutes=15, yes=True, steps_fixed=True)))
    assert "--yes: training as planned (--yes keeps the --steps you gave)" in out.getvalue()
    assert rendered.path("out/pause.go").is_file() and state.spec.dpo.max_steps == 100


def test_interactive_asks_and_can_stop(rendered):
    asked = []
    estimator = TimeEstimator(EstimateOptions(budget_minutes=15, ask=lambda q: asked.append(q) and False))
    with pytest.raises(StageError, match="cancelled before training went on"):
        at_pause(rendered, estimator)
    assert asked[0].startswith("Train ") and "steps instead of 100 (about " in asked[0]
    assert asked[-1] == "Train as planned anyway (about 17 min)?"


def test_nobody_to_ask_trains_as_planned(rendered):
    _, _, out = at_pause(rendered, TimeEstimator(EstimateOptions(budget_minutes=15)))
    assert "training as planned: nobody to ask here" in out.getvalue()
    assert rendered.path("out/pause.go").is_file()


def test_a_switch_to_the_smaller_model_renders_it(rendered, tiny_model):
    smaller = ModelChoice(str(tiny_model), "local", "a smaller model, to fit the time budget")
    estimator = TimeEstimator(
        EstimateOptions(budget_minutes=15, yes=True, steps_fixed=True, smaller=smaller, smaller_params=500)
    )
    pipeline, state, out = at_pause(rendered, estimator)
    assert f"use {tiny_model} (about " in out.getvalue() and f"--yes: switching to {tiny_model}" in out.getvalue()
    estimator.apply(pipeline, state)
    assert state.spec.model == str(tiny_model) and state.spec.model_source == "local"
    assert rendered.load().spec.model == str(tiny_model)
    assert repr(str(tiny_model)) in rendered.path("train_dpo.py").read_text()  # rendered for the new model
    assert estimator.smaller is None  # measured again at the next pause; no second switch


def test_gpu_runs_are_estimated_without_a_budget(rendered):
    state = rendered.load()
    state.spec.device = "cuda"
    rendered.save(state)
    _, _, out = at_pause(rendered, TimeEstimator(EstimateOptions(budget_minutes=0.01, yes=True)))
    assert "on this GPU" in out.getvalue() and "Over the time budget" not in out.getvalue()


def test_short_runs_and_old_scripts_skip_the_estimate_with_a_note(rendered):
    state = rendered.load()
    pipeline = Pipeline(rendered, Console(file=io.StringIO()))
    estimator = TimeEstimator(EstimateOptions())
    state.spec.dpo.max_steps = 3
    assert estimator.pause_steps(pipeline, state) is None
    assert (
        json.loads(rendered.path("estimate.json").read_text())["method"]
        == "skipped: a 3-step run is over before it could be timed"
    )
    state.spec.dpo.max_steps = 100
    script = rendered.path("train_dpo.py")  # a script rendered before --pause-after existed
    script.write_text(script.read_text().replace("--pause-after", "--no-such-option"))
    assert estimator.pause_steps(pipeline, state) is None
    assert "has no --pause-after" in json.loads(rendered.path("estimate.json").read_text())["method"]


def test_an_unreadable_pause_file_lets_training_go_on(rendered, monkeypatch):
    """A bug or a damaged out/pause.json costs the estimate, never the run."""
    estimator = TimeEstimator(EstimateOptions(budget_minutes=15, yes=True))
    state = rendered.load()
    out = io.StringIO()
    pipeline = Pipeline(rendered, Console(file=out, width=200))

    def fake_run(state, cmd, what, env=None, echo=None):  # the script's pause line, then a normal exit
        assert cmd[-2:] == ["--pause-after", "20"]
        rendered.path("out/pause.json").write_text("{not json")
        echo("  3%|| 3/100 rl-agent: paused after 3 steps (timings in out/pause.json)\n")
        assert rendered.path("out/pause.go").is_file()

    monkeypatch.setattr(pipeline, "_run_command", fake_run)
    estimator.train(pipeline, state)
    assert "no time estimate: out/pause.json could not be read" in out.getvalue()
    assert json.loads(rendered.path("estimate.json").read_text())["seconds"] is None
    assert not rendered.path("out/pause.go").exists()  # cleaned up after the run
