"""Recipe: a required prefix (`--set prefix="Answer: "`).

The check is case-sensitive and needs an answer after the prefix; a prefix ending in a letter or digit must
be a whole word ('Yes' does not start 'Yesterday'). DPO rejects the same correct answer without the prefix.
"""

from __future__ import annotations

from pydantic import Field

from rl_agent.kit.planning.recipes.base import Form, OneLine, Params, RecipePlan, item
from rl_agent.kit.planning.recipes.dpo_data import edit_form_data
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "prefix"
DESCRIPTION = "answers start with a fixed text (a required prefix), such as a label 'Answer:'"
EXAMPLE = {"prefix": "Answer: "}


class PrefixParams(Params):
    prefix: OneLine = Field(
        description="the text every answer must start with (exact, case-sensitive; a trailing space is kept)",
        max_length=200,
    )


PARAMS = PrefixParams

CHECK_BODY = r'''
def check(prompt, output, reference=None):
    """1.0 when the answer starts with the prefix (exact, case-sensitive, a whole word when it ends in a letter or
    digit) and says something after it."""
    text = output.strip()
    prefix = PARAMS["prefix"]
    if not text.startswith(prefix):
        return 0.0
    rest = text[len(prefix):]
    if prefix[-1:].isalnum() and rest[:1].isalnum():
        return 0.0  # 'Yes' is not the start of 'Yesterday'
    return 1.0 if re.search(r"\w", rest) else 0.0
'''


def _sep(prefix: str) -> str:
    return "" if prefix[-1:].isspace() else " "


def understood(p: PrefixParams) -> str:
    return f"every answer must start with {p.prefix!r}"


def form(p: PrefixParams) -> Form:
    return Form(lambda a: f"{p.prefix}{_sep(p.prefix)}{a}", lambda a, i: a, order=2)


def build(p: PrefixParams) -> RecipePlan:
    prefix, sep = p.prefix, _sep(p.prefix)
    params = p.model_dump(mode="json")
    train, heldout, facts = edit_form_data(lambda a: f"{prefix}{sep}{a}", lambda a: a.startswith(prefix), understood(p))
    good = [item(f, f"{prefix}{sep}{f.answer}") for f in facts[:3]]
    good += [
        item(facts[3], f"{prefix}{sep}The answer is {facts[3].answer}"),
        item(facts[4], f"  {prefix}{sep}{facts[4].answer}\n"),
    ]
    swapped = prefix.lower() if prefix.lower() != prefix else prefix.upper()
    bad = [
        item(facts[0], facts[0].answer),
        item(facts[1], f"{facts[1].answer} {prefix}"),
        item(facts[2], f"The answer is {facts[2].answer} {prefix}{sep}{facts[2].answer}"),
        item(facts[3], prefix),
        item(
            facts[4],
            next(o for o in ("Sure! ", "Well, ", "Okay. ") if not o.startswith(prefix))
            + f"{prefix}{sep}{facts[4].answer}",
        ),
    ]
    if swapped != prefix:
        bad.append(item(facts[5], f"{swapped}{sep}{facts[5].answer}"))
    whole_word = prefix[-1:].isalnum()
    if whole_word:
        bad.append(item(facts[0], f"{prefix}{facts[0].answer.lower()}"))
    statement = (
        f"accepts only answers that start with exactly {prefix!r} (case-sensitive, leading spaces ignored"
        + (", as a whole word" if whole_word else "")
        + ") followed by some answer text; rejects everything else"
    )
    notes = ["DPO: chosen is the correct answer with the prefix, rejected the same answer without"]
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )
