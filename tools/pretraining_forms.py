"""Format-literate (and list) warm-up documents for the embedded model (see build_embedded_model.py).

Why: a real pretrained model has seen answers behind labels, inside JSON, in lower case, as bullets, and
has seen lists sorted and reversed. A model that never saw a fact behind "Answer:" loses the fact when DPO
teaches it to write the label first (measured: held-out correct 1.00 -> 0.68). So the warm-up shows every
fact's answer once or twice in one of many forms, each form rarely (a few percent of a fact's answers), so
the base model's greedy answer stays its usual hedged or terse one, but the forms are *within reach* of a
short DPO or GRPO run. The forms are generic families (many labels, many JSON keys, several closings), not
the phrasings of any one test: a recipe asking for a label or key the warm-up never used must still work.

List documents: 600 sorted or reversed lists (3-7 numbers, none the list recipe's generator uses), half of
them right, meant to give a verifier reward something to raise. Measured: the shipped model reproduces the
lists it saw and sorts no new list (0.00 on the list recipe's held-out lists); a list-only model on 6000
such lists still scored 0.00 after 400 steps. Sorting is beyond what this model learns in a build that fits
a 2-core CPU, so the list recipe needs a real small model. They stay in the build only because the shipped
weights were built with them (the data fingerprint in recipe.json must match).
"""

from __future__ import annotations

import json
import random
from typing import Callable

LABELS = [
    "Answer:",
    "A:",
    "Result:",
    "Final answer:",
    "Reply:",
    "Short answer:",
    "Output:",
    "Solution:",
    "In short:",
    "Verdict:",
]
JSON_KEYS = ["answer", "result", "response", "text", "value", "output"]
CLOSINGS = [
    "Hope that helps.",
    "Thanks for asking.",
    "Let me know if you need more.",
    "Have a nice day.",
    "Happy to help.",
]


def _lower_first(a: str) -> str:
    return a if a[:2].isupper() else a[:1].lower() + a[1:]


def _forms() -> list[Callable[[str, int], str]]:
    """Each form turns a terse answer ("Paris.") into the same answer written another way."""
    forms: list[Callable[[str, int], str]] = []
    for label in LABELS:
        forms.append(lambda a, i, label=label: f"{label} {a}")
    for key in JSON_KEYS:
        forms.append(lambda a, i, key=key: json.dumps({key: a.rstrip(".")}))
    forms.append(lambda a, i: json.dumps({JSON_KEYS[i % 3]: a.rstrip("."), "confidence": [0.9, 0.8, 0.95][i % 3]}))
    forms.append(lambda a, i: a.lower())
    forms.append(lambda a, i: a.lower().rstrip("."))
    forms.append(lambda a, i: a.upper())
    for closing in CLOSINGS:
        forms.append(lambda a, i, closing=closing: f"{a}\n{closing}")
    forms.append(lambda a, i: f"- {a.rstrip('.')}")
    forms.append(lambda a, i: f"**{a.rstrip('.')}**.")
    forms.append(lambda a, i: f"It is {_lower_first(a)}")
    forms.append(lambda a, i: f"{a.rstrip('.')}!")
    return forms


def form_documents(facts: list[dict], per_fact: int = 2) -> list[tuple[str, str]]:
    """(question, answer in some form): `per_fact` different forms per fact, spread evenly over the forms."""
    forms = _forms()
    docs = []
    for i, fact in enumerate(facts):
        for k in range(per_fact):
            form = forms[(i * per_fact + k) * 7 % len(forms)]
            docs.append((fact["question"], form(fact["answer"], i)))
    return docs


LIST_ASKS = [
    ("sort", "ascending", "Sort these numbers in ascending order: {l}. Reply with the result as a list in brackets."),
    ("sort", "ascending", "Put {l} in order from smallest to largest."),
    ("sort", "descending", "Sort these numbers in descending order: {l}. Reply with the result as a list in brackets."),
    ("sort", "descending", "Order {l} from largest to smallest."),
    ("reverse", "", "Reverse this list of numbers: {l}. Reply with the result as a list in brackets."),
    ("reverse", "", "What is {l} backwards?"),
]


def _list_result(op: str, order: str, numbers: list[int]) -> list[int]:
    return sorted(numbers, reverse=order == "descending") if op == "sort" else numbers[::-1]


def _near_miss(rng: random.Random, numbers: list[int], right: list[int]) -> list[int]:
    """A plausible wrong result: the input back unchanged, two neighbours swapped, or one number dropped."""
    kind = rng.randrange(3)
    if kind == 0 and numbers != right:
        return list(numbers)
    if kind == 1:
        j = rng.randrange(len(right) - 1)
        out = list(right)
        out[j], out[j + 1] = out[j + 1], out[j]
        if out != right:
            return out
    out = list(right)
    del out[rng.randrange(len(out))]
    return out


def list_documents(
    avoid: set[tuple[int, ...]], n: int = 600, seed: int = 77, right_share: float = 0.5
) -> list[tuple[str, str]]:
    """(prompt, bracketed result) for sorting and reversing lists of 3-7 numbers, right `right_share` of the
    time; no list in `avoid` (the recipe's own prompts) is used."""
    rng = random.Random(seed)
    docs: list[tuple[str, str]] = []
    while len(docs) < n:
        numbers = [rng.randint(0, 99) for _ in range(rng.randint(3, 7))]
        if tuple(numbers) in avoid:
            continue
        op, order, ask = LIST_ASKS[len(docs) % len(LIST_ASKS)]
        right = _list_result(op, order, numbers)
        result = right if rng.random() < right_share else _near_miss(rng, numbers, right)
        docs.append((ask.format(l=json.dumps(numbers)), json.dumps(result)))
    return docs
