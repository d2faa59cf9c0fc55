"""Recipe: at most N words or N sentences ("at most five words", "no more than 2 sentences", "in one sentence").

Numbers may be written as words. "under/fewer than/less than N" means at most N-1. A minimum ("at least"),
a bare count ("in five words": exactly or at most?), a limit without a number ("as many words as you
like") or a negated limit ("no need to stay under 10 words") is refused. Words are whitespace-separated
tokens with a letter or digit; sentences end at . ! ? followed by a space or the end.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import NUMBER, TaskText, check_gap, insist, parse_number

NAME = "length"
EXTRA = frozenset("short shorter brief concise succinct long length total max".split())
_UNIT = r"(?P<unit>words?|sentences?)"
_N = r"(?P<n>" + NUMBER + r")"
AT_MOST = re.compile(
    r"\b(?P<op>at most|no more than|not more than|never more than|not over|never over|maximum of|a maximum of|max(?:imum)?\.?|up to|within|"
    r"no longer than|not longer than|(?:do not|don't|never) (?:go over|exceed|go beyond)(?: more than)?|"
    r"(?:do not|don't|never) (?:use|write) (?:more than|over)|"
    r"(?:must |should )?not exceed|never exceed|under|fewer than|less than|below|limit(?:ed)? (?P<s1>\w+ )?to|"
    r"cap(?:ped)? (?P<s2>\w+ )?at|keep (?P<s3>\w+ )?(?:under|below|within|to))\s+" + _N + r"\s+" + _UNIT + r"\b"
    r"|\b" + _N.replace("<n>", "<n2>") + r"\s+" + _UNIT.replace("<unit>", "<unit2>") +
    r"\s+(?P<op2>or (?:fewer|less)|max(?:imum)?|at most|or under|tops)\b"
    r"|\b(?:in|to|into)\s+(?:just\s+|only\s+)?(?P<one>one|a single|a|single)\s+sentence\b"
    r"|\b(?:as|with|using)\s+(?:just\s+|only\s+)?(?P<one3>one|a single|single)\s+sentence\b"
    r"|\b(?P<one2>one|single)[- ]sentence\b")
OTHER = re.compile(r"\b(?:(?P<min>at least|minimum(?: of)?|more than|over|no fewer than|no less than)\s+)?"
                   + _N + r"\s+" + _UNIT + r"\b")
LOOSE = re.compile(r"\b(?:as many|any number of|however many|unlimited|no limit|no word limit)\b")
STRICT_OPS = ("under", "fewer than", "less than", "below")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    found: list[tuple[int, str, int]] = []
    mentioned: list[str] = []
    for ci, clause in enumerate(text.clauses()):
        m = AT_MOST.search(clause)
        if not m:
            other = OTHER.search(clause)
            if other:
                what = f"{other.group(0)!r}"
                need = ("a maximum: the library checks 'at most N words/sentences'; a minimum needs Claude"
                        if other.group("min") else "whether that is exactly or at most (say 'at most')")
                raise RecipeRefused([f"a length of {what}"], need)
            if re.search(r"\b(words?|sentences?)\b", clause) and (LOOSE.search(clause) or re.search(r"\blength\b", clause)):
                mentioned.append(clause)
            continue
        check_gap(m.group("s1") or m.group("s2") or m.group("s3"), clause, f"a length limit {m.group(0)!r}", text)
        if m.group("one") or m.group("one2") or m.group("one3"):
            unit, n, op = "sentences", 1, "one"
        else:
            n = parse_number(m.group("n") or m.group("n2"))
            unit = (m.group("unit") or m.group("unit2")).rstrip("s") + "s"
            op = (m.group("op") or m.group("op2") or "").strip()
            if n is None:
                raise RecipeRefused([f"a length limit {m.group(0)!r}"], "a number I can read")
            if op.endswith(STRICT_OPS):
                n -= 1
        left[ci] = insist(clause.replace(m.group(0), " "), clause, f"a length limit {m.group(0)!r}", text, EXTRA)
        if n < 1:
            raise RecipeRefused([f"a length limit {m.group(0)!r}"], "a limit of at least one word or sentence")
        found.append((ci, unit, n))
    if not found:
        if mentioned:
            raise RecipeRefused([f"something about length in {mentioned[0]!r}"], "a stated maximum ('at most N words')")
        return None
    if len({(u, n) for _, u, n in found}) > 1:
        raise RecipeRefused([f"at most {n} {u}" for _, u, n in found], "one length limit")
    _, unit, n = found[0]
    return Reading(NAME, {"unit": unit, "max": n}, f"every answer must have at most {n} {unit}", frozenset(),
                   frozenset(ci for ci, _, _ in found), leftover=tuple(left.items()))


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


def build(reading: Reading, task: str) -> RecipePlan:
    unit, limit = reading.params["unit"], reading.params["max"]

    def chosen(f):
        return f.answer if _count(f.answer, unit) <= limit else None

    def rejected(f, i):
        return _padded(f.answer, unit, limit)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = [f for f in bundled_facts("heldout") if _count(f.answer, unit) <= limit][:6]
    good = [item(f, f.answer) for f in facts[:4]]
    base, first = facts[4].answer, facts[0].answer
    filler = "yes" if unit == "words" else "Yes."
    exact = " ".join([base] + [filler] * (limit - _count(base, unit)))  # exactly at the limit: still passes
    over = " ".join([first] + [filler] * (limit + 1 - _count(first, unit)))  # one over the limit
    good.append(item(facts[4], exact))
    bad = [item(facts[0], over)] + [item(f, _padded(f.answer, unit, limit)) for f in facts[1:4]]
    bad += [item(facts[4], ""), item(facts[5], " ... ")]
    statement = (f"accepts only answers of 1 to {limit} {unit} ("
                 + ("words are whitespace-separated tokens with a letter or digit" if unit == "words"
                    else "a sentence ends at . ! or ? followed by a space or the end") + "); rejects longer or empty ones")
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct answer, rejected the same answer padded past the limit"])
