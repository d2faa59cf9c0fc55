"""Recipe: the bundled terse style and facts ("Be terse and direct: no hedging, no filler").

DPO on the shipped pairs (terse correct answer chosen, hedging answer rejected). The check is the terse
style rule as a pass/fail: some words, at most the terse word limit, no hedge or filler phrase. The phrase
lists are passed as data from the kit's terse judge (one source). A task that names only hedging ("Don't
hedge") or only filler ("no fluff") gets only that part of the check, with no word limit. "Don't be so
terse", "more detail" and "use more words" are the opposite task and are refused, and so is a bare "hedge
your answers" (hedging and filler are read only when negated).
"""

from __future__ import annotations

import re

from rl_agent.kit.judges.terse_style import FILLERS, HEDGES, TERSE_WORD_LIMIT
from rl_agent.kit.planning.recipes.base import Reading, RecipePlan, RecipeRefused, bundled_facts, item, render_check
from rl_agent.kit.planning.recipes.reading import TaskText, insist

NAME = "terse"
EXTRA = frozenset("be more less stop just say saying get point straight clear words phrases".split())
BREVITY = re.compile(r"\b(?:short(?:er)?|brief\w*|concise\w*|succinct\w*)\b")
# Hedging and filler are only ever read when negated: "Hedge your answers" / "Use filler" ask for the opposite.
_NO_HEDGE = (r"(?:no|without|stop|avoid|never|don't|dont|do not|zero|less|fewer)\s+(?:any\s+|more\s+)?"
             r"(?:hedg\w*|filler\w*|fluff\w*|rambl\w*|waffl\w*)")
# "Be less verbose", "don't be verbose": asks for shorter answers (a bare "verbose" asks for longer ones)
NOT_VERBOSE = r"(?:less|not|never|don't be|do not be|stop being|avoid being|no longer)\s+(?:so\s+|too\s+|as\s+)?verbose"
TERSE = re.compile(
    r"\b(terse\w*|concise\w*|(?<!\ba )(?<!\bthe )brief(?:ly|er|est)?|succinct\w*|to the point|"
    r"direct(?:ly)?(?!\s+(?:your|the|it|them|this|that|answers?\s+to)\b)|blunt\w*|straight(?:forward)? answers?|"
    r"short(?:er)? (?:answers?|replies|responses)|" + _NO_HEDGE + r"|fewer words|" + NOT_VERBOSE + r")\b")
OPPOSITE = re.compile(
    r"(\bnot|n't|\bnever|\bless|\bstop being|\bavoid being|\binstead of being)\s+(\w+\s+){0,2}?(terse|concise|brief|"
    r"succinct|short|direct|blunt)\b|\b(more (detail|detailed|verbose|elaborate|thorough)|verbose|longer|"
    r"elaborate|in (depth|detail)|step[- ]by[- ]step|more (words|sentences|text)|say more|tell more|expand\w*)\b"
    r"(?!\s+than)")
_OWN_NEGATIONS = re.compile(r"\b(?:no|without|stop|avoid|never|don't|do not)\s+(?:any\s+)?(?:hedg\w*|filler\w*|fluff|"
                            r"waffl\w*|rambl\w*|saying)\b|\b" + NOT_VERBOSE + r"\b|\bfewer words\b")


