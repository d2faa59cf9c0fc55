"""Claude as a grader: rubric + calibration examples as the cached prefix, the graded item last, JSON reply.

judge = ClaudeJudge(cache=".rl-agent-cache/grades.sqlite3", max_cost=1.0)
judge.grade("What is 2+2?", "4.")             # Grade(score=1.0, reason=...)
judge.grade_many(items)                          # concurrent (AsyncAnthropic + Semaphore)
await judge.agrade_many(items)                   # the same, from async code
judge.grade_batch(items)                         # Message Batches API, 50% cheaper, resumable
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from rl_agent.kit.judges.base import Grade, GradeItem
from rl_agent.kit.judges.cache import grade_key
from rl_agent.kit.judges.cost import CostEstimate, RunStats
from rl_agent.kit.judges.engine import Call, ClaudeEngine, ClaudeSettings, Progress
from rl_agent.kit.judges.prompts import grader_item, grader_prefix, load_calibration, load_rubric
from rl_agent.kit.judges.wire import GRADE_FORMAT


class ClaudeJudge:
    """Judge protocol implementation backed by the Messages API.

    rubric: None/"terse" (bundled) or a path to a rubric text file (used as data, not as a template).
    calibration: True (bundled examples), False (none), or a path to a JSONL of {prompt, output, score, reason}.
    instructions: the bundled template wording the instructions around the rubric (another wording gives a
    second, independent reading of the same rubric: judges/agreement.py).
    Other keyword options are ClaudeSettings fields (model, cache, max_cost, concurrency, timeout, ...).
    """

    def __init__(
        self,
        *,
        rubric: str | Path | None = None,
        calibration: bool | str | Path = True,
        instructions: str = "grader_system.md.j2",
        **options: Any,
    ) -> None:
        self.rubric_name, rubric_text = load_rubric(rubric)
        examples = [] if calibration is False else load_calibration(None if calibration is True else calibration)
        self.n_examples = len(examples)
        self.settings = ClaudeSettings(**options)
        self.engine = ClaudeEngine(self.settings, grader_prefix(rubric_text, examples, instructions), GRADE_FORMAT)
        self.name = f"claude:{self.settings.model}"

    # facts -----------------------------------------------------------------------------------------
    @property
    def stats(self) -> RunStats:
        return self.engine.stats

    @property
    def cache_note(self) -> str:
        return self.engine.cache_note

    @property
    def prompt_cache(self) -> bool:
        return self.engine.prompt_cache

    def count_prefix_tokens(self) -> int:
        """Exact prefix size from the count_tokens endpoint (free); updates the prompt-caching decision."""
        return self.engine.count_prefix_tokens()

    def require_key(self) -> None:
        """Raise MissingAPIKey now (with the one-line explanation) rather than at the first grade."""
        self.engine.api_key()

    def close(self) -> None:
        self.engine.close()

    # grading ---------------------------------------------------------------------------------------
    def _call(self, item: GradeItem) -> Call:
        key = grade_key(self.settings.model, self.engine.rubric_hash, item.prompt, item.output, item.reference)
        return Call(key, grader_item(item.prompt, item.output, item.reference))

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        return self.grade_many([GradeItem(prompt, output, reference)])[0]

    def grade_many(self, items: Sequence[GradeItem], progress: Progress | None = None) -> list[Grade]:
        calls = [self._call(it) for it in items]
        results = self.engine.run(calls, progress)
        return [results[c.key] for c in calls]

    async def agrade_many(self, items: Sequence[GradeItem], progress: Progress | None = None) -> list[Grade]:
        calls = [self._call(it) for it in items]
        results = await self.engine.arun(calls, progress)
        return [results[c.key] for c in calls]

    def grade_batch(self, items: Sequence[GradeItem], progress: Progress | None = None) -> list[Grade]:
        calls = [self._call(it) for it in items]
        results = self.engine.run_batch(calls, progress)
        return [results[c.key] for c in calls]

    def estimate(self, items: Sequence[GradeItem]) -> CostEstimate:
        return self.engine.estimate([self._call(it) for it in items])
