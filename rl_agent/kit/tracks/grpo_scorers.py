"""What the GRPO templates are rendered with: settings, and how each judge spec reaches the script.

A scorer is either inlined (its stdlib-only source is copied into the script, which then runs without
rl-agent) or built at run time by rl-agent's judge factory (Claude, and the kit's other verifiers), in
which case the script imports rl_agent and says so in its docstring. Which is which is decided here, once.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from rl_agent.kit.judges import correctness, final_number, terse_style
from rl_agent.kit.tracks import grpo_reward, grpo_verifiers

if TYPE_CHECKING:
    from rl_agent.kit.spec import RunSpec

# Judge specs whose code can be copied into a script: spec -> (module, function name).
_INLINE_SPECS: dict[str, tuple[ModuleType, str]] = {
    "terse": (terse_style, "terse_style_score"),
}
# Kit modules that may be named as `python:<module>:<function>` and inlined (stdlib-only by design).
_INLINE_MODULES: dict[str, ModuleType] = {
    "rl_agent.kit.tracks.grpo_verifiers": grpo_verifiers,
    "rl_agent.kit.judges.final_number": final_number,
    "rl_agent.kit.judges.correctness": correctness,
}

GRADE_CACHE = "grades.sqlite3"
GROUP_LOG = "out/group_orders.jsonl"  # each graded group's shown order and scores (group grading)
ANCHOR_FILE = "out/anchor_drift.json"  # the anchors' scores through training (judge drift)
# The task's own check program (check.py in the run folder), run by the sandboxed check runner; the runner
# and the batch reward are stdlib-only and inlined, so the scripts stay standalone.
TASK_CHECK_SPEC = "check"
TASK_CHECK_FILE = "check.py"


@dataclass(frozen=True)
class ScorerPlan:
    """How one judge spec is scored inside the rendered scripts."""

    spec: str
    name: str  # reward name in TRL's logs (rewards/<name>/mean)
    module: ModuleType | None  # inlined source, or None: built by rl_agent's judge factory at run time
    function: str | None
    batch: str | None = None  # a batch reward class taking (run folder, check file), inlined with `modules`
    modules: tuple[ModuleType, ...] = ()

    @property
    def inline(self) -> bool:
        return self.module is not None or self.batch is not None

    @property
    def remote(self) -> bool:
        from rl_agent.kit.judges.factory import is_remote

        return is_remote(self.spec)


def plan_scorer(spec: str) -> ScorerPlan:
    spec = spec.strip()
    if spec == TASK_CHECK_SPEC:
        from rl_agent.kit.planning.recipes import check_runner, reward

        return ScorerPlan(spec, "task_check", None, None, batch="CheckReward", modules=(check_runner, reward))
    name = re.sub(r"[^A-Za-z0-9_]+", "_", spec.rsplit(":", 1)[-1] if spec.startswith("python:") else spec).strip("_")
    if spec in _INLINE_SPECS:
        module, function = _INLINE_SPECS[spec]
        return ScorerPlan(spec, name or "reward", module, function)
    if spec.startswith("python:"):
        target, _, function = spec[len("python:"):].rpartition(":")
        module = _INLINE_MODULES.get(target)
        if module is not None:
            if not callable(getattr(module, function, None)):
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


def _scorer_config(plan: ScorerPlan, spec: "RunSpec", max_cost: float | None, *, group: bool = False) -> dict:
    """`group`: grade each prompt's answers together (training only; evaluation grades one at a time)."""
    s = spec.grpo
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
    return {"spec": plan.spec, "name": plan.name, "function": plan.function, "claude": claude,
            "batch": plan.batch, "check_file": TASK_CHECK_FILE if plan.batch else None}


def _sources(plans: list[ScorerPlan], already: tuple[ModuleType, ...] = ()) -> tuple[str, str]:
    """The source to inline (reward wrapper first, each module once, none the template already inlines)
    and a note naming the files."""
    modules: list[ModuleType] = [grpo_reward]
    for p in plans:
        for m in ((p.module,) if p.module is not None else ()) + p.modules:
            if m not in modules and m not in already:
                modules.append(m)
    note = ", ".join("rl_agent/" + m.__name__.split(".", 1)[1].replace(".", "/") + ".py" for m in modules)
    return "\n\n".join(inline_source(m) for m in modules), note


_KIT_IMPORT = re.compile(r"^from (?:__future__|rl_agent\.)[^\n(]*(?:\([^)]*\))?[^\n]*\n", re.MULTILINE)


def inline_source(module: ModuleType) -> str:
    """A stdlib-only module's source, ready to paste into a script: its imports of other inlined kit modules
    (pasted before it) and `from __future__` lines (legal only at the top of a file) removed."""
    return _KIT_IMPORT.sub("", inspect.getsource(module)).strip()


def scorer_context(spec: "RunSpec") -> dict:
    """What train_grpo.py.j2 and evaluate_grpo.py.j2 need beyond the shared context: the reward and the
    held-out judge, as CONFIG entries and inlined source."""
    s = spec.grpo
    reward = plan_scorer(s.reward)
    check = plan_scorer(s.heldout_judge)
    train_source, train_note = _sources([reward])
    eval_source, eval_note = _sources([reward, check], already=(correctness,))  # every eval script has it
    return {
        "num_generations": s.num_generations,
        "max_completion_length": s.max_completion_length,
        "temperature": s.temperature,
        "use_vllm": s.use_vllm,
        "max_cost": s.judge_max_cost,
        "reward": _scorer_config(reward, spec, s.judge_max_cost, group=True),
        "eval_reward": _scorer_config(reward, spec, s.judge_max_cost),
        "check": _scorer_config(check, spec, s.judge_max_cost),
        "anchors": ({"file": s.anchors, "every": s.anchor_every, "out": ANCHOR_FILE}
                    if s.anchors and reward.remote else None),
        "reward_summary": describe(reward),
        "check_summary": describe(check),
        "train_needs_rl_agent": not reward.inline,
        "eval_needs_rl_agent": not (reward.inline and check.inline),
        "train_source": train_source,
        "train_sources_note": train_note,
        "eval_source": eval_source,
        "eval_sources_note": eval_note,
    }
