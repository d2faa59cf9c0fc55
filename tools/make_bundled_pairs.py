"""Regenerate the bundled terse-answer preference pairs from tools/terse_facts.tsv.

Why a script: the pairs are written for this project (hand-written questions and terse answers) and the
hedgy "rejected" side is composed deterministically from a small phrase bank, so anyone can see exactly
how the data was made and rebuild it byte for byte.

    python tools/make_bundled_pairs.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "tools" / "terse_facts.tsv"
OUT = ROOT / "rl_agent" / "data" / "terse"
N_TRAIN = 70

OPENERS = [
    "Great question! I think ",
    "Well, I believe ",
    "That's a really interesting question. Honestly, I would say ",
    "Hmm, I'm not entirely sure, but I think ",
    "As an AI language model, I would say that ",
    "To be honest, it might be that ",
    "So, basically, I guess ",
    "Good question! Perhaps ",
]
MIDDLES = [
    "the answer is probably {a}",
    "it is most likely {a}",
    "it might be {a}",
    "the answer could possibly be {a}",
]
CLOSERS = [
    " I hope this helps!",
    " Let me know if you have any other questions.",
    " But I could be wrong about that.",
    " Please double-check this, though.",
    " I hope that answers your question!",
]


def rejected_for(i: int, answer: str) -> str:
    a = answer.rstrip(".")
    a = a if a[:1].isdigit() or a[:1].isupper() and not a.startswith("The ") else a[0].lower() + a[1:]
    body = OPENERS[i % len(OPENERS)] + MIDDLES[(i // 2) % len(MIDDLES)].format(a=a) + "."
    return body + CLOSERS[(i * 3) % len(CLOSERS)]


def main() -> None:
    rows = [line.split("\t") for line in FACTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = [
        {"prompt": q.strip(), "chosen": a.strip(), "rejected": rejected_for(i, a.strip())}
        for i, (q, a) in enumerate(rows)
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    for name, part in (("train.jsonl", pairs[:N_TRAIN]), ("heldout.jsonl", pairs[N_TRAIN:])):
        with open(OUT / name, "w", encoding="utf-8") as f:
            for p in part:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"wrote {N_TRAIN} train and {len(pairs) - N_TRAIN} held-out pairs to {OUT}")


if __name__ == "__main__":
    main()
