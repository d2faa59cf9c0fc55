"""Recipe: no bullet points, or no Markdown at all ("no bullet points", "plain text only, no Markdown").

The negation is the requirement, so a trigger needs it ("no", "without", "never use", "avoid"); a bare
mention ("use bullet points", "Markdown is fine") is not this recipe and is refused. Bullets: a line that
starts with -, *, +, a bullet sign, or a list number ("1." / "1)"). Markdown adds headings, emphasis,
code, links, block quotes and tables.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "plain_text"
EXTRA = frozenset("plain prose simple paragraphs paragraph sentences".split())
_NEG = r"(?:no|without|never use|don't use|do not use|avoid(?: using)?|must not use|should not use|not use|free of|zero)"
_ITEM = (r"(?:bullet(?:ed)?(?:[- ]points?)?|bullets|bulleted lists?|lists?|markdown(?: formatting)?|md|formatting|"
         r"headings?|headers?|bold(?: text)?|italics?|tables?|code blocks?)")
NEGATED = re.compile(r"\b" + _NEG + r"\s+(?:any\s+)?" + _ITEM + r"(?:\s*(?:,|or|and|nor|, or|, and)\s+(?:any\s+)?" + _ITEM
                     + r")*\b|\bplain[- ]text(?: only)?\b")
MARKDOWN_WORDS = re.compile(r"markdown|\bmd\b|formatting|heading|header|bold|italic|table|code|plain")
MENTION = re.compile(r"\b(?:bullet\w*|markdown|lists?|formatting|headings?|bold|italics?|tables?)\b")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    modes: dict[int, str] = {}
    for ci, clause in enumerate(text.clauses()):
        rest, mode = clause, None
        for m in NEGATED.finditer(clause):
            rest = rest.replace(m.group(0), " ")
            mode = "markdown" if mode == "markdown" or MARKDOWN_WORDS.search(m.group(0)) else "bullets"
        if mode is None:
            if MENTION.search(clause) and ("markdown" in clause or "bullet" in clause):
                raise RecipeRefused([f"something about formatting in {clause!r}"],
                                    "a ban I can read ('no bullet points', 'no Markdown'); using a format needs Claude")
            continue
        if MENTION.search(rest):
            raise RecipeRefused([f"no {mode}"], f"what {rest.strip()!r} asks about formatting")
        left[ci] = insist(rest, clause, f"no {mode}", text, EXTRA)
        modes[ci] = mode
    if not modes:
        return None
    mode = "markdown" if "markdown" in modes.values() else "bullets"
    words = "plain text: no Markdown (no bullets, headings, emphasis, code, links, quotes or tables)" \
        if mode == "markdown" else "no bullet points or numbered list items"
    return Reading(NAME, {"ban": mode}, f"answers must use {words}", frozenset(), frozenset(modes), leftover=tuple(left.items()))


CHECK_BODY = r'''
BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u25aa\u25cf\u2013\u2014]|\d+[.)])[ \t]+(?=\S)", re.MULTILINE)
MARKDOWN = [
    re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE),             # heading
    re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__"),                # bold
    re.compile(r"(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])"),      # italic *x*
    re.compile(r"(?<![\w_])_[^_\s][^_\n]*_(?![\w_])"),         # italic _x_
    re.compile(r"`"),                                          # code
    re.compile(r"\[[^\]\n]+\]\([^)\n]*\)"),                    # link
    re.compile(r"^\s{0,3}>", re.MULTILINE),                    # block quote
    re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE),               # table row
    re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$", re.MULTILINE),  # rule
]


def check(prompt, output, reference=None):
    """1.0 for an answer with words and no bullet/list lines (and, when banned, no Markdown syntax)."""
    if not re.search(r"\w", output):
        return 0.0
    if BULLET.search(output):
        return 0.0
    if PARAMS["ban"] == "markdown" and any(rx.search(output) for rx in MARKDOWN):
        return 0.0
    return 1.0
'''

_BULLETED = ("- {a}", "* {a}", "\u2022 {a}", "1. {a}", "- {a}\n- That is the answer.")
_MARKED = ("**{a}**", "# Answer\n\n{a}", "- {a}", "`{a}`", "> {a}", "_{a}_")
_MARKUP = re.compile(r"[*_`#>|\[\]]|^\s*(?:[-+]|\d+[.)])[ \t]+\S", re.MULTILINE)


def build(reading: Reading, task: str) -> RecipePlan:
    forms = _MARKED if reading.params["ban"] == "markdown" else _BULLETED

    def chosen(f):
        return None if _MARKUP.search(f.answer) else f.answer

    def rejected(f, i):
        return forms[i % len(forms)].format(a=f.answer)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = [f for f in bundled_facts("heldout") if not _MARKUP.search(f.answer)][:6]
    good = [item(f, f.answer) for f in facts[:3]]
    good += [item(facts[3], f"The answer is {facts[3].answer} It is 5-10 km away, 3 * 4 = 12."),
             item(facts[4], f"{facts[4].answer}\n\nFirst, it is well known. Second, it is in every atlas.")]
    bad = [item(f, forms[i % len(forms)].format(a=f.answer)) for i, f in enumerate(facts[:5])]
    bad.append(item(facts[5], ""))
    statement = ("rejects answers with any line starting with a bullet (-, *, +, \u2022) or a list number (1. or 1))"
                 + (", any Markdown heading, bold/italic, code, link, block quote, table or rule"
                    if reading.params["ban"] == "markdown" else "") + ", and empty answers; everything else passes")
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct plain answer, rejected the same answer with list/Markdown "
                             "syntax"])
