"""Recipe: banned openers and banned phrases ("never start with 'Sure'", "don't say 'I think'").

The negation is the requirement here, so the check REJECTS answers that open with (or contain) any of the
quoted strings: matching is case-insensitive, curly apostrophes count as straight, and a banned word must
end at a word boundary ("Sure" bans "Sure, ..." but not "Surely"). The DPO data rejects the same correct
answer opened with a banned string.
"""

from __future__ import annotations

import re

from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.dpo_data import form_splits
from rl_agent.kit.planning.recipes.reading import TaskText, check_gap, template_need, insist

NAME = "banned"
EXTRA = frozenset("words word phrases phrase expressions ever again anymore".split())
_NEG = r"(?:never|don't|dont|do not|not|no|avoid|stop|shouldn't|mustn't|can't|cannot|refrain from)"
_QS = r"(?P<qs>«q\d+»(?:\s*(?:,|or|and|nor|, or|, and|/)\s*«q\d+»)*)"
_FILL = r"(?:(?:ever|to|your|any|an|the|a|answers?|replies|reply|responses?|by|with|you|it|them|messages?|" \
        r"should|must|will|one)\s+){0,4}"
OPENER = re.compile(_NEG + r"\s+" + _FILL + r"(?:start|begin|open|lead)(?:s|ing|ning)?\b(?P<gap>(?:\s+\w+){0,3}?)\s+with\s+"
                    r"(?:(?:the|a|an)\s+)?(?:(?:words?|phrases?|text|greetings?)\s+)?(?:like\s+)?" + _QS)
PHRASE = re.compile(
    r"(?:" + _NEG + r"\s+" + r"(?:(?:ever|you|to|the|any|of)\s+){0,3}"
    r"(?:say|saying|use|using|write|writing|include|including|mention|mentioning|utter\w*)\b"
    r"|(?:avoid|ban|never use|forbid\w*)\s+(?:the\s+)?(?:words?|phrases?|expressions?|terms?)"
    r"|banned (?:words?|phrases?)\s*:?)"
    r"\s*(?:(?:the|any)\s+)?(?:(?:words?|phrases?|expressions?|terms?)\s+)?(?:like\s+)?" + _QS)


# Markdown shown as an example inside quotes ("Don't use `**bold**`"): the formatting, or the literal text?
MARKUP = re.compile(r"^\s*(\*\*?|__?|`+)[^*_`\n]+\1\s*$|^\s*#{1,6}\s+\S|^\s*(?:[-*+]|\d+[.)])\s+\S")


def ban_spans(clause: str) -> list[tuple[str, re.Match]]:
    """('opener' | 'phrase', match) for every ban construction in a masked clause."""
    found = [("opener", m) for m in OPENER.finditer(clause)]
    found += [("phrase", m) for m in PHRASE.finditer(clause)
              if not any(m.start() < o.end() and o.start() < m.end() for _, o in found)]
    return found


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    openers: list[str] = []
    phrases: list[str] = []
    claimed: set[int] = set()
    markers: set[str] = set()
    for ci, clause in enumerate(text.clauses()):
        spans = ban_spans(clause)
        if not spans:
            continue
        rest = clause
        for kind, m in spans:
            qs = text.quote_markers(m.group("qs"))
            quoted = [text.quote(q) for q in qs]
            said = _understood(quoted, []) if kind == "opener" else _understood([], quoted)
            if re.search(r"\b(?:like|such as|e\.?g\.?|for example|for instance|including)\s*,?\s*$",
                         clause[:m.start("qs")]):
                raise RecipeRefused([said], f"the exact texts to ban: {text.show(m.group(0))!r} gives examples of a kind "
                                            "of opening or phrase, and a kind needs Claude (quote every text to ban, "
                                            "without 'like')")
            markup = [q for q in quoted if MARKUP.search(q)]
            if markup:
                raise RecipeRefused([f"a ban on {markup[0]!r}"], "whether the formatting or the literal text is banned "
                                    "(for formatting, say 'no bold', 'no Markdown')")
            if kind == "opener":
                check_gap(m.group("gap"), clause, said, text)
                if re.search(r"\b(?:every|all|always|each)\b", m.group(0)[:m.start("qs") - m.start()]):
                    raise RecipeRefused([said], f'how often: "{text.show(m.group(0))}" negates every answer, which means '
                                                "some answers may (not never)")
            markers.update(qs)
            (openers if kind == "opener" else phrases).extend(quoted)
            rest = rest.replace(m.group(0), " ")
        claimed.add(ci)
        left[ci] = insist(rest, clause, _understood(openers, phrases), text, EXTRA)
    if not claimed:
        return None
    if any(not s.strip() for s in openers + phrases):
        raise RecipeRefused([_understood(openers, phrases)], "non-empty quoted text for every banned phrase")
    params = {"openers": _dedupe(openers), "phrases": _dedupe(phrases)}
    unsure = next(filter(None, map(template_need, openers + phrases)), None)
    for q in openers + phrases:  # the check ignores case: 'IT' would ban "it"; 'z' alone, the word or the letter?
        if len(q.strip()) == 1 and q.strip().isalpha():
            unsure = unsure or f"whether {q!r} bans the letter anywhere or only the word {q!r}"
        elif len(q) >= 2 and q.isalpha() and q.isupper():
            unsure = unsure or (f"whether {q!r} is banned in any case ({q.lower()!r}, {q.capitalize()!r}) or only as "
                                "written (the check ignores case)")
    return Reading(NAME, params, _understood(params["openers"], params["phrases"]), frozenset(markers),
                   clauses=frozenset(claimed), leftover=tuple(left.items()), unsure=unsure)


def _dedupe(items: list[str]) -> list[str]:
    seen, out = set(), []
    for s in items:
        if s.casefold() not in seen:
            seen.add(s.casefold())
            out.append(s)
    return out


def _understood(openers: list[str], phrases: list[str]) -> str:
    parts = []
    if openers:
        parts.append("answers must not begin with any of: " + ", ".join(map(repr, openers)))
    if phrases:
        parts.append("answers must not contain any of: " + ", ".join(map(repr, phrases)))
    return "; ".join(parts) or "a ban"


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


def build(reading: Reading, task: str) -> RecipePlan:
    openers, phrases = reading.params["openers"], reading.params["phrases"]
    banned = openers + phrases

    def chosen(f):
        return None if _mentions(f.answer, banned) else f.answer

    def rejected(f, i):
        return _join(banned[i % len(banned)], f.answer)

    train, heldout = form_splits(chosen, rejected, reading.understood)
    facts = [f for f in bundled_facts("heldout") if not _mentions(f.answer, banned)][:6]
    good = [item(f, f.answer) for f in facts[:3]]
    good += [item(facts[3], f"The answer is {facts[3].answer}"), item(facts[4], f"{facts[4].answer}\n\nThat is all.")]
    bad = [item(facts[i % len(facts)], _join(b, facts[i % len(facts)].answer)) for i, b in enumerate(banned)]
    bad += [item(facts[0], f"{openers[0].upper()} {facts[0].answer}") if openers else
            item(facts[0], f"Well, {phrases[0].upper()} it is {facts[0].answer}")]
    bad += [item(facts[1], f"  \"{banned[0]}\" {facts[1].answer}") if openers else
            item(facts[1], f"{facts[1].answer} ({phrases[0]})")]
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
    return RecipePlan(NAME, task, reading.params, "dpo", statement, reading.understood,
                      render_check(NAME, reading.params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO: chosen is the correct answer, rejected the same answer opened with a banned string"])