def read(text: TaskText) -> Reading | None:
    left: dict[int, frozenset[str]] = {}
    claimed: set[int] = set()
    only_brevity = True
    asked: set[str] = set()  # "hedges", "fillers", "style" (terse/concise/direct...: the whole bundled style)
    for ci, clause in enumerate(text.clauses()):
        if OPPOSITE.search(re.sub(NOT_VERBOSE, " ", clause)):
            raise RecipeRefused(["a style change"], f"a direction the library ships: {clause!r} asks for longer or "
                                                    "less terse answers, the opposite of the bundled terse data")
        hits = TERSE.findall(clause)
        if not hits:
            continue
        claimed.add(ci)
        if any(not BREVITY.fullmatch(h) for h in hits):
            only_brevity = False
        # rambling/waffling is length: the whole terse style; fluff is filler
        asked.update("hedges" if "hedg" in h else "fillers" if ("filler" in h or "fluff" in h) else "style"
                     for h in hits)
        rest = TERSE.sub(" ", _OWN_NEGATIONS.sub(" ", clause))
        left[ci] = insist(re.sub(r"«q\d+»", " ", rest), clause, "terse, direct answers", text, EXTRA)
    if not claimed:
        return None
    # Only what was asked is checked: "Don't hedge" bans hedges, with no word limit or filler list it never stated.
    bans = ["hedges", "fillers", "length"] if "style" in asked else sorted(asked)
    understood = ("answers must be terse and direct: no hedging or filler" if "style" in asked else
                  "answers must have no " + " and no ".join({"hedges": "hedging", "fillers": "filler"}[b] for b in bans))
    return Reading(NAME, {"only_brevity": only_brevity, "bans": bans}, understood, frozenset(), frozenset(claimed),
                   priority=-1, leftover=tuple(left.items()))


CHECK_BODY = r'''
def _hits(text, phrases):
    low = " " + re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")) + " "
    return sum(len(re.findall(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low)) for p in phrases)


def check(prompt, output, reference=None):
    """1.0 for a short, direct answer: 1..word_limit words, no hedge or filler phrase, not degenerate."""
    tokens = output.split()
    if not tokens or (PARAMS["word_limit"] and len(tokens) > PARAMS["word_limit"]):
        return 0.0
    if sum(len(t) > 20 for t in tokens) * 2 >= len(tokens):
        return 0.0
    return 0.0 if _hits(output, PARAMS["hedges"] + PARAMS["fillers"]) else 1.0
'''


def build(reading: Reading, task: str) -> RecipePlan:
    from rl_agent.kit.dataio.pairs import bundled_pairs_path, iter_jsonl_objects

    bans = reading.params["bans"]
    params = {"hedges": list(HEDGES) * ("hedges" in bans), "fillers": list(FILLERS) * ("fillers" in bans),
              "word_limit": TERSE_WORD_LIMIT if "length" in bans else None}
    banned = params["hedges"] + params["fillers"]

    def rows(split: str) -> list[dict]:
        facts = {f.prompt: f.answer for f in bundled_facts(split)}
        return [{"prompt": r["prompt"].strip(), "chosen": r["chosen"].strip(), "rejected": r["rejected"].strip(),
                 "reference": facts[r["prompt"].strip()]} for _, _, r in iter_jsonl_objects(bundled_pairs_path(split))]

    def says_banned(answer: str) -> bool:
        low = answer.lower().replace("\u2019", "'")
        return any(re.search(r"(?<![a-z])" + re.escape(b) + r"(?![a-z])", low) for b in banned)

    train, heldout = rows("train"), rows("heldout")
    facts = bundled_facts("heldout")
    good = [item(f, f.answer) for f in facts[:4]]
    f5 = facts[4]
    good.append(item(f5, f"It is {f5.answer}"))
    bad = [item(f, r["rejected"]) for f, r in zip(facts, heldout) if says_banned(r["rejected"])][:4]
    bad += [item(f5, f"Maybe {f5.answer}" if "hedges" in bans else f"Great question! {f5.answer}"), item(f5, "")]
    long_answer = f"{f5.answer} " + "This is a well known fact that many people learn in school. " * 2
    if "length" in bans:
        bad.append(item(f5, long_answer))
        statement = (f"accepts answers of 1 to {TERSE_WORD_LIMIT} words with none of these hedge/filler phrases: "
                     + ", ".join(banned) + "; rejects everything else")
    else:
        good.append(item(f5, long_answer))
        statement = ("accepts answers with words and none of these phrases: " + ", ".join(banned)
                     + "; rejects everything else (no length limit: none was asked for)")
    return RecipePlan(NAME, task, params, "dpo", statement, reading.understood,
                      render_check(NAME, params, CHECK_BODY), train, heldout, good, bad,
                      notes=["DPO on the bundled pairs: terse correct answer chosen, hedging answer rejected"])
