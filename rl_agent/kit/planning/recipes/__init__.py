"""The recipe library: ten parameterised task modules, each with typed parameters, a check program, good and
bad examples and a data builder. No recipe reads English: a task is named by recipe and parameters.

    plan_recipes([("prefix", ["prefix=Answer: "])]) -> RecipePlan   # several groups: one task, all checks
    plan.write(run_dir) -> {"task.json": path, "check.py": ..., "examples.jsonl": ..., "data/...": ...}
    prove_check(run_dir, check_path, good, bad) -> ProofResult  # every good >= 0.9, every bad <= 0.1
    score_outputs(run_dir, check_path, items) -> OutputScores  # base answers: pass_rate, already_passes()
    run_check(run_dir, check_path, items) -> [score | None]    # the sandboxed runner (check_runner.py)
    reward.CheckReward(run_dir)                                # the check as a TRL GRPO reward function

The check contract is documented in check_runner.py; the task-folder contract in planning/contract.py;
the registry, parameter parsing and suggestions in library.py; combining recipes in compose.py.
"""

from rl_agent.kit.planning.recipes.base import RecipeError, RecipePlan
from rl_agent.kit.planning.recipes.proof import OutputScores, ProofResult, prove_check, score_outputs
from rl_agent.runtime.check_runner import CheckItem, CheckPathError, CheckRunError, run_check

__all__ = [
    "CheckItem",
    "CheckPathError",
    "CheckRunError",
    "OutputScores",
    "ProofResult",
    "RecipeError",
    "RecipePlan",
    "plan_recipes",
    "prove_check",
    "run_check",
    "score_outputs",
]


def __getattr__(name):  # the library imports every recipe; load it on first use
    if name == "plan_recipes":
        from rl_agent.kit.planning.recipes import library

        return library.plan_recipes
    raise AttributeError(name)
