"""Message Batches path against the local server: partial failures, regrade of failed items only,
polling backoff, batch pricing, grade cache and budget."""

from __future__ import annotations

import pytest

from rl_agent.kit.judges.base import GradeItem
from rl_agent.kit.judges.claude import ClaudeJudge
from rl_agent.kit.judges.cost import usage_cost
from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (fixtures)
from tests.support.anthropic_server import AnthropicTestServer, default_score


def make(srv: AnthropicTestServer, key: str, **kw) -> ClaudeJudge:
    kw.setdefault("poll_interval", 0.01)
    return ClaudeJudge(api_key=key, base_url=srv.base_url, timeout=5.0, **kw)


def test_batch_with_partial_failures_regrades_only_the_failed(anthropic_server, fake_key):
    outputs = [
        "Paris.",
        "Four.",
        "Blue whale.",
        "It is 391.",
        "boom @@batch-error@@",
        "wobbly @@batch-flaky@@",
        "chatty @@prose-once@@",
        "cut @@badjson@@",
    ]
    judge = make(anthropic_server, fake_key)
    grades = judge.grade_batch([GradeItem("q", o) for o in outputs])

    batches = list(anthropic_server.batches.values())
    assert [len(b) for b in batches] == [8, 4]
    regraded = {
        r["params"]["messages"][0]["content"].split("<output>\n")[1].split("\n</output>")[0]: r for r in batches[1]
    }
    assert set(regraded) == set(outputs[4:])
    # unusable replies are regraded with the stricter instruction; errored items are simply resent
    assert len(regraded["chatty @@prose-once@@"]["params"]["messages"]) == 3
    assert len(regraded["cut @@badjson@@"]["params"]["messages"]) == 3
    assert len(regraded["boom @@batch-error@@"]["params"]["messages"]) == 1

    by_output = dict(zip(outputs, grades))
    for o in outputs[:4] + ["wobbly @@batch-flaky@@", "chatty @@prose-once@@"]:
        assert by_output[o].ok and by_output[o].score == default_score(o)
    assert by_output["boom @@batch-error@@"].error == "api_error"
    assert by_output["cut @@badjson@@"].error == "malformed"
    assert all(g.score is None for g in grades if not g.ok)  # failures are never scored

    # batch pricing: 50% of the same usage at online prices
    g = by_output["Paris."]
    assert g.cost_usd == pytest.approx(usage_cost(g.usage, "claude-haiku-4-5", batch=True))
    stats = judge.stats.as_dict()
    assert stats["batches_created"] == 2 and stats["batch_requests"] == stats["requests"] == 12 - 3  # 3 errored
    assert stats["prompt_cache_reads"] >= 8  # the shared prefix is read from the prompt cache


def test_batch_polls_with_backoff(fake_key):
    with AnthropicTestServer(batch_polls=3) as srv:
        make(srv, fake_key, poll_interval=0.05).grade_batch([GradeItem("q", "a"), GradeItem("q", "b")])
        polls = [r.at for r in srv.requests if r.method == "GET" and r.path.count("/") == 4]
    gaps = [b - a for a, b in zip(polls, polls[1:])]
    assert len(polls) >= 4
    assert gaps[0] >= 0.045 and gaps[1] >= 0.09 and gaps[2] >= 0.18  # 0.05, 0.1, 0.2: doubling


def test_batch_uses_the_grade_cache(anthropic_server, fake_key, tmp_path):
    db = tmp_path / "g.sqlite3"
    items = [GradeItem("q", f"item {i}") for i in range(4)]
    make(anthropic_server, fake_key, cache=db).grade_batch(items)
    again = make(anthropic_server, fake_key, cache=db).grade_batch(items + [GradeItem("q", "new")])
    assert [len(b) for b in anthropic_server.batches.values()] == [4, 1]
    assert sum(g.cached for g in again) == 4


def test_batch_respects_the_budget(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key, max_cost=0.01)
    grades = judge.grade_batch([GradeItem("q", f"item {i}") for i in range(30)])
    sent = sum(len(b) for b in anthropic_server.batches.values())
    assert 0 < sent < 30
    assert sum(g.error == "budget" for g in grades) == 30 - sent
    assert judge.stats.cost_usd <= 0.01
