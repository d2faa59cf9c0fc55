"""Recipe: no bullet points, or no Markdown at all ("no bullet points", "plain text only, no Markdown").

The negation is the requirement, so a trigger needs it ("no", "without", "never use", "avoid"); a bare
mention ("use bullet points", "Markdown is fine") is not this recipe and is refused. Bullets: a line that
starts with -, *, +, a bullet sign, or a list number ("1." / "1)"). Markdown adds headings, emphasis,
code, links, block quotes and tables. A ban of named elements only ("no bold text", "no tables or headings")
bans those and nothing else.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "plain_text"
EXTRA = frozenset("plain prose simple paragraphs paragraph sentences".split())
_NEG = r"(?:no|without|never use|don't use|do not use|avoid(?: using)?|must not use|should not use|not use|free of|zero)"
_ITEM = (r"(?:bullet(?:ed)?(?:[- ]points?)?|bullets|bulleted lists?|numbered lists?|numbered list items|lists?|markdown(?: formatting)?|md|formatting|"
         r"headings?|headers?|bold(?: text)?|italics?|tables?|code blocks?)")
NEGATED = re.compile(r"\b" + _NEG + r"\s+(?:any\s+)?" + _ITEM + r"(?:\s*(?:,|or|and|nor|, or|, and)\s+(?:any\s+)?" + _ITEM
                     + r")*\b|\bplain[- ]text(?: only)?\b")
MENTION = re.compile(r"\b(?:bullet\w*|markdown|lists?|formatting|headings?|bold|italics?|tables?)\b")


# A ban of named Markdown elements bans those elements only ("No bold text" allows a bulleted list).
ELEMENTS = {"bold": r"bold", "italic": r"italics?", "table": r"tables?", "heading": r"headings?|headers?",
            "code_block": r"code blocks?", "numbered": r"numbered lists?|numbered list items|numbering",
            "bullets": r"bullet\w*|bullets|(?<!numbered )lists?"}
_ELEMENT_WORDS = {"bold": "bold text", "italic": "italics", "table": "tables", "heading": "headings",
                  "code_block": "code blocks", "numbered": "numbered list items",
                  "bullets": "bullet points or numbered list items"}
_WHOLE = re.compile(r"markdown|\bmd\b|formatting|plain")


def _banned_elements(fragment: str) -> set[str]:
    named = {name for name, rx in ELEMENTS.items() if re.search(r"\b(?:" + rx + r")\b", fragment)}
    return {"bullets"} | (named - {"numbered"}) if {"bullets", "numbered"} <= named else named


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    modes: dict[int, str] = {}
    elements: set[str] = set()
    for ci, clause in enumerate(text.clauses()):
        rest, mode = clause, None
        for m in NEGATED.finditer(clause):
            rest = rest.replace(m.group(0), " ")
            named = _banned_elements(m.group(0))
            elements |= named
            if _WHOLE.search(m.group(0)) or mode == "markdown":
                mode = "markdown"
            elif named - {"bullets"} or mode == "elements":  # numbered lists only, bold only, ...
                mode = "elements"
            else:
                mode = "bullets"
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
    mode = "markdown" if "markdown" in modes.values() else "elements" if "elements" in modes.values() else "bullets"
    if mode == "elements":
        names = sorted(elements)
        return Reading(NAME, {"ban": "elements", "elements": names}, "answers must use no " + ", no ".join(
            _ELEMENT_WORDS[n] for n in names) + " (other formatting is allowed)", frozenset(), frozenset(modes),
            leftover=tuple(left.items()))
    words = "plain text: no Markdown (no bullets, headings, emphasis, code, links, quotes or tables)" \
        if mode == "markdown" else "no bullet points or numbered list items"
    return Reading(NAME, {"ban": mode}, f"answers must use {words}", frozenset(), frozenset(modes), leftover=tuple(left.items()))



CHECK_BODY = r'''
BULLET = re.compile(r"^\s*(?:[-*+\u2022\u2023\u25e6\u25aa\u25cf\u2013\u2014]|\d+[.)])[ \t]+(?=\S)", re.MULTILINE)
MARKDOWN = {
    "heading": [re.compile(r"^\s{0,3}#{1,6}\s", re.MULTILINE)],
    "bold": [re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")],
    "italic": [re.compile(r"(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])"), re.compile(r"(?<![\w_])_[^_\s][^_\n]*_(?![\w_])")],
    "code": [re.compile(r"`")],
    "code_block": [re.compile(r"^\s*(?:```|~~~)", re.MULTILINE)],
    "numbered": [re.compile(r"^\s*\d+[.)][ \t]+(?=\S)", re.MULTILINE)],
    "link": [re.compile(r"\[[^\]\n]+\]\([^)\n]*\)")],
    "quote": [re.compile(r"^\s{0,3}>", re.MULTILINE)],
    "table": [re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)],
    "rule": [re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$", re.MULTILINE)],
}


def check(prompt, output, reference=None):
    """1.0 for an answer with words and none of the banned syntax: bullet/list lines, all Markdown, or the
    named elements only."""
    if not re.search(r"\w", output):
        return 0.0
    ban = PARAMS["ban"]
    named = PARAMS.get("elements", [])
    if (ban in ("bullets", "markdown") or "bullets" in named) and BULLET.search(output):
        return 0.0
    kinds = [k for k in MARKDOWN if k != "numbered"] if ban == "markdown" else [k for k in named if k in MARKDOWN]
    if any(rx.search(output) for k in kinds for rx in MARKDOWN[k]):
        return 0.0
    return 1.0
'''

_BULLETED = ("- {a}", "* {a}", "\u2022 {a}", "1. {a}", "- {a}\n- That is the answer.")
_MARKED = ("**{a}**", "# Answer\n\n{a}", "- {a}", "`{a}`", "> {a}", "_{a}_")
_MARKUP = re.compile(r"[*_`#>|\[\]]|^\s*(?:[-+]|\d+[.)])[ \t]+\S", re.MULTILINE)


_ELEMENT_FORMS = {"bold": "**{a}**", "italic": "_{a}_", "table": "| answer |\n|---|\n| {a} |",
                  "heading": "# Answer\n\n{a}", "code_block": "```\n{a}\n```", "numbered": "1. {a}",
                  "bullets": "- {a}"}


def build(reading: Reading, task: str) -> RecipePlan:
    ban = reading.params["ban"]
    named = reading.params.get("elements", [])
    covered = set(named) | ({"numbered"} if "bullets" in named else set())  # a bullet ban covers numbered items
    forms = (_MARKED if ban == "markdown" else _BULLETED if ban == "bullets"
             else tuple(_ELEMENT_FORMS[n] for n in named))

    def chosen(f):
        return None if _MARKUP.search(f.answer) else f.answer

    def rejected(f, i):
        return forms[i % len(forms)].format(a=f.answer)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = [f for f in bundled_facts("heldout") if not _MARKUP.search(f.answer)][:6]
    good = [item(f, f.answer) for f in facts[:3]]
    good += [item(facts[3], f"The answer is {facts[3].answer} It is 5-10 km away, 3 * 4 = 12."),
             item(facts[4], f"{facts[4].answer}\n\nFirst, it is well known. Second, it is in every atlas.")]
    allowed = [k for k in _ELEMENT_FORMS if k not in covered]
    if ban == "elements":  # what was not banned stays allowed: the check must not add a requirement
        good += [item(facts[i % 3], _ELEMENT_FORMS[k].format(a=facts[i % 3].answer)) for i, k in enumerate(allowed)]
    bad = [item(f, forms[i % len(forms)].format(a=f.answer)) for i, f in enumerate(facts[:5])]
    bad.append(item(facts[5], ""))
    if ban == "elements":
        statement = ("rejects answers with any of: " + ", ".join(_ELEMENT_WORDS[n] for n in named)
                     + ", and empty answers; everything else passes (" + ", ".join(_ELEMENT_WORDS[k] for k in allowed)
                     + " included)")
    else:
        statement = ("rejects answers with any line starting with a bullet (-, *, +, \u2022) or a list number (1. or 1))"
                     + (", any Markdown heading, bold/italic, code, link, block quote, table or rule"
                        if ban == "markdown" else "") + ", and empty answers; everything else passes")
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct plain answer, rejected the same answer with the banned "
                             "syntax"])
