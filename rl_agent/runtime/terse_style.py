"""Offline terse-style judge: scores an answer for directness with no hedging or filler.

Pure standard library on purpose: rendered evaluation scripts inline this file's source so they stay
standalone, and the kit imports the same functions, so the two can never disagree.
"""

import re

HEDGES = (
    "i think",
    "i believe",
    "i guess",
    "i would say",
    "probably",
    "possibly",
    "perhaps",
    "maybe",
    "might be",
    "could be",
    "most likely",
    "not entirely sure",
    "not sure",
    "it seems",
    "kind of",
    "sort of",
    "i could be wrong",
    "to be honest",
    "honestly",
    "basically",
    "as an ai",
)
FILLERS = (
    "great question",
    "good question",
    "interesting question",
    "well,",
    "so,",
    "hmm",
    "i hope this helps",
    "i hope that answers",
    "let me know if",
    "please double-check",
    "any other questions",
    "happy to help",
)
TERSE_WORD_LIMIT = 12


def _phrase_hits(text, phrases):
    low = " " + re.sub(r"\s+", " ", text.lower()) + " "
    return sum(len(re.findall(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low)) for p in phrases)


def hedge_count(text):
    """Number of hedging and filler phrases in `text` (each occurrence counts)."""
    return _phrase_hits(text, HEDGES) + _phrase_hits(text, FILLERS)


def word_count(text):
    return len(text.split())


def terse_style_score(text):
    """(score in [0, 1], reason). 1.0 = a short, direct answer with no hedging or filler."""
    words = word_count(text)
    if words == 0:
        return 0.0, "empty answer"
    tokens = text.split()
    if sum(len(t) > 20 for t in tokens) * 2 >= len(tokens):
        return 0.0, "degenerate output (run-on tokens)"
    hedges = hedge_count(text)
    score = 1.0 - 0.25 * hedges
    reasons = []
    if hedges:
        reasons.append(f"{hedges} hedge/filler phrase(s)")
    if words > TERSE_WORD_LIMIT:
        score -= min(0.5, 0.03 * (words - TERSE_WORD_LIMIT))
        reasons.append(f"{words} words (over {TERSE_WORD_LIMIT})")
    tokens = [t.lower() for t in tokens]
    if len(tokens) >= 6 and len(set(tokens)) / len(tokens) < 0.5:
        score -= 0.3
        reasons.append("repetitive")
    score = max(0.0, min(1.0, score))
    return round(score, 4), "; ".join(reasons) or "terse and direct"
