"""The machinery behind the Claude judges: grade cache, budget, online (async, concurrency-limited) calls,
Message Batches with resume, one stricter retry for unusable replies, and the run's counters.

Judges (claude.py, pairwise.py) only decide *what* to ask; this module decides how to ask cheaply and
robustly. Every item ends as a Grade: a score, or a failure kind. Nothing is ever invented.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Coroutine, Sequence, TypeVar

import anthropic

from rl_agent.kit.judges.base import ErrorKind, Grade, Usage
from rl_agent.kit.judges.cache import GradeCache
from rl_agent.kit.judges.client import (
    DEFAULT_MODEL,
    UNREADABLE_BODY,
    classify_exception,
    make_async_client,
    make_sync_client,
    resolve_api_key,
    resolve_base_url,
)
from rl_agent.kit.judges.cost import (
    Budget,
    CostEstimate,
    RunStats,
    estimate_run,
    estimate_tokens,
    min_cacheable_tokens,
    usage_cost,
    worst_case_cost,
)
from rl_agent.kit.judges.prompts import text_hash
from rl_agent.kit.judges.wire import Conversation, ReplyError, ReplyFormat, reply_text

T = TypeVar("T")
MAX_BATCH_REQUESTS = 10_000  # per batch; the API allows more, but smaller batches finish and resume sooner
Progress = Callable[[int], None]  # called with the number of items just finished


@dataclass
class ClaudeSettings:
    """Knobs shared by the Claude judges. Defaults suit an interactive `rl-agent grade` run."""

    model: str = DEFAULT_MODEL
    api_key: str | None = None  # default: ANTHROPIC_API_KEY
    base_url: str | None = None  # default: ANTHROPIC_BASE_URL, else the SDK's
    timeout: float = 60.0  # per request, seconds
    max_retries: int = 2  # the SDK's retries on 429/5xx/connection errors (it honours retry-after)
    concurrency: int = 8  # online requests in flight
    max_tokens: int = 256  # a grade reply is ~40 tokens; this bounds the worst case the budget reserves
    structured_output: bool = True  # output_config json_schema; we validate the reply regardless
    prompt_cache: bool | None = None  # None: cache_control only when the prefix reaches the model's minimum
    cache: GradeCache | str | Path | None = None  # persistent grade cache (path or instance); None: off
    max_cost: float | None = None  # USD cap for this judge's lifetime
    poll_interval: float = 5.0  # batch polling starts here and doubles...
    poll_max_interval: float = 60.0  # ...up to this
    batch_timeout: float = 24 * 3600.0  # give up waiting (the batch stays resumable)
    batch_regrade_rounds: int = 1  # follow-up batches for failed items


@dataclass(frozen=True)
class Call:
    """One request to make: `key` is the grade-cache key (and batch custom_id), `user_text` the item."""

    key: str
    user_text: str


@dataclass
class _Pending:
    """Batch bookkeeping for one key: the stricter retry to send next round, and the last failure."""

    retry: tuple[str, str] | None = None
    failure: Grade | None = None
    final: bool = False  # do not resubmit (stricter retry used up, or its batch may still be running)
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, even when the caller already has an event loop (notebooks)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


_BATCH_ERROR_KINDS: dict[str, ErrorKind] = {
    "rate_limit_error": "rate_limit",
    "overloaded_error": "overloaded",
    "authentication_error": "auth",
    "permission_error": "auth",
}


class ClaudeEngine:
    """Grades `Call`s against one fixed system prefix and reply format."""

    def __init__(self, settings: ClaudeSettings, system_text: str, fmt: ReplyFormat) -> None:
        self.settings = settings
        self.model = settings.model
        self.prefix_tokens = estimate_tokens(system_text)
        self.prefix_counted = False  # True once measured with the count_tokens endpoint
        self.min_cacheable = min_cacheable_tokens(self.model)
        long_enough = self.prefix_tokens >= self.min_cacheable
        self.prompt_cache = long_enough if settings.prompt_cache is None else settings.prompt_cache
        self.conv = Conversation(
            self.model,
            system_text,
            fmt,
            self.prompt_cache,
            settings.structured_output,
            settings.max_tokens,
        )
        self.rubric_hash = text_hash(fmt.name, system_text)
        self.stats = RunStats(model=self.model)
        self.budget = Budget(settings.max_cost)
        self._owns_cache = not isinstance(settings.cache, GradeCache) and settings.cache is not None
        self.cache: GradeCache | None = (
            settings.cache
            if isinstance(settings.cache, GradeCache)
            else GradeCache(settings.cache)
            if settings.cache is not None
            else None
        )
        self._auth_failed = False

    # --- facts for the user ---------------------------------------------------------------------
    @property
    def cache_note(self) -> str:
        """One line saying whether the prefix is cached and why (token counts are chars/4 estimates)."""
        how = "counted" if self.prefix_counted else "estimated as chars/4"
        size = (
            f"prefix ~{self.prefix_tokens} tokens ({how}), minimum cacheable for {self.model} is {self.min_cacheable}"
        )
        if self.prompt_cache:
            return f"prompt caching on: {size}"
        if self.settings.prompt_cache is False:
            return f"prompt caching off (disabled): {size}"
        return f"prompt caching off: {size}; add calibration examples to reach it"

    def count_prefix_tokens(self) -> int:
        """Measure the prefix with the (free) count_tokens endpoint and redo the caching decision with it."""
        key = self.api_key()
        with make_sync_client(
            key, resolve_base_url(self.settings.base_url), self.settings.timeout, self.settings.max_retries
        ) as client:
            counted = client.messages.count_tokens(
                model=self.model,
                system=[{"type": "text", "text": self.conv.system_text}],
                messages=[{"role": "user", "content": "."}],
            ).input_tokens
        self.prefix_tokens, self.prefix_counted = int(counted), True
        if self.settings.prompt_cache is None:
            self.prompt_cache = self.prefix_tokens >= self.min_cacheable
            self.conv = dataclasses.replace(self.conv, cache_control=self.prompt_cache)
        return self.prefix_tokens

    def api_key(self) -> str:
        return resolve_api_key(self.settings.api_key)

    def close(self) -> None:
        if self.cache is not None and self._owns_cache:
            self.cache.close()

    # --- shared pieces --------------------------------------------------------------------------
    def _lookup(self, calls: Sequence[Call]) -> tuple[dict[str, Grade], list[Call]]:
        unique = list({c.key: c for c in calls}.values())
        found = self.cache.get_many(c.key for c in unique) if self.cache else {}
        self.stats.add(grade_cache_hits=len(found), duplicates=len(calls) - len(unique))
        return found, [c for c in unique if c.key not in found]

    def _store(self, key: str, grade: Grade) -> None:
        if self.cache is not None and grade.ok:
            self.cache.put(key, grade, model=self.model, rubric=self.rubric_hash)

    def _reservation(self, params: dict[str, Any], *, batch: bool) -> float:
        chars = sum(len(b["text"]) for b in params["system"]) + sum(len(m["content"]) for m in params["messages"])
        return worst_case_cost(chars // 4 + 1, self.settings.max_tokens, self.model, batch=batch)

    def _finish(self, results: dict[str, Grade], calls: Sequence[Call]) -> dict[str, Grade]:
        for key in {c.key for c in calls}:
            g = results[key]
            if not g.ok:
                self.stats.fail(g.error or "api_error")
        return results

    def estimate(self, calls: Sequence[Call]) -> CostEstimate:
        unique = list({c.key: c for c in calls}.values())
        cached = set(self.cache.get_many(c.key for c in unique)) if self.cache else set()
        todo = [c for c in unique if c.key not in cached]
        item_tokens = round(sum(estimate_tokens(c.user_text) for c in todo) / len(todo)) if todo else 0
        return estimate_run(
            self.model, len(todo), len(cached), self.prefix_tokens, item_tokens, prompt_cache=self.prompt_cache
        )

    # --- online path: AsyncAnthropic + Semaphore -----------------------------------------------
    def run(self, calls: Sequence[Call], progress: Progress | None = None) -> dict[str, Grade]:
        return run_sync(self.arun(calls, progress))

    async def arun(self, calls: Sequence[Call], progress: Progress | None = None) -> dict[str, Grade]:
        results, todo = self._lookup(calls)
        if progress and results:
            progress(len(results))
        if todo:
            key = self.api_key()
            sem = asyncio.Semaphore(max(1, self.settings.concurrency))
            client = make_async_client(
                key, resolve_base_url(self.settings.base_url), self.settings.timeout, self.settings.max_retries
            )
            async with client:

                async def one(call: Call) -> None:
                    async with sem:
                        grade = await self._online(client, call, key)
                    results[call.key] = grade
                    self._store(call.key, grade)
                    if progress:
                        progress(1)

                await asyncio.gather(*(one(c) for c in todo))
        return self._finish(results, calls)

    async def _online(self, client: Any, call: Call, secret: str) -> Grade:
        usage, cost = Usage(), 0.0
        retry: tuple[str, str] | None = None
        last: ReplyError | None = None
        for attempt in range(2):
            if self._auth_failed:
                return Grade.failed("auth", "not sent: the API rejected the key", usage=usage, cost_usd=cost)
            params = self.conv.params(call.user_text, retry)
            reserved = self._reservation(params, batch=False)
            if not self.budget.reserve(reserved):
                return Grade.failed("budget", "not graded: --max-cost reached", usage=usage, cost_usd=cost)
            try:
                message = await client.messages.create(**params)
            except Exception as exc:  # classified below; CancelledError is not an Exception
                self.budget.settle(reserved, 0.0)
                kind, reason = classify_exception(exc, secret)
                if kind == "auth":
                    self._auth_failed = True
                if reason == UNREADABLE_BODY and attempt == 0:
                    continue  # a garbled body is transient: send the same request once more
                return Grade.failed(kind, reason, usage=usage, cost_usd=cost)
            u = Usage.from_api(message.usage)
            c = usage_cost(u, self.model)
            self.budget.settle(reserved, c)
            self.stats.add_response(u, c, batch=False, cache_control=self.conv.cache_control)
            usage, cost = usage + u, cost + c
            text = reply_text(message)
            try:
                score, reason = self.conv.fmt.parse(text)
            except ReplyError as e:
                last, retry = e, (text, str(e))
                if attempt == 0:
                    self.stats.add(retries=1)
                continue
            return Grade(score, reason, usage=usage, cost_usd=cost)
        if last is None:
            return Grade.failed("api_error", f"{UNREADABLE_BODY} (twice)", usage=usage, cost_usd=cost)
        return Grade.failed(last.kind, f"{last} (also after a stricter retry)", usage=usage, cost_usd=cost)

    # --- batch path: Message Batches API --------------------------------------------------------
    def run_batch(self, calls: Sequence[Call], progress: Progress | None = None) -> dict[str, Grade]:
        """Submit, poll with backoff, collect; regrade only failed items; resume saved batches first."""
        results, todo = self._lookup(calls)
        if progress and results:
            progress(len(results))
        if not todo:
            return self._finish(results, calls)
        secret = self.api_key()
        pending = {c.key: c for c in todo}
        state = {k: _Pending() for k in pending}
        client = make_sync_client(
            secret, resolve_base_url(self.settings.base_url), self.settings.timeout, self.settings.max_retries
        )
        with client:
            if self.cache is not None:
                for saved in self.cache.open_batches(model=self.model, rubric=self.rubric_hash):
                    if any(k in pending and k not in results for k in saved.keys):
                        self.stats.add(batches_resumed=1)
                        self._collect(client, saved.batch_id, set(saved.keys), pending, state, results, {}, progress)
            for _round in range(1 + max(0, self.settings.batch_regrade_rounds)):
                todo_keys = [k for k in pending if k not in results and not _final(state[k])]
                if not todo_keys:
                    break
                requests, reserved = [], {}
                for k in todo_keys:
                    params = self.conv.params(pending[k].user_text, state[k].retry)
                    amount = self._reservation(params, batch=True)
                    if not self.budget.reserve(amount):
                        state[k].failure = Grade.failed("budget", "not graded: --max-cost reached")
                        continue
                    reserved[k] = amount
                    requests.append({"custom_id": k, "params": params})
                if not requests:
                    break
                created: list[tuple[str, set[str]]] = []
                for i in range(0, len(requests), MAX_BATCH_REQUESTS):
                    chunk = requests[i : i + MAX_BATCH_REQUESTS]
                    keys = [r["custom_id"] for r in chunk]
                    try:
                        batch = client.messages.batches.create(requests=chunk)
                    except Exception as exc:
                        kind, reason = classify_exception(exc, secret)
                        for k in keys:
                            self.budget.settle(reserved.pop(k), 0.0)
                            state[k].failure = Grade.failed(kind, f"batch not created: {reason}")
                        continue
                    if self.cache is not None:  # saved before polling: a killed run resumes instead of paying twice
                        self.cache.save_batch(batch.id, keys, model=self.model, rubric=self.rubric_hash)
                    self.stats.add(batches_created=1)
                    created.append((batch.id, set(keys)))
                for batch_id, keys in created:
                    self._collect(client, batch_id, keys, pending, state, results, reserved, progress)
        for k in pending:
            if k not in results:
                failure = state[k].failure or Grade.failed("api_error", "no result for this item")
                results[k] = Grade.failed(
                    failure.error or "api_error", failure.reason, usage=state[k].usage, cost_usd=state[k].cost
                )
                if progress:
                    progress(1)
        return self._finish(results, calls)

    def _collect(
        self,
        client: Any,
        batch_id: str,
        keys: set[str],
        pending: dict[str, Call],
        state: dict[str, _Pending],
        results: dict[str, Grade],
        reserved: dict[str, float],
        progress: Progress | None,
    ) -> None:
        secret = self.api_key()
        delay, deadline = self.settings.poll_interval, time.monotonic() + self.settings.batch_timeout
        try:
            while client.messages.batches.retrieve(batch_id).processing_status != "ended":
                if time.monotonic() + delay > deadline:
                    for k in keys & pending.keys():
                        state[k].failure = Grade.failed(
                            "timeout", f"batch {batch_id} still processing; rerun the same command to resume it"
                        )
                        state[k].final = True
                    return
                time.sleep(delay)
                delay = min(delay * 2, self.settings.poll_max_interval)
            lines = list(client.messages.batches.results(batch_id))
        except anthropic.NotFoundError:  # a saved batch the API no longer knows: grade its items afresh
            if self.cache is not None:
                self.cache.mark_batch(batch_id, "lost")
            return
        except Exception as exc:  # the batch may still run: keep it resumable, do not pay for it twice
            kind, reason = classify_exception(exc, secret)
            for k in keys & pending.keys():
                state[k].failure = Grade.failed(kind, f"batch {batch_id}: {reason}; rerun to resume it")
                state[k].final = True
            return
        seen: set[str] = set()
        for line in lines:
            k = line.custom_id
            seen.add(k)
            res = line.result
            if res.type == "succeeded":
                u = Usage.from_api(res.message.usage)
                c = usage_cost(u, self.model, batch=True)
                self.stats.add_response(u, c, batch=True, cache_control=self.conv.cache_control)
                if k in reserved:
                    self.budget.settle(reserved[k], c)
                else:
                    self.budget.settle(0.0, c)
                text = reply_text(res.message)
                st = state.get(k)
                if st is not None:
                    st.usage, st.cost = st.usage + u, st.cost + c
                try:
                    score, reason = self.conv.fmt.parse(text)
                except ReplyError as e:
                    if st is not None and k not in results:
                        if st.retry is None:
                            self.stats.add(retries=1)
                            st.retry = (text, str(e))
                            st.failure = Grade.failed(e.kind, str(e))
                        else:  # already had its stricter retry
                            st.failure = Grade.failed(e.kind, f"{e} (also after a stricter retry)")
                            st.final = True
                    continue
                grade = Grade(score, reason, usage=st.usage if st else u, cost_usd=st.cost if st else c)
                self._store(k, grade)  # paid for: keep it even if this run no longer needs it
                if k in pending and k not in results:
                    results[k] = grade
                    if progress:
                        progress(1)
            else:
                if k in reserved:
                    self.budget.settle(reserved[k], 0.0)
                if k in state and k not in results:
                    if res.type == "errored":
                        err = getattr(res.error, "error", None)
                        etype = getattr(err, "type", None) or "api_error"
                        msg = getattr(err, "message", "") or ""
                        kind = _BATCH_ERROR_KINDS.get(etype, "api_error")
                        state[k].failure = Grade.failed(kind, f"batch item errored: {etype} {msg}".strip()[:300])
                    else:
                        state[k].failure = Grade.failed("batch_expired", f"batch item {res.type}")
        for k in (keys - seen) & pending.keys():
            state[k].failure = Grade.failed("api_error", f"missing from the results of batch {batch_id}")
        if self.cache is not None:
            self.cache.mark_batch(batch_id, "collected")


def _final(p: _Pending) -> bool:
    """A key that must not be resubmitted in this run."""
    return p.final or (p.failure is not None and p.failure.error in ("auth", "budget"))
