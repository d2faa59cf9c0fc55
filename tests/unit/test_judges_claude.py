"""The Claude judge on the real wire protocol: the real anthropic client against the local HTTP server."""

from __future__ import annotations

import asyncio
import time

import pytest

from rl_agent.kit.judges.base import GradeItem
from rl_agent.kit.judges.claude import ClaudeJudge
from rl_agent.kit.judges.client import MissingAPIKey
from rl_agent.kit.judges.cost import usage_cost
from rl_agent.kit.judges.factory import make_judge
from rl_agent.kit.judges.pairwise import PairwiseJudge
from rl_agent.kit.judges.reward import JudgeReward
from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (fixtures)
from tests.support.anthropic_server import AnthropicTestServer, Reply, default_score


def make(srv: AnthropicTestServer, key: str, **kw) -> ClaudeJudge:
    kw.setdefault("timeout", 5.0)
    return ClaudeJudge(api_key=key, base_url=srv.base_url, **kw)


def test_wire_format_rubric_first_item_last_structured_output(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key)
    g = judge.grade("Capital of France?", "Paris.", reference="Paris")
    assert g.ok and g.score == default_score("Paris.")
    (req,) = anthropic_server.message_requests
    sent_key = req.headers.get("x-api-key") or req.headers.get("authorization", "").removeprefix("Bearer ")
    assert sent_key == fake_key and "anthropic-version" in req.headers
    body = req.body
    assert body["model"] == "claude-haiku-4-5"
    system = body["system"]
    assert len(system) == 1 and "<rubric>" in system[0]["text"] and "<example>" in system[0]["text"]
    assert system[0]["cache_control"] == {"type": "ephemeral"}  # bundled calibration makes it long enough
    (msg,) = body["messages"]
    assert msg["role"] == "user" and "Paris." in msg["content"] and "<reference>" in msg["content"]
    assert "Capital of France?" not in system[0]["text"]  # the graded item never enters the cached prefix
    fmt = body["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["required"] == ["score", "reason"]


def test_short_prefix_is_not_marked_for_caching_and_says_so(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key, calibration=False)
    assert not judge.prompt_cache
    assert "off" in judge.cache_note and "4096" in judge.cache_note
    judge.grade("q", "a")
    assert "cache_control" not in anthropic_server.message_requests[0].body["system"][0]
    # sonnet-4-5's documented minimum is 1024 tokens: the same short rubric still does not reach it
    sonnet = make(anthropic_server, fake_key, calibration=False, model="claude-sonnet-4-5")
    assert "1024" in sonnet.cache_note


def test_prompt_cache_hits_on_repeat_and_hit_rate(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key, concurrency=1)
    grades = judge.grade_many([GradeItem("q", f"answer {i}") for i in range(5)])
    assert all(g.ok for g in grades)
    assert grades[0].usage.cache_creation_input_tokens > 0 and grades[0].usage.cache_read_input_tokens == 0
    assert all(g.usage.cache_read_input_tokens > 0 for g in grades[1:])
    stats = judge.stats.as_dict()
    assert stats["prompt_cache_reads"] == 4 and stats["prompt_cache_hit_rate"] == pytest.approx(0.8)
    # cost is computed from the returned usage: a cached read is ~10x cheaper than the write
    assert grades[1].cost_usd < grades[0].cost_usd / 5
    assert sum(g.cost_usd for g in grades) == pytest.approx(judge.stats.cost_usd)


def test_grade_cache_never_pays_twice(anthropic_server, fake_key, tmp_path):
    db = tmp_path / "grades.sqlite3"
    items = [GradeItem("q", "one"), GradeItem("q", "two"), GradeItem("q", "one")]
    first = make(anthropic_server, fake_key, cache=db).grade_many(items)
    assert len(anthropic_server.message_requests) == 2  # the duplicate is asked once
    again = make(anthropic_server, fake_key, cache=db).grade_many(items)
    assert len(anthropic_server.message_requests) == 2
    assert [g.score for g in again] == [g.score for g in first] and all(g.cached and g.cost_usd == 0 for g in again)
    # a different rubric is a different key
    other = tmp_path / "rubric.md"
    other.write_text("Score 1 if the answer is in French.")
    make(anthropic_server, fake_key, cache=db, rubric=str(other)).grade("q", "one")
    assert len(anthropic_server.message_requests) == 3


def test_429_with_retry_after_is_honoured(anthropic_server, fake_key):
    anthropic_server.script(Reply.rate_limited(retry_after=0.4))
    t0 = time.monotonic()
    g = make(anthropic_server, fake_key).grade("q", "fine")
    assert g.ok and time.monotonic() - t0 >= 0.4
    assert len(anthropic_server.message_requests) == 2


def test_429_that_persists_is_a_rate_limit_failure(anthropic_server, fake_key):
    anthropic_server.script(*[Reply.rate_limited(retry_after=0.01)] * 3)
    g = make(anthropic_server, fake_key, max_retries=2).grade("q", "fine")
    assert g.score is None and g.error == "rate_limit" and "429" in g.reason


@pytest.mark.parametrize("reply, kind", [(Reply.overloaded, "overloaded"), (Reply.server_error, "api_error")])
def test_529_and_500_are_retried_then_recorded(anthropic_server, fake_key, reply, kind):
    anthropic_server.script(_quick(reply()))
    g = make(anthropic_server, fake_key).grade("q", "fine")
    assert g.ok and len(anthropic_server.message_requests) == 2
    anthropic_server.script(_quick(reply()), _quick(reply()))
    g = make(anthropic_server, fake_key, max_retries=1).grade("q", "other")
    assert g.score is None and g.error == kind


def _quick(r: Reply) -> Reply:
    r.retry_after = 0.01  # keep the SDK's backoff short in tests
    return r


def test_timeout_is_recorded_not_scored(anthropic_server, fake_key):
    anthropic_server.script(Reply.slow(3.0))
    t0 = time.monotonic()
    g = make(anthropic_server, fake_key, timeout=0.3, max_retries=0).grade("q", "fine")
    assert g.score is None and g.error == "timeout"
    assert time.monotonic() - t0 < 2.5


def test_prose_reply_gets_one_stricter_retry(anthropic_server, fake_key):
    anthropic_server.script(Reply.text_reply("Looks good to me!"))
    g = make(anthropic_server, fake_key).grade("q", "fine answer")
    assert g.ok and g.score == default_score("fine answer")
    first, second = anthropic_server.message_requests
    msgs = second.body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[1]["content"] == "Looks good to me!" and "ONLY a JSON object" in msgs[2]["content"]
    assert second.body["system"] == first.body["system"]  # the cached prefix is untouched by the retry
    assert g.usage.output_tokens > 0 and g.cost_usd > 0  # both attempts are paid and counted


@pytest.mark.parametrize(
    "marker, kind", [("@@prose@@", "malformed"), ("@@badjson@@", "malformed"), ("@@range@@", "out_of_range")]
)
def test_unusable_replies_become_failed_grades_never_zero(anthropic_server, fake_key, marker, kind):
    judge = make(anthropic_server, fake_key)
    g = judge.grade("q", f"answer {marker}")
    assert g.score is None and g.error == kind and not g.ok
    assert len(anthropic_server.message_requests) == 2  # exactly one retry
    assert judge.stats.failures[kind] == 1


def test_malformed_http_body_is_retried_once(anthropic_server, fake_key):
    anthropic_server.script(Reply.malformed())
    g = make(anthropic_server, fake_key).grade("q", "fine")
    assert g.ok and len(anthropic_server.message_requests) == 2
    anthropic_server.script(Reply.malformed(), Reply.malformed())
    g = make(anthropic_server, fake_key).grade("q", "again")
    assert g.error == "api_error" and "unreadable" in g.reason


def test_budget_cap_stops_cleanly_and_keeps_what_was_graded(anthropic_server, fake_key, tmp_path):
    db = tmp_path / "g.sqlite3"
    judge = make(anthropic_server, fake_key, concurrency=1, max_cost=0.02, cache=db)
    grades = judge.grade_many([GradeItem("q", f"answer {i}") for i in range(40)])
    ok = [g for g in grades if g.ok]
    stopped = [g for g in grades if g.error == "budget"]
    assert ok and stopped and len(ok) + len(stopped) == 40
    assert judge.stats.cost_usd <= 0.02
    assert len(anthropic_server.message_requests) == len(ok)  # nothing sent for budget-stopped items
    with ClaudeJudge(api_key=fake_key, base_url=anthropic_server.base_url, cache=db).engine.cache as c:
        assert len(c) == len(ok)  # graded items are kept


def _max_overlap(times: list[float], window: float) -> int:
    """Most request arrivals inside any window shorter than the server latency: requests in flight together."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


def test_concurrency_is_limited_by_the_semaphore(fake_key):
    latency = 0.5
    with AnthropicTestServer(latency=latency) as srv:
        make(srv, fake_key, concurrency=2).grade_many([GradeItem("q", f"b{i}") for i in range(6)])
        limited = [r.at for r in srv.message_requests]
        srv.reset()
        make(srv, fake_key, concurrency=8).grade_many([GradeItem("q", f"a{i}") for i in range(8)])
        parallel = [r.at for r in srv.message_requests]
    # a slot frees only after a reply, which takes >= latency: never more than 2 arrivals per window
    assert _max_overlap(limited, latency * 0.9) == 2
    assert max(limited) - min(limited) >= 2 * latency * 0.95  # 6 items, 2 at a time: 3 waves
    assert _max_overlap(parallel, latency * 0.9) >= 5  # (8 when the machine is idle)


def test_async_api_from_a_running_loop(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key)

    async def main():
        a = await judge.agrade_many([GradeItem("q", "x y z")])
        b = judge.grade_many([GradeItem("q", "p q")])  # the sync wrapper also works inside a loop
        return a, b

    a, b = asyncio.run(main())
    assert a[0].score == default_score("x y z") and b[0].score == default_score("p q")


def test_reward_wrapper_on_the_claude_judge(anthropic_server, fake_key):
    judge = make_judge("claude", api_key=fake_key, base_url=anthropic_server.base_url, timeout=5.0)
    reward = JudgeReward(judge)
    scores = reward(prompts=["q"] * 3, completions=["good", "bad @@prose@@", "fine @@range@@"])
    assert scores == [default_score("good"), None, None]
    assert reward.stats.failures == {"malformed": 1, "out_of_range": 1}
    assert reward.stats.cost_usd > 0


def test_auth_error_is_reported_without_the_key(fake_key):
    with AnthropicTestServer(api_key="sk-ant-test-the-right-one") as srv:
        judge = make(srv, fake_key)
        grades = judge.grade_many([GradeItem("q", "a"), GradeItem("q", "b")])
        assert all(g.error == "auth" for g in grades)
        assert all(fake_key not in g.reason for g in grades)


def test_error_text_echoing_the_key_is_redacted(anthropic_server, fake_key):
    anthropic_server.script(Reply.error(400, "invalid_request_error", f"bad header x-api-key: {fake_key}"))
    g = make(anthropic_server, fake_key).grade("q", "a")
    assert g.error == "api_error" and fake_key not in g.reason and "[REDACTED]" in g.reason


def test_missing_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    judge = ClaudeJudge()
    with pytest.raises(MissingAPIKey, match="--judge terse"):
        judge.require_key()


def test_base_url_from_environment(anthropic_server, fake_key, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake_key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_server.base_url)
    assert ClaudeJudge().grade("q", "hi").ok
    assert len(anthropic_server.message_requests) == 1


def test_pairwise_asks_both_orders_and_cancels_position_bias(anthropic_server, fake_key):
    judge = PairwiseJudge(api_key=fake_key, base_url=anthropic_server.base_url)
    g = judge.compare("q", "short", "a much longer answer with many many words")
    assert g.ok and g.score == 1.0
    contents = [r.body["messages"][0]["content"] for r in anthropic_server.message_requests]
    # one request per order; the two are sent concurrently, so either may arrive first
    assert sorted(c.index("short") < c.index("much longer") for c in contents) == [False, True]
    # a judge that always picks the first position learns nothing: 0.5
    anthropic_server.script(
        Reply.text_reply('{"winner": "A", "reason": "first"}'), Reply.text_reply('{"winner": "A", "reason": "first"}')
    )
    biased = judge.compare("q2", "x", "y")
    assert biased.score == 0.5 and "position bias" in biased.reason
    wr = judge.win_rate(["p1", "p2"], before=["a long rambling answer here", "ok"], after=["ok", "ok"])
    assert (wr.wins, wr.losses, wr.ties, wr.failed) == (1, 0, 1, 0) and wr.rate == 0.75


def test_cost_accounting_matches_price_table():
    from rl_agent.kit.judges.base import Usage

    u = Usage(1_000_000, 1_000_000, 1_000_000, 1_000_000)
    assert usage_cost(u, "claude-haiku-4-5") == pytest.approx(1 + 1.25 + 0.1 + 5)
    assert usage_cost(u, "claude-haiku-4-5-20251001", batch=True) == pytest.approx((1 + 1.25 + 0.1 + 5) / 2)
    assert usage_cost(Usage(10**6, 0, 0, 10**6), "claude-sonnet-4-5") == pytest.approx(18)
    assert usage_cost(Usage(10**6, 0, 0, 10**6), "claude-opus-4-5") == pytest.approx(30)


def test_count_tokens_endpoint_measures_the_prefix(anthropic_server, fake_key):
    judge = make(anthropic_server, fake_key)
    estimated = judge.engine.prefix_tokens
    counted = judge.count_prefix_tokens()
    (req,) = anthropic_server.requests_to("/v1/messages/count_tokens", "POST")
    assert req.body["system"][0]["text"] == judge.engine.conv.system_text
    assert counted > estimated and "counted" in judge.cache_note  # the server adds the user turn's tokens
    assert judge.prompt_cache == (counted >= 4096)
