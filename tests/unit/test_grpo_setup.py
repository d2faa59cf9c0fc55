"""`setup --track grpo` flags to a run spec: the reward picks the bundled task, the held-out judge is always
a different one, and bad flags fail with one line before anything is written."""

from __future__ import annotations

import pytest

from rl_agent.kit.spec import RunSpec
from rl_agent.kit.tracks.grpo.setup import GRPOSetupError
from rl_agent.kit.tracks.registry import get_track

VERIFIER = "python:rl_agent.runtime.verifiers:short_answer"
FINAL_NUMBER = "python:rl_agent.runtime.final_number:final_number"
CORRECTNESS = "python:rl_agent.runtime.correctness:correctness_score"


def spec_for(**kw):
    """What `setup --track grpo` builds from its flags: the track's setup plan, as a validated run spec."""
    args = dict(reward=None, max_cost=None, steps=None, train=None, heldout=None)
    track = get_track("grpo")
    try:
        plan = track.setup("embedded", "cpu", **{**args, **kw})
    except ValueError as e:
        raise GRPOSetupError(str(e)) from None
    spec = RunSpec(
        model="m",
        model_source="embedded",
        algorithm="grpo",
        task=plan.task,
        train_file=str(plan.train_file),
        heldout_file=str(plan.heldout_file),
        grpo=plan.settings,
    )
    train, held = track.load_data(spec)
    return spec, len(train), len(held)


@pytest.mark.parametrize(
    "reward, task_dir, reward_spec, check, verifies",
    [
        (None, "arithmetic", FINAL_NUMBER, CORRECTNESS, True),
        ("terse", "terse", "terse", VERIFIER, False),
        # any other reward on the checkable task is not trusted to check correctness: the guard then asks
        # held-out correctness not to fall, and the held-out judge is still correctness itself
        ("regex:#### \\d+$", "arithmetic", "regex:#### \\d+$", CORRECTNESS, False),
    ],
)
def test_the_reward_picks_the_task_and_a_different_held_out_judge(reward, task_dir, reward_spec, check, verifies):
    spec, n_train, n_held = spec_for(reward=reward)
    assert spec.algorithm == "grpo" and f"/{task_dir}/train.jsonl" in spec.train_file
    assert spec.grpo.reward == reward_spec and spec.grpo.heldout_judge == check != reward_spec
    assert spec.grpo.reward_checks_correctness is verifies
    assert n_train >= 20 and n_held >= 10


def test_claude_is_checked_by_the_offline_judge_and_needs_a_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0000")
    spec, _, _ = spec_for(reward="claude", max_cost=0.3, steps=6)
    assert spec.grpo.heldout_judge == "terse" and spec.grpo.judge_max_cost == 0.3
    assert spec.grpo.max_steps == 6 and spec.grpo.save_steps == 3
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(GRPOSetupError, match="ANTHROPIC_API_KEY"):
        spec_for(reward="claude")


def test_unknown_judges_are_refused_in_one_line():
    with pytest.raises(GRPOSetupError, match="judge 'nonsense': unknown judge"):
        spec_for(reward="nonsense")
