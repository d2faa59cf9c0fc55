"""Prices, cost from API usage, the --max-cost budget, and the run's counters.

Cost is computed from the usage fields the API returns (never guessed after the fact). Prompt-cache
writes bill 1.25x input, reads 0.1x input; the Message Batches API halves everything.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from rl_agent.kit.judges.base import Usage

CACHE_WRITE_MULT = 1.25  # 5-minute TTL cache write
CACHE_READ_MULT = 0.10
BATCH_DISCOUNT = 0.50


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float


PRICES: dict[str, Price] = {
    "claude-haiku-4-5": Price(1.0, 5.0),
    "claude-sonnet-4-5": Price(3.0, 15.0),
    "claude-opus-4-5": Price(5.0, 25.0),
}

# Minimum cacheable prefix (tokens) per the prompt-caching docs: a shorter prefix is silently not cached
# (both cache counters stay 0 and the full input price is paid).
MIN_CACHEABLE_TOKENS: dict[str, int] = {
    "claude-haiku-4-5": 4096,
    "claude-sonnet-4-5": 1024,
    "claude-opus-4-5": 4096,
}
_FALLBACK_MODEL = "claude-opus-4-5"  # unknown models are priced like the dearest we know (safe for budgets)


def model_family(model: str) -> str | None:
    """'claude-haiku-4-5-20251001' -> 'claude-haiku-4-5'; None if not in the price table."""
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-") or model.startswith(name + "@"):
            return name
    return None


def price_for(model: str) -> tuple[Price, bool]:
    """(price, known). Unknown models get the highest listed price so a budget errs on the safe side."""
    fam = model_family(model)
    return (PRICES[fam], True) if fam else (PRICES[_FALLBACK_MODEL], False)


def min_cacheable_tokens(model: str) -> int:
    fam = model_family(model)
    return MIN_CACHEABLE_TOKENS[fam] if fam else max(MIN_CACHEABLE_TOKENS.values())


def estimate_tokens(text: str) -> int:
    """Rough token count (chars / 4). Good enough for decisions and estimates; billing uses real usage."""
    return math.ceil(len(text) / 4)


def usage_cost(usage: Usage, model: str, *, batch: bool = False) -> float:
    price, _ = price_for(model)
    dollars = (
        usage.input_tokens * price.input
        + usage.cache_creation_input_tokens * price.input * CACHE_WRITE_MULT
        + usage.cache_read_input_tokens * price.input * CACHE_READ_MULT
        + usage.output_tokens * price.output
    ) / 1e6
    return dollars * (BATCH_DISCOUNT if batch else 1.0)


def worst_case_cost(input_tokens: int, max_output_tokens: int, model: str, *, batch: bool = False) -> float:
    """Upper bound for one request, used to reserve budget before sending it (input +20% for estimate error,
    prefix billed as a cache write, full max_tokens of output)."""
    price, _ = price_for(model)
    dollars = (1.2 * input_tokens * price.input * CACHE_WRITE_MULT + max_output_tokens * price.output) / 1e6
    return dollars * (BATCH_DISCOUNT if batch else 1.0)


class Budget:
    """A spending cap shared by concurrent requests: reserve the worst case first, settle the real cost after.

    With reservations the cap holds even with many requests in flight; an item that cannot reserve is
    recorded as a `budget` failure and everything already graded is kept. The worst case assumes at most
    1.2 x chars/4 input tokens; text that tokenizes much denser (e.g. CJK) can overshoot by the requests
    already in flight, never more, because spending is settled from the real usage of each reply.
    """

    def __init__(self, max_usd: float | None) -> None:
        if max_usd is not None and max_usd < 0:
            raise ValueError("max cost must be >= 0")
        self.max_usd = max_usd
        self.spent = 0.0
        self._reserved = 0.0
        self._lock = threading.Lock()
        self.exhausted = False

    def reserve(self, amount: float) -> bool:
        with self._lock:
            if self.max_usd is not None and (self.exhausted or self.spent + self._reserved + amount > self.max_usd):
                self.exhausted = True
                return False
            self._reserved += amount
            return True

    def settle(self, reserved: float, actual: float) -> None:
        with self._lock:
            self._reserved = max(0.0, self._reserved - reserved)
            self.spent += actual

    @property
    def remaining(self) -> float | None:
        return None if self.max_usd is None else max(0.0, self.max_usd - self.spent)


@dataclass
class RunStats:
    """What a grading run did and cost. Thread-safe via one lock; cheap to snapshot with as_dict()."""

    model: str = ""
    requests: int = 0  # Messages API calls that returned (online or inside a batch), including our retries
    batch_requests: int = 0
    batches_created: int = 0
    batches_resumed: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    grade_cache_hits: int = 0
    duplicates: int = 0  # repeats within one call, graded once (never sent twice)
    cache_control_requests: int = 0  # requests sent with a cache_control breakpoint
    prompt_cache_reads: int = 0  # ... of which read the prefix from the prompt cache
    prompt_cache_writes: int = 0
    retries: int = 0  # our stricter-instruction retries (the SDK's own HTTP retries are not counted)
    failures: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_response(self, usage: Usage, cost: float, *, batch: bool, cache_control: bool) -> None:
        with self._lock:
            self.requests += 1
            self.batch_requests += batch
            self.usage = self.usage + usage
            self.cost_usd += cost
            if cache_control:
                self.cache_control_requests += 1
                self.prompt_cache_reads += usage.cache_read_input_tokens > 0
                self.prompt_cache_writes += usage.cache_creation_input_tokens > 0

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def fail(self, kind: str) -> None:
        with self._lock:
            self.failures[kind] += 1

    @property
    def prompt_cache_hit_rate(self) -> float | None:
        return self.prompt_cache_reads / self.cache_control_requests if self.cache_control_requests else None

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "model": self.model,
                "requests": self.requests,
                "batch_requests": self.batch_requests,
                "batches_created": self.batches_created,
                "batches_resumed": self.batches_resumed,
                "usage": {
                    "input_tokens": self.usage.input_tokens,
                    "cache_creation_input_tokens": self.usage.cache_creation_input_tokens,
                    "cache_read_input_tokens": self.usage.cache_read_input_tokens,
                    "output_tokens": self.usage.output_tokens,
                },
                "cost_usd": round(self.cost_usd, 6),
                "grade_cache_hits": self.grade_cache_hits,
                "duplicates": self.duplicates,
                "cache_control_requests": self.cache_control_requests,
                "prompt_cache_reads": self.prompt_cache_reads,
                "prompt_cache_hit_rate": None
                if not self.cache_control_requests
                else round(self.prompt_cache_reads / self.cache_control_requests, 4),
                "retries": self.retries,
                "failures": dict(self.failures),
            }


@dataclass(frozen=True)
class CostEstimate:
    """Dry-run figures for grading `n_items` not already in the grade cache."""

    model: str
    n_items: int
    n_cached: int
    prefix_tokens: int
    item_tokens: int  # average per item
    output_tokens: int  # assumed per reply
    prompt_cache: bool
    naive_usd: float  # one call each, no prompt caching
    online_usd: float  # one call each, with prompt caching when on
    batch_usd: float  # Message Batches (50% off), with prompt caching when on
    price_known: bool


def estimate_run(
    model: str,
    n_items: int,
    n_cached: int,
    prefix_tokens: int,
    item_tokens: int,
    *,
    prompt_cache: bool,
    output_tokens: int = 60,
) -> CostEstimate:
    def total(cached: bool, batch: bool) -> float:
        if n_items == 0:
            return 0.0
        per_item = Usage(item_tokens, 0, prefix_tokens if cached else 0, output_tokens)
        first = Usage(item_tokens + (0 if cached else prefix_tokens), prefix_tokens if cached else 0, 0, output_tokens)
        uncached = Usage(item_tokens + prefix_tokens, 0, 0, output_tokens)
        if not cached:
            return usage_cost(uncached, model, batch=batch) * n_items
        return usage_cost(first, model, batch=batch) + usage_cost(per_item, model, batch=batch) * (n_items - 1)

    return CostEstimate(
        model,
        n_items,
        n_cached,
        prefix_tokens,
        item_tokens,
        output_tokens,
        prompt_cache,
        naive_usd=total(False, False),
        online_usd=total(prompt_cache, False),
        batch_usd=total(prompt_cache, True),
        price_known=price_for(model)[1],
    )
