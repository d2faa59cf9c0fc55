"""Reading a task's text with certainty: quoted strings, JSON examples, clauses, negation and numbers.

Why a masked text: recipes match their trigger phrases on a lower-cased copy of the task in which every
quoted string is replaced by a marker `«q0»` (and every JSON example by `«j0»`), so text inside quotes
(which may hold anything: periods, "never", braces, code) can neither trigger a recipe nor split a
clause, and the quoted strings are taken verbatim from the original. Curly quotes count as straight.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

QUOTE_MAX_CHARS = 200
SHOW_MAX_CHARS = 300  # a refusal quotes at most this much of the task
_QUOTE_MAP = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"',
                            "\u00bb": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'"})

NEGATION = re.compile(
    r"\b(not|never|no|none|don't|dont|do not|doesn't|does not|didn't|without|avoid\w*|stop\w*|nor|isn't|aren't|"
    r"needn't|shouldn't|mustn't|can't|cannot|won't|refrain\w*|neither)\b")
# "Answers need not start with 'Sure'": a permission spelt with a negation, which a ban would otherwise read
NOT_REQUIRED = re.compile(r"\b(?:need not|needn't|no need|(?:do not|don't|does not|doesn't) (?:need|have) to|"
                          r"not (?:required|necessary|needed|mandatory))\b")
PERMISSION = re.compile(
    r"\b(may|might|can|could|allowed|permitted|fine|ok|okay|optional\w*|feel free|free to|up to you|acceptable|"
    r"either|if you (like|want|wish|prefer)|as you (like|wish|want|see fit))\b|" + NOT_REQUIRED.pattern)
CONDITION = re.compile(
    r"\b(if|unless|except|excepting|when|whenever|but not|other than|apart from|sometimes|occasionally|usually|"
    r"mostly|often|rarely|in some cases|at times|from time to time|now and then|once in a while|every other|"
    r"some|(?<!at )most|many|few|half|several|occasional\w*|frequently|generally|typically|normally|ideally|"
    r"preferably|where possible|try to|tries to|in case)\b")

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER = (r"(?:\d+|(?:" + "|".join(_TENS) + r")(?:[- ](?:" + "|".join(_UNITS[1:10]) + r"))?|(?:a|one) hundred|a dozen|"
          r"a single|single|" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")")


def parse_number(text: str) -> int | None:
    """'12', 'twelve', 'twenty-five', 'a hundred', 'a single' -> int; None if it is not a number."""
    t = " ".join(text.lower().replace("-", " ").split())
    if t.isdigit():
        return int(t)
    if t in ("a single", "single"):
        return 1
    if t == "a dozen":
        return 12
    if t in ("a hundred", "one hundred"):
        return 100
    if t in _UNITS:
        return _UNITS.index(t)
    parts = t.split()
    if parts and parts[0] in _TENS:
        value = 20 + 10 * _TENS.index(parts[0])
        if len(parts) == 1:
            return value
        if len(parts) == 2 and parts[1] in _UNITS[1:10]:
            return value + _UNITS.index(parts[1])
    return None


@dataclass(frozen=True)
class TaskText:
    """The task as recipes see it: `masked` (lower case, quotes as «qN», JSON examples as «jN»)."""

    original: str
    masked: str
    quotes: tuple[str, ...]
    examples: tuple[dict, ...]
    broken_braces: bool  # a `{` that did not start a valid JSON object
    spaced: frozenset[int] = frozenset()  # quotes whose text ended in a space ('>> '): a prefix keeps it

    def quote(self, marker: str) -> str:
        return self.quotes[int(marker[2:-1])]

    def ends_in_space(self, marker: str) -> bool:
        return int(marker[2:-1]) in self.spaced

    def quote_markers(self, fragment: str) -> list[str]:
        return re.findall(r"«q\d+»", fragment)

    def show(self, fragment: str) -> str:
        """A masked fragment for people: quote markers back as "text", JSON examples back as JSON."""
        fragment = re.sub(r"«q(\d+)»", lambda m: json.dumps(self.quotes[int(m.group(1))], ensure_ascii=False), fragment)
        fragment = re.sub(r"«j(\d+)»", lambda m: json.dumps(self.examples[int(m.group(1))], ensure_ascii=False), fragment)
        return fragment if len(fragment) <= SHOW_MAX_CHARS else fragment[: SHOW_MAX_CHARS - 3] + "..."

    def clauses(self) -> list[str]:
        """The masked text cut at sentence ends, semicolons and line breaks."""
        return [c.strip() for c in re.split(r"[.;!?\n]+", self.masked) if c.strip()]


def normalise(task: str) -> str:
    """Curly quotes as straight and tabs as spaces; the compatibility forms (full-width letters, "²") are
    folded later, outside quoted text only: a quote is taken verbatim ('答：' stays '答：')."""
    return task.translate(_QUOTE_MAP).replace("\t", " ")


def read_task(task: str) -> TaskText:
    """Tokenise quotes and JSON examples out of the task; everything else lower-cased into `masked`."""
    text = normalise(task)
    out: list[str] = []
    quotes: list[str] = []
    spaced: set[int] = set()
    examples: list[dict] = []
    broken = False
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{":
            try:
                value, end = decoder.raw_decode(text, i)
            except ValueError:
                value, end = None, i
            if isinstance(value, dict):
                out.append(f" «j{len(examples)}» ")
                examples.append(value)
                i = end
                continue
            broken = True
        if c in "\"`" or (c == "'" and (i == 0 or not text[i - 1].isalnum())):
            end = _closing_quote(text, i)
            if end is not None:
                out.append(f" «q{len(quotes)}» ")
                raw = text[i + 1:end]
                if raw[-1:].isspace() and raw.strip():
                    spaced.add(len(quotes))
                quotes.append(_unwrap(" ".join(raw.split())))
                i = end + 1
                continue
        out.append(unicodedata.normalize("NFKC", c).lower())
        i += 1
    masked = re.sub(r"[ ]+", " ", "".join(out))
    return TaskText(task, masked, tuple(quotes), tuple(examples), broken, frozenset(spaced))


def _unwrap(quoted: str) -> str:
    """"'Sure'" -> Sure: a quote written inside another quote is the text it quotes."""
    m = re.fullmatch(r"(['\"`])\s*([^'\"`]+?)\s*\1", quoted)  # only a plain inner text: anything else stays verbatim
    return m.group(2) if m else quoted


def _closing_quote(text: str, start: int) -> int | None:
    q = text[start]
    limit = min(len(text), start + QUOTE_MAX_CHARS + 2)
    for j in range(start + 1, limit):
        ch = text[j]
        if ch == "\n":
            return None
        if ch != q:
            continue
        if q == "'" and j + 1 < len(text) and text[j + 1].isalnum():
            continue  # an apostrophe inside the quote: "'it's fine'"
        return j
    return None


def has(pattern: re.Pattern[str], fragment: str) -> str | None:
    """The first cue of `pattern` in `fragment`, or None."""
    m = pattern.search(fragment)
    return m.group(0) if m else None


def qualifier(fragment: str) -> str | None:
    """A word that makes a requirement uncertain (negation, permission or condition) left in a clause once
    the recipe's own phrase is taken out, or None."""
    for pattern in (NEGATION, PERMISSION, CONDITION):
        cue = has(pattern, fragment)
        if cue:
            return cue
    return None


