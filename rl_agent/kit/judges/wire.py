"""What goes on the wire: Messages API request params, and strict parsing of the grader's reply.

The stable part (instructions, rubric, calibration examples) is the system prompt, optionally marked
with cache_control; the item is the user message. A reply that is not the exact JSON we asked for
raises ReplyError, and the caller retries once with the stricter instruction as a follow-up turn (which
keeps the cached prefix intact).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from rl_agent.errors import RlAgentError
from rl_agent.kit.judges.base import ErrorKind
from rl_agent.kit.judges.prompts import render

GRADE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}
PAIRWISE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"winner": {"type": "string", "enum": ["A", "B", "tie"]}, "reason": {"type": "string"}},
    "required": ["winner", "reason"],
    "additionalProperties": False,
}


class ReplyError(RlAgentError, ValueError):
    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind


_FENCED = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.DOTALL)


def _json_object(text: str) -> dict[str, Any]:
    body = text.strip()
    fenced = _FENCED.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body:
        raise ReplyError("malformed", "the reply was empty")
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        kind = "it was prose, not JSON" if not body.startswith(("{", "[")) else "it was not valid JSON"
        raise ReplyError("malformed", kind) from None
    if not isinstance(value, dict):
        raise ReplyError("malformed", "it was JSON but not an object")
    return value


def _reason(obj: dict[str, Any]) -> str:
    reason = obj.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ReplyError("malformed", 'the "reason" field was missing or not a string')
    return " ".join(reason.split())[:500]


def parse_grade_reply(text: str) -> tuple[float, str]:
    """{"score": number in [0, 1], "reason": str} -> (score, reason), else ReplyError."""
    obj = _json_object(text)
    score = obj.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        raise ReplyError("malformed", 'the "score" field was missing or not a number')
    reason = _reason(obj)
    if not 0.0 <= score <= 1.0:
        raise ReplyError("out_of_range", f"the score {score} was outside [0, 1]")
    return float(score), reason


def parse_pairwise_reply(text: str) -> tuple[float, str]:
    """{"winner": "A"|"B"|"tie", "reason": str} -> (1.0 / 0.0 / 0.5 for answer A, reason)."""
    obj = _json_object(text)
    winner = obj.get("winner")
    if winner not in ("A", "B", "tie"):
        raise ReplyError("malformed", 'the "winner" field was not "A", "B" or "tie"')
    return {"A": 1.0, "B": 0.0, "tie": 0.5}[winner], _reason(obj)


@dataclass(frozen=True)
class ReplyFormat:
    name: str
    schema: dict[str, Any]
    retry_template: str
    parse: Callable[[str], tuple[float, str]]


GRADE_FORMAT = ReplyFormat("grade", GRADE_SCHEMA, "grader_retry.md.j2", parse_grade_reply)
PAIRWISE_FORMAT = ReplyFormat("pairwise", PAIRWISE_SCHEMA, "pairwise_retry.md.j2", parse_pairwise_reply)


def reply_text(message: Any) -> str:
    """Concatenated text blocks of an SDK Message (or the same shape as a dict)."""
    content = message.get("content", []) if isinstance(message, dict) else message.content
    parts = []
    for block in content or []:
        btype = block.get("type") if isinstance(block, dict) else getattr(block, "type", None)
        if btype == "text":
            parts.append(block.get("text", "") if isinstance(block, dict) else block.text)
    return "".join(parts)


@dataclass(frozen=True)
class Conversation:
    """Request settings constant across a run; `params(item)` builds one Messages API request body."""

    model: str
    system_text: str
    fmt: ReplyFormat
    cache_control: bool
    structured_output: bool = True
    max_tokens: int = 256

    def params(self, user_text: str, retry: tuple[str, str] | None = None) -> dict[str, Any]:
        """`retry=(previous_reply, problem)` appends the failed reply and a stricter instruction."""
        system: dict[str, Any] = {"type": "text", "text": self.system_text}
        if self.cache_control:
            system["cache_control"] = {"type": "ephemeral"}
        messages: list[dict[str, Any]] = [{"role": "user", "content": user_text}]
        if retry is not None:
            previous, problem = retry
            messages.append({"role": "assistant", "content": previous.strip() or "(empty reply)"})
            messages.append({"role": "user", "content": render(self.fmt.retry_template, problem=problem)})
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": [system],
            "messages": messages,
        }
        if self.structured_output:
            params["output_config"] = {"format": {"type": "json_schema", "schema": self.fmt.schema}}
        return params
