"""Judges: everything that turns (prompt, output[, reference]) into a Grade with a score in [0, 1].

Cheap, dependency-free names are importable from here; the Claude judges live in claude.py/pairwise.py
(imported lazily by make_judge so offline use never needs the anthropic package loaded).
"""

from rl_agent.kit.judges.base import Grade, GradeItem, Judge, Usage
from rl_agent.kit.judges.factory import make_judge
from rl_agent.kit.judges.offline import TerseStyleJudge
from rl_agent.kit.judges.reward import JudgeReward
from rl_agent.kit.judges.verifiers import ExactMatchJudge, JsonSchemaJudge, PythonFunctionJudge, RegexJudge

__all__ = [
    "ExactMatchJudge",
    "Grade",
    "GradeItem",
    "Judge",
    "JsonSchemaJudge",
    "JudgeReward",
    "PythonFunctionJudge",
    "RegexJudge",
    "TerseStyleJudge",
    "Usage",
    "make_judge",
]
