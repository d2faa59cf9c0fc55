"""The GRPO report's judgement: the reward trend, the reward-hacking flag, and grading failure counts,
on hand-made figures so each rule is exercised in both directions."""

from __future__ import annotations

import pytest

from rl_agent.kit.pipeline import report as reporting
from rl_agent.kit.pipeline.run_folder import RunState
from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.grpo import guard as grpo_report
from rl_agent.kit.tracks.registry import get_track


def side(reward, check, lc_margin=-3.0, **extra):
    samples = [{"prompt": "What is 2 plus 2?", "output": "4.", "reward": 1.0, "check": 1.0, "words": 1}]
    return {
        "reward": reward,
        "check": check,
        "lc_margin": lc_margin,
        "lc_pref": 0.1,
        "lc_shift": 0.5,
        "mean_words": 1.0,
        "ungraded": 0,
        "samples": samples,
        **extra,
    }


def curve(values):
    return [[i + 1, v] for i, v in enumerate(values)]


def test_trend_compares_the_first_and_last_fifth():
    t = grpo_report.reward_trend(curve([0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7, 0.8, 0.8, 0.9]))
    assert t["window"] == 2 and t["first_fifth"] == pytest.approx(0.25) and t["last_fifth"] == pytest.approx(0.85)
    assert t["climbed"] is True


def test_a_flat_or_noisy_reward_has_not_climbed():
    assert grpo_report.reward_trend(curve([0.5, 0.52, 0.49, 0.51, 0.5]))["climbed"] is False
    assert grpo_report.reward_trend(curve([0.9, 0.5, 0.4, 0.3, 0.2]))["climbed"] is False
    empty = grpo_report.reward_trend([])
    assert empty["climbed"] is False and empty["first_fifth"] is None


def test_steps_without_any_graded_sample_are_left_out_of_the_trend():
    t = grpo_report.reward_trend([[1, float("nan")], [2, 0.2], [3, None], [4, 0.9]])
    assert t["steps_logged"] == 2 and t["first_fifth"] == pytest.approx(0.2)


CLIMBED = grpo_report.reward_trend(curve([0.2, 0.2, 0.5, 0.8, 0.9]))
FLAT = grpo_report.reward_trend(curve([0.5, 0.5, 0.5, 0.5, 0.5]))


def test_no_flag_when_the_held_out_checks_improve_with_the_reward():
    guard = grpo_report.hacking_guard(CLIMBED, side(0.2, 0.3, -3.4), side(0.9, 0.9, -3.1), "terse")
    assert guard["flagged"] is False and guard["message"].startswith("No sign of reward hacking")


@pytest.mark.parametrize(
    "before, after, why",
    [
        (side(0.2, 0.6, -3.4), side(0.9, 0.5, -3.1), "held-out judge"),
        (side(0.2, 0.3, -3.0), side(0.9, 0.9, -3.5), "length-controlled"),
        (side(0.2, 0.3), side(0.9, None), "could not be measured"),
    ],
)
def test_flag_when_the_reward_climbs_but_a_held_out_check_does_not(before, after, why):
    guard = grpo_report.hacking_guard(CLIMBED, before, after, "terse")
    assert guard["flagged"] is True
    assert "Possible reward hacking" in guard["message"] and "did not improve" in guard["message"]
    if why != "could not be measured":
        assert why in guard["message"]
    else:
        assert "n/a" in guard["message"]


def test_without_pairs_the_length_check_is_skipped_not_failed():
    guard = grpo_report.hacking_guard(CLIMBED, side(0.2, 0.3, None), side(0.9, 0.9, None), "terse")
    assert guard["flagged"] is False and guard["lc_improved"] is None
    assert "no length-controlled check" in guard["message"]


def test_a_reward_that_never_climbed_is_reported_as_such_not_as_hacking():
    guard = grpo_report.hacking_guard(FLAT, side(0.2, 0.6), side(0.2, 0.5), "terse")
    assert guard["flagged"] is False and "did not climb" in guard["message"]


def test_grading_failures_are_summed_over_training_and_evaluation():
    tm = {"grading": {"graded": 10, "failed": 3, "failures": {"timeout": 2, "budget": 1}, "cost_usd": 0.01}}
    ev = {
        "grading": {
            "reward": {"failed": 1, "failures": {"malformed": 1}, "cost_usd": 0.002},
            "check": {"failed": 0, "failures": {}, "cost_usd": 0.0},
        }
    }
    g = grpo_report.grading_summary(tm, ev)
    assert g["failed"] == 4 and g["failures"] == {"timeout": 2, "budget": 1, "malformed": 1}
    assert g["training_failed"] == 3 and g["cost_usd"] == pytest.approx(0.012)


