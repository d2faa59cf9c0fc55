"""The generic verdict says no to wrong answers, whatever the track: a run whose answers got terser while
they stopped being right is a failure in plain words, and a correctness floor in the spec is enforced.
Hand-made eval figures, so each rule is exercised in both directions."""

from __future__ import annotations

import pytest

from rl_agent.kit.pipeline import report as reporting
from rl_agent.kit.pipeline.run_folder import RunState
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.registry import get_track

PROMPTS = ["What is the capital of Germany?", "Who wrote Hamlet?", "What language is spoken in France?"]


def side(outputs, references, *, pref=0.5, judge=0.3, hedges=3):
    samples = []
    for prompt, out, ref in zip(PROMPTS, outputs, references):
        ok = None if ref is None else ref.lower().rstrip(".") in out.lower()
        samples.append(
            {
                "prompt": prompt,
                "output": out,
                "judge_score": judge,
                "judge_reason": "",
                "hedges": 0,
                "words": len(out.split()),
                "correct": ok,
            }
        )
    checked = [s["correct"] for s in samples if s["correct"] is not None]
    return {
        "pref_accuracy": pref,
        "logprob_pref_accuracy": 0.5,
        "mean_words": 5.0,
        "hedge_count": hedges,
        "judge_score": judge,
        "correct": sum(checked) / len(checked) if checked else None,
        "samples": samples,
    }


HEDGED_RIGHT = ["I think it is probably Berlin.", "Perhaps William Shakespeare?", "I believe French."]
TERSE_WRONG = ["February.", "Leonardo da Vinci.", "Spanish."]
TERSE_RIGHT = ["Berlin.", "William Shakespeare.", "French."]
REFS = ["Berlin", "William Shakespeare", "French"]


def report(track, before, after, **spec_fields):
    spec = RunSpec(model="m", model_source="embedded", algorithm=track, **spec_fields)
    state = RunState(spec=spec, model_path="/m", timings={"train": 1.0})
    tm = {"steps": 10, "final_loss": 0.4, "log_history": [{"step": 5, "loss": 0.6}, {"step": 10, "loss": 0.4}]}
    return reporting.build_report(state, get_track(track), {"before": before, "after": after}, tm, 3.0)


@pytest.mark.parametrize("track", ["dpo", "sft", "kto"])
def test_terse_but_wrong_answers_fail_even_though_the_style_improved(track):
    rep = report(track, side(HEDGED_RIGHT, REFS), side(TERSE_WRONG, REFS, pref=1.0, judge=0.9, hedges=0))
    checks = rep["verdict"]["checks"]
    assert checks["judge_score improved"] and checks["hedge_count improved"]  # style did improve
    assert rep["before"]["correct"] == 1.0 and rep["after"]["correct"] == 0.0
    assert rep["verdict"]["succeeded"] is False
    assert (
        "FAILED on correctness" in rep["correctness"]["message"] and "more often wrong" in rep["correctness"]["message"]
    )
    assert any("less often right" in tip for tip in rep["tune_next"])
    md = reporting.render_markdown(rep, None)
    assert "did NOT succeed" in md and "| correct |" in md and "February. ✗" in md


def test_terse_and_right_answers_pass():
    rep = report(
        "dpo", side(HEDGED_RIGHT, REFS), side(TERSE_RIGHT, REFS, pref=1.0, judge=0.9, hedges=0), min_correct=0.8
    )
    assert rep["verdict"]["succeeded"] is True, rep["verdict"]
    assert rep["correctness"]["message"].startswith("Correctness held")


def test_the_floor_is_enforced_even_when_correctness_did_not_fall():
    before = side(["Paris.", "Goethe.", "French."], REFS)
    after = side(["Paris.", "Goethe.", "French."], REFS, pref=1.0, judge=0.9, hedges=0)
    rep = report("dpo", before, after, min_correct=0.8)
    assert rep["verdict"]["checks"]["correct >= 0.8"] is False and rep["verdict"]["succeeded"] is False
    assert "below the bar" in rep["correctness"]["message"]


def test_a_floor_without_references_cannot_pass():
    none = [None, None, None]
    rep = report(
        "dpo", side(HEDGED_RIGHT, none), side(TERSE_RIGHT, none, pref=1.0, judge=0.9, hedges=0), min_correct=0.8
    )
    assert rep["before"]["correct"] is None and rep["verdict"]["succeeded"] is False
    assert "not measured" in rep["correctness"]["message"]


def test_without_references_or_floor_correctness_is_reported_unmeasured_and_does_not_decide():
    none = [None, None, None]
    rep = report("dpo", side(HEDGED_RIGHT, none), side(TERSE_RIGHT, none, pref=1.0, judge=0.9, hedges=0))
    assert rep["verdict"]["succeeded"] is True and not rep["correctness"]["checks"]
    assert "not measured" in reporting.render_markdown(rep, None)


def test_right_answers_that_run_on_into_an_invented_turn_fail():
    """'Berlin.' then a made-up next user turn: right first words, broken output; the verdict says no."""
    run_on = [f"{a}\nuser\nWhat is the capital of Spain?" for a in TERSE_RIGHT]
    rep = report("dpo", side(HEDGED_RIGHT, REFS), side(run_on, REFS, pref=1.0, judge=0.9, hedges=0), min_correct=0.8)
    assert rep["after"]["correct"] == 1.0
    assert rep["verdict"]["checks"]["answers stop at their turn (invented turns <= 0.1)"] is False
    assert rep["verdict"]["succeeded"] is False
    ok = report(
        "dpo", side(HEDGED_RIGHT, REFS), side(TERSE_RIGHT, REFS, pref=1.0, judge=0.9, hedges=0), min_correct=0.8
    )
    assert ok["verdict"]["checks"]["answers stop at their turn (invented turns <= 0.1)"] is True
