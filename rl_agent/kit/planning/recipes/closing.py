"""Recipe: a required closing ("End every answer with the line 'Hope this helps.'").

"...with the line X" means X alone on the answer's last line; without "line" the answer must end with X.
A negated closing ("never end with") or a permission is refused, not guessed. DPO rejects the same
correct answer without the closing.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import edit_form_data
from rl_agent.kit.planning.recipes.reading import TaskText, check_gap, template_need, insist

NAME = "closing"
TRIGGER = re.compile(
    r"\b(?:(?:ends?|ending|finish(?:es|ing)?|close[s]?|closing|conclude[s]?|concluding|sign(?:s|ing)? off|"
    r"wrap(?:s|ping)? up)\b(?P<gap>(?:\s+[\w']+){0,4}?)\s+with\s+"
    r"|(?P<lastline>(?:the\s+)?(?:last|final|closing)\s+line)(?P<gap2>(?:\s+\w+){0,3}?)\s+(?:be|is|reads?|says?)\s+"
    r"(?:exactly\s+)?)"
    r"(?:(?:the|a)\s+)?(?P<line>(?:(?:exact|closing|final|separate)\s+)?(?P<noun>line|sentence|sign-off|signature)\s+)?"
    r"(?:(?:word|words|text|phrase)\s+)?(?P<q>«q\d+»)(?P<more>\s*(?:,|or|and|/)\s*«q\d+»)?")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    found = []
    for ci, clause in enumerate(text.clauses()):
        m = TRIGGER.search(clause)
        if not m:
            continue
        closing = text.quote(m.group("q"))
        check_gap(m.group("gap") or m.group("gap2"), clause, f"answers end with {closing!r}", text)
        # "the line X" / "the last line is X": X alone on the last line; "the sentence X": the answer ends with X
        whole_line = m.group("noun") == "line" or bool(m.group("lastline"))
        if m.group("more"):
            raise RecipeRefused([f"answers end with {closing!r} or another quoted text"], "one required closing")
        left[ci] = insist(clause.replace(m.group(0), " "), clause, f"something about answers ending with {closing!r}", text)
        found.append((ci, m.group("q"), closing, whole_line))
    if not found:
        return None
    if len({(c, w) for _, _, c, w in found}) > 1:
        raise RecipeRefused([f"answers end with {c!r}" for _, _, c, _ in found], "one required closing")
    _, _, closing, whole_line = found[0]
    if not closing.strip() or "\n" in closing:
        raise RecipeRefused(["answers end with an empty quoted text"], "the closing text inside the quotes")
    what = "the last line must be exactly" if whole_line else "every answer must end with"
    return Reading(NAME, {"closing": closing, "whole_line": whole_line}, f"{what} {closing!r}",
                   frozenset(q for _, q, _, _ in found), frozenset(ci for ci, _, _, _ in found), leftover=tuple(left.items()),
                   unsure=template_need(closing))


CHECK_BODY = r'''
def check(prompt, output, reference=None):
    """1.0 when the answer ends with the closing (alone on the last line when whole_line) after some answer text."""
    closing = PARAMS["closing"].strip()
    text = output.rstrip()
    if PARAMS["whole_line"]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) < 2 or lines[-1] != closing:
            return 0.0
        return 1.0 if re.search(r"\w", " ".join(lines[:-1])) else 0.0
    if not text.endswith(closing):
        return 0.0
    before = text[: len(text) - len(closing)]
    if closing[:1].isalnum() and before[-1:].isalnum():
        return 0.0  # 'done' does not end 'undone'
    return 1.0 if re.search(r"\w", before) else 0.0
'''


def build(reading: Reading, task: str) -> RecipePlan:
    closing, whole = reading.params["closing"], reading.params["whole_line"]
    sep = "\n" if whole else " "

    train, heldout, facts = edit_form_data(lambda a: f"{a}{sep}{closing}", lambda a: a.endswith(closing),
                                           reading.understood)
    good = [item(f, f"{f.answer}{sep}{closing}") for f in facts[:3]]
    good += [item(facts[3], f"The answer is {facts[3].answer}\n{closing}\n"),
             item(facts[4], f"{facts[4].answer}\n\n{closing}")]
    bad = [item(facts[0], facts[0].answer), item(facts[1], f"{closing}{sep}{facts[1].answer}"),
           item(facts[2], closing), item(facts[3], f"{facts[3].answer}{sep}{closing} " + next(
               t for t in ("Anything else?", "Anything else.", "Anything else") if not t.endswith(closing))),
           item(facts[4], f"{facts[4].answer}{sep}{closing[:-1] if len(closing) > 1 else ''}")]
    if whole:
        bad.append(item(facts[5], f"{facts[5].answer} and {closing}"))
    elif closing[:1].isalnum():
        bad.append(item(facts[5], f"{facts[5].answer.rstrip('.')}{closing}"))
    statement = (f"accepts only answers whose last line is exactly {closing!r}, after at least one line of answer"
                 if whole else f"accepts only answers that end with exactly {closing!r} after some answer text"
                 + (" (as a whole word)" if closing[:1].isalnum() else ""))
    return RecipePlan(NAME, task, reading.params, "dpo", statement + "; rejects everything else", reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct answer with the closing, rejected the same answer without"])
