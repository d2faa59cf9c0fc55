"""Preference pairs: the bundled dataset, loading, and validation that says exactly what is wrong where.

A pair file is JSON Lines, one object per line with non-empty string fields `prompt`, `chosen` and
`rejected` (TRL's standard preference format), and an optional `reference` answer that evaluation checks
answers against (correctness). Held-out data must never share a prompt with training data.

Two more row kinds live here because they are pairs taken apart: unpaired feedback (KTO: `prompt`,
`completion`, boolean `label`) and plain completions (SFT: `prompt`, `completion`; a pair row is accepted
and its `chosen` answer is the completion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

from rl_agent.errors import RlAgentError
from rl_agent.runtime.rows import jsonl_objects, read_text

REQUIRED_FIELDS = ("prompt", "chosen", "rejected")


class PairFileError(RlAgentError, ValueError):
    """A pair file that cannot be trained on; the message names the file and line."""


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str
    rejected: str
    reference: str | None = None

    def to_dict(self) -> dict[str, str]:
        d = {"prompt": self.prompt, "chosen": self.chosen, "rejected": self.rejected}
        if self.reference is not None:
            d["reference"] = self.reference
        return d


@dataclass(frozen=True)
class UnpairedRow:
    """One answer with a thumbs-up or thumbs-down (TRL's unpaired preference format, used by KTO)."""

    prompt: str
    completion: str
    label: bool

    def to_dict(self) -> dict:
        return {"prompt": self.prompt, "completion": self.completion, "label": self.label}


@dataclass(frozen=True)
class CompletionRow:
    """A prompt and the answer to imitate (TRL's prompt-completion format, used by SFT)."""

    prompt: str
    completion: str

    def to_dict(self) -> dict[str, str]:
        return {"prompt": self.prompt, "completion": self.completion}


def bundled_pairs_path(split: str, dataset: str = "terse") -> Path:
    """`train` or `heldout` split of a bundled dataset (default the terse-answer pairs; `terse_unpaired`
    is the same training answers as KTO rows), shipped inside the wheel under rl_agent/data/."""
    if split not in ("train", "heldout"):
        raise ValueError(f"unknown split {split!r}; expected 'train' or 'heldout'")
    return Path(str(resources.files("rl_agent") / "data" / dataset / f"{split}.jsonl"))


def iter_jsonl_objects(
    path: str | Path,
    *,
    error: type[Exception] | None = None,
    missing: str = "no such file",
    expected: str = "a JSON object",
) -> Iterator[tuple[int, str, dict]]:
    """Yield (line number, "file:line", object) for each non-blank line of a JSON Lines file of objects.

    The one reader behind every JSONL input (pairs, prompts, outputs to grade), so they all fail the same
    way: `error` (default PairFileError) with a message naming the file and line.
    """
    error = error or PairFileError
    yield from jsonl_objects(path, read_text(path, error=error, missing=missing), error=error, expected=expected)


def load_pairs(path: str | Path, *, min_pairs: int = 1) -> list[PreferencePair]:
    """Read and validate a pair file; raise PairFileError naming the file and line on any problem."""
    path = Path(path)
    pairs: list[PreferencePair] = []
    seen: dict[tuple[str, str, str], int] = {}
    rows = iter_jsonl_objects(
        path, missing="no such pair file", expected=f"a JSON object with {', '.join(REQUIRED_FIELDS)}"
    )
    for lineno, where, row in rows:
        prompt, chosen, rejected = (_text(row, key, where) for key in REQUIRED_FIELDS)
        pair = PreferencePair(prompt, chosen, rejected, _text(row, "reference", where, required=False))
        if pair.chosen == pair.rejected:
            raise PairFileError(f"{where}: 'chosen' and 'rejected' are identical")
        key3 = (pair.prompt, pair.chosen, pair.rejected)
        if key3 in seen:
            raise PairFileError(f"{where}: duplicate of line {seen[key3]}")
        seen[key3] = lineno
        pairs.append(pair)
    if len(pairs) < min_pairs:
        raise PairFileError(f"{path}: {len(pairs)} pairs, need at least {min_pairs}")
    return pairs


def _text(row: dict, key: str, where: str, *, required: bool = True) -> str | None:
    """A non-empty string field, or None when optional and absent; PairFileError naming file:line otherwise."""
    if row.get(key) is None and not required:
        return None
    if key not in row:
        raise PairFileError(f"{where}: missing field {key!r}")
    if not isinstance(row[key], str):
        raise PairFileError(f"{where}: field {key!r} must be a string, got {type(row[key]).__name__}")
    if not row[key].strip():
        raise PairFileError(f"{where}: field {key!r} is empty")
    return row[key].strip()


def load_unpaired(path: str | Path, *, min_rows: int = 1) -> list[UnpairedRow]:
    """Read and validate a KTO file (prompt, completion, boolean label); both labels must occur."""
    rows: list[UnpairedRow] = []
    seen: dict[tuple[str, str], int] = {}
    for lineno, where, row in iter_jsonl_objects(
        path, missing="no such unpaired-feedback file", expected="a JSON object with prompt, completion, label"
    ):
        prompt, completion = _text(row, "prompt", where), _text(row, "completion", where)
        if not isinstance(row.get("label"), bool):
            raise PairFileError(f"{where}: field 'label' must be true or false")
        if (prompt, completion) in seen:
            raise PairFileError(f"{where}: duplicate of line {seen[(prompt, completion)]}")
        seen[(prompt, completion)] = lineno
        rows.append(UnpairedRow(prompt, completion, row["label"]))
    if len(rows) < min_rows:
        raise PairFileError(f"{path}: {len(rows)} rows, need at least {min_rows}")
    if len({r.label for r in rows}) < 2:
        raise PairFileError(f"{path}: every label is {rows[0].label}; KTO needs desirable and undesirable answers")
    return rows


def load_completions(path: str | Path, *, min_rows: int = 1) -> list[CompletionRow]:
    """Read and validate an SFT file: prompt/completion rows, or pair rows whose `chosen` is imitated."""
    rows: list[CompletionRow] = []
    seen: dict[tuple[str, str], int] = {}
    for lineno, where, row in iter_jsonl_objects(
        path, missing="no such completions file", expected="a JSON object with prompt and completion"
    ):
        key = "completion" if "completion" in row or "chosen" not in row else "chosen"
        prompt, completion = _text(row, "prompt", where), _text(row, key, where)
        if (prompt, completion) in seen:
            continue  # pairs sharing a chosen answer give one completion, not a duplicate error
        seen[(prompt, completion)] = lineno
        rows.append(CompletionRow(prompt, completion))
    if len(rows) < min_rows:
        raise PairFileError(f"{path}: {len(rows)} rows, need at least {min_rows}")
    return rows


def check_no_overlap(train: list, heldout: list, heldout_path: str | Path) -> None:
    """Held-out prompts must be unseen in training, or the before/after measures memorisation."""
    train_prompts = {_norm(p.prompt) for p in train}
    clash = [p.prompt for p in heldout if _norm(p.prompt) in train_prompts]
    if clash:
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise PairFileError(f"{heldout_path}: held-out prompt also in training data: {clash[0]!r}{more}")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def write_jsonl(path: str | Path, rows: Iterable) -> None:
    """Write rows (anything with to_dict()) as JSON Lines via a temp file, so readers never see half a file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
    tmp.replace(path)


def write_pairs(path: str | Path, pairs: list[PreferencePair]) -> None:
    write_jsonl(path, pairs)
