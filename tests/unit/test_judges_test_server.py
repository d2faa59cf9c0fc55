"""The scripted Anthropic server itself (reused by other tests, e.g. to drive the Claude Code CLI):
streaming SSE with text and tool_use blocks, error bodies, caching simulation, request recording."""

from __future__ import annotations

import anthropic
import pytest

from tests.support.anthropic_fixtures import anthropic_server, fake_key  # noqa: F401  (fixtures)
from tests.support.anthropic_server import Reply


def client(srv, key, **kw) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=key, base_url=srv.base_url, max_retries=0, **kw)


def test_stream_text_and_tool_use_blocks(anthropic_server, fake_key):
    anthropic_server.script(Reply.tool_use("get_weather", {"city": "Paris", "units": "celsius"}, text="Let me check."))
    c = client(anthropic_server, fake_key)
    with c.messages.stream(
        model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "Weather in Paris?"}]
    ) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    assert events[0] == "message_start" and "content_block_delta" in events
    assert final.stop_reason == "tool_use"
    text, tool = final.content
    assert text.text == "Let me check."
    assert (
        tool.type == "tool_use" and tool.name == "get_weather" and tool.input == {"city": "Paris", "units": "celsius"}
    )
    assert anthropic_server.message_requests[0].body["stream"] is True


def test_raw_sse_event_sequence(anthropic_server, fake_key):
    anthropic_server.script(Reply.text_reply("x" * 60))
    raw = client(anthropic_server, fake_key).messages.create(
        model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    types = [e.type for e in raw]
    assert types[0] == "message_start" and types[-2:] == ["message_delta", "message_stop"]
    assert types.count("content_block_start") == 1 and types.count("content_block_delta") == 3


def test_stream_error_event(anthropic_server, fake_key):
    anthropic_server.script(Reply(content=[{"type": "text", "text": "hi"}], stream_error="overloaded_error"))
    with pytest.raises(anthropic.APIStatusError):
        with client(anthropic_server, fake_key).messages.stream(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        ) as s:
            for _ in s:
                pass


def test_error_bodies_have_the_api_shape(anthropic_server, fake_key):
    anthropic_server.script(Reply.rate_limited(retry_after=2))
    with pytest.raises(anthropic.RateLimitError) as info:
        client(anthropic_server, fake_key).messages.create(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.body == {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your rate limit"},
    }
    assert info.value.response.headers["retry-after"] == "2"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK flags claude-sonnet-4-5's end-of-life date
def test_cache_simulation_and_count_tokens(anthropic_server, fake_key):
    c = client(anthropic_server, fake_key)
    system = [{"type": "text", "text": "rubric " * 800, "cache_control": {"type": "ephemeral"}}]  # ~1400 tokens
    kw = dict(max_tokens=5, system=system, messages=[{"role": "user", "content": "x"}])
    sonnet1 = c.messages.create(model="claude-sonnet-4-5", **kw).usage
    sonnet2 = c.messages.create(model="claude-sonnet-4-5", **kw).usage
    haiku = c.messages.create(model="claude-haiku-4-5", **kw).usage  # below Haiku 4.5's 4096 minimum
    assert sonnet1.cache_creation_input_tokens > 1000 and sonnet1.cache_read_input_tokens == 0
    assert sonnet2.cache_read_input_tokens == sonnet1.cache_creation_input_tokens
    assert haiku.cache_creation_input_tokens == haiku.cache_read_input_tokens == 0 and haiku.input_tokens > 1000
    n = c.messages.count_tokens(model="claude-haiku-4-5", messages=[{"role": "user", "content": "hello world"}])
    assert n.input_tokens > 0


def test_requests_are_recorded_and_unknown_routes_404(anthropic_server, fake_key):
    c = client(anthropic_server, fake_key)
    with pytest.raises(anthropic.NotFoundError):
        c.messages.batches.retrieve("msgbatch_nope")
    (req,) = anthropic_server.requests
    assert req.method == "GET" and req.path == "/v1/messages/batches/msgbatch_nope"
