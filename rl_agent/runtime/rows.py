"""Reading JSON Lines data: one reader for the kit's intake (`rl-agent check`, `--data`, pair files) and for
the rendered scripts reading the run's data files, so the two accept the same files.

Tolerant where it is safe: UTF-8 with or without a byte-order mark, UTF-16 with one; \\n, \\r\\n or \\r line
endings; blank lines; common column names (question/answer, good/bad, ...) read as the canonical ones when
the canonical name is absent. Strict where it matters: a line that is not a JSON object, or a required
field that is missing or empty, is an error naming the file and line.
"""

from __future__ import annotations

import codecs
import json
from pathlib import Path
from typing import Iterator, Sequence

CANONICAL = ("prompt", "chosen", "rejected", "completion", "label", "reference", "messages", "text")

# First match wins, in this order. Names are compared case-insensitively.
ALIASES: dict[str, tuple[str, ...]] = {
    "prompt": ("prompt", "question", "instruction", "query", "input", "problem", "user", "context"),
    "chosen": (
        "chosen",
        "good",
        "positive",
        "preferred",
        "accepted",
        "better",
        "winner",
        "chosen_response",
        "response_chosen",
        "chosen_answer",
        "pos",
    ),
    "rejected": (
        "rejected",
        "bad",
        "negative",
        "dispreferred",
        "worse",
        "loser",
        "rejected_response",
        "response_rejected",
        "rejected_answer",
        "neg",
    ),
    "completion": ("completion", "answer", "output", "response", "target", "solution"),
    "label": ("label", "kto_label", "thumbs_up", "is_good", "desirable", "feedback"),
    "reference": ("reference", "ground_truth", "gold", "expected"),
    "messages": ("messages", "conversation", "conversations"),
    "text": ("text",),
}


class RowsError(ValueError):
    """A data file that cannot be read as rows; the message names the file (and line)."""


def decode(data: bytes, where: str, error: type[Exception] = RowsError) -> str:
    """Text from bytes: UTF-8 (a byte-order mark is dropped) or UTF-16 with its byte-order mark."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def read_text(path: str | Path, *, error: type[Exception] = RowsError, missing: str = "no such file") -> str:
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {missing}")
    return decode(path.read_bytes(), str(path), error)


def jsonl_objects(
    path: str | Path, text: str, *, error: type[Exception] = RowsError, expected: str = "a JSON object"
) -> Iterator[tuple[int, str, dict]]:
    """(line number, "file:line", object) for each non-blank line of JSON Lines text."""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as e:
            raise error(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(row, dict):
            raise error(f"{where}: expected {expected}, got {type(row).__name__}")
        yield lineno, where, row


def canonical_row(row: dict) -> dict:
    """The row with recognised column names read as the canonical ones (a canonical name present wins)."""
    out = dict(row)
    lower = {k.lower(): k for k in row if isinstance(k, str)}
    for name, aliases in ALIASES.items():
        if name in out:
            continue
        for alias in aliases:
            key = lower.get(alias)
            if key is not None and key not in CANONICAL:
                out[name] = row[key]
                break
    return out


def read_rows(path: str | Path, required: Sequence[str] = (), *, error: type[Exception] = RowsError) -> list[dict]:
    """Every row of a JSON Lines file, columns canonical; each `required` field a non-empty string."""
    rows = []
    for _, where, row in jsonl_objects(path, read_text(path, error=error), error=error):
        row = canonical_row(row)
        for key in required:
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise error(f"{where}: field {key!r} missing or empty")
        rows.append(row)
    return rows
