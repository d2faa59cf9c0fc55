"""Recipe: at most N words or N sentences (`--set max=25`, `--set unit=sentences --set max=2`).

Words are whitespace-separated tokens with a letter or digit; sentences end at . ! ? followed by a space or
the end. An empty answer fails.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from rl_agent.kit.planning.recipes.base import Form, Params, RecipePlan, bundled_facts, item
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "length"
DESCRIPTION = "answers are short: at most a maximum number of words or sentences"
EXAMPLE = {"max": "25"}


class LengthParams(Params):
    max: int = Field(ge=1, le=1000, description="the most words (or sentences) an answer may have")
    unit: Literal["words", "sentences"] = Field("words", description="what is counted")


PARAMS = LengthParams

CHECK_BODY = r'''
def count(text, unit):
    """Words: whitespace tokens holding a letter or digit. Sentences: runs ending in . ! ? then space or end."""
    if unit == "words":
        return sum(1 for tok in text.split() if re.search(r"\w", tok))
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return sum(1 for part in parts if re.search(r"\w", part))


def check(prompt, output, reference=None):
    """1.0 when the answer has at least one word and at most the limit; else 0.0."""
    n = count(output, PARAMS["unit"])
    return 1.0 if 1 <= n <= PARAMS["max"] else 0.0
'''

_PAD_WORDS = "That is the answer to the question you asked, and it is stated here as plainly as I can put it."


def _count(text: str, unit: str) -> int:
    if unit == "words":
        return sum(1 for tok in text.split() if re.search(r"\w", tok))
    return sum(1 for part in re.split(r"(?<=[.!?])\s+", text.strip()) if re.search(r"\w", part))


def _padded(answer: str, unit: str, limit: int) -> str:
    """The same answer made too long: followed by neutral sentences until it is over the limit."""
    text = answer
    while _count(text, unit) <= limit:
        text = f"{text} {_PAD_WORDS}"
    return text


def understood(p: LengthParams) -> str:
    return f"every answer must have at most {p.max} {p.unit}"


def form(p: LengthParams) -> Form:
    return Form(
        lambda a: a if 1 <= _count(a, p.unit) <= p.max else None, lambda a, i: _padded(a, p.unit, p.max), order=6
    )


def build(p: LengthParams) -> RecipePlan:
    unit, limit = p.unit, p.max
    params = p.model_dump(mode="json")

    def chosen(f):
        return f.answer if _count(f.answer, unit) <= limit else None

    def rejected(f, i):
        return _padded(f.answer, unit, limit)

    train, heldout = form_splits(chosen, rejected, understood(p))
    facts = [f for f in bundled_facts("heldout") if _count(f.answer, unit) <= limit][:6]
    good = [item(f, f.answer) for f in facts[:4]]
    base, first = facts[4].answer, facts[0].answer
    filler = "yes" if unit == "words" else "Yes."
    exact = " ".join([base] + [filler] * (limit - _count(base, unit)))  # exactly at the limit: still passes
    over = " ".join([first] + [filler] * (limit + 1 - _count(first, unit)))  # one over the limit
    good.append(item(facts[4], exact))
    bad = [item(facts[0], over)] + [item(f, _padded(f.answer, unit, limit)) for f in facts[1:4]]
    bad += [item(facts[4], ""), item(facts[5], " ... ")]
    statement = (
        f"accepts only answers of 1 to {limit} {unit} ("
        + (
            "words are whitespace-separated tokens with a letter or digit"
            if unit == "words"
            else "a sentence ends at . ! or ? followed by a space or the end"
        )
        + "); rejects longer or empty ones"
    )
    notes = ["DPO: chosen is the correct answer, rejected the same answer padded past the limit"]
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )
