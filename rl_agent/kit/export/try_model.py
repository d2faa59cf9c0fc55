"""`rl-agent try`: the base model and the tuned model answer the same prompts side by side.

Answers are greedy (deterministic), formatted with the model's chat template as in training. Each answer
is scored by the run's own check when it has one: the held-out judge of a GRPO run (the check training
never optimised), the terse-style judge a DPO run's report uses. A Claude judge is used only when
ANTHROPIC_API_KEY is set; otherwise the answers are shown unscored, and the output says so.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from rl_agent.kit.export.merge import load_tuned
from rl_agent.kit.export.rundir import RunDir
from rl_agent.kit.tracks.registry import get_track
from rl_agent.runtime.chat_format import chat_prompt, stop_token_ids


@dataclass
class Answer:
    output: str
    score: float | None = None
    reason: str = ""


@dataclass
class TryResult:
    prompt: str
    base: Answer
    tuned: Answer

    def to_dict(self) -> dict:
        return asdict(self)


def run_check_spec(run: RunDir) -> str | None:
    """The judge spec a run is checked by, or None."""
    judge = get_track(run.algorithm).check_judge(run.settings)
    if judge:
        return judge
    if run.report is None or "judge_score" in (run.report.get("after") or {}):
        return "terse"
    return None


def make_check(run: RunDir):
    """(judge or None, its name or why there is none)."""
    spec = run_check_spec(run)
    if not spec:
        return None, "this run has no check"
    from rl_agent.kit.judges.factory import is_remote, make_judge

    if is_remote(spec) and not os.environ.get("ANTHROPIC_API_KEY"):
        return None, f"the run's check is {spec}, which needs ANTHROPIC_API_KEY; answers are unscored"
    return make_judge(spec), spec


def generate(model, tokenizer, prompt: str, max_new_tokens: int) -> str:
    import torch

    """Greedy answer, asked as the run's evaluation asks (thinking off, the family's end-of-turn tokens)."""
    inputs = tokenizer(chat_prompt(tokenizer, prompt), return_tensors="pt", add_special_tokens=False).to(model.device)
    with torch.no_grad():
        out = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=stop_token_ids(tokenizer, model),
        )
    return tokenizer.decode(out[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()


def try_prompts(run: RunDir, prompts: list[str], max_new_tokens: int | None = None) -> tuple[list[TryResult], str]:
    """Each prompt answered by the base and the tuned model, scored; plus the name of the check used."""
    model, tokenizer = load_tuned(run)
    n = max_new_tokens or int(run.settings.get("max_new_tokens", 64))
    judge, check_name = make_check(run)
    results = []
    for prompt in prompts:
        with model.disable_adapter():
            base = Answer(generate(model, tokenizer, prompt, n))
        tuned = Answer(generate(model, tokenizer, prompt, n))
        if judge is not None:
            for ans in (base, tuned):
                grade = judge.grade(prompt, ans.output)
                ans.score, ans.reason = grade.score, grade.reason
        results.append(TryResult(prompt, base, tuned))
    return results, check_name
