"""`setup --track grpo` flags to a run spec: the reward picks the bundled task, the held-out judge is always
a different one, and bad flags fail with one line before anything is written."""

from __future__ import annotations

import pytest

from rl_agent.kit.grpo_setup import GRPOSetupError, grpo_spec

VERIFIER = "python:rl_agent.kit.grpo_verifiers:short_answer"


def spec_for(**kw):
    args = dict(model="m", model_source="embedded", model_reason="", device="cpu", precision="fp32", reward=None,
                max_cost=None, steps=None, prompts=None, heldout=None)
    return grpo_spec(**{**args, **kw})


@pytest.mark.parametrize(
    "reward, task_dir, reward_spec, check",
    [(None, "short_answer", VERIFIER, "terse"),
     ("terse", "terse", "terse", VERIFIER),
     ("regex:^[A-Z]", "short_answer", "regex:^[A-Z]", "terse")],
)
def test_the_reward_picks_the_task_and_a_different_held_out_judge(reward, task_dir, reward_spec, check):
    spec, n_train, n_held = spec_for(reward=reward)
    assert spec.algorithm == "grpo" and f"/{task_dir}/train.jsonl" in spec.train_file
    assert spec.grpo.reward == reward_spec and spec.grpo.heldout_judge == check != reward_spec
    assert n_train >= 20 and n_held >= 10


def test_claude_is_checked_by_the_offline_judge_and_needs_a_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0000")
    spec, _, _ = spec_for(reward="claude", max_cost=0.3, steps=6)
    assert spec.grpo.heldout_judge == "terse" and spec.grpo.judge_max_cost == 0.3
    assert spec.grpo.steps == 6 and spec.grpo.save_steps == 3
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(GRPOSetupError, match="ANTHROPIC_API_KEY"):
        spec_for(reward="claude")


def test_unknown_judges_are_refused_in_one_line():
    with pytest.raises(GRPOSetupError, match="judge 'nonsense': unknown judge"):
        spec_for(reward="nonsense")
