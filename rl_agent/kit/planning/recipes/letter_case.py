"""Recipe: letter case, all capitals or all lower case ("Reply in ALL CAPS", "no capital letters").

"No capital letters" / "never use uppercase" mean lower case and are read as such; any other negation
("don't use all caps") says what not to do without saying what to do, so it is refused. The check looks
at cased letters only (digits and punctuation are free) and needs at least one letter.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "letter_case"
EXTRA = frozenset("letters letter characters case".split())  # not "shout": "no caps for shouting" is not "no capitals"
_CAPS = r"(?:all[- ]caps|all[- ]capitals?|caps lock|upper[- ]?case(?: letters)?|capital letters|block capitals|capitals)"
_LOWER = r"(?:all[- ]lower[- ]?case|lower[- ]?case(?: letters)?|small letters)"
NO_CAPS = re.compile(r"\b(?:no|without|never use|don't use|do not use|avoid(?: using)?|zero)\s+(?:any\s+)?"
                     r"(?:capital letters|capitals|upper[- ]?case(?: letters)?)\b")  # bare "no caps": no shouting, or no capitals?
UPPER = re.compile(r"\b" + _CAPS + r"\b")
LOWER = re.compile(r"\b" + _LOWER + r"\b")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    modes: dict[int, str] = {}
    for ci, clause in enumerate(text.clauses()):
        for rx, mode in ((NO_CAPS, "lower"), (LOWER, "lower"), (UPPER, "upper")):
            m = rx.search(clause)
            if m:
                left[ci] = insist(clause.replace(m.group(0), " "), clause, f"something about {m.group(0)!r}", text, EXTRA)
                modes[ci] = mode
                break
    if not modes:
        return None
    if len(set(modes.values())) > 1:
        raise RecipeRefused(["both all capitals and lower case are mentioned"], "one letter case")
    mode = next(iter(modes.values()))
    words = "in capital letters only (no lower-case letters)" if mode == "upper" else "in lower case only (no capitals)"
    return Reading(NAME, {"case": mode}, f"every answer must be written {words}", frozenset(), frozenset(modes), leftover=tuple(left.items()))


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


def build(reading: Reading, task: str) -> RecipePlan:
    mode = reading.params["case"]
    other = "lower" if mode == "upper" else "upper"

    def chosen(f):
        return _to(mode, f.answer)

    def rejected(f, i):
        return f.answer if i % 2 else _to(other, f.answer)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = [f for f in bundled_facts("heldout") if _to(mode, f.answer) != f.answer and re.search(r"[A-Za-z]", f.answer)][:6]
    good = [item(f, _to(mode, f.answer)) for f in facts[:3]]
    good += [item(facts[3], _to(mode, f"The answer is {facts[3].answer} (100%)")),
             item(facts[4], _to(mode, f"{facts[4].answer}\nThat is all."))]
    bad = [item(f, f.answer) for f in facts[:2]]
    bad += [item(facts[2], _to(other, facts[2].answer)), item(facts[3], "42."),
            item(facts[4], _to(mode, f"The answer is {facts[4].answer}") + (" x" if mode == "upper" else " X"))]
    statement = ("accepts only answers with at least one letter and no lower-case letters" if mode == "upper" else
                 "accepts only answers with at least one letter and no capital letters") + "; rejects everything else"
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct answer in the required case, rejected the same answer as is "
                             "or in the other case"])
