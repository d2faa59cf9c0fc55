"""Is an answer right? `contains_reference` checks that an answer states the reference answer.

Why a separate check from style: a model can learn to answer tersely and still be wrong ("What is the
capital of Germany?" -> "February."). Every before/after reports this figure next to the style figures,
and no verdict calls a run a success while it falls.

Normalisation, so that the same answer written differently still counts: case, punctuation, leading
articles, and numbers written as words or digits ("Twelve." matches "12", "twenty-four" matches "24").
Matching is on whole words, so "Rome" does not match "Romania" and "2" does not match "12". An answer that
marks its final answer ("3 + 4 = 7. 7 + 2 = 9. #### 9") is judged by that final answer alone, which must
equal the reference: the working before the marker may mention other numbers.

Naming the reference is not enough when the answer takes it back, because a model can learn to cover
itself: a mention does not count when it is negated ("not Berlin", "Berlin is not ...", "isn't Berlin")
or one of alternatives ("Berlin or Munich", "either 7 or 9", "Berlin/Munich"). A number is judged by the
last number the answer commits to, as GSM8K-style graders read a final answer: numbers from the question
and negated numbers are skipped, so "3 + 4 = 7, 7 + 2 = 9" is right for 9 and "9 + 0 + 0 = 10" is wrong.
The cost is the odd right answer that ends on another number ("six legs and two antennae"), counted wrong
before and after training alike.

Standard library only: rendered evaluation scripts inline this source, so the kit and the scripts cannot
disagree about what "correct" means.
"""

import re

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS)}
_NUMBER_WORDS.update({w: 10 * i for i, w in enumerate(_TENS) if w})
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1000000}
_ARTICLES = {"a", "an", "the"}
FINAL_MARKER = "####"


def _words_to_numbers(tokens):
    """Replace runs of number words ("twenty four", "one hundred and six") by their digits."""
    out, run, value, current = [], False, 0, 0
    for tok in tokens + [None]:
        if tok in _NUMBER_WORDS:
            current += _NUMBER_WORDS[tok]
            run = True
            continue
        if tok in _SCALES and run:
            current = max(current, 1) * _SCALES[tok]
            if _SCALES[tok] >= 1000:
                value, current = value + current, 0
            continue
        if tok == "and" and run:
            continue
        if run:
            out.append(str(value + current))
            run, value, current = False, 0, 0
        if tok is not None:
            out.append(tok)
    return out


def _tokens(text, breaks=False):
    """Lower-case words and numbers, number words as digits, articles dropped; with breaks, a "|" marks each
    punctuation stop (, ; : . ! ? brackets) so that "No, Berlin." is not read as "no Berlin"."""
    text = str(text).lower().replace("-", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(?<=[a-z])/(?=[a-z])", " or ", text)  # Berlin/Munich
    tokens = re.findall(r"[a-z]+|\d+(?:\.\d+)?" + (r"|[,;:.!?()\[\]]" if breaks else ""), text)
    tokens = ["|" if t in ",;:.!?()[]" else t for t in tokens]
    return [t for t in _words_to_numbers(tokens) if t not in _ARTICLES]


def normalise_answer(text):
    """Lower-case words with punctuation removed, number words turned into digits, articles dropped."""
    return _tokens(text)


_NEGATORS = {"not", "never", "no", "nor", "neither"}
_NT = {"isn", "wasn", "aren", "weren", "ain"}  # "isn't" -> isn t
_ALTERNATIVE = {"or", "nor", "either"}
_BE = {"is", "was", "are", "were"}


def _is_number(token):
    return re.fullmatch(r"\d+(?:\.\d+)?", token) is not None


def _negated(tokens, start, end):
    """Whether the mention tokens[start:end] is negated: "not X", "isn't X", "X is not ..."."""
    before = tokens[start - 1] if start > 0 else ""
    if before in _NEGATORS or (before == "t" and start > 1 and tokens[start - 2] in _NT):
        return True
    after = tokens[end : end + 2] + ["", ""]
    return (after[0] in _BE and after[1] == "not") or (after[0] in _NT and after[1] == "t")


def _alternative(tokens, start, end):
    """Whether the mention tokens[start:end] is one of alternatives: "X or Y", "either Y or X", "X, or Y"."""
    prev = start - 2 if start > 1 and tokens[start - 1] == "|" else start - 1
    nxt = end + 1 if end + 1 < len(tokens) and tokens[end] == "|" else end
    return (prev >= 0 and tokens[prev] in _ALTERNATIVE) or (nxt < len(tokens) and tokens[nxt] in _ALTERNATIVE)


def _counted_mentions(tokens, ref):
    """(start, end) of each whole-word run of ref in tokens ("|" breaks are not words) that is neither negated
    nor one of alternatives."""
    words = [i for i, t in enumerate(tokens) if t != "|"]
    n = len(ref)
    found = []
    for k in range(len(words) - n + 1):
        if [tokens[i] for i in words[k : k + n]] == ref:
            start, end = words[k], words[k + n - 1] + 1
            if not (_negated(tokens, start, end) or _alternative(tokens, start, end)):
                found.append((start, end))
    return found


def contains_reference(answer, reference, prompt=None):
    """True when the answer states the reference as its answer: a whole-word run of the normalised reference
    that is not negated or one of alternatives; for a number, the last number the answer commits to (the
    question's numbers, given the prompt, and negated numbers skipped) must be that mention."""
    ref = normalise_answer(reference)
    if not ref:
        return False
    if FINAL_MARKER in str(answer):
        return normalise_answer(str(answer).rsplit(FINAL_MARKER, 1)[1]) == ref
    tokens = _tokens(answer, breaks=True)
    counted = _counted_mentions(tokens, ref)
    if not counted:
        return False
    if len(ref) != 1 or not _is_number(ref[0]):
        return True
    given = {t for t in normalise_answer(prompt) if _is_number(t)} if prompt else set()
    committed = [i for i, t in enumerate(tokens) if _is_number(t) and t not in given and not _negated(tokens, i, i + 1)]
    if not committed:
        return True  # the reference is one of the question's own numbers, stated and not taken back
    return any(s == committed[-1] for s, _ in counted)


def correctness_score(prompt, output, reference=None):
    """Judge-shaped wrapper: (1.0, why) when the output states the reference, (0.0, why) when not,
    (None, why) when there is no reference to check against."""
    if reference is None or not str(reference).strip():
        return None, "no reference answer"
    if contains_reference(output, reference, prompt):
        return 1.0, "states the reference answer"
    return 0.0, f"does not state the reference answer ({str(reference).strip()})"