# Words that carry no requirement of their own; anything else left in a recipe's clause is a requirement the
# recipe did not read, so the task is refused instead of planned with that part dropped.
GLUE = frozenset("""
a an the answer answers answered answering reply replies replying respond responds responding response responses
write writes writing written output outputs text every each all always your you yours in on with of to for and
only please must should shall will would need needs be is are it its them use using make makes
model model's assistant bot keep per message messages format formatted formatting form give gives just so that
as at by from time times like following whole entire
any do does should've also every-time strictly everything reply's output's
""".split())
# Not glue either: "user(s)", "question(s)", "they/their", "chat(s)" name someone else's text ("Questions end with
# '?'", "Only users write in all caps"); the harmless phrases that mention them are read by HARMLESS_OTHER.
HARMLESS_OTHER = re.compile(r"(?:^\s*|(?<=please )|(?<=always )|(?<=and ))(?:answer|reply to|respond to)\s+(?:every|each|all|any|"
                            r"the|a|your)\s+(?:questions?|users?)\b|\b(?:for|to)\s+(?:every|each|all|any)\s+(?:questions?|"
                            r"users?)\b|\bto the user\b")
# Not glue, on purpose: "or" (alternatives), "this/these/those" (a scope: "for this question only"),
# "exactly" (JSON with exactly these keys) and "whatever" carry a requirement a recipe must read or refuse.

# Words the gap inside a trigger may hold ("start each one of your answers with", "the last line of every
# reply must be"): who the requirement is for, nothing that negates, counts or narrows it. "Start no answers
# with", "start some answers with", "start answers about weather with", "end every line with" are refused.
SUBJECT = frozenset("""
every each all any your the a an answer answers reply replies response responses message messages output outputs
of one it them you yourself always must should shall will would need needs to be
""".split())
# A scope that narrows which answers a requirement is for ("answers to short questions", "for math questions",
# "in emails to customers"): its words must be SUBJECT words, or the task is refused (a narrowed scope needs Claude).
_PREP = r"(?:to|for|about|on|regarding|in|with|from|by)"
SCOPE = re.compile(r"\b" + _PREP + r"\s+((?:(?!" + _PREP + r"\b)[a-z'-]+\s+){1,3}?)(?:questions?|topics?|users?|"
                   r"customers?|clients?|emails?|requests?|prompts?|queries|conversations?|chats?|people|tickets?)\b")
