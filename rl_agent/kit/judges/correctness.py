"""Is an answer right? `contains_reference` checks that an answer states the reference answer.

Why a separate check from style: a model can learn to answer tersely and still be wrong ("What is the
capital of Germany?" -> "February."). Every before/after reports this figure next to the style figures,
and no verdict calls a run a success while it falls.

Normalisation, so that the same answer written differently still counts: case, punctuation, leading
articles, and numbers written as words or digits ("Twelve." matches "12", "twenty-four" matches "24").
Matching is on whole words, so "Rome" does not match "Romania" and "2" does not match "12". An answer that
marks its final answer ("3 + 4 = 7. 7 + 2 = 9. #### 9") is judged by that final answer alone, which must
equal the reference: the working before the marker may mention other numbers.

Standard library only: rendered evaluation scripts inline this source, so the kit and the scripts cannot
disagree about what "correct" means.
"""

import re

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
          "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
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


def normalise_answer(text):
    """Lower-case words with punctuation removed, number words turned into digits, articles dropped."""
    text = str(text).lower().replace("-", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    tokens = re.findall(r"[a-z]+|\d+(?:\.\d+)?", text)
    return [t for t in _words_to_numbers(tokens) if t not in _ARTICLES]


def contains_reference(answer, reference):
    """True when the normalised reference appears as a run of whole words in the normalised answer."""
    ref = normalise_answer(reference)
    if not ref:
        return False
    if FINAL_MARKER in str(answer):
        return normalise_answer(str(answer).rsplit(FINAL_MARKER, 1)[1]) == ref
    ans = normalise_answer(answer)
    n = len(ref)
    return any(ans[i:i + n] == ref for i in range(len(ans) - n + 1))


def correctness_score(prompt, output, reference=None):
    """Judge-shaped wrapper: (1.0, why) when the output states the reference, (0.0, why) when not,
    (None, why) when there is no reference to check against."""
    if reference is None or not str(reference).strip():
        return None, "no reference answer"
    if contains_reference(output, reference):
        return 1.0, "states the reference answer"
    return 0.0, f"does not state the reference answer ({str(reference).strip()})"
