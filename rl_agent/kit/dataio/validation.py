"""The validation split: prompts taken from the training side, seeded, never shared with training or test.

Why a third split: choosing (which checkpoint to keep, which settings a repair tries) on the held-out test
prompts would make the before/after measure the choice, not the model. Everything that chooses reads
validation.jsonl; the before/after and the verdict read heldout.jsonl (the test split) only.

Validation rows take the evaluation's shape (prompt, chosen/rejected when known, reference), whatever the
track trains on: pairs stay pairs, KTO's unpaired rows pair a prompt's desirable with its undesirable answer,
SFT's completions keep the prompt and its answer. Prompts whose rows carry a `reference` are taken first, so
correctness can be measured on validation. A row without a reference whose desirable answer is a short answer
(a few words: the bundled terse data's "Paris.") uses that answer as its reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rl_agent.kit.dataio.split import norm_prompt

VALIDATION_FILE = "validation.jsonl"
VALIDATION_SHARE = 0.1
MIN_VALIDATION_ROWS = 8
MAX_VALIDATION_ROWS = 24  # enough to see a fall in correctness, few enough to score every checkpoint cheaply
MIN_TRAIN_LEFT = 8
SHORT_ANSWER_WORDS = 4


@dataclass(frozen=True)
class ValidationSplit:
    """The training rows left for training, and the validation rows in the evaluation's shape."""

    train: list  # the track's own row objects (PreferencePair, UnpairedRow, CompletionRow, ...)
    validation: list[dict]

    def sizes(self) -> str:
        return f"{len(self.train)} training rows, {len(self.validation)} validation prompts"


def _row(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _eval_row(prompt: str, rows: list[dict]) -> dict:
    """One validation row for a prompt from its training rows."""
    good = next(
        (
            r.get("chosen") or r.get("completion")
            for r in rows
            if r.get("chosen") or (r.get("completion") and r.get("label", True))
        ),
        None,
    )
    bad = next(
        (
            r.get("rejected") or r.get("completion")
            for r in rows
            if r.get("rejected") or (r.get("completion") and r.get("label") is False)
        ),
        None,
    )
    out: dict = {"prompt": prompt}
    if good and bad:
        out["chosen"], out["rejected"] = good, bad
    reference = next(
        (r["reference"] for r in rows if isinstance(r.get("reference"), str) and r["reference"].strip()), None
    )
    if reference is None and good and len(good.split()) <= SHORT_ANSWER_WORDS:
        reference = good
    if reference is not None:
        out["reference"] = reference
    return out


def carve_validation(
    train: list, *, seed: int = 0, share: float = VALIDATION_SHARE, max_rows: int = MAX_VALIDATION_ROWS
) -> ValidationSplit:
    """About `share` of the training prompts (at least MIN_VALIDATION_ROWS, at most `max_rows`, and never so many
    that fewer than MIN_TRAIN_LEFT training rows remain) become validation; rows sharing a prompt go together.
    Too little data for a validation split: no validation rows (selection is then skipped, and says so)."""
    rows = [_row(r) for r in train]
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(norm_prompt(r.get("prompt", "")), []).append(i)
    keys = list(groups)
    random.Random(seed).shuffle(keys)
    # prompts with a reference first (correctness is measured on them), the seeded order within each kind
    keys.sort(key=lambda k: not any(isinstance(rows[i].get("reference"), str) for i in groups[k]))
    want = min(max_rows, max(MIN_VALIDATION_ROWS, round(share * len(keys))))
    taken: list[str] = []
    left = len(rows)
    for key in keys:
        if len(taken) >= want or left - len(groups[key]) < MIN_TRAIN_LEFT:
            break
        taken.append(key)
        left -= len(groups[key])
    if len(taken) < MIN_VALIDATION_ROWS:
        return ValidationSplit(list(train), [])
    chosen = set(taken)
    kept = [obj for obj, r in zip(train, rows) if norm_prompt(r.get("prompt", "")) not in chosen]
    validation = [_eval_row(rows[groups[k][0]]["prompt"], [rows[i] for i in groups[k]]) for k in taken]
    return ValidationSplit(kept, validation)


def overlap(a: list, b: list) -> list[str]:
    """Prompts found on both sides (normalised case and spacing)."""
    seen = {norm_prompt(_row(r).get("prompt", "")) for r in a}
    return sorted({_row(r)["prompt"] for r in b if norm_prompt(_row(r).get("prompt", "")) in seen})


def validation_rows(path) -> int:
    """How many validation rows a run folder's validation.jsonl holds (0 when it has none)."""
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        return 0
    return sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip())


def write_validation(path, rows: list[dict]) -> None:
    """validation.jsonl, via a temp file so a reader never sees half of it."""
    import json
    from pathlib import Path

    p = Path(path)
    tmp = p.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(p)
