"""Recipe: no bullet points, no Markdown, or no named Markdown elements (`--set ban=bullets`,
`--set ban=elements --set elements=bold`).

Bullets: a line that starts with -, *, +, a bullet sign, or a list number ("1." / "1)"). Markdown adds
headings, emphasis, code, links, block quotes, tables and rules. A ban of named elements bans those and
nothing else (a bullets ban covers numbered items too).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from rl_agent.kit.planning.recipes.base import Form, Params, RecipePlan, bundled_facts, item
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "plain_text"
DESCRIPTION = "plain text: no bullet points or lists, no Markdown formatting (or no named elements such as bold)"
EXAMPLE = {"ban": "bullets"}
Element = Literal["bold", "italic", "table", "heading", "code_block", "numbered", "bullets"]


class PlainTextParams(Params):
    ban: Literal["bullets", "markdown", "elements"] = Field(
        "markdown",
        description="bullets: no bullet or numbered list lines; markdown: no Markdown at all; "
        "elements: only the elements named in `elements`",
    )
    elements: list[Element] = Field(default_factory=list, description="with ban=elements: the elements banned")

    @model_validator(mode="after")
    def _elements(self) -> "PlainTextParams":
        if self.ban == "elements" and not self.elements:
            raise ValueError(
                "ban=elements needs --set elements=NAME (bold, italic, table, heading, code_block, numbered, bullets)"
            )
        if self.ban != "elements" and self.elements:
            raise ValueError("elements is only read with ban=elements")
        named = set(self.elements)
        if {"bullets", "numbered"} <= named:  # a bullets ban covers numbered items
            named.discard("numbered")
        self.elements = sorted(named)
        return self


PARAMS = PlainTextParams

_ELEMENT_WORDS = {
    "bold": "bold text",
    "italic": "italics",
    "table": "tables",
    "heading": "headings",
    "code_block": "code blocks",
    "numbered": "numbered list items",
    "bullets": "bullet points or numbered list items",
}

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
_ELEMENT_FORMS = {
    "bold": "**{a}**",
    "italic": "_{a}_",
    "table": "| answer |\n|---|\n| {a} |",
    "heading": "# Answer\n\n{a}",
    "code_block": "```\n{a}\n```",
    "numbered": "1. {a}",
    "bullets": "- {a}",
}


def _forms(p: PlainTextParams) -> tuple[str, ...]:
    return (
        _MARKED
        if p.ban == "markdown"
        else _BULLETED
        if p.ban == "bullets"
        else tuple(_ELEMENT_FORMS[n] for n in p.elements)
    )


def understood(p: PlainTextParams) -> str:
    if p.ban == "elements":
        return (
            "answers must use no "
            + ", no ".join(_ELEMENT_WORDS[n] for n in p.elements)
            + " (other formatting is allowed)"
        )
    return "answers must use " + (
        "plain text: no Markdown (no bullets, headings, emphasis, code, links, quotes or tables)"
        if p.ban == "markdown"
        else "no bullet points or numbered list items"
    )


def form(p: PlainTextParams) -> Form:
    forms = _forms(p)
    return Form(lambda a: None if _MARKUP.search(a) else a, lambda a, i: forms[i % len(forms)].format(a=a), order=5)


def build(p: PlainTextParams) -> RecipePlan:
    ban, named = p.ban, p.elements
    params = p.model_dump(mode="json")
    covered = set(named) | ({"numbered"} if "bullets" in named else set())  # a bullet ban covers numbered items
    forms = _forms(p)

    def chosen(f):
        return None if _MARKUP.search(f.answer) else f.answer

    def rejected(f, i):
        return forms[i % len(forms)].format(a=f.answer)

    train, heldout = form_splits(chosen, rejected, understood(p))
    facts = [f for f in bundled_facts("heldout") if not _MARKUP.search(f.answer)][:6]
    good = [item(f, f.answer) for f in facts[:3]]
    good += [
        item(facts[3], f"The answer is {facts[3].answer} It is 5-10 km away, 3 * 4 = 12."),
        item(facts[4], f"{facts[4].answer}\n\nFirst, it is well known. Second, it is in every atlas."),
    ]
    allowed = [k for k in _ELEMENT_FORMS if k not in covered]
    if ban == "elements":  # what was not banned stays allowed: the check must not add a requirement
        good += [item(facts[i % 3], _ELEMENT_FORMS[k].format(a=facts[i % 3].answer)) for i, k in enumerate(allowed)]
    bad = [item(f, forms[i % len(forms)].format(a=f.answer)) for i, f in enumerate(facts[:5])]
    bad.append(item(facts[5], ""))
    if ban == "elements":
        statement = (
            "rejects answers with any of: "
            + ", ".join(_ELEMENT_WORDS[n] for n in named)
            + ", and empty answers; everything else passes ("
            + ", ".join(_ELEMENT_WORDS[k] for k in allowed)
            + " included)"
        )
    else:
        statement = (
            "rejects answers with any line starting with a bullet (-, *, +, \u2022) or a list number (1. or 1))"
            + (
                ", any Markdown heading, bold/italic, code, link, block quote, table or rule"
                if ban == "markdown"
                else ""
            )
            + ", and empty answers; everything else passes"
        )
    notes = ["DPO: chosen is the correct plain answer, rejected the same answer with the banned syntax"]
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )
