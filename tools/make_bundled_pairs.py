"""Regenerate the bundled terse-answer preference pairs from the knowledge corpus.

Why a script: the facts are written for this project (rl_agent/data/knowledge/facts.tsv: question,
terse answer, statement) and the hedgy "rejected" side is composed deterministically from a small phrase
bank, so anyone can see exactly how the data was made and rebuild it byte for byte:

    python tools/make_bundled_pairs.py

Both sides of a pair give the SAME, correct answer: only the style differs (terse vs hedged), so DPO
learns style without ever being rewarded for a wrong fact. Held-out rows carry the `reference` answer the
before/after checks correctness against. Every 13th fact is held out; no held-out prompt is in training
(the embedded model's warm-up still saw every fact, the way a pretrained model knows facts).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "rl_agent" / "data" / "knowledge" / "facts.tsv"
OUT = ROOT / "rl_agent" / "data" / "terse"
HELDOUT_EVERY, HELDOUT_PHASE = 13, 6

OPENERS = [
    "Great question! I think ",
    "Well, I believe ",
    "Hmm, I'm not entirely sure, but I think ",
    "As an AI language model, I would say that ",
    "So, basically, I guess ",
    "Good question! Perhaps ",
]
MIDDLES = ["the answer is probably {a}", "it is most likely {a}", "it might be {a}"]
CLOSERS = [" I hope this helps!", " But I could be wrong about that.", " Please double-check this, though.", ""]


def load_facts(path: Path = FACTS) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def hedged(i: int, answer: str) -> str:
    """A hedgy, padded answer that still states `answer` (correct, only the style is bad)."""
    a = answer.rstrip(".")
    a = a if a[:1].isdigit() or (a[:1].isupper() and not a.startswith(("The ", "A ", "An "))) else a[0].lower() + a[1:]
    body = OPENERS[i % len(OPENERS)] + MIDDLES[(i // 2) % len(MIDDLES)].format(a=a) + "."
    return body + CLOSERS[(i * 3) % len(CLOSERS)]


def is_heldout(i: int) -> bool:
    return i % HELDOUT_EVERY == HELDOUT_PHASE


def main() -> None:
    facts = load_facts()
    train, heldout = [], []
    for i, fact in enumerate(facts):
        q, a = fact["question"], fact["answer"]
        row = {"prompt": q, "chosen": a, "rejected": hedged(i, a)}
        if is_heldout(i):
            heldout.append({**row, "reference": a})
        else:
            train.append(row)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, part in (("train.jsonl", train), ("heldout.jsonl", heldout)):
        with open(OUT / name, "w", encoding="utf-8") as f:
            for p in part:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"wrote {len(train)} train and {len(heldout)} held-out pairs to {OUT}")


if __name__ == "__main__":
    main()
