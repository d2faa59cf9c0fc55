"""GRPO reward from a plain scoring function: lists in, list[float | None] out, failures counted.

Standard library only on purpose: rendered train_grpo.py / evaluate_grpo.py scripts inline this file's
source (as evaluate.py inlines terse_style.py), so they run without rl-agent installed, and the kit
imports the same class, so the two can never disagree. It follows the contract of the kit's
JudgeReward (rl_agent/kit/judges/reward.py, used for the Claude judge): a score that cannot be had is
None, which TRL turns into NaN and leaves out of the group baseline, never an invented 0.
"""

import inspect
import math
from collections import Counter


def completion_text(x):
    """A prompt or completion as text: a plain string, or TRL's conversational form (last message)."""
    if isinstance(x, str):
        return x
    if isinstance(x, dict):
        content = x.get("content", "")
        if isinstance(content, list):
            return "".join(b.get("text", "") for b in content if isinstance(b, dict))
        return str(content)
    if isinstance(x, (list, tuple)) and x:
        return completion_text(x[-1])
    return "" if x is None else str(x)


def coerce_score(result):
    """(score, reason, failure kind) from whatever a scorer returned: a number or bool in [0, 1],
    (score, reason), {"score", "reason"}, or an object with .score/.reason/.error (the kit's Grade)."""
    reason = ""
    if hasattr(result, "score") and hasattr(result, "reason"):
        if result.score is None:
            return None, str(result.reason), str(getattr(result, "error", None) or "failed")
        result, reason = result.score, result.reason
    elif isinstance(result, tuple) and len(result) == 2:
        result, reason = result
    elif isinstance(result, dict):
        result, reason = result.get("score"), result.get("reason", "")
    if isinstance(result, bool):
        result = float(result)
    if not isinstance(result, (int, float)) or not math.isfinite(result):
        return None, f"scorer returned {result!r}, not a score", "malformed"
    if not 0.0 <= result <= 1.0:
        return None, f"scorer returned {result}, outside [0, 1]", "out_of_range"
    return float(result), str(reason), None


def _arity(func):
    """How many of (prompt, output, reference) to pass: f(output), f(prompt, output) or all three."""
    try:
        params = [
            p
            for p in inspect.signature(func).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return 1
    return min(len(params), 3) or 1


class LocalReward:
    """A TRL reward function around `score_fn`; counts graded items and failures by kind.

    `score_fn` is f(output), f(prompt, output) or f(prompt, output, reference). A scorer that raises or
    returns something unusable yields None for that completion (counted), so one bad sample never stops
    training and never gets a made-up score. `reference_key` names the dataset column with references.
    """

    def __init__(self, score_fn, name, reference_key="reference"):
        self.score_fn = score_fn
        self.__name__ = name
        self.reference_key = reference_key
        self.arity = _arity(score_fn)
        self.graded = 0
        self.failures = Counter()

    def score_one(self, prompt, output, reference=None):
        """(score or None, reason) for one output."""
        args = (output,) if self.arity == 1 else (prompt, output) if self.arity == 2 else (prompt, output, reference)
        try:
            score, reason, kind = coerce_score(self.score_fn(*args))
        except Exception as e:  # a buggy scorer must be visible, not fatal
            score, reason, kind = None, f"scorer raised {type(e).__name__}: {e}", "scorer_error"
        if score is None:
            self.failures[kind] += 1
        else:
            self.graded += 1
        return score, reason

    def __call__(self, prompts, completions, **kwargs):
        refs = kwargs.get(self.reference_key)
        if refs is not None and len(refs) != len(completions):
            raise ValueError(f"{len(refs)} references for {len(completions)} completions")
        scores = []
        for i, (p, c) in enumerate(zip(prompts, completions)):
            ref = None if refs is None or refs[i] is None else str(refs[i])
            scores.append(self.score_one(completion_text(p), completion_text(c), ref)[0])
        log_metric = kwargs.get("log_metric")  # TRL passes it: failures then show up in the step logs
        if callable(log_metric):
            log_metric(f"{self.__name__}/failed", float(sum(s is None for s in scores)))
        return scores

    def stats(self):
        """Counts in the shape of the kit's RewardStats.as_dict() (a local scorer costs nothing)."""
        return {
            "graded": self.graded,
            "failed": sum(self.failures.values()),
            "failures": dict(self.failures),
            "cost_usd": 0.0,
        }


class GuardedReward:
    """A batch reward (the kit's JudgeReward around Claude, say) that must never stop training: if the
    whole call raises, every sample of that batch gets None, counted under "exception"."""

    def __init__(self, inner, name):
        self.inner = inner
        self.__name__ = name
        self.exceptions = Counter()

    def __call__(self, prompts, completions, **kwargs):
        try:
            scores = list(self.inner(prompts, completions, **kwargs))
        except Exception as e:
            if not self.exceptions:
                print(
                    f"reward {self.__name__} failed ({type(e).__name__}: {e}); those samples get no reward", flush=True
                )
            self.exceptions[type(e).__name__] += len(completions)
            scores = [None] * len(completions)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric(f"{self.__name__}/failed", float(sum(s is None for s in scores)))
        return scores

    def stats(self):
        inner = self.inner.stats
        stats = dict(inner() if callable(inner) else inner.as_dict())
        failures = dict(stats.get("failures", {}))
        if self.exceptions:
            failures["exception"] = failures.get("exception", 0) + sum(self.exceptions.values())
        stats["failures"] = failures
        stats["failed"] = sum(failures.values())
        judge_stats = getattr(getattr(self.inner, "judge", None), "stats", None)
        if hasattr(judge_stats, "as_dict"):
            stats["judge"] = judge_stats.as_dict()
        return stats
