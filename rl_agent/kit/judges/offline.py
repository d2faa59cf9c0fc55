"""The offline terse-style judge as a Judge (wraps terse_style.py, whose functions stay unchanged)."""

from __future__ import annotations

from dataclasses import dataclass

from rl_agent.kit.judges.base import Grade, LocalJudge
from rl_agent.runtime.terse_style import terse_style_score


@dataclass
class TerseStyleJudge(LocalJudge):
    """Heuristic: short, direct, no hedging or filler. Free, deterministic, needs no key."""

    name: str = "terse"

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        score, reason = terse_style_score(output)
        return Grade(float(score), reason)