PLACEHOLDER = re.compile(r"<[A-Za-z_][\w -]{0,30}>|(?<!\{)\{[A-Za-z_]\w{0,30}\}(?!\})|\[[A-Za-z_][\w -]{0,30}\]|\.\.\.|\u2026|"
                         r"(?<![A-Za-z])(?:N|X|Y|Z|NN|XX|XYZ)(?![A-Za-z])")


# Punctuation that carries no requirement; any other symbol left in a clause ("❌", "0%", "±5", "~~", "12/25")
# is unread, like an unknown word: a negation or a frequency written as a symbol or a number is not dropped.
_PLAIN_PUNCT = set(".,;:!?'\"()-\u2013\u2014")


def unexplained(fragment: str, extra: frozenset[str] = frozenset()) -> list[str]:
    """Words, numbers and symbols of `fragment` (quotes and examples taken out) that are neither glue, nor in
    `extra`, nor plain punctuation."""
    return [t for t in _tokens(fragment) if t not in GLUE and t not in extra and t not in _PLAIN_PUNCT]


def _tokens(fragment: str) -> list[str]:
    """Words, numbers ("50%", "12/25") and single symbols of a masked fragment, quotes and examples taken out."""
    return re.findall(r"[a-z][a-z'-]*|\d[\d.,/:%]*|[^\sa-z\d]", re.sub(r"«[qj]\d+»", " ", fragment))


def insist(rest: str, clause: str, understood: str, text: "TaskText", extra: frozenset[str] = frozenset()) -> frozenset[str]:
    """Refuse if what is left of a recipe's clause holds a qualifier; return the words it leaves unread (the
    router refuses unless another reading of the same clause reads them)."""
    from rl_agent.kit.planning.recipes.base import RecipeRefused

    rest = HARMLESS_OTHER.sub(" ", rest)
    if NEGATION.search(clause) and re.search(r"\b(?:every time|each time|all the time|for everything|always)\b", rest):
        raise RecipeRefused([understood], f'how often: "{text.show(clause)}" negates "always"/"every time", which '
                                          "means sometimes, not never")
    if re.search(r"«q\d+»\s*,?\s*only\b", clause):
        raise RecipeRefused([understood], f"what 'only' after the quoted text in {text.show(clause)!r} limits")
    for m in SCOPE.finditer(rest):
        odd = [w for w in m.group(1).split() if w not in SUBJECT]
        if odd or m.group(0).startswith(("from", "by")):  # "answers from the user", "by the user": not the model's
            raise RecipeRefused([understood], f"which answers {m.group(0).strip()!r} in {text.show(clause)!r} covers; "
                                              "the library reads a requirement on every answer")
    cue = qualifier(rest)
    if cue:
        raise RecipeRefused([understood], f"certainty about {cue!r} in {text.show(clause)!r} (required, allowed, "
                                          "banned or conditional?)")
    return frozenset(unexplained(rest, extra))


def check_gap(gap: str, clause: str, understood: str, text: "TaskText") -> None:
    """Refuse unless every word in a trigger's gap is a SUBJECT word (see there)."""
    from rl_agent.kit.planning.recipes.base import RecipeRefused

    odd = [w for w in _tokens(gap or "") if w not in SUBJECT and w not in _PLAIN_PUNCT]
    if odd:
        raise RecipeRefused([understood], f"what {' '.join(odd)!r} in {text.show(clause)!r} changes (which answers or "
                                          "which part of them, how often, or whether at all); the library reads a "
                                          "requirement on every whole answer")


def template_need(quoted: str) -> str | None:
    """Why a quoted text cannot be read as fixed text ('Dear <name>,', 'Score: X/10'), or None: the checks
    compare fixed text. A recipe that reads templates (arithmetic's 'Answer: N') may still absorb the reading."""
    m = PLACEHOLDER.search(quoted)
    if m:
        return (f"a fixed text: {quoted!r} holds a placeholder ({m.group(0)!r}) that stands for varying text; a "
                "template needs Claude")
    esc = re.search(r"^\s*\\[ntr]|\\[ntr]\s*$", quoted)  # '\n' alone or at an end: a line break, or typed?
    return (f"whether {esc.group(0)!r} in {quoted!r} is a line break (or tab) or the characters themselves"
            if esc else None)
