"""Recipe: a required prefix ("Start every answer with 'Answer:'").

Only a positive requirement is read here: a clause whose opener is negated ("never start with") belongs
to the banned recipe, and any other negation, permission ("may start with") or condition left in the
clause makes the task uncertain, so it is refused. The check is case-sensitive and needs an answer after
the prefix; DPO rejects the same correct answer without the prefix.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.banned import ban_spans
from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import edit_form_data
from rl_agent.kit.planning.recipes.reading import TaskText, check_gap, template_need, insist

NAME = "prefix"
TRIGGER = re.compile(r"\b(?:start|begin|open|prefix|preface|lead)(?:s|es|ing|ning)?\b(?P<gap>(?:\s+[\w']+){0,4}?)\s+with\s+"
                     r"(?:(?:the|a)\s+)?(?:(?:word|words|text|phrase|string|label|token)\s+)?(?P<q>«q\d+»)"
                     r"(?P<more>\s*(?:,|or|and|/)\s*«q\d+»)?")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    found: list[tuple[int, str, str]] = []
    for ci, clause in enumerate(text.clauses()):
        rest = clause
        for _, m in ban_spans(clause):
            rest = rest.replace(m.group(0), " ")
        m = TRIGGER.search(rest)
        if not m:
            continue
        prefix = text.quote(m.group("q")) + (" " if text.ends_in_space(m.group("q")) else "")  # '>> ' keeps its space
        check_gap(m.group("gap"), clause, f"answers start with {prefix!r}", text)
        if m.group("more"):
            raise RecipeRefused([f"answers start with {prefix!r} or another quoted text"],
                                "one required prefix (several alternatives are not read offline)")
        left[ci] = insist(rest.replace(m.group(0), " "), clause, f"something about answers starting with {prefix!r}", text)
        found.append((ci, m.group("q"), prefix))
    if not found:
        return None
    prefixes = {p for _, _, p in found}
    if len(prefixes) > 1:
        raise RecipeRefused([f"answers start with {p!r}" for p in sorted(prefixes)], "one required prefix")
    prefix = found[0][2]
    if not prefix.strip():
        raise RecipeRefused(["answers start with an empty quoted text"], "the prefix text inside the quotes")
    return Reading(NAME, {"prefix": prefix}, f"every answer must start with {prefix!r}",
                   frozenset(q for _, q, _ in found), frozenset(ci for ci, _, _ in found), leftover=tuple(left.items()),
                   unsure=template_need(prefix))


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


def build(reading: Reading, task: str) -> RecipePlan:
    prefix = reading.params["prefix"]
    sep = "" if prefix[-1:].isspace() else " "

    train, heldout, facts = edit_form_data(lambda a: f"{prefix}{sep}{a}", lambda a: a.startswith(prefix),
                                           reading.understood)
    good = [item(f, f"{prefix}{sep}{f.answer}") for f in facts[:3]]
    good += [item(facts[3], f"{prefix}{sep}The answer is {facts[3].answer}"),
             item(facts[4], f"  {prefix}{sep}{facts[4].answer}\n")]
    swapped = prefix.lower() if prefix.lower() != prefix else prefix.upper()
    bad = [item(facts[0], facts[0].answer), item(facts[1], f"{facts[1].answer} {prefix}"),
           item(facts[2], f"The answer is {facts[2].answer} {prefix}{sep}{facts[2].answer}"),
           item(facts[3], prefix), item(facts[4], next(o for o in ("Sure! ", "Well, ", "Okay. ") if not o.startswith(prefix))
                                 + f"{prefix}{sep}{facts[4].answer}")]
    if swapped != prefix:
        bad.append(item(facts[5], f"{swapped}{sep}{facts[5].answer}"))
    whole_word = prefix[-1:].isalnum()
    if whole_word:
        bad.append(item(facts[0], f"{prefix}{facts[0].answer.lower()}"))
    statement = (f"accepts only answers that start with exactly {prefix!r} (case-sensitive, leading spaces ignored"
                 + (", as a whole word" if whole_word else "") + ") followed by some answer text; rejects everything else")
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct answer with the prefix, rejected the same answer without"])
