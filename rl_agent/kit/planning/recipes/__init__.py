"""The offline recipe library: a task's own check program, data and examples, proven before training.

    plan_recipe(task) -> RecipePlan                   # or RecipeRefused: what it understood, what it would need
    plan.write(run_dir) -> {"check.py": path, "data/train.jsonl": ..., "data/heldout.jsonl": ...,
                            "data/examples.jsonl": ...}          # inside the run folder only
    prove_check(run_dir, check_path, good, bad) -> ProofResult  # every good >= 0.9, every bad <= 0.1
    score_outputs(run_dir, check_path, items) -> OutputScores  # base answers: pass_rate, already_passes()
    run_check(run_dir, check_path, items) -> [score | None]    # the sandboxed runner (check_runner.py)
    plan_and_prove(task, run_dir) -> (RecipePlan, ProofResult) # the three steps above in one call
    reward.CheckReward(run_dir)                                # the check as a TRL GRPO reward function

The check contract is documented in check_runner.py. One recipe per module; router.py picks exactly one
and refuses anything it cannot read with certainty.
"""

from rl_agent.kit.planning.recipes.base import RecipePlan, RecipeRefused
from rl_agent.kit.planning.recipes.check_runner import CheckItem, CheckPathError, CheckRunError, run_check
from rl_agent.kit.planning.recipes.proof import OutputScores, ProofResult, prove_check, score_outputs

__all__ = ["CheckItem", "CheckPathError", "CheckRunError", "OutputScores", "ProofResult", "RecipePlan",
           "RecipeRefused", "plan_and_prove", "plan_recipe", "prove_check", "read_recipe", "run_check",
           "score_outputs"]


def __getattr__(name):  # the router imports every recipe; load it on first use
    if name in ("plan_recipe", "plan_and_prove", "read_recipe"):
        from rl_agent.kit.planning.recipes import router

        return getattr(router, name)
    raise AttributeError(name)
