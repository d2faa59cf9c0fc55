"""Which of TRL's standard dataset types a (column-mapped) dataset is.

TRL names the types by their columns: preference (prompt/chosen/rejected; "implicit prompt" when there is
no prompt column and chosen/rejected are whole conversations), unpaired preference
(prompt/completion/label), prompt-completion, prompt-only, and language modelling (text or messages).
Each can be "standard" (strings) or "conversational" (lists of {"role", "content"} messages).
"""

from __future__ import annotations

from dataclasses import dataclass

PREFERENCE = "preference"
PREFERENCE_IMPLICIT = "preference (implicit prompt)"
UNPAIRED = "unpaired preference"
PROMPT_COMPLETION = "prompt-completion"
PROMPT_ONLY = "prompt-only"
LANGUAGE_MODELING = "language modeling"

# The row shapes the tracks read (a track names its own: Track.train_kind / heldout_kind), and which of TRL's
# dataset types can be turned into each (after normalising). Data words only: which algorithm reads which
# shape is the tracks' business.
PAIRS, PROMPTS, UNPAIRED_ROWS, COMPLETIONS = "pairs", "prompts", "unpaired", "completions"
SHAPE_SOURCES: dict[str, tuple[str, ...]] = {
    PAIRS: (PREFERENCE, PREFERENCE_IMPLICIT),
    PROMPTS: (PROMPT_ONLY, PROMPT_COMPLETION, PREFERENCE, UNPAIRED),
    UNPAIRED_ROWS: (UNPAIRED, PREFERENCE, PREFERENCE_IMPLICIT),
    COMPLETIONS: (PROMPT_COMPLETION, PREFERENCE, LANGUAGE_MODELING),
}
# What one row of each shape is called in counts and advice.
SHAPE_UNITS = {PAIRS: "pairs", PROMPTS: "prompts", UNPAIRED_ROWS: "rows", COMPLETIONS: "rows"}


@dataclass(frozen=True)
class DatasetKind:
    name: str
    conversational: bool

    def describe(self) -> str:
        return f"{self.name}, {'conversational (message lists)' if self.conversational else 'standard (strings)'}"


def is_messages(value: object) -> bool:
    """A conversational value: a non-empty list of {"role", "content"} dicts."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and "role" in m and "content" in m for m in value)
    )


def detect_kind(columns: set[str], sample: dict) -> DatasetKind | None:
    """The type from the canonical columns present; None when no TRL type matches."""
    if {"chosen", "rejected"} <= columns:
        name = PREFERENCE if "prompt" in columns else PREFERENCE_IMPLICIT
    elif {"prompt", "completion", "label"} <= columns:
        name = UNPAIRED
    elif {"prompt", "completion"} <= columns:
        name = PROMPT_COMPLETION
    elif "prompt" in columns:
        name = PROMPT_ONLY
    elif "messages" in columns or "text" in columns:
        name = LANGUAGE_MODELING
    else:
        return None
    conversational = any(is_messages(sample.get(c)) for c in ("prompt", "chosen", "rejected", "completion", "messages"))
    return DatasetKind(name, conversational)
