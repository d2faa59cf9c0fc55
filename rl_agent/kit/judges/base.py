"""The one judge interface: every judge returns a Grade with a score in [0, 1] or an explicit failure.

A failed grade has `score=None` and an `error` kind. It is never turned into 0 here, because a silent 0
would look like a real (terrible) answer and poison a reward or a mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, Sequence, runtime_checkable

ErrorKind = Literal[
    "malformed",  # the grader replied, but not with a usable {"score", "reason"}
    "out_of_range",  # a score outside [0, 1]
    "timeout",
    "rate_limit",  # 429 after the client's retries
    "overloaded",  # 529 after the client's retries
    "api_error",  # 5xx or another API/connection failure
    "auth",  # 401/403: the key is wrong; retrying will not help
    "budget",  # not attempted: --max-cost reached
    "missing_reference",  # a verifier that needs a reference got none
    "user_function",  # a user verifier raised or returned something unusable
    "batch_expired",  # a batch item expired or was canceled
]


@dataclass(frozen=True)
class Usage:
    """Token counts as the Messages API reports them (cache fields default to 0 when absent)."""

    input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            self.output_tokens + other.output_tokens,
        )

    @classmethod
    def from_api(cls, usage: Any) -> Usage:
        """From an SDK `Usage` object or a plain dict."""
        get = usage.get if isinstance(usage, dict) else (lambda k, d=None: getattr(usage, k, d))
        return cls(
            int(get("input_tokens", 0) or 0),
            int(get("cache_creation_input_tokens", 0) or 0),
            int(get("cache_read_input_tokens", 0) or 0),
            int(get("output_tokens", 0) or 0),
        )


@dataclass(frozen=True)
class Grade:
    """A score in [0, 1] with a reason, or a failure (`score is None`, `error` set)."""

    score: float | None
    reason: str
    error: ErrorKind | None = None
    cached: bool = False  # served from the persistent grade cache (cost nothing this time)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0

    def __post_init__(self) -> None:
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} outside [0, 1]; use Grade.failed('out_of_range', ...)")
        if self.score is None and self.error is None:
            raise ValueError("a Grade without a score must say why (error kind)")

    @property
    def ok(self) -> bool:
        return self.score is not None and self.error is None

    @classmethod
    def failed(cls, kind: ErrorKind, reason: str, *, usage: Usage | None = None, cost_usd: float = 0.0) -> Grade:
        return cls(None, reason, kind, usage=usage or Usage(), cost_usd=cost_usd)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


@dataclass(frozen=True)
class GradeItem:
    """One thing to grade: the prompt, the model's output, and an optional reference answer."""

    prompt: str
    output: str
    reference: str | None = None


@runtime_checkable
class Judge(Protocol):
    """Anything that grades. `grade_many` exists so remote judges can batch, cache and run concurrently."""

    name: str

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade: ...

    def grade_many(self, items: Sequence[GradeItem]) -> list[Grade]: ...


class LocalJudge:
    """Base for judges that run in-process and cost nothing: grade_many is a plain loop."""

    name: str = "local"

    def grade(self, prompt: str, output: str, reference: str | None = None) -> Grade:  # pragma: no cover
        raise NotImplementedError

    def grade_many(self, items: Sequence[GradeItem]) -> list[Grade]:
        return [self.grade(it.prompt, it.output, it.reference) for it in items]
