"""Group grading: one request grades the G completions of one prompt together (relative grading, as RULER).

Why: GRPO only uses a completion's score relative to the others of its group, so a judge that sees the whole
group at once can rank them consistently, and the rubric and the prompt are sent once per group instead of
once per completion. The request keeps the stable prefix (instructions + rubric) first, as the system prompt
with cache_control when it is long enough to be cached; the prompt comes once, then the distinct completions
in a seeded shuffled order under opaque ids (1..n by shown position). The order is recorded (`records`), so a
judge that favours a position can be seen, and the shuffle keeps that favour off any particular sample.

The reply is {"grades": [{"id", "score", "reason"}, ...]}, validated like a single grade: a wrong count, an
unknown or repeated id, or a bad score gets one stricter retry, then every completion of that group is a
failed grade (a missing reward, never a 0). Single-item grading (claude.py) stays for DPO, evaluation and
`rl-agent grade`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

from rl_agent.kit.judges.base import Grade, GradeItem, Usage
from rl_agent.kit.judges.cache import grade_key
from rl_agent.kit.judges.client import UNREADABLE_BODY, classify_exception, make_async_client, resolve_base_url
from rl_agent.kit.judges.cost import RunStats, usage_cost
from rl_agent.kit.judges.engine import ClaudeEngine, ClaudeSettings, run_sync
from rl_agent.kit.judges.prompts import load_calibration, load_rubric, neutralize, read_prompt, render
from rl_agent.kit.judges.wire import ReplyError, ReplyFormat, _json_object, _reason, reply_text

GROUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "grades": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "score": {"type": "number"}, "reason": {"type": "string"}},
                "required": ["id", "score", "reason"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["grades"],
    "additionalProperties": False,
}


def _no_single_parse(text: str) -> tuple[float, str]:
    raise TypeError("a group reply is parsed with the ids of its request (parse_group_reply)")


GROUP_FORMAT = ReplyFormat("group", GROUP_SCHEMA, "group_retry.md.j2", _no_single_parse)


def parse_group_reply(text: str, ids: Sequence[str]) -> dict[str, tuple[float, str]]:
    """{"grades": [{"id", "score", "reason"}]} -> {id: (score, reason)} for exactly `ids`, else ReplyError."""
    obj = _json_object(text)
    grades = obj.get("grades")
    if not isinstance(grades, list):
        raise ReplyError("malformed", 'the "grades" field was missing or not an array')
    if len(grades) != len(ids):
        raise ReplyError(
            "malformed", f"it graded {len(grades)} answers, but {len(ids)} were shown (ids {', '.join(ids)})"
        )
    out: dict[str, tuple[float, str]] = {}
    for g in grades:
        if not isinstance(g, dict):
            raise ReplyError("malformed", 'an entry of "grades" was not an object')
        gid = str(g.get("id", "")).strip()
        if gid not in ids:
            raise ReplyError("malformed", f"it graded an answer id {gid!r} that was not shown (ids {', '.join(ids)})")
        if gid in out:
            raise ReplyError("malformed", f"it graded the answer id {gid!r} twice")
        score = g.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
            raise ReplyError("malformed", f'the "score" of answer {gid} was missing or not a number')
        if not 0.0 <= score <= 1.0:
            raise ReplyError("out_of_range", f"the score {score} of answer {gid} was outside [0, 1]")
        out[gid] = (float(score), _reason(g))
    return out


@dataclass(frozen=True)
class GroupRecord:
    """One graded group: which distinct answer was shown at each position, and its score there (None: failed)."""

    prompt_sha: str
    shown: list[int]  # shown[position] = index of the answer (in first-seen order of the group's distinct answers)
    scores: list[float | None]  # by shown position
    error: str | None = None


def _sha(*parts: str | None) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


class GroupJudge:
    """Grades groups of completions of one prompt in one request each (online, concurrency-limited, cached,
    cost-capped through ClaudeEngine's settings, budget and counters).

    rubric: as ClaudeJudge. calibration: False (default here; a task's rubric has no bundled examples), True
    (bundled) or a JSONL path, shown after the rubric in the cached prefix. seed: the shuffle's seed.
    log_path: a JSONL file each group's record is appended to. Other options are ClaudeSettings fields.
    """

    def __init__(
        self,
        *,
        rubric: str | Path | None = None,
        calibration: bool | str | Path = False,
        seed: int = 0,
        log_path: str | Path | None = None,
        **options: Any,
    ) -> None:
        self.rubric_name, rubric_text = load_rubric(rubric)
        examples = [] if calibration is False else load_calibration(None if calibration is True else calibration)
        system = render("group_system.md.j2", rubric=neutralize(rubric_text))
        if examples:  # the same graded examples ClaudeJudge shows, after the rubric (still the stable prefix)
            system += "\n" + "".join(
                f"<example>\n<prompt>{neutralize(e.prompt)}</prompt>\n<output>{neutralize(e.output)}</output>\n"
                f"<grade>{json.dumps({'score': e.score, 'reason': e.reason})}</grade>\n</example>\n"
                for e in examples
            )
        self.settings = ClaudeSettings(**options)
        self.settings.max_tokens = max(self.settings.max_tokens, 1024)  # G reasons in one reply
        self.engine = ClaudeEngine(self.settings, system, GROUP_FORMAT)
        self.name = f"claude-group:{self.settings.model}"
        self.seed = seed
        self.log_path = Path(log_path) if log_path else None
        self.records: list[GroupRecord] = []
        self._lock = threading.Lock()

    @property
    def stats(self) -> RunStats:
        return self.engine.stats

    @property
    def cache_note(self) -> str:
        return self.engine.cache_note

    def require_key(self) -> None:
        self.engine.api_key()

    def close(self) -> None:
        self.engine.close()

    # --- one group ---------------------------------------------------------------------------------
    def _plan(self, items: Sequence[GradeItem]) -> tuple[list[str], list[int], str, list[str]]:
        """(distinct outputs, shown order, user text, ids). Identical completions are shown once and share a
        score; the order is a seeded shuffle of the group's content, so a retry or a re-run shows the same one."""
        distinct = list(dict.fromkeys(it.output for it in items))
        order = list(range(len(distinct)))
        random.Random(_sha(str(self.seed), items[0].prompt, *sorted(distinct))).shuffle(order)
        ids = [str(i + 1) for i in range(len(order))]
        ref = items[0].reference
        text = render(
            "group_item.md.j2",
            prompt=neutralize(items[0].prompt),
            reference=None if ref is None else neutralize(ref),
            answers=[{"id": ids[pos], "text": neutralize(distinct[k])} for pos, k in enumerate(order)],
        )
        return distinct, order, text, ids

    def _keys(self, items: Sequence[GradeItem], distinct: list[str]) -> list[str]:
        """Cache keys: a group grade is relative, so it is keyed by the whole group's distinct answers."""
        group = _sha(*sorted(distinct))
        return [
            grade_key(self.settings.model, self.engine.rubric_hash, "group", group, it.prompt, it.output, it.reference)
            for it in items
        ]

    async def _grade_group(self, client: Any, secret: str, items: Sequence[GradeItem]) -> list[Grade]:
        distinct, order, text, ids = self._plan(items)
        keys = self._keys(items, distinct)
        cache = self.engine.cache
        found = cache.get_many(keys) if cache else {}
        if len(found) == len(set(keys)):
            self.stats.add(grade_cache_hits=len(items))
            return [found[k] for k in keys]
        by_pos, failure, usage, cost = await self._ask(client, secret, text, ids)
        scores = [by_pos[pos][0] if by_pos else None for pos in range(len(order))]
        self._record(GroupRecord(_sha(items[0].prompt)[:16], order, scores, failure.error if failure else None))
        share = len(items)
        grades: list[Grade] = []
        for it, key in zip(items, keys):
            each = dict(usage=Usage(), cost_usd=cost / share)
            if failure is not None:
                grades.append(Grade.failed(failure.error or "api_error", failure.reason, **each))
                self.stats.fail(failure.error or "api_error")
                continue
            pos = order.index(distinct.index(it.output))
            grade = Grade(by_pos[pos][0], by_pos[pos][1], **each)
            if cache is not None:
                cache.put(key, grade, model=self.settings.model, rubric=self.engine.rubric_hash)
            grades.append(grade)
        return grades

    async def _ask(
        self, client: Any, secret: str, text: str, ids: list[str]
    ) -> tuple[list[tuple[float, str]] | None, Grade | None, Usage, float]:
        """(scores by shown position, or None with the failure), the usage and cost of this group's requests."""
        eng, usage, cost = self.engine, Usage(), 0.0
        retry: tuple[str, str] | None = None
        last: ReplyError | None = None
        for attempt in range(2):
            if eng._auth_failed:
                return None, Grade.failed("auth", "not sent: the API rejected the key"), usage, cost
            params = eng.conv.params(text, retry)
            reserved = eng._reservation(params, batch=False)
            if not eng.budget.reserve(reserved):
                return None, Grade.failed("budget", "not graded: --max-cost reached"), usage, cost
            try:
                message = await client.messages.create(**params)
            except Exception as exc:  # classified; CancelledError is not an Exception
                eng.budget.settle(reserved, 0.0)
                kind, reason = classify_exception(exc, secret)
                if kind == "auth":
                    eng._auth_failed = True
                if reason == UNREADABLE_BODY and attempt == 0:
                    continue
                return None, Grade.failed(kind, reason), usage, cost
            u = Usage.from_api(message.usage)
            c = usage_cost(u, eng.model)
            eng.budget.settle(reserved, c)
            eng.stats.add_response(u, c, batch=False, cache_control=eng.conv.cache_control)
            usage, cost = usage + u, cost + c
            reply = reply_text(message)
            try:
                parsed = parse_group_reply(reply, ids)
            except ReplyError as e:
                last, retry = e, (reply, str(e))
                if attempt == 0:
                    eng.stats.add(retries=1)
                continue
            return [parsed[i] for i in ids], None, usage, cost
        if last is None:
            return None, Grade.failed("api_error", f"{UNREADABLE_BODY} (twice)"), usage, cost
        return None, Grade.failed(last.kind, f"{last} (also after a stricter retry)"), usage, cost

    def _record(self, record: GroupRecord) -> None:
        with self._lock:
            self.records.append(record)
            if self.log_path is not None:
                self.log_path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.log_path, "a", encoding="utf-8") as f:
                    f.write(json.dumps(asdict(record)) + "\n")

    # --- many groups -------------------------------------------------------------------------------
    def grade_groups(self, groups: Sequence[Sequence[GradeItem]]) -> list[list[Grade]]:
        return run_sync(self.agrade_groups(groups))

    async def agrade_groups(self, groups: Sequence[Sequence[GradeItem]]) -> list[list[Grade]]:
        """Each group's grades, in its items' order; the groups are graded concurrently."""
        for g in groups:
            if not g or len({(it.prompt, it.reference) for it in g}) != 1:
                raise ValueError("a group holds one or more completions of one prompt (and one reference)")
        secret = self.engine.api_key()
        sem = asyncio.Semaphore(max(1, self.settings.concurrency))
        client = make_async_client(
            secret, resolve_base_url(self.settings.base_url), self.settings.timeout, self.settings.max_retries
        )
        async with client:

            async def one(g: Sequence[GradeItem]) -> list[Grade]:
                async with sem:
                    return await self._grade_group(client, secret, g)

            return list(await asyncio.gather(*(one(g) for g in groups)))

    def grade_many(self, items: Sequence[GradeItem]) -> list[Grade]:
        """The Judge interface: items are grouped by (prompt, reference), graded per group, returned in order."""
        groups: dict[tuple[str, str | None], list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault((it.prompt, it.reference), []).append(i)
        index = list(groups.values())
        graded = self.grade_groups([[items[i] for i in idx] for idx in index])
        out: list[Grade | None] = [None] * len(items)
        for idx, grades in zip(index, graded):
            for i, g in zip(idx, grades):
                out[i] = g
        return out  # type: ignore[return-value]

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:
        return self.grade_many([GradeItem(prompt, output, reference)])[0]

    def position_means(self) -> list[float | None]:
        """Mean score by shown position over the groups this judge graded (see position_means)."""
        return position_means(self.records)


def position_means(records: Sequence[GroupRecord]) -> list[float | None]:
    """Mean score by shown position over graded groups: with the shuffle, a flat line says position is not
    rewarded (a judge favouring the first answer shows as a higher first value)."""
    sums: dict[int, list[float]] = {}
    for r in records:
        for pos, s in enumerate(r.scores):
            if s is not None:
                sums.setdefault(pos, []).append(s)
    width = max(sums, default=-1) + 1
    return [round(sum(sums[p]) / len(sums[p]), 4) if p in sums else None for p in range(width)]


def position_means_from_log(path: str | Path) -> list[float | None] | None:
    """position_means over a group log written by GroupJudge (every process's groups); None without one."""
    path = Path(path)
    if not path.is_file():
        return None
    return position_means(
        [GroupRecord(**json.loads(x)) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    )


def group_system_text() -> str:
    """The bundled group-grading instructions (for docs and tests)."""
    return read_prompt("group_system.md.j2")
