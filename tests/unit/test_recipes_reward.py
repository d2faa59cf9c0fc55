"""The task check as a GRPO reward: the planned check scores TRL-shaped batches; a check that breaks on one
completion gives that completion no reward (None) and records why, never a made-up score."""

from __future__ import annotations

import pytest

from rl_agent.kit.planning.recipes import CheckPathError
from rl_agent.kit.planning.recipes.library import plan_recipes
from rl_agent.runtime.check_reward import CheckReward


def test_the_arithmetic_check_rewards_the_right_final_answer(tmp_path):
    plan = plan_recipes([("arithmetic", ["marker=Answer:"])])
    plan.write(tmp_path)
    rows = plan.heldout[:3]
    reward = CheckReward(tmp_path)
    prompts = [[{"role": "user", "content": r["prompt"]}] for r in rows]
    completions = [[{"role": "assistant", "content": f"Answer: {r['reference']}"}] for r in rows[:2]]
    completions.append([{"role": "assistant", "content": f"Answer: {int(rows[2]['reference']) + 1}"}])
    assert reward(prompts, completions, reference=[r["reference"] for r in rows]) == [1.0, 1.0, 0.0]
    assert reward(["q"], ["Answer: 3"]) == [None]  # no reference: cannot grade, no reward
    assert reward.graded == 3 and reward.failures == []


def test_a_check_that_breaks_on_one_completion_gives_it_no_reward(tmp_path):
    (tmp_path / "check.py").write_text(
        "def check(prompt, output, reference=None):\n"
        "    if 'boom' in output:\n"
        "        raise ValueError('cannot parse')\n"
        "    return 1.0 if output.isupper() else 0.0\n",
        encoding="utf-8",
    )
    reward = CheckReward(tmp_path)
    assert reward(["a", "b", "c"], ["YES", "boom", "no"]) == [1.0, None, 0.0]
    assert len(reward.failures) == 1 and "ValueError: cannot parse" in reward.failures[0]


def test_a_reward_refuses_a_check_outside_the_run_folder(tmp_path):
    (tmp_path / "check.py").write_text("def check(p, o, r=None):\n    return 1.0\n", encoding="utf-8")
    (tmp_path / "run").mkdir()
    with pytest.raises(CheckPathError):
        CheckReward(tmp_path / "run", tmp_path / "check.py")