def _report(trend_values, before, after, grading=None, **grpo):
    spec = RunSpec(model="m", model_source="embedded", algorithm="grpo", grpo=grpo)
    state = RunState(spec=spec, model_path="/m", timings={"train": 1.0})
    tm = {
        "steps": len(trend_values),
        "reward_curve": curve(trend_values),
        "grading": grading or {"graded": 1, "failed": 0, "failures": {}, "cost_usd": 0.0},
        "log_history": [],
    }
    ev = {"before": {**before, "pair_logprobs": [[-1.0, -2.0]]}, "after": after, "grading": {}}
    return reporting.build_report(state, get_track("grpo"), ev, tm, 12.0)


def test_report_verdict_markdown_and_tips_follow_the_figures():
    ok = _report([0.2, 0.2, 0.5, 0.8, 0.9], side(0.2, 0.3, -3.4), side(0.9, 0.9, -3.1))
    assert ok["verdict"]["succeeded"] is True and ok["hacking"]["flagged"] is False
    assert "pair_logprobs" not in ok["before"]
    md = reporting.render_markdown(ok, "reward.png")
    assert "![training reward](reward.png)" in md and "WARNING" not in md and "| lc_margin |" in md

    hacked = _report(
        [0.2, 0.2, 0.5, 0.8, 0.9],
        side(0.2, 0.6, -3.0),
        side(0.9, 0.4, -3.6),
        {"graded": 5, "failed": 2, "failures": {"timeout": 2}, "cost_usd": 0.5},
    )
    assert hacked["verdict"]["succeeded"] is False and hacked["hacking"]["flagged"] is True
    md = reporting.render_markdown(hacked, None)
    assert "**WARNING:** Possible reward hacking" in md
    assert "2 answers could not be graded (timeout: 2)" in md and "$0.5000" in md
    assert any("could not be graded" in tip for tip in hacked["tune_next"])
    assert any("tighten" in tip or "refuse" in tip for tip in hacked["tune_next"])


# ---- truth: held-out correctness, when the held-out rows carry reference answers -------------------------


def test_a_correctness_reward_that_climbs_while_correctness_stays_flat_is_flagged_and_fails():
    """The reward climbs, the judge and the length check improve, but no more answers are right."""
    rep = _report(
        [0.2, 0.2, 0.5, 0.8, 0.9],
        side(0.2, 0.3, -3.4, correct=0.3),
        side(0.9, 0.9, -3.1, correct=0.3),
        reward_checks_correctness=True,
    )
    assert rep["hacking"]["flagged"] is True and rep["hacking"]["truth_ok"] is False
    assert rep["verdict"]["succeeded"] is False
    assert rep["verdict"]["checks"]["held-out correctness kept up with the reward"] is False
    assert "not more often right" in rep["hacking"]["message"]
    assert any("reward the right answer" in tip for tip in rep["tune_next"])
    md = reporting.render_markdown(rep, None)
    assert "**WARNING:** Possible reward hacking" in md and "| correct |" in md and "| 0.30 | 0.30 |" in md


def test_a_style_reward_that_climbs_while_correctness_falls_is_flagged_and_fails():
    rep = _report(
        [0.2, 0.2, 0.5, 0.8, 0.9],
        side(0.2, 0.3, -3.4, correct=0.8),
        side(0.9, 0.9, -3.1, correct=0.4),
        reward="terse",
        heldout_judge="regex:.",
        reward_checks_correctness=False,
    )
    assert rep["hacking"]["flagged"] is True and "less often right" in rep["hacking"]["message"]
    assert rep["verdict"]["succeeded"] is False
    assert "FAILED on correctness" in rep["correctness"]["message"]


def test_correctness_that_rises_with_a_correctness_reward_passes():
    rep = _report(
        [0.2, 0.2, 0.5, 0.8, 0.9],
        side(0.2, 0.3, -3.4, correct=0.3),
        side(0.9, 0.9, -3.1, correct=0.6),
        reward_checks_correctness=True,
    )
    assert rep["hacking"]["flagged"] is False and rep["verdict"]["succeeded"] is True


def test_a_style_reward_with_correctness_unchanged_is_not_flagged_by_truth():
    rep = _report(
        [0.2, 0.2, 0.5, 0.8, 0.9],
        side(0.2, 0.3, -3.4, correct=0.5),
        side(0.9, 0.9, -3.1, correct=0.5),
        reward="terse",
        heldout_judge="regex:.",
        reward_checks_correctness=False,
    )
    assert rep["hacking"]["truth_ok"] is True and rep["verdict"]["succeeded"] is True
