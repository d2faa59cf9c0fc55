"""`make_judge("spec")`: one string picks a judge, so the CLI and training scripts share a vocabulary.

Specs: claude[:MODEL] | terse | exact[:case] | regex:PATTERN | json-schema:FILE.json |
python:path/to/file.py:func | python:module:func
"""

from __future__ import annotations

from typing import Any

from rl_agent.kit.judges.base import Judge

JUDGE_SPECS = (
    "claude[:MODEL]",
    "terse",
    "exact[:case]",
    "regex:PATTERN",
    "json-schema:FILE.json",
    "python:FILE.py:func",
    "python:module:func",
)


def is_remote(spec: str) -> bool:
    """Whether the spec needs the Anthropic API (and a key)."""
    return spec.split(":", 1)[0].strip().lower() == "claude"


def make_judge(spec: str, **claude_options: Any) -> Judge:
    """Build a judge from its spec. `claude_options` go to ClaudeJudge (model, rubric, cache, budget...)."""
    kind, _, arg = spec.partition(":")
    kind = kind.strip().lower()
    if kind == "claude":
        from rl_agent.kit.judges.claude import ClaudeJudge

        if arg:
            claude_options["model"] = arg
        return ClaudeJudge(**claude_options)
    if kind == "terse" and not arg:
        from rl_agent.kit.judges.offline import TerseStyleJudge

        return TerseStyleJudge()
    import rl_agent.kit.judges.verifiers as verifiers

    if kind == "exact" and arg in ("", "case"):
        return verifiers.ExactMatchJudge(case_sensitive=arg == "case")
    if kind == "regex" and arg:
        return verifiers.RegexJudge(arg)
    if kind in ("json-schema", "json_schema") and arg:
        return verifiers.JsonSchemaJudge.from_file(arg)
    if kind == "python" and arg:
        return verifiers.PythonFunctionJudge.from_spec(arg)
    raise ValueError(f"unknown judge {spec!r}; expected one of: {', '.join(JUDGE_SPECS)}")
