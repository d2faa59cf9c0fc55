"""Claude writes preference pairs for a task: asked in rounds, validated, deduplicated, length-limited.

Every pair that survives is a valid PreferencePair (non-empty fields, chosen != rejected), under the word
limit, with a prompt not seen before (case/space-insensitive). Rejected candidates are counted by reason.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rl_agent.errors import RlAgentError
from rl_agent.kit.dataio.pairs import PreferencePair
from rl_agent.kit.judges.base import Usage
from rl_agent.kit.judges.client import (
    DEFAULT_MODEL,
    classify_exception,
    make_sync_client,
    resolve_api_key,
    resolve_base_url,
)
from rl_agent.kit.judges.cost import Budget, usage_cost, worst_case_cost
from rl_agent.kit.judges.prompts import neutralize, render
from rl_agent.kit.judges.wire import reply_text

MAX_WORDS = 80


class PairGenError(RlAgentError, RuntimeError):
    """Generation could not produce any usable pair (the message says why, with no secrets)."""


@dataclass
class PairGenResult:
    pairs: list[PreferencePair]
    dropped: Counter[str] = field(default_factory=Counter)  # reason -> candidates dropped
    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    stopped: str | None = None  # why generation ended before n pairs, if it did


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", text.lower()).split())


def parse_pairs_reply(text: str) -> list[Any]:
    """The JSON array in a reply (one ```json fence tolerated); ValueError if there is none."""
    body = text.strip()
    fenced = re.match(r"^```(?:json)?\s*\n?(.*?)\n?```$", body, re.DOTALL)
    if fenced:
        body = fenced.group(1)
    value = json.loads(body)
    if isinstance(value, dict) and isinstance(value.get("pairs"), list):
        value = value["pairs"]
    if not isinstance(value, list):
        raise ValueError("reply is not a JSON array")
    return value


def validate_candidate(row: Any, max_words: int = MAX_WORDS) -> PreferencePair | str:
    """A PreferencePair, or the reason the candidate is unusable."""
    if not isinstance(row, dict):
        return "not an object"
    fields = {}
    for key in ("prompt", "chosen", "rejected"):
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            return f"missing or empty {key}"
        if len(value.split()) >= max_words:
            return f"{key} has {max_words}+ words"
        fields[key] = " ".join(value.split())
    if _norm(fields["chosen"]) == _norm(fields["rejected"]):
        return "chosen equals rejected"
    return PreferencePair(fields["prompt"], fields["chosen"], fields["rejected"])


def generate_pairs(
    task: str,
    n: int,
    *,
    model: str = DEFAULT_MODEL,
    api_key: str | None = None,
    base_url: str | None = None,
    per_request: int = 20,
    max_rounds: int | None = None,
    max_words: int = MAX_WORDS,
    max_cost: float | None = None,
    timeout: float = 120.0,
    max_retries: int = 2,
    max_tokens: int = 8000,
) -> PairGenResult:
    if n < 1:
        raise ValueError("n must be at least 1")
    if not task.strip():
        raise ValueError("the task description is empty")
    key = resolve_api_key(api_key)
    rounds = max_rounds if max_rounds is not None else math.ceil(n / per_request) + 2
    result = PairGenResult([])
    seen: set[str] = set()
    budget = Budget(max_cost)
    with make_sync_client(key, resolve_base_url(base_url), timeout, max_retries) as client:
        for _ in range(rounds):
            want = min(per_request, n - len(result.pairs))
            if want <= 0:
                break
            avoid = [neutralize(p.prompt) for p in result.pairs][-100:]
            prompt = render("pairs_generate.md.j2", task=neutralize(task), n=want, max_words=max_words, avoid=avoid)
            reserve = worst_case_cost(len(prompt) // 4 + 1, max_tokens, model)
            if not budget.reserve(reserve):
                result.stopped = "--max-cost reached"
                break
            try:
                message = client.messages.create(
                    model=model, max_tokens=max_tokens, messages=[{"role": "user", "content": prompt}]
                )
            except Exception as exc:
                budget.settle(reserve, 0.0)
                _, reason = classify_exception(exc, key)
                result.stopped = reason
                break
            usage = Usage.from_api(message.usage)
            cost = usage_cost(usage, model)
            budget.settle(reserve, cost)
            result.requests += 1
            result.usage, result.cost_usd = result.usage + usage, result.cost_usd + cost
            try:
                rows = parse_pairs_reply(reply_text(message))
            except ValueError:
                result.dropped["reply was not a JSON array"] += 1
                continue
            for row in rows:
                pair = validate_candidate(row, max_words)
                if isinstance(pair, str):
                    result.dropped[pair] += 1
                    continue
                norm = _norm(pair.prompt)
                if norm in seen:
                    result.dropped["duplicate prompt"] += 1
                    continue
                seen.add(norm)
                result.pairs.append(pair)
                if len(result.pairs) >= n:
                    break
    if len(result.pairs) < n and result.stopped is None:
        result.stopped = f"only {len(result.pairs)} usable pairs after {rounds} requests"
    if not result.pairs:
        raise PairGenError(f"no usable pairs generated ({result.stopped})")
    return result
