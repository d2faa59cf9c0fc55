"""Anthropic client construction, API-error classification and secret redaction.

The key is read from the argument or ANTHROPIC_API_KEY only, and passed explicitly so the SDK does not go
looking for profiles on disk. It is never logged or written: every error text we keep goes through redact().
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import anthropic

from rl_agent.errors import RlAgentError
from rl_agent.kit.judges.base import ErrorKind

DEFAULT_MODEL = "claude-haiku-4-5"
UNREADABLE_BODY = "unreadable API response body"  # a garbled 200: worth one more try
_KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}")


class MissingAPIKey(RlAgentError, RuntimeError):
    """No ANTHROPIC_API_KEY: the Claude judge cannot run (the offline judges can)."""


def resolve_api_key(api_key: str | None = None) -> str:
    key = api_key or os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise MissingAPIKey(
            "ANTHROPIC_API_KEY is not set; the claude judge needs it "
            "(for an offline grade use --judge terse, exact, regex:PATTERN or python:FILE.py:func)"
        )
    return key


def resolve_base_url(base_url: str | None = None) -> str | None:
    return base_url or os.environ.get("ANTHROPIC_BASE_URL") or None


def redact(text: str, secret: str | None = None) -> str:
    """Remove the key (and anything shaped like an Anthropic key) from text we are about to keep or show."""
    if secret:
        text = text.replace(secret, "[REDACTED]")
    return _KEY_PATTERN.sub("[REDACTED]", text)


def client_kwargs(api_key: str, base_url: str | None, timeout: float, max_retries: int) -> dict[str, Any]:
    kw: dict[str, Any] = {"api_key": api_key, "timeout": timeout, "max_retries": max_retries}
    if base_url:
        kw["base_url"] = base_url
    return kw


def make_sync_client(api_key: str, base_url: str | None, timeout: float, max_retries: int) -> anthropic.Anthropic:
    return anthropic.Anthropic(**client_kwargs(api_key, base_url, timeout, max_retries))


def make_async_client(api_key: str, base_url: str | None, timeout: float, max_retries: int) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(**client_kwargs(api_key, base_url, timeout, max_retries))


def classify_exception(exc: BaseException, secret: str | None = None) -> tuple[ErrorKind, str]:
    """(error kind, one-line redacted reason) for an exception raised by a Messages API call.

    The SDK has already retried 429/5xx/connection errors (honouring retry-after) when we get here.
    """
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout", "request timed out"
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        etype = _error_type(exc.body) or type(exc).__name__
        message = _error_message(exc.body)
        reason = redact(f"HTTP {status} {etype}" + (f": {message}" if message else ""), secret)[:300]
        if status == 429:
            return "rate_limit", reason
        if status == 529:
            return "overloaded", reason
        if status in (401, 403):
            return "auth", reason
        return "api_error", reason
    if isinstance(exc, anthropic.APIConnectionError):
        return "api_error", "connection error: " + redact(str(exc), secret)[:200]
    if isinstance(exc, (json.JSONDecodeError, anthropic.APIResponseValidationError)):
        return "api_error", UNREADABLE_BODY
    return "api_error", redact(f"{type(exc).__name__}: {exc}", secret)[:300]


def _error_type(body: Any) -> str | None:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("type"), str):
            return err["type"]
    return None


def _error_message(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
    return ""
