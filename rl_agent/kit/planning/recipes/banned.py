"""Recipe: banned openers and banned phrases (`--set openers=Sure --set phrases="I think"`).

The check REJECTS answers that open with (or contain) any of the given texts: matching is case-insensitive,
curly apostrophes count as straight, and a banned word must end at a word boundary ("Sure" bans "Sure, ..."
but not "Surely"). The DPO data rejects the same correct answer opened with a banned text.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from rl_agent.kit.planning.recipes.base import Form, OneLine, Params, RecipePlan, bundled_facts, item
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.tracks.dpo import DPOTrack

NAME = "banned"
DESCRIPTION = "answers never start with (openers) or never say (phrases) given words, e.g. 'Sure' or 'I think'"
EXAMPLE = {"phrases": ["I think", "probably"]}


class BannedParams(Params):
    openers: list[OneLine] = Field(default_factory=list, description="texts no answer may start with")
    phrases: list[OneLine] = Field(default_factory=list, description="texts no answer may contain anywhere")

    @field_validator("openers", "phrases")
    @classmethod
    def _texts(cls, v: list[str]) -> list[str]:
        seen, out = set(), []
        for s in v:
            if s.casefold() not in seen:
                seen.add(s.casefold())
                out.append(s)
        return out

    @model_validator(mode="after")
    def _some(self) -> "BannedParams":
        if not self.openers and not self.phrases:
            raise ValueError("give at least one text to ban: --set openers=TEXT or --set phrases=TEXT")
        return self


PARAMS = BannedParams

CHECK_BODY = r'''
def _norm(text):
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split()).casefold()


def _pattern(phrase):
    p = re.escape(_norm(phrase))
    if re.match(r"\w", phrase):
        p = r"(?<!\w)" + p
    if re.search(r"\w$", phrase):
        p = p + r"(?!\w)"
    return p


def _opens_with(text, phrase):
    """Leading spaces, quotes and punctuation are ignored on both sides ('"Sure," ...' opens with Sure)."""
    core = re.sub(r"^[\W_]+", "", _norm(phrase))
    if not core:
        return text.startswith(_norm(phrase))
    return re.match(_pattern(core), re.sub(r"^[\W_]+", "", text)) is not None


def check(prompt, output, reference=None):
    """1.0 when the answer neither begins with a banned opener nor contains a banned phrase; else 0.0."""
    text = _norm(output)
    if not re.search(r"\w", text):
        return 0.0
    for phrase in PARAMS["openers"]:
        if _opens_with(text, phrase):
            return 0.0
    for phrase in PARAMS["phrases"]:
        if re.search(_pattern(phrase), text):
            return 0.0
    return 1.0
'''


def _join(banned: str, answer: str) -> str:
    return f"{banned} {answer}" if banned[-1:] in ",.!?:;" else f"{banned}, {answer}"


def _mentions(answer: str, banned: list[str]) -> bool:
    low = answer.casefold()
    return any(b.casefold() in low for b in banned)


def understood(p: BannedParams) -> str:
    parts = []
    if p.openers:
        parts.append("answers must not begin with any of: " + ", ".join(map(repr, p.openers)))
    if p.phrases:
        parts.append("answers must not contain any of: " + ", ".join(map(repr, p.phrases)))
    return "; ".join(parts)


def form(p: BannedParams) -> Form:
    banned = p.openers + p.phrases
    return Form(lambda a: None if _mentions(a, banned) else a, lambda a, i: _join(banned[i % len(banned)], a), order=5)


def build(p: BannedParams) -> RecipePlan:
    openers, phrases = p.openers, p.phrases
    params = p.model_dump(mode="json")
    banned = openers + phrases

    def chosen(f):
        return None if _mentions(f.answer, banned) else f.answer

    def rejected(f, i):
        return _join(banned[i % len(banned)], f.answer)

    train, heldout = form_splits(chosen, rejected, understood(p))
    facts = [f for f in bundled_facts("heldout") if not _mentions(f.answer, banned)][:6]
    good = [item(f, f.answer) for f in facts[:3]]
    good += [item(facts[3], f"The answer is {facts[3].answer}"), item(facts[4], f"{facts[4].answer}\n\nThat is all.")]
    bad = [item(facts[i % len(facts)], _join(b, facts[i % len(facts)].answer)) for i, b in enumerate(banned)]
    bad += [
        item(facts[0], f"{openers[0].upper()} {facts[0].answer}")
        if openers
        else item(facts[0], f"Well, {phrases[0].upper()} it is {facts[0].answer}")
    ]
    bad += [
        item(facts[1], f'  "{banned[0]}" {facts[1].answer}')
        if openers
        else item(facts[1], f"{facts[1].answer} ({phrases[0]})")
    ]
    i = 0
    while len(bad) < 5:
        b = banned[i % len(banned)]
        f = facts[(i + 2) % len(facts)]
        bad.append(item(f, f"{b.lower()} {f.answer}" if openers else f"{f.answer} {b}."))
        i += 1
    parts = []
    if openers:
        parts.append("rejects answers that begin with any of: " + ", ".join(map(repr, openers)))
    if phrases:
        parts.append("rejects answers that contain any of: " + ", ".join(map(repr, phrases)))
    statement = "; ".join(parts) + " (case-insensitive, whole words; everything else passes)"
    notes = ["DPO: chosen is the correct answer, rejected the same answer opened with a banned text"]
    return RecipePlan.of(
        NAME, understood(p), params, DPOTrack.name, statement, CHECK_BODY, (train, heldout), (good, bad), notes
    )
