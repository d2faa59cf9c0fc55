"""Regenerate the bundled arithmetic task (GRPO's default, real RLVR) from a seed.

    python tools/make_arithmetic.py

The task: add three single-digit numbers and end the answer with "#### <sum>". Every problem comes from
a seeded program, split three ways with no triple in two parts: the embedded model's warm-up (where it
learns the addition table and sees worked answers), GRPO training prompts, and held-out prompts. The
warm-up deliberately leaves the model inconsistent: for some phrasings it usually works the sum out
("3 + 5 = 8. 8 + 2 = 10. #### 10"), for others it usually guesses a number straight away ("#### 11"),
and sometimes it answers without the marker. So the base model is right on roughly a third of the
held-out problems, and a reward that checks the final number (not the format) can teach it to work
every sum out. A format-only reward cannot: guessed answers are well formatted too.
"""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rl_agent" / "data" / "arithmetic"
SEED = 2026
N_TRAIN, N_HELDOUT = 240, 60

# (phrasing, share of worked answers, share of bare guesses, share of answers with no marker)
TEMPLATES = [
    ("What is {a} + {b} + {c}?", 0.75, 0.15, 0.10),
    ("{a} + {b} + {c} = ?", 0.75, 0.15, 0.10),
    ("Compute {a} + {b} + {c}.", 0.25, 0.45, 0.30),
    ("Add {a}, {b} and {c}.", 0.25, 0.45, 0.30),
    ("What do you get when you add {a}, {b} and {c}?", 0.25, 0.45, 0.30),
    ("Find the sum of {a}, {b} and {c}.", 0.25, 0.45, 0.30),
]


def worked(a: int, b: int, c: int) -> str:
    return f"{a} + {b} = {a + b}. {a + b} + {c} = {a + b + c}. #### {a + b + c}"


def guess(rng: random.Random, total: int, marker: bool) -> str:
    g = max(0, total + rng.choice([-3, -2, -1, 1, 2, 3]))  # a guess is never the sum: only working it out is
    return f"#### {g}" if marker else f"The answer is {g}."


def split_triples(seed: int = SEED) -> tuple[list, list, list]:
    """Warm-up, train and held-out triples: disjoint, each phrasing equally often in train and held-out."""
    triples = list(itertools.product(range(1, 10), repeat=3))
    random.Random(seed).shuffle(triples)
    heldout, train, warmup = (
        triples[:N_HELDOUT],
        triples[N_HELDOUT : N_HELDOUT + N_TRAIN],
        triples[N_HELDOUT + N_TRAIN :],
    )
    return warmup, train, heldout


def prompt_rows(triples: list, offset: int = 0, with_answers: bool = False) -> list[dict]:
    """Prompts with their reference sums; held-out rows also carry a worked answer (`chosen`) and a wrong
    guess (`rejected`), for the report's length-controlled check on fixed answers."""
    rng = random.Random(SEED + 2)
    rows = []
    for i, (a, b, c) in enumerate(triples):
        template = TEMPLATES[(i + offset) % len(TEMPLATES)][0]
        row = {"prompt": template.format(a=a, b=b, c=c), "reference": str(a + b + c)}
        if with_answers:
            row.update(chosen=worked(a, b, c), rejected=guess(rng, a + b + c, marker=True))
        rows.append(row)
    return rows


def warmup_conversations(samples_per_triple: int = 2, seed: int = SEED) -> list[tuple[str, str]]:
    """Prompt/answer pairs for the embedded model's warm-up, with each phrasing's mix of answer kinds."""
    rng = random.Random(seed + 1)
    warmup, _, _ = split_triples(seed)
    convs = []
    for i, (a, b, c) in enumerate(warmup):
        for k in range(samples_per_triple):
            template, p_work, p_guess, _ = TEMPLATES[(i * samples_per_triple + k) % len(TEMPLATES)]
            r = rng.random()
            answer = worked(a, b, c) if r < p_work else guess(rng, a + b + c, marker=r < p_work + p_guess)
            convs.append((template.format(a=a, b=b, c=c), answer))
    return convs


def addition_table() -> list[str]:
    """The facts a worked answer uses: every a + b with a in 1..18 and b in 1..9."""
    return [f"{a} + {b} = {a + b}." for a in range(1, 19) for b in range(1, 10)]


def main() -> None:
    _, train, heldout = split_triples()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.jsonl", prompt_rows(train)), ("heldout.jsonl", prompt_rows(heldout, with_answers=True))):
        with open(OUT / name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    print(f"wrote {len(train)} train and {len(heldout)} held-out problems to {OUT}")


if __name__ == "__main__":
    main()
