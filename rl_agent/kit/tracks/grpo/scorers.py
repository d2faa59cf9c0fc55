"""What the GRPO templates are rendered with: settings, and how each judge spec reaches the script.

A scorer is either a function of rl-agent's runtime (standard library only, copied beside the scripts as
rl_agent_runtime/, so the script runs without rl-agent) or built at run time by rl-agent's judge factory
(Claude, and the kit's other verifiers), in which case the script imports rl_agent and says so in its
docstring. Which is which is decided here, once.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from rl_agent.kit.settings import RunBase

# Judge specs whose code is in the runtime: spec -> (runtime module, function name).
_RUNTIME_SPECS: dict[str, tuple[str, str]] = {
    "terse": ("terse_style", "terse_style_score"),
}
# Modules that may be named as `python:<module>:<function>` and run from the runtime copy (stdlib-only by
# design); GRPOSettings migrates their older paths, so existing spec.json files keep working.
_RUNTIME_MODULES: dict[str, str] = {
    "rl_agent.runtime.verifiers": "verifiers",
    "rl_agent.runtime.final_number": "final_number",
    "rl_agent.runtime.correctness": "correctness",
}

GRADE_CACHE = "grades.sqlite3"
GROUP_LOG = "out/group_orders.jsonl"  # each graded group's shown order and scores (group grading)
ANCHOR_FILE = "out/anchor_drift.json"  # the anchors' scores through training (judge drift)
# The task's own check program (check.py in the run folder), run by the runtime's sandboxed check runner.
TASK_CHECK_SPEC = "check"
TASK_CHECK_FILE = "check.py"


@dataclass(frozen=True)
class ScorerPlan:
    """How one judge spec is scored inside the rendered scripts."""

    spec: str
    name: str  # reward name in TRL's logs (rewards/<name>/mean)
    module: str | None  # a runtime module (rl_agent_runtime.<module>), or None: built by rl_agent at run time
    function: str | None
    check_file: str | None = None  # the task's check program, run by the runtime's CheckReward

    @property
    def local(self) -> bool:
        """Scored by the runtime copied beside the script (no rl-agent needed)."""
        return self.module is not None or self.check_file is not None

    @property
    def remote(self) -> bool:
        from rl_agent.kit.judges.factory import is_remote

        return is_remote(self.spec)


def plan_scorer(spec: str) -> ScorerPlan:
    spec = spec.strip()
    if spec == TASK_CHECK_SPEC:
        return ScorerPlan(spec, "task_check", None, None, check_file=TASK_CHECK_FILE)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", spec.rsplit(":", 1)[-1] if spec.startswith("python:") else spec).strip("_")
    if spec in _RUNTIME_SPECS:
        module, function = _RUNTIME_SPECS[spec]
        return ScorerPlan(spec, name or "reward", module, function)
    if spec.startswith("python:"):
        target, _, function = spec[len("python:") :].rpartition(":")
        module = _RUNTIME_MODULES.get(target)
        if module is not None:
            if not callable(getattr(importlib.import_module(f"rl_agent.runtime.{module}"), function, None)):
                raise ValueError(f"{spec}: {target} has no function {function!r}")
            return ScorerPlan(spec, name or "reward", module, function)
    from rl_agent.kit.judges.factory import is_remote, make_judge

    if not is_remote(spec):
        make_judge(spec)  # builds nothing costly; a bad spec fails here, not halfway through training
    return ScorerPlan(spec, name or "judge", None, None)


def describe(plan: ScorerPlan) -> str:
    if plan.remote:
        return f"the Claude judge ({plan.spec}), cached and cost-capped (RLAIF)"
    if plan.spec == TASK_CHECK_SPEC:
        return "the task's own check program (check.py in the run folder, proven before training; RLVR)"
    if plan.spec == "terse":
        return "the offline terse-style judge (heuristic: no hedging, no filler, short)"
    return f"the verifier program {plan.spec} (RLVR)"


def _scorer_config(plan: ScorerPlan, spec: RunBase, max_cost: float | None, *, group: bool = False) -> dict:
    """`group`: grade each prompt's answers together (training only; evaluation grades one at a time)."""
    s = spec.settings
    claude = None
    if plan.remote:
        claude = {
            "rubric": s.rubric,
            "calibration": s.judge_calibration,
            "cache": GRADE_CACHE,
            "max_cost": max_cost,
            "timeout": s.judge_timeout,
            "concurrency": s.judge_concurrency,
            "group": group and s.judge_group,
            "group_log": GROUP_LOG,
        }
    return {
        "spec": plan.spec,
        "name": plan.name,
        "module": plan.module,
        "function": plan.function,
        "claude": claude,
        "check_file": plan.check_file,
    }


def scorer_context(spec: RunBase) -> dict:
    """What train_grpo.py.j2 and evaluate_grpo.py.j2 need beyond the shared context: the reward and the
    held-out judge, as CONFIG entries."""
    s = spec.settings
    reward = plan_scorer(s.reward)
    check = plan_scorer(s.heldout_judge)
    return {
        "num_generations": s.num_generations,
        "max_completion_length": s.max_completion_length,
        "temperature": s.temperature,
        "use_vllm": s.use_vllm,
        "max_cost": s.judge_max_cost,
        "reward": _scorer_config(reward, spec, s.judge_max_cost, group=True),
        "eval_reward": _scorer_config(reward, spec, s.judge_max_cost),
        "check": _scorer_config(check, spec, s.judge_max_cost),
        "anchors": (
            {"file": s.anchors, "every": s.anchor_every, "out": ANCHOR_FILE} if s.anchors and reward.remote else None
        ),
        "reward_summary": describe(reward),
        "check_summary": describe(check),
        "train_needs_rl_agent": not reward.local,
        "eval_needs_rl_agent": not (reward.local and check.local),
    }
