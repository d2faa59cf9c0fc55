"""Recipe: letter case, all capitals or all lower case (`--set case=lower`).

The check looks at cased letters only (digits and punctuation are free) and needs at least one letter.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from rl_agent.kit.planning.recipes.base import Form, Params, RecipePlan, bundled_facts, item
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "letter_case"
DESCRIPTION = (
    "answers are written in one letter case: all capitals (uppercase, all caps) or all lowercase (no capital letters)"
)
EXAMPLE = {"case": "lower"}


class LetterCaseParams(Params):
    case: Literal["upper", "lower"] = Field(description="upper: capital letters only; lower: no capital letters")


PARAMS = LetterCaseParams

CHECK_BODY = r'''
def check(prompt, output, reference=None):
    """1.0 when the answer has letters and every cased letter is in the required case."""
    letters = [c for c in output if c.isalpha() and (c.isupper() or c.islower())]
    if not letters:
        return 0.0
    if PARAMS["case"] == "upper":
        return 1.0 if all(c.isupper() for c in letters) else 0.0
    return 1.0 if all(c.islower() for c in letters) else 0.0
'''


def _to(mode: str, text: str) -> str:
    return text.upper() if mode == "upper" else text.lower()


def understood(p: LetterCaseParams) -> str:
    return "every answer must be written " + (
        "in capital letters only (no lower-case letters)" if p.case == "upper" else "in lower case only (no capitals)"
    )


def form(p: LetterCaseParams) -> Form:
    other = "lower" if p.case == "upper" else "upper"
    return Form(lambda a: _to(p.case, a), lambda a, i: _to(other, a), order=0)


def build(p: LetterCaseParams) -> RecipePlan:
    mode = p.case
    params = p.model_dump(mode="json")
    other = "lower" if mode == "upper" else "upper"

    def chosen(f):
        return _to(mode, f.answer)

    def rejected(f, i):
        return f.answer if i % 2 else _to(other, f.answer)

    train, heldout = form_splits(chosen, rejected, understood(p))
    facts = [
        f for f in bundled_facts("heldout") if _to(mode, f.answer) != f.answer and re.search(r"[A-Za-z]", f.answer)
    ][:6]
    good = [item(f, _to(mode, f.answer)) for f in facts[:3]]
    good += [
        item(facts[3], _to(mode, f"The answer is {facts[3].answer} (100%)")),
        item(facts[4], _to(mode, f"{facts[4].answer}\nThat is all.")),
    ]
    bad = [item(f, f.answer) for f in facts[:2]]
    bad += [
        item(facts[2], _to(other, facts[2].answer)),
        item(facts[3], "42."),
        item(facts[4], _to(mode, f"The answer is {facts[4].answer}") + (" x" if mode == "upper" else " X")),
    ]
    statement = (
        "accepts only answers with at least one letter and no lower-case letters"
        if mode == "upper"
        else "accepts only answers with at least one letter and no capital letters"
    ) + "; rejects everything else"
    notes = [
        "DPO: chosen is the correct answer in the required case, rejected the same answer as is or in the other case"
    ]
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )
