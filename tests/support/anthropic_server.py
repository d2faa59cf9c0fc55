"""A scripted Anthropic API server on 127.0.0.1 for tests: real HTTP, stdlib only, real wire shapes.

Point the real `anthropic` client (or the Claude Code CLI) at it through `base_url` /
`ANTHROPIC_BASE_URL`:

    with AnthropicTestServer() as srv:
        client = anthropic.Anthropic(api_key="sk-ant-test-...", base_url=srv.base_url)
        srv.script(Reply.rate_limited(retry_after=0.05), Reply.text_reply('{"score": 1, "reason": "ok"}'))
        client.messages.create(...)
        srv.requests          # every request: method, path, headers, parsed body

Endpoints: POST /v1/messages (JSON, or SSE when `"stream": true`), POST /v1/messages/count_tokens,
POST /v1/messages/batches, GET /v1/messages/batches[/{id}[/results]], POST .../{id}/cancel.

Behaviour of /v1/messages: the next scripted Reply if the queue is not empty, otherwise
`srv.responder(body)` (default: `default_responder`, a deterministic grader, see below).
Usage is reported like the real API, with prompt caching simulated: the prefix up to the last
`cache_control` block (or the whole prompt with top-level `cache_control`) is cached when it reaches the
model's minimum (`srv.min_cacheable`); the first request reports cache_creation_input_tokens, later ones
cache_read_input_tokens. Tokens are estimated as ceil(chars / 4).

Default responder (grading): reads the text inside <output>...</output> of the last user message (or the
whole text) and replies {"score": default_score(text), "reason": ...}. Markers in that text change it:
@@prose@@ -> prose reply, @@badjson@@ -> truncated JSON, @@range@@ -> score 7, @@batch-error@@ -> the
item errors inside a batch, @@batch-flaky@@ -> errors the first time inside a batch only,
@@batch-expired@@ -> the batch item expires, @@prose-once@@ -> prose the first time that output is seen. With
<answer_a>/<answer_b> it judges a pair: {"winner": "A"|"B"|"tie"} preferring the higher default_score. With
<answer id="..."> blocks (group grading) it grades each by default_score: {"grades": [{"id", "score", "reason"}]}
(@@group-short@@ leaves one out, @@group-badid@@ names an id that was not shown).

Run standalone (used by bench/grading.py): `python tests/support/anthropic_server.py --port 0 --latency 0.2`
prints the base URL on the first line and serves until killed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import itertools
import json
import math
import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

# Minimum cacheable prefix per model family (tokens), as documented for prompt caching.
DEFAULT_MIN_CACHEABLE = {"claude-haiku-4-5": 4096, "claude-opus-4-5": 4096, "claude-sonnet-4-5": 1024}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def default_score(output: str) -> float:
    """Deterministic stand-in for a grader: short answers score high, each extra word costs 0.05."""
    words = len(output.split())
    return round(max(0.0, min(1.0, 1.0 - 0.05 * max(0, words - 2))), 4)


@dataclass
class Reply:
    """One scripted behaviour for /v1/messages. Build with the classmethods; fields compose."""

    content: list[dict[str, Any]] | None = None  # text / tool_use blocks of a 200 reply
    status: int = 200
    error_type: str | None = None  # error body {"type":"error","error":{"type":...}} when status != 200
    error_message: str = ""
    retry_after: float | None = None  # retry-after header (seconds)
    delay: float = 0.0  # seconds to wait before answering (drives client timeouts)
    raw_body: bytes | None = None  # sent verbatim with `status` (a malformed body)
    stop_reason: str | None = None  # default: "tool_use" when a tool_use block is present, else "end_turn"
    usage: dict[str, int] | None = None  # override the simulated usage
    headers: dict[str, str] = field(default_factory=dict)
    stream_error: str | None = None  # SSE only: send an `error` event of this type after message_start

    @classmethod
    def text_reply(cls, text: str, **kw: Any) -> Reply:
        return cls(content=[{"type": "text", "text": text}], **kw)

    @classmethod
    def tool_use(cls, name: str, input: dict[str, Any], *, text: str | None = None, id: str | None = None) -> Reply:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks.append({"type": "tool_use", "id": id or f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": input})
        return cls(content=blocks)

    @classmethod
    def error(cls, status: int, error_type: str | None = None, message: str = "", **kw: Any) -> Reply:
        etype = error_type or ERROR_TYPES.get(status, "api_error")
        return cls(status=status, error_type=etype, error_message=message or etype.replace("_", " "), **kw)

    @classmethod
    def rate_limited(cls, retry_after: float = 0.05) -> Reply:
        return cls.error(
            429, "rate_limit_error", "Number of request tokens has exceeded your rate limit", retry_after=retry_after
        )

    @classmethod
    def overloaded(cls) -> Reply:
        return cls.error(529, "overloaded_error", "Overloaded")

    @classmethod
    def server_error(cls) -> Reply:
        return cls.error(500, "api_error", "Internal server error")

    @classmethod
    def slow(cls, delay: float, then: Reply | None = None) -> Reply:
        base = then or cls.text_reply('{"score": 0.5, "reason": "slow"}')
        base.delay = delay
        return base

    @classmethod
    def malformed(cls, body: bytes = b'{"id": "msg_broken", "type": "mess', status: int = 200) -> Reply:
        return cls(status=status, raw_body=body)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    raw: bytes
    at: float


def _now_iso(offset: timedelta = timedelta()) -> str:
    return (datetime.now(timezone.utc) + offset).isoformat().replace("+00:00", "Z")


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                out.append(block.get("text", ""))
            elif block.get("type") in ("tool_use", "tool_result"):
                out.append(json.dumps(block.get("input", block.get("content", "")), sort_keys=True))
    return out


def last_user_text(body: dict[str, Any]) -> str:
    for msg in reversed(body.get("messages", [])):
        if msg.get("role") == "user":
            return "\n".join(_texts(msg.get("content")))
    return ""


def _between(text: str, tag: str) -> str | None:
    m = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return m.group(1) if m else None


def _last_output(body: dict[str, Any]) -> str | None:
    """The graded text: inside <output> of the latest user turn that has one (a retry turn has none)."""
    for msg in reversed(body.get("messages", [])):
        if msg.get("role") == "user":
            found = _between("\n".join(_texts(msg.get("content"))), "output")
            if found is not None:
                return found
    return None


_ANSWER = re.compile(r'<answer id="([^"]+)">\n?(.*?)\n?</answer>', re.DOTALL)


def group_answers(text: str) -> list[tuple[str, str]]:
    """(id, text) of each <answer id="..."> block of a group-grading request, in shown order."""
    return _ANSWER.findall(text)


def group_reply(answers: list[tuple[str, str]], score: Callable[[str], float] = None) -> Reply:
    """{"grades": [...]} scoring each answer by `score` (default_score); markers in an answer break it:
    @@group-short@@ -> one grade left out, @@group-badid@@ -> an id that was not shown."""
    score = score or default_score
    grades = [{"id": i, "score": score(t), "reason": f"{len(t.split())} words"} for i, t in answers]
    joined = " ".join(t for _, t in answers)
    if "@@group-short@@" in joined:
        grades = grades[:-1]
    if "@@group-badid@@" in joined:
        grades[0]["id"] = "99"
    return Reply.text_reply(json.dumps({"grades": grades}))


def default_responder(body: dict[str, Any]) -> Reply:
    """Deterministic grader / pairwise judge, steered by markers in the graded text (see module doc)."""
    text = last_user_text(body)
    a, b = _between(text, "answer_a"), _between(text, "answer_b")
    if a is not None and b is not None:
        sa, sb = default_score(a), default_score(b)
        winner = "A" if sa > sb else "B" if sb > sa else "tie"
        return Reply.text_reply(json.dumps({"winner": winner, "reason": f"A {sa} vs B {sb}"}))
    answers = next(
        (
            found
            for msg in reversed(body.get("messages", []))
            if msg.get("role") == "user"
            for found in [group_answers("\n".join(_texts(msg.get("content"))))]
            if found
        ),
        [],
    )
    if answers:
        return group_reply(answers)
    output = _last_output(body)
    output = text if output is None else output
    if "@@prose@@" in output:
        return Reply.text_reply("This answer looks fine to me; I would give it a fairly good mark overall.")
    if "@@badjson@@" in output:
        return Reply.text_reply('{"score": 0.5, "reason": "cut off')
    if "@@range@@" in output:
        return Reply.text_reply('{"score": 7, "reason": "on a scale of ten"}')
    score = default_score(output)
    return Reply.text_reply(json.dumps({"score": score, "reason": f"{len(output.split())} words"}))


class _Batch:
    def __init__(self, batch_id: str, requests: list[dict[str, Any]]):
        self.id = batch_id
        self.requests = requests
        self.created_at = _now_iso()
        self.expires_at = _now_iso(timedelta(hours=24))
        self.polls = 0
        self.status = "in_progress"
        self.ended_at: str | None = None
        self.cancel_initiated_at: str | None = None
        self.results: list[dict[str, Any]] = []


class AnthropicTestServer:
    """The server. Use as a context manager; see the module docstring for the behaviours."""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        batch_polls: int = 1,
        api_key: str | None = None,
        responder: Callable[[dict[str, Any]], Reply] = default_responder,
        min_cacheable: dict[str, int] | int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = True,
    ) -> None:
        self.latency = latency  # added to every /v1/messages reply
        self.batch_polls = batch_polls  # retrieves reporting in_progress before a batch ends
        self.hold_batches = False  # True: batches stay in_progress until set back to False
        self.api_key = api_key  # when set, other keys get 401 authentication_error
        self.responder = responder
        self.min_cacheable: dict[str, int] | int = DEFAULT_MIN_CACHEABLE if min_cacheable is None else min_cacheable
        self.record = record
        self._lock = threading.RLock()
        self._queue: collections.deque[Reply] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._cache_seen: set[str] = set()
        self._batch_flaky_seen: set[str] = set()
        self._once_seen: set[str] = set()
        self._batches: dict[str, _Batch] = {}
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AnthropicTestServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> AnthropicTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting and inspection --------------------------------------------------------------------
    def script(self, *replies: Reply) -> None:
        """Queue behaviours for the next /v1/messages requests (FIFO); the responder serves the rest."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending_script(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    @property
    def message_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/v1/messages", "POST")

    @property
    def batches(self) -> dict[str, list[dict[str, Any]]]:
        """Batch id -> the requests it was created with."""
        with self._lock:
            return {b.id: b.requests for b in self._batches.values()}

    def reset(self) -> None:
        """Forget requests, the script, the simulated prompt cache and batches."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._cache_seen.clear()
            self._batch_flaky_seen.clear()
            self._once_seen.clear()
            self._batches.clear()

    # simulation ----------------------------------------------------------------------------------
    def _min_for(self, model: str) -> int:
        if isinstance(self.min_cacheable, int):
            return self.min_cacheable
        for prefix, n in self.min_cacheable.items():
            if model.startswith(prefix):
                return n
        return 1024

    def usage_for(self, body: dict[str, Any], output_text: str) -> dict[str, int]:
        """Usage with simulated prompt caching (see module doc)."""
        blocks: list[tuple[str, bool]] = []  # (text, has cache_control) in cache order: tools, system, messages
        for tool in body.get("tools") or []:
            blocks.append((json.dumps(tool, sort_keys=True), "cache_control" in tool))
        system = body.get("system")
        if isinstance(system, str):
            blocks.append((system, False))
        else:
            for blk in system or []:
                blocks.append(("\n".join(_texts([blk])), "cache_control" in blk))
        for msg in body.get("messages", []):
            content = msg.get("content")
            if isinstance(content, str):
                blocks.append((content, False))
            else:
                for blk in content or []:
                    blocks.append(("\n".join(_texts([blk])), isinstance(blk, dict) and "cache_control" in blk))
        total = sum(estimate_tokens(t) for t, _ in blocks) + 8 * len(body.get("messages", []))
        marks = [i for i, (_, cc) in enumerate(blocks) if cc]
        if body.get("cache_control") and blocks:
            marks.append(len(blocks) - 1)
        creation = read = 0
        if marks:
            prefix_blocks = blocks[: max(marks) + 1]
            prefix_tokens = sum(estimate_tokens(t) for t, _ in prefix_blocks)
            if prefix_tokens >= self._min_for(str(body.get("model", ""))):
                key = hashlib.sha256(
                    (str(body.get("model")) + "\x00".join(t for t, _ in prefix_blocks)).encode()
                ).hexdigest()
                with self._lock:
                    hit = key in self._cache_seen
                    self._cache_seen.add(key)
                if hit:
                    read = prefix_tokens
                else:
                    creation = prefix_tokens
        return {
            "input_tokens": max(1, total - creation - read),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "output_tokens": max(1, estimate_tokens(output_text)),
        }

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return self._respond(body)

    def _respond(self, body: dict[str, Any]) -> Reply:
        """The responder, plus @@prose-once@@: prose the first time an item is seen, graded afterwards."""
        output = _last_output(body) or ""
        if "@@prose-once@@" in output:
            with self._lock:
                first = output not in self._once_seen
                self._once_seen.add(output)
            if first:
                return Reply.text_reply("Looks good to me overall, a solid answer.")
        return self.responder(body)

    def message_json(self, body: dict[str, Any], reply: Reply, *, service_tier: str = "standard") -> dict[str, Any]:
        content = reply.content if reply.content is not None else [{"type": "text", "text": ""}]
        out_text = "".join(
            b.get("text", "") if b.get("type") == "text" else json.dumps(b.get("input")) for b in content
        )
        usage = reply.usage or self.usage_for(body, out_text)
        usage = {**usage, "service_tier": service_tier}
        has_tool = any(b.get("type") == "tool_use" for b in content)
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-haiku-4-5"),
            "content": content,
            "stop_reason": reply.stop_reason or ("tool_use" if has_tool else "end_turn"),
            "stop_sequence": None,
            "usage": usage,
        }

    def _batch_item(self, req: dict[str, Any]) -> dict[str, Any]:
        params = req.get("params", {})
        text = last_user_text(params)
        custom_id = req.get("custom_id")
        flaky = "@@batch-flaky@@" in text and custom_id not in self._batch_flaky_seen
        if flaky:
            self._batch_flaky_seen.add(custom_id)
        if "@@batch-error@@" in text or flaky:
            err = {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
            return {"custom_id": custom_id, "result": {"type": "errored", "error": err}}
        if "@@batch-expired@@" in text:
            return {"custom_id": custom_id, "result": {"type": "expired"}}
        message = self.message_json(params, self._respond(params), service_tier="batch")
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}

    def _finish_batch(self, batch: _Batch, canceled: bool = False) -> None:
        if canceled:
            batch.results = [{"custom_id": r.get("custom_id"), "result": {"type": "canceled"}} for r in batch.requests]
        else:
            batch.results = [self._batch_item(r) for r in batch.requests]
        batch.status = "ended"
        batch.ended_at = _now_iso()

    def batch_json(self, batch: _Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.status == "ended":
            for r in batch.results:
                counts[r["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.requests)
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status,
            "request_counts": counts,
            "created_at": batch.created_at,
            "expires_at": batch.expires_at,
            "ended_at": batch.ended_at,
            "cancel_initiated_at": batch.cancel_initiated_at,
            "archived_at": None,
            "results_url": f"{self.base_url}/v1/messages/batches/{batch.id}/results"
            if batch.status == "ended"
            else None,
        }

    def sse_events(self, body: dict[str, Any], reply: Reply) -> Iterator[tuple[str, dict[str, Any]]]:
        """The standard Messages streaming event sequence for a reply."""
        msg = self.message_json(body, reply)
        usage = msg["usage"]
        start = {**msg, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        yield "message_start", {"type": "message_start", "message": start}
        if reply.stream_error:
            yield "error", {"type": "error", "error": {"type": reply.stream_error, "message": reply.stream_error}}
            return
        yield "ping", {"type": "ping"}
        for i, block in enumerate(msg["content"]):
            if block["type"] == "tool_use":
                yield (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": {**block, "input": {}}},
                )
                raw = json.dumps(block["input"])
                for j in range(0, len(raw), 16):
                    delta = {"type": "input_json_delta", "partial_json": raw[j : j + 16]}
                    yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}
            else:
                yield (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}},
                )
                text = block.get("text", "")
                for j in range(0, len(text), 24):
                    delta = {"type": "text_delta", "text": text[j : j + 24]}
                    yield "content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}
            yield "content_block_stop", {"type": "content_block_stop", "index": i}
        yield (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
        yield "message_stop", {"type": "message_stop"}


def _make_handler(srv: AnthropicTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid 40 ms ACK stalls

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        # plumbing ------------------------------------------------------------------------------
        def _send(
            self,
            status: int,
            payload: Any = None,
            *,
            raw: bytes | None = None,
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, etype: str, message: str, headers: dict[str, str] | None = None) -> None:
            self._send(status, {"type": "error", "error": {"type": etype, "message": message}}, headers=headers)

        def _read(self) -> tuple[bytes, Any]:
            n = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            if srv.record:
                rec = RecordedRequest(
                    self.command,
                    self.path.split("?")[0],
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    raw,
                    time.time(),
                )
                with srv._lock:
                    srv._requests.append(rec)
            return raw, body

        def _authorized(self) -> bool:
            key = self.headers.get("x-api-key") or (self.headers.get("authorization") or "").removeprefix("Bearer ")
            if not key or (srv.api_key is not None and key != srv.api_key):
                self._error(401, "authentication_error", "invalid x-api-key")
                return False
            return True

        # routes --------------------------------------------------------------------------------
        def do_GET(self) -> None:  # noqa: N802
            self._read()
            if not self._authorized():
                return
            path = self.path.split("?")[0].rstrip("/")
            parts = path.split("/")
            if path == "/v1/messages/batches":
                with srv._lock:
                    data = [srv.batch_json(b) for b in srv._batches.values()]
                self._send(
                    200,
                    {
                        "data": data,
                        "has_more": False,
                        "first_id": data[0]["id"] if data else None,
                        "last_id": data[-1]["id"] if data else None,
                    },
                )
                return
            if len(parts) >= 5 and parts[1:4] == ["v1", "messages", "batches"]:
                with srv._lock:
                    batch = srv._batches.get(parts[4])
                if batch is None:
                    self._error(404, "not_found_error", f"batch {parts[4]} not found")
                    return
                if len(parts) == 5:
                    with srv._lock:
                        if batch.status == "in_progress" and not srv.hold_batches:
                            batch.polls += 1
                            if batch.polls > srv.batch_polls:
                                srv._finish_batch(batch)
                        payload = srv.batch_json(batch)
                    self._send(200, payload)
                    return
                if len(parts) == 6 and parts[5] == "results":
                    if batch.status != "ended":
                        self._error(400, "invalid_request_error", "batch has not ended")
                        return
                    lines = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
                    self._send(200, raw=lines, content_type="application/binary")
                    return
            self._error(404, "not_found_error", f"no route GET {path}")

        def do_POST(self) -> None:  # noqa: N802
            raw, body = self._read()
            if not self._authorized():
                return
            path = self.path.split("?")[0].rstrip("/")
            if not isinstance(body, dict):
                self._error(400, "invalid_request_error", "body must be a JSON object")
                return
            if path == "/v1/messages":
                self._messages(body)
            elif path == "/v1/messages/count_tokens":
                usage = srv.usage_for(body, "")
                self._send(
                    200,
                    {
                        "input_tokens": usage["input_tokens"]
                        + usage["cache_creation_input_tokens"]
                        + usage["cache_read_input_tokens"]
                    },
                )
            elif path == "/v1/messages/batches":
                reqs = body.get("requests")
                if not isinstance(reqs, list) or not reqs:
                    self._error(400, "invalid_request_error", "requests: must be a non-empty list")
                    return
                ids = [r.get("custom_id") for r in reqs]
                if len(set(ids)) != len(ids) or not all(
                    isinstance(i, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids
                ):
                    self._error(
                        400, "invalid_request_error", "custom_id values must be unique and match ^[a-zA-Z0-9_-]{1,64}$"
                    )
                    return
                batch = _Batch(f"msgbatch_{next(srv._ids):04d}{uuid.uuid4().hex[:20]}", reqs)
                with srv._lock:
                    srv._batches[batch.id] = batch
                    payload = srv.batch_json(batch)
                self._send(200, payload)
            elif re.fullmatch(r"/v1/messages/batches/[^/]+/cancel", path):
                with srv._lock:
                    batch = srv._batches.get(path.split("/")[4])
                    if batch is not None and batch.status == "in_progress":
                        batch.cancel_initiated_at = _now_iso()
                        srv._finish_batch(batch, canceled=True)
                    payload = srv.batch_json(batch) if batch else None
                if payload is None:
                    self._error(404, "not_found_error", "batch not found")
                else:
                    self._send(200, payload)
            else:
                self._error(404, "not_found_error", f"no route POST {path}")

        def _messages(self, body: dict[str, Any]) -> None:
            reply = srv._next_reply(body)
            wait = reply.delay + srv.latency
            if wait and srv._stop.wait(wait):
                return  # server shutting down
            headers = dict(reply.headers)
            if reply.retry_after is not None:
                headers["retry-after"] = f"{reply.retry_after:g}"
            try:
                if reply.raw_body is not None:
                    self._send(reply.status, raw=reply.raw_body, headers=headers)
                elif reply.status != 200:
                    self._error(
                        reply.status,
                        reply.error_type or ERROR_TYPES.get(reply.status, "api_error"),
                        reply.error_message or "error",
                        headers=headers,
                    )
                elif body.get("stream"):
                    self._stream(body, reply, headers)
                else:
                    self._send(200, srv.message_json(body, reply), headers=headers)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def _stream(self, body: dict[str, Any], reply: Reply, headers: dict[str, str]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-cache")
            self.send_header("connection", "close")
            self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.close_connection = True
            for event, data in srv.sse_events(body, reply):
                self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

    return Handler


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--batch-polls", type=int, default=1)
    args = ap.parse_args(argv)
    srv = AnthropicTestServer(port=args.port, latency=args.latency, batch_polls=args.batch_polls, record=False)
    srv.start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
