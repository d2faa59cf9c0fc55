"""The task's check as a TRL GRPO reward function: one sandboxed check process per batch.

Why here and stdlib-only (with check_runner.py): rendered training scripts are standalone, so they can
inline these two files the way evaluation scripts inline the correctness check. A check that fails on
some completion (it was proven on the examples, but a model can write anything) gives that completion
no reward (None, which TRL skips) instead of an invented score, and the failure is counted and kept.
"""

from __future__ import annotations

from pathlib import Path

from .check_runner import (
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    CheckItem,
    CheckRunError,
    resolve_check_path,
    run_check,
)


def check_text(x) -> str:
    """TRL prompts and completions are strings, or (conversational) lists of {"role", "content"} messages:
    the text is the last message's (the user's question for a prompt, the answer for a completion)."""
    if isinstance(x, str):
        return x
    if isinstance(x, (list, tuple)) and x:
        last = x[-1]
        return str(last.get("content", "")) if isinstance(last, dict) else str(last)
    return "" if x is None else str(x)


class CheckReward:
    """`reward(prompts, completions, reference=[...]) -> [score | None]`, the signature GRPOTrainer calls."""

    def __init__(
        self,
        run_dir: str | Path,
        check_path: str | Path = "check.py",
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        memory_mb: int = DEFAULT_MEMORY_MB,
    ):
        self.run_dir, self.check_path = resolve_check_path(run_dir, check_path)  # refuse a bad path up front
        self.timeout_s, self.memory_mb = timeout_s, memory_mb
        self.__name__ = "task_check"
        self.graded = 0
        self.failures: list[str] = []

    def __call__(self, prompts, completions, reference=None, **kwargs) -> list[float | None]:
        refs = list(reference) if reference is not None else [None] * len(prompts)
        items = [
            CheckItem(check_text(p), check_text(c), None if r is None else str(r))
            for p, c, r in zip(prompts, completions, refs)
        ]
        try:
            scores = self._run(items)
        except CheckRunError:
            scores = [self._one(item) for item in items]  # find the completions the check fails on
        self.graded += sum(s is not None for s in scores)
        log_metric = kwargs.get("log_metric")  # TRL passes it: failures then show up in the step logs
        if callable(log_metric):
            log_metric(f"{self.__name__}/failed", float(sum(s is None for s in scores)))
        return scores

    def stats(self) -> dict:
        """Counts in the shape the GRPO scripts record (a local check costs nothing)."""
        failed = len(self.failures)
        return {
            "graded": self.graded,
            "failed": failed,
            "failures": {"check_error": failed} if failed else {},
            "cost_usd": 0.0,
        }

    def _run(self, items: list[CheckItem]) -> list[float | None]:
        return run_check(self.run_dir, self.check_path, items, timeout_s=self.timeout_s, memory_mb=self.memory_mb)

    def _one(self, item: CheckItem) -> float | None:
        try:
            return self._run([item])[0]
        except CheckRunError as e:
            self.failures.append(str(e))
            return None
