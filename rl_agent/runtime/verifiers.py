"""Program verifiers for the kit's checkable GRPO example (RLVR): a strict short-answer format.

The task: reply with the bare answer only -- one to three words, starting with a capital letter or a
digit, ending in exactly one period, nothing else ("Paris.", "Twenty-four.", "Leonardo da Vinci.").
It is checkable by a program, and the embedded tiny model can learn it in minutes on a CPU because it
already writes such answers some of the time (its warm-up saw both bare and hedged answers).

Standard library only: rendered scripts inline this source, and the kit imports the same functions
(through rl_agent.kit.judges.verifiers.PythonFunctionJudge as well), so the two cannot disagree.
"""

import re

SHORT_ANSWER_MAX_WORDS = 3
_WORD = r"[A-Za-z0-9][A-Za-z0-9'-]*"
_SHORT_ANSWER = re.compile(r"[A-Z0-9][A-Za-z0-9'-]*(?: " + _WORD + r"){0,%d}\." % (SHORT_ANSWER_MAX_WORDS - 1))


def short_answer(prompt, output, reference=None):
    """(1.0, why) when `output` is a bare short answer in the strict format, else (0.0, what is wrong)."""
    text = output.strip()
    if _SHORT_ANSWER.fullmatch(text):
        return 1.0, "bare short answer"
    if not text:
        return 0.0, "empty reply"
    words = len(text.split())
    if words > SHORT_ANSWER_MAX_WORDS:
        return 0.0, f"{words} words (at most {SHORT_ANSWER_MAX_WORDS})"
    if not text.endswith(".") or text.endswith(".."):
        return 0.0, "does not end in exactly one period"
    if not text[0].isupper() and not text[0].isdigit():
        return 0.0, "does not start with a capital letter or a digit"
    return 0.0, "punctuation or symbols inside the answer"
